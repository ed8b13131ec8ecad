"""Convert a released SDE-Seg SDE model folder into one mmdepthsem checkpoint.

SDE-Seg (Hoyer et al., CVPR 2021 / IJCV 2023; code
``lhoyer/improving_segmentation_with_selfsupervised_depth``) releases its
self-supervised depth (SDE) pretraining models ``mono_cityscapes_1024x512_r101dil_
aspp_dec{5,6}_*``. Each is a folder of plain state dicts written by the trainer's
``save_monodepth_models``::

    depth.pth         DepthDecoder(intermediate_aspp=True): ``decoder.<n>.…`` (an
                      ``nn.ModuleList`` of its ``convs`` OrderedDict values, so the
                      keys are positional; see :func:`depth_decoder_order`)
    pose_encoder.pth  ResnetEncoder (ResNet-18) over 2 stacked frames
    pose.pth          PoseDecoder(num_frames_to_predict_for=2): ``net.0`` … ``net.3``
    encoder.pth       ResnetEncoder (ResNet-101, dilated ``layer4``); missing when the
                      encoder was frozen (dec5), see ``--encoder-from-imagenet``

No file holds non-tensor entries, and the trainer replaced the encoders' ``fc`` by
``nn.Identity`` before saving. Output: ``{'state_dict': ..., 'meta': ...}`` for
``configs/sdeseg/sde_stage_a_resnet101_cityscapes.py``. Command::

    python tools/model_converters/sdeseg_to_mmdepthsem.py \\
        path/to/mono_cityscapes_1024x512_r101dil_aspp_dec6_lr5_fd2 \\
        checkpoints/sdeseg_dec6.pth

The table (:func:`build_key_map`) reuses the Monodepth2 tables of
:mod:`mmdepthsem.utils.monodepth_conversion` for the encoders and the pose decoder
and adds the ASPP decoder (:func:`aspp_decoder_key_map`). One translation is more than
a rename: the official ASPP concatenates its branches as ``[1×1, rate 6, 12, 18,
pooling]``, ours as ``[pooling, 1×1, rate 6, 12, 18]``, so the input channels of the
1×1 fusion conv are rotated (:func:`pool_branch_first`). Every official tensor must
land on a target key of the same shape and every target key must be filled,
otherwise a :class:`ConversionError` lists the leftovers.

The semi-supervised segmentation models (PAD-Net / transfer) are not released and are
not convertible: their distillation gate and heads have no counterpart here
(docs/model_converters.md).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmdepthsem.utils.monodepth_conversion import (MONODEPTH2_MEAN, MONODEPTH2_STD,
                                                   ConversionError, Rule,
                                                   convert_state_dict, dropped_keys,
                                                   format_cfg_option, infer_resnet,
                                                   load_state_files,
                                                   pose_decoder_key_map, resnet_key_map,
                                                   resnet_widths, target_shapes)

__all__ = [
    'ConversionError', 'Rule', 'load_official_folder', 'depth_decoder_order',
    'pool_branch_first', 'aspp_decoder_key_map', 'dropped_keys', 'build_key_map',
    'model_overrides', 'convert_folder', 'main'
]

#: Files every SDE model folder holds (``<part>.pth``); ``encoder.pth`` is optional.
PARTS = ('depth', 'pose_encoder', 'pose')
DEFAULT_CONFIG = 'configs/sdeseg/sde_stage_a_resnet101_cityscapes.py'
DEPTH = 'depth/decoder.'
#: Number of 3×3 ASPP branches (rates 6, 12, 18 in dec5 / dec6).
NUM_RATES = 3
_BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def load_official_folder(folder: str, imagenet_encoder: Optional[str] = None
                         ) -> Tuple[Dict[str, Tensor], str]:
    """Read the state dicts of an SDE model folder.

    Args:
        folder: Folder holding ``depth.pth``, ``pose_encoder.pth``, ``pose.pth`` and,
            unless the encoder was frozen, ``encoder.pth``.
        imagenet_encoder: A torchvision ResNet state dict (keys ``conv1.weight``,
            …, ``fc.bias``) to use as the encoder when the folder has no
            ``encoder.pth``: the ImageNet ResNet-101 the official code started from.

    Returns:
        ``(tensors, encoder_source)``: every tensor keyed ``'<part>/<key>'`` (the
        ImageNet encoder as ``'encoder/encoder.<key>'``), and where the encoder came
        from.

    Raises:
        FileNotFoundError: A file is missing, or ``encoder.pth`` is missing and no
            ``imagenet_encoder`` is given.
        ConversionError: A file holds a non-tensor entry, or both ``encoder.pth``
            and ``imagenet_encoder`` exist.
    """
    tensors, _ = load_state_files(folder, PARTS, {}, 'SDE-Seg')
    encoder_file = osp.join(folder, 'encoder.pth')
    if osp.isfile(encoder_file):
        if imagenet_encoder is not None:
            raise ConversionError(f'{folder} has its own encoder.pth (the encoder was '
                                  'trained); --encoder-from-imagenet would replace it')
        encoder, _ = load_state_files(folder, ('encoder', ), {}, 'SDE-Seg')
        return {**tensors, **encoder}, encoder_file
    if imagenet_encoder is None:
        raise FileNotFoundError(
            f'SDE-Seg model folder {folder} lacks encoder.pth: the encoder was frozen '
            'during this SDE training (e.g. dec5), so the official code uses the '
            'ImageNet ResNet-101 of torchvision (resnet101(pretrained=True)). Pass '
            'that state dict with --encoder-from-imagenet PATH.')
    state = torch.load(imagenet_encoder, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise ConversionError(f'{imagenet_encoder}: unexpected non-tensor entry '
                                  f'{key!r} ({type(value).__name__})')
        tensors[f'encoder/encoder.{key}'] = value
    return tensors, osp.abspath(imagenet_encoder)


def depth_decoder_order(scales: Sequence[int] = (0, 1, 2, 3)) -> List[tuple]:
    """Keys of the official ``DepthDecoder.convs`` in insertion order.

    ``decoder = nn.ModuleList(list(convs.values()))`` saves them as
    ``decoder.<position>``: ``('upconv', i, 0)``, ``('skip_proj', i)`` (for
    ``i > 0``; an ``nn.Identity``, which holds no tensors but takes a position),
    ``('upconv', i, 1)`` for ``i = 4 .. 0``, then ``('dispconv', s)``. With
    ``intermediate_aspp`` ``('upconv', 4, 0)`` is the ASPP.
    """
    order: List[tuple] = []
    for i in range(4, -1, -1):
        order.append(('upconv', i, 0))
        if i > 0:
            order.append(('skip_proj', i))
        order.append(('upconv', i, 1))
    return order + [('dispconv', s) for s in scales]


def pool_branch_first(weight: Tensor) -> Tensor:
    """Rotate the fusion conv's input channels from the official branch order
    ``[1×1, rate 6, 12, 18, pooling]`` to ours ``[pooling, 1×1, rate 6, 12, 18]``
    (every branch has ``C = out_channels`` channels: the last ``C`` move first)."""
    width = weight.shape[0]
    if weight.shape[1] != (NUM_RATES + 2) * width:
        raise ConversionError(f'ASPP fusion weight {tuple(weight.shape)} does not read '
                              f'{NUM_RATES + 2} branches of {width} channels')
    return torch.cat([weight[:, -width:], weight[:, :-width]], dim=1).contiguous()


def _conv_bn(table: Dict[str, Rule], src_conv: str, src_bn: str, dst: str) -> None:
    table[f'{src_conv}.weight'] = Rule(f'{dst}.conv.weight')
    for param in _BN:
        table[f'{src_bn}.{param}'] = Rule(f'{dst}.bn.{param}')


def aspp_decoder_key_map(scales: Sequence[int] = (0, 1, 2, 3), src: str = DEPTH,
                         dst: str = 'depth_decoder.') -> Dict[str, Rule]:
    """Official ``DepthDecoder(intermediate_aspp=True)`` → :class:`ASPPUNetDecoder`
    with ``aspp_skip_conv=True`` and ``aspp_fuse_kernel_size=1``.

    ``('upconv', 4, 0)`` is the ASPP (``models/model_parts.py``): ``convs.0`` =
    ``Sequential(Conv2d 1×1, BN, ReLU)``, ``convs.1-3`` = torchvision ``ASPPConv``
    (``Conv2d`` 3×3 dilated, BN, ReLU), ``convs.4`` = torchvision ``ASPPPooling``
    (pool, ``Conv2d`` 1×1, BN, ReLU), ``project`` = ``Sequential(Conv2d 1×1, BN,
    ReLU, Dropout)``, no conv with a bias. A ``ConvBlock`` stores
    ``block.0.conv.*`` (``block.0`` is its ``Conv3x3``, ``block.1`` an identity
    without batch norm), a ``Conv3x3`` stores ``conv.*``.
    """
    position = {name: n for n, name in enumerate(depth_decoder_order(scales))}
    table: Dict[str, Rule] = {}
    aspp, ours = f'{src}{position[("upconv", 4, 0)]}.', f'{dst}blocks.block4.conv_in.'
    _conv_bn(table, f'{aspp}convs.0.0', f'{aspp}convs.0.1', f'{ours}branches.0')
    for r in range(1, NUM_RATES + 1):
        _conv_bn(table, f'{aspp}convs.{r}.0', f'{aspp}convs.{r}.1', f'{ours}branches.{r}')
    pool = NUM_RATES + 1
    _conv_bn(table, f'{aspp}convs.{pool}.1', f'{aspp}convs.{pool}.2',
             f'{ours}image_pool.1')
    _conv_bn(table, f'{aspp}project.0', f'{aspp}project.1', f'{ours}fuse')
    table[f'{aspp}project.0.weight'] = Rule(
        f'{ours}fuse.conv.weight', pool_branch_first,
        'input channels rotated from [1x1, rates, pooling] to [pooling, 1x1, rates]')
    for name, n in position.items():
        if name[0] == 'upconv' and name != ('upconv', 4, 0):
            _, i, j = name
            official = f'{src}{n}.block.0.conv.'
            target = f'{dst}blocks.block{i}.conv_{("in", "out")[j]}.conv.'
        elif name[0] == 'dispconv':
            official, target = f'{src}{n}.conv.', f'{dst}heads.scale{name[1]}.'
        else:
            continue  # the ASPP (above) and the tensor-less skip_proj identities
        for param in ('weight', 'bias'):
            table[official + param] = Rule(target + param)
    return table


def infer_scales(tensors: Dict[str, Tensor]) -> List[int]:
    """Output scales of ``depth.pth``: the official code builds ``dispconv`` for
    ``s`` in ``range(num_scales)``, at the positions after the 14 ``convs`` of the
    blocks. (The widths cannot tell the scales apart: blocks 1 and 2 both have 128
    channels in dec5 / dec6.)"""
    first = len(depth_decoder_order(()))
    count = 0
    while f'{DEPTH}{first + count}.conv.weight' in tensors:
        count += 1
    if not count:
        raise ConversionError(f'depth.pth has no dispconv at {DEPTH}{first}: not an '
                              'SDE-Seg DepthDecoder with intermediate_aspp')
    return list(range(count))



def build_key_map(depth_arch: str = 'resnet101', pose_arch: str = 'resnet18',
                  scales: Sequence[int] = (0, 1, 2, 3)) -> Dict[str, Rule]:
    """The complete table ``{'<part>/<official key>': Rule(target key)}``.

    Args:
        depth_arch: ResNet of ``encoder.pth`` (dec5 / dec6: ResNet-101).
        pose_arch: ResNet of ``pose_encoder.pth`` (ResNet-18).
        scales: Output scales of ``depth.pth``.
    """
    table = resnet_key_map('encoder/encoder.', 'backbone.timm_model.', depth_arch)
    table.update(aspp_decoder_key_map(scales))
    table.update(resnet_key_map('pose_encoder/encoder.', 'pose_net.encoder.encoder.',
                                pose_arch))
    table.update(pose_decoder_key_map(num_frames=2))
    return table


def model_overrides(depth_arch: str, pose_arch: str,
                    scales: Sequence[int]) -> Dict[str, object]:
    """``--cfg-options`` that give the config the official model's encoders and
    output scales (dec5 / dec6: the config's own values)."""
    return {
        'model.backbone.model_name': depth_arch,
        'model.depth_decoder.in_channels': resnet_widths(depth_arch),
        'model.depth_decoder.scales': sorted(scales),
        'model.pose_net.encoder.model_name': pose_arch,
        'model.pose_net.decoder.type': 'PoseDecoder',
        'model.pose_net.decoder.in_channels': resnet_widths(pose_arch)[-1],
    }


def convert_folder(folder: str, config: str = DEFAULT_CONFIG,
                   imagenet_encoder: Optional[str] = None) -> dict:
    """Convert an SDE-Seg SDE model folder; see the module docstring.

    Returns:
        ``{'state_dict': ..., 'meta': ...}``; the meta records the source, where the
        encoder came from, the config and the ``model_overrides`` it needs, the
        scales and the official input mean / std.
    """
    tensors, encoder_source = load_official_folder(folder, imagenet_encoder)
    depth_arch = infer_resnet(tensors, 'encoder/encoder.')
    pose_arch = infer_resnet(tensors, 'pose_encoder/encoder.')
    scales = infer_scales(tensors)
    overrides = model_overrides(depth_arch, pose_arch, scales)
    shapes = target_shapes(config, overrides)
    state_dict, filled = convert_state_dict(
        tensors, build_key_map(depth_arch, pose_arch, scales), shapes, dropped_keys(),
        source='SDE-Seg')
    meta = dict(
        source='sdeseg', source_folder=osp.abspath(folder), config=config,
        model_overrides=overrides, depth_encoder=depth_arch, pose_encoder=pose_arch,
        encoder_source=encoder_source, scales=scales,
        dropped=sorted(k for k in dropped_keys() if k in tensors),
        filled_num_batches_tracked=len(filled),
        input_mean=MONODEPTH2_MEAN, input_std=MONODEPTH2_STD)
    return dict(state_dict=state_dict, meta=meta)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description='Convert a released SDE-Seg SDE model folder (depth.pth, '
        'pose_encoder.pth, pose.pth, encoder.pth) into an mmdepthsem checkpoint.')
    parser.add_argument('folder', help='SDE-Seg model folder')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help=f'mmdepthsem config of the target model (default '
                        f'{DEFAULT_CONFIG})')
    parser.add_argument('--encoder-from-imagenet', metavar='PATH',
                        help='torchvision ImageNet ResNet-101 state dict, for folders '
                        'without encoder.pth (encoder frozen during SDE training)')
    args = parser.parse_args(argv)
    try:
        checkpoint = convert_folder(args.folder, args.config,
                                    args.encoder_from_imagenet)
    except (ConversionError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir):
        raise FileNotFoundError(f'output folder {out_dir} does not exist')
    torch.save(checkpoint, args.out)
    meta = checkpoint['meta']
    print(f'Saved {len(checkpoint["state_dict"])} tensors to {args.out} (encoder '
          f'{meta["depth_encoder"]} from {meta["encoder_source"]}, scales '
          f'{meta["scales"]}).')
    options = [format_cfg_option(k, v) for k, v in meta['model_overrides'].items()]
    print(f'Use it with {args.config} --cfg-options ' + ' '.join(options))
    return 0


if __name__ == '__main__':
    sys.exit(main())
