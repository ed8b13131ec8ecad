"""Convert an official FSRE-Depth model folder into one mmdepthsem checkpoint.

FSRE-Depth (Jung et al., ICCV 2021; code ``hyBlue/FSRE-Depth``) saves one plain state
dict per network of its trainer into ``weights_<epoch>/``::

    encoder.pth       ResnetEncoder: ``encoder.<torchvision ResNet key>`` tensors, plus
                      the non-tensor entries ``height``, ``width``, ``epoch``, ``step``
    decoder.pth       CMA: ``depth_decoder.decoder.<n>.…`` and
                      ``seg_decoder.decoder.<n>.…`` (Monodepth2-style decoders whose
                      convs are an ``nn.ModuleList``, so the keys are positional),
                      ``att_d_to_s.<l>.…`` and ``att_s_to_d.<l>.…`` (MultiEmbedding)
    pose_encoder.pth  ResnetEncoder over 2 stacked frames (6-channel ``conv1``)
    pose.pth          PoseDecoder: ``net.0`` … ``net.3``, one predicted frame

(``adam.pth``, the optimiser state, is not read.) Output: ``{'state_dict': ...,
'meta': ...}`` for ``configs/fsre/resnet18_kitti_official.py``, the FSRE config with
the official code's CMA details and input normalisation. Command::

    python tools/model_converters/fsre_to_mmdepthsem.py \\
        path/to/weights_19 checkpoints/fsre_resnet18_kitti.pth

The table (:func:`build_key_map`) reuses the Monodepth2 tables of
:mod:`mmdepthsem.utils.monodepth_conversion` for the encoders, both decoders and the
pose decoder, and adds the CMA modules: ``att_d_to_s.<l>`` refines the depth features
(keys and values from depth, queries from semantics) and becomes
``cross_task.<l+1>.depth_cma``; ``att_s_to_d.<l>`` becomes ``seg_cma``. FSRE's CMA
layer ``l`` runs after decoder block ``b = l + 1`` (``(i - 1) in cma_layers`` in its
decoder loop). The ResNet depths, the decoders' scales, the CMA layers and the
embedding count ``H`` / width ratio are read from the shapes; every official tensor
must land on a target key of the same shape and every target key must be filled,
otherwise a :class:`ConversionError` lists the leftovers. Only the ImageNet classifier
``fc.*`` of the two encoders is dropped.

The official ``MultiEmbedding`` multiplies the values by the raw score when ``H = 1``
(no softmax); :class:`CrossModalAttention` has no such mode, so ``H = 1`` checkpoints
(FSRE Table 4b) are refused.
"""
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor

from mmdepthsem.utils.monodepth_conversion import (MONODEPTH2_MEAN, MONODEPTH2_STD,
                                                   ConversionError, Rule,
                                                   convert_from_command_line,
                                                   convert_state_dict,
                                                   depth_decoder_key_map, dropped_keys,
                                                   format_cfg_option, infer_resnet,
                                                   infer_scales, load_state_files,
                                                   pose_decoder_key_map, resnet_key_map,
                                                   resnet_widths, target_shapes)

__all__ = [
    'ConversionError', 'Rule', 'load_official_folder', 'infer_cma',
    'cma_key_map', 'dropped_keys', 'build_key_map', 'model_overrides',
    'convert_folder', 'main'
]

#: The four files of an FSRE-Depth model folder (``<part>.pth``).
PARTS = ('encoder', 'decoder', 'pose_encoder', 'pose')
#: Non-tensor entries FSRE's trainer writes into ``encoder.pth``.
NON_TENSOR_KEYS = ('height', 'width', 'epoch', 'step')
DEFAULT_CONFIG = 'configs/fsre/resnet18_kitti_official.py'
DEPTH_DECODER = 'decoder/depth_decoder.decoder.'
SEG_DECODER = 'decoder/seg_decoder.decoder.'
#: Official CMA direction -> the :class:`BidirectionalCMA` module it becomes.
CMA_DIRECTIONS = (('att_d_to_s', 'depth_cma'), ('att_s_to_d', 'seg_cma'))
#: ``MultiEmbedding`` submodule -> ``CrossModalAttention`` submodule.
CMA_LAYERS = (('query_conv', 'query'), ('key_conv', 'key'), ('value_conv', 'value'),
              ('fuse.0.conv.conv', 'fuse.0'), ('fuse.1', 'fuse.2'))
_BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def load_official_folder(folder: str) -> Tuple[Dict[str, Tensor], Dict[str, object]]:
    """Read the four state dicts of an FSRE-Depth model folder.

    Args:
        folder: Folder holding ``encoder.pth``, ``decoder.pth``,
            ``pose_encoder.pth`` and ``pose.pth``.

    Returns:
        ``(tensors, extras)``: every tensor keyed ``'<part>/<key>'`` (e.g.
        ``'decoder/att_d_to_s.3.query_conv.weight'``), and the non-tensor entries of
        ``encoder.pth`` (``height``, ``width``, ``epoch``, ``step``).

    Raises:
        FileNotFoundError: A file is missing (``decoder.pth`` is missing from
            models trained with ``--no_cma``, which are not supported).
        ConversionError: A file holds an unexpected non-tensor entry.
    """
    return load_state_files(folder, PARTS, dict(encoder=NON_TENSOR_KEYS),
                            'FSRE-Depth')


def infer_cma(tensors: Dict[str, Tensor]) -> Tuple[List[int], int, int]:
    """CMA layers, embedding count ``H`` and width ratio of ``decoder.pth``.

    ``MultiEmbedding(C, num_head=H, ratio=r)`` holds ``query_conv`` of
    ``(H·r·C, C, 1, 1)`` and ``W.0`` of ``(C, r·C, 1, 1)``.

    Returns:
        ``(layers, num_embeddings, expansion)``, layers sorted.

    Raises:
        ConversionError: No CMA module, modules that disagree, a non-integer ratio,
            or ``H = 1`` (not expressible, see the module docstring).
    """
    pattern = re.compile(r'decoder/att_(?:d_to_s|s_to_d)\.(\d+)\.query_conv\.weight')
    layers = sorted({int(m.group(1)) for k in tensors for m in [pattern.fullmatch(k)]
                     if m})
    if not layers:
        raise ConversionError('decoder.pth holds no att_d_to_s / att_s_to_d modules; '
                              'only FSRE models with CMA are supported')
    specs = set()
    for layer in layers:
        for direction, _ in CMA_DIRECTIONS:
            prefix = f'decoder/{direction}.{layer}.'
            if f'{prefix}W.0.weight' not in tensors:
                continue  # reported as a missing tensor by the conversion
            width, channels = tensors[f'{prefix}query_conv.weight'].shape[:2]
            embed = tensors[f'{prefix}W.0.weight'].shape[1]
            if embed % channels or width % embed:
                raise ConversionError(f'{prefix}*: embedding width {embed} is no '
                                      f'multiple of {channels} channels, or query '
                                      f'width {width} no multiple of it')
            specs.add((width // embed, embed // channels))
    if len(specs) != 1:
        raise ConversionError(f'CMA modules disagree on (H, ratio): {sorted(specs)}')
    num_embeddings, expansion = specs.pop()
    if num_embeddings == 1:
        raise ConversionError('CMA with H = 1: the official MultiEmbedding weights '
                              'the values by the raw score there (no softmax), which '
                              'CrossModalAttention does not express')
    return layers, num_embeddings, expansion


def cma_key_map(layers: Sequence[int]) -> Dict[str, Rule]:
    """FSRE ``CMA.att_*`` → ``cross_task.<b>.{depth,seg}_cma`` with ``b = l + 1``.

    ``W = Sequential(Conv2d 1x1 without bias, BatchNorm2d)`` becomes ``project``;
    ``fuse = Sequential(ConvBlock, Conv2d 1x1)`` becomes ``fuse.0`` (the
    ``ConvBlock``'s reflection-padded 3×3 conv; its ELU is ``fuse.1``) and
    ``fuse.2``.
    """
    table: Dict[str, Rule] = {}
    for layer in layers:
        for direction, ours in CMA_DIRECTIONS:
            src = f'decoder/{direction}.{layer}.'
            dst = f'cross_task.{layer + 1}.{ours}.'
            for official, target in CMA_LAYERS:
                for param in ('weight', 'bias'):
                    table[f'{src}{official}.{param}'] = Rule(f'{dst}{target}.{param}')
            table[f'{src}W.0.weight'] = Rule(f'{dst}project.0.weight')
            for param in _BN:
                table[f'{src}W.1.{param}'] = Rule(f'{dst}project.1.{param}')
    return table



def build_key_map(depth_arch: str = 'resnet18', pose_arch: str = 'resnet18',
                  scales: Sequence[int] = (0, 1, 2, 3),
                  sem_scales: Sequence[int] = (0, ),
                  cma_layers: Sequence[int] = (3, 2, 1)) -> Dict[str, Rule]:
    """The complete table ``{'<part>/<official key>': Rule(target key)}``.

    Args:
        depth_arch: ResNet of ``encoder.pth``.
        pose_arch: ResNet of ``pose_encoder.pth``.
        scales: Output scales of the depth decoder, in the order it was built with.
        sem_scales: Output scales of the segmentation decoder (FSRE: ``[0]``).
        cma_layers: FSRE's ``cma_layers`` (default ``[3, 2, 1]``).
    """
    table = resnet_key_map('encoder/encoder.', 'backbone.timm_model.', depth_arch)
    table.update(depth_decoder_key_map(scales, DEPTH_DECODER, 'depth_decoder.'))
    table.update(depth_decoder_key_map(sem_scales, SEG_DECODER, 'sem_decoder.'))
    table.update(cma_key_map(cma_layers))
    table.update(resnet_key_map('pose_encoder/encoder.', 'pose_net.encoder.encoder.',
                                pose_arch))
    table.update(pose_decoder_key_map(num_frames=1))
    return table


def model_overrides(depth_arch: str, pose_arch: str, scales: Sequence[int],
                    sem_scales: Sequence[int]) -> Dict[str, object]:
    """``--cfg-options`` that give the config the official model's encoders and
    decoder scales (the CMA placement is checked, not overridden)."""
    return {
        'model.backbone.model_name': depth_arch,
        'model.depth_decoder.in_channels': resnet_widths(depth_arch),
        'model.depth_decoder.scales': sorted(scales),
        'model.sem_decoder.in_channels': resnet_widths(depth_arch),
        'model.sem_decoder.scales': sorted(sem_scales),
        'model.pose_net.encoder.model_name': pose_arch,
        'model.pose_net.decoder.type': 'PoseDecoder',
        'model.pose_net.decoder.in_channels': resnet_widths(pose_arch)[-1],
    }


def convert_folder(folder: str, config: str = DEFAULT_CONFIG) -> dict:
    """Convert an FSRE-Depth model folder; see the module docstring.

    Returns:
        ``{'state_dict': ..., 'meta': ...}``; the meta records the source, the
        training ``height`` / ``width`` (and ``epoch`` / ``step``), the config and the
        ``model_overrides`` it needs, the CMA blocks and FSRE's input mean / std.
    """
    tensors, extras = load_official_folder(folder)
    depth_arch = infer_resnet(tensors, 'encoder/encoder.')
    pose_arch = infer_resnet(tensors, 'pose_encoder/encoder.')
    scales = infer_scales(tensors, DEPTH_DECODER)
    sem_scales = infer_scales(tensors, SEG_DECODER)
    layers, num_embeddings, expansion = infer_cma(tensors)
    overrides = model_overrides(depth_arch, pose_arch, scales, sem_scales)
    shapes = target_shapes(config, overrides)
    key_map = build_key_map(depth_arch, pose_arch, scales, sem_scales, layers)
    state_dict, filled = convert_state_dict(tensors, key_map, shapes, dropped_keys(),
                                            source='FSRE-Depth')
    meta = dict(
        source='fsre', source_folder=osp.abspath(folder), config=config,
        model_overrides=overrides, depth_encoder=depth_arch, pose_encoder=pose_arch,
        scales=list(scales), sem_scales=list(sem_scales),
        cma_blocks=[layer + 1 for layer in layers], num_embeddings=num_embeddings,
        expansion=expansion,
        dropped=sorted(k for k in dropped_keys() if k in tensors),
        filled_num_batches_tracked=len(filled),
        input_mean=MONODEPTH2_MEAN, input_std=MONODEPTH2_STD,
        **{k: extras[k] for k in NON_TENSOR_KEYS if k in extras})
    return dict(state_dict=state_dict, meta=meta)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    result = convert_from_command_line(
        convert_folder, argv, 'FSRE-Depth',
        'encoder.pth, decoder.pth, pose_encoder.pth, pose.pth', DEFAULT_CONFIG)
    if result is None:
        return 1
    checkpoint, args = result
    meta = checkpoint['meta']
    print(f'Saved {len(checkpoint["state_dict"])} tensors to {args.out} '
          f'(depth encoder {meta["depth_encoder"]}, CMA after blocks '
          f'{meta["cma_blocks"]}, H = {meta["num_embeddings"]}, trained at '
          f'{meta.get("height")}x{meta.get("width")}).')
    options = [format_cfg_option(k, v) for k, v in meta['model_overrides'].items()]
    print(f'Use it with {args.config} --cfg-options ' + ' '.join(options))
    return 0


if __name__ == '__main__':
    sys.exit(main())
