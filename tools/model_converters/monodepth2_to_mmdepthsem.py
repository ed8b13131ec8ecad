"""Convert an official Monodepth2 model folder into one mmdepthsem checkpoint.

Input: the folder of a released (or self-trained) Monodepth2 model, e.g.
``mono_640x192/``, with its four state dicts::

    encoder.pth       ResnetEncoder: ``encoder.<torchvision ResNet key>`` tensors, plus
                      the non-tensor entries ``height``, ``width``, ``use_stereo``
    depth.pth         DepthDecoder: ``decoder.<n>.…`` (an ``nn.ModuleList`` of its
                      ``convs`` OrderedDict values, so the keys are positional)
    pose_encoder.pth  ResnetEncoder over 2 stacked frames (6-channel ``conv1``)
    pose.pth          PoseDecoder: ``net.<n>.…`` (positional as well)

Output: ``{'state_dict': ..., 'meta': ...}`` for a
``configs/selfsup/monodepth2_resnet18_synthetic_kitti.py``-style model
(``SelfSupervisedDepthEstimator`` with a ``TIMMBackbone`` ResNet, a
``MonodepthDepthDecoder`` and a ``PoseNet``). Command::

    python tools/model_converters/monodepth2_to_mmdepthsem.py \\
        path/to/mono_640x192 checkpoints/monodepth2_mono_640x192.pth

The keys are translated by an explicit table generated from Monodepth2's naming
scheme (:func:`build_key_map`, from the tables in
:mod:`mmdepthsem.utils.monodepth_conversion`, shared with the FSRE-Depth converter);
the depths of both ResNets (18 / 34 / 50 / 101 / 152) and the decoder's output
scales are read from the tensor shapes. The target model is
built from ``--config`` (with those depths); every official tensor must land on a
target key of the same shape and every target key must be filled, otherwise the
conversion stops with a :class:`ConversionError` that lists the leftovers / names the
key and both shapes. Only the ImageNet classifier ``fc.*`` of the two encoders is
dropped (torchvision's ResNet keeps it, Monodepth2 never runs it).

Two translations are more than a rename:

- Monodepth2 builds its pose decoder with ``num_frames_to_predict_for=2`` and uses only
  the first prediction (``axisangle[:, 0]``, ``translation[:, 0]``); the last 1×1 conv
  (``net.3``, 12 outputs) keeps its first 6 output channels for ``conv_pose``.
- ``num_batches_tracked`` BatchNorm counters, absent from files written by old
  PyTorch versions, are filled with 0 when missing (they only matter with
  ``momentum=None``); the meta lists how many were filled.

Monodepth2's encoders normalise ``[0, 1]`` RGB images with ``(x - 0.45) / 0.225``; the
meta records the matching ``data_preprocessor`` mean / std (``114.75`` / ``57.375`` on
0–255 images), which differ from the ImageNet statistics of the project configs.
"""
import os.path as osp
import sys
from typing import Dict, Optional, Sequence, Tuple

from torch import Tensor

from mmdepthsem.utils.monodepth_conversion import (MONODEPTH2_MEAN, MONODEPTH2_STD,
                                                   ConversionError, Rule,
                                                   convert_from_command_line,
                                                   convert_state_dict,
                                                   depth_decoder_key_map,
                                                   depth_decoder_order, dropped_keys,
                                                   format_cfg_option, infer_resnet,
                                                   infer_scales, load_state_files,
                                                   pose_decoder_key_map, resnet_key_map,
                                                   resnet_widths, target_shapes)

__all__ = [
    'ConversionError', 'Rule', 'load_official_folder', 'infer_resnet', 'infer_scales',
    'resnet_key_map', 'depth_decoder_order', 'depth_decoder_key_map',
    'pose_decoder_key_map', 'dropped_keys', 'build_key_map', 'convert_state_dict',
    'target_shapes', 'model_overrides', 'convert_folder', 'main'
]

#: The four files of a Monodepth2 model folder (``<part>.pth``).
PARTS = ('encoder', 'depth', 'pose_encoder', 'pose')
#: Non-tensor entries Monodepth2 writes into ``encoder.pth``.
NON_TENSOR_KEYS = ('height', 'width', 'use_stereo')
DEFAULT_CONFIG = 'configs/selfsup/monodepth2_resnet18_synthetic_kitti.py'


def load_official_folder(folder: str) -> Tuple[Dict[str, Tensor], Dict[str, object]]:
    """Read the four state dicts of a Monodepth2 model folder.

    Args:
        folder: Folder holding ``encoder.pth``, ``depth.pth``, ``pose_encoder.pth``
            and ``pose.pth``.

    Returns:
        ``(tensors, extras)``: every tensor keyed ``'<part>/<key>'`` (e.g.
        ``'depth/decoder.0.conv.conv.weight'``), and the non-tensor entries of
        ``encoder.pth`` (``height``, ``width``, ``use_stereo``).

    Raises:
        FileNotFoundError: A file is missing.
        ConversionError: A file holds an unexpected non-tensor entry.
    """
    return load_state_files(folder, PARTS, dict(encoder=NON_TENSOR_KEYS), 'Monodepth2')



def build_key_map(depth_arch: str = 'resnet18', pose_arch: str = 'resnet18',
                  scales: Sequence[int] = (0, 1, 2, 3)) -> Dict[str, Rule]:
    """The complete table ``{'<part>/<official key>': Rule(target key)}``.

    Args:
        depth_arch: ResNet of ``encoder.pth``.
        pose_arch: ResNet of ``pose_encoder.pth``.
        scales: Output scales of ``depth.pth``, in the order it was built with.
    """
    table = resnet_key_map('encoder/encoder.', 'backbone.timm_model.', depth_arch)
    table.update(depth_decoder_key_map(scales))
    table.update(resnet_key_map('pose_encoder/encoder.', 'pose_net.encoder.encoder.',
                                pose_arch))
    table.update(pose_decoder_key_map())
    return table


def model_overrides(depth_arch: str, pose_arch: str,
                    scales: Sequence[int]) -> Dict[str, object]:
    """``--cfg-options`` that give a config the official model's architecture."""
    return {
        'model.backbone.model_name': depth_arch,
        'model.depth_decoder.in_channels': resnet_widths(depth_arch),
        'model.depth_decoder.scales': sorted(scales),
        'model.pose_net.encoder.model_name': pose_arch,
        'model.pose_net.encoder.num_input_frames': 2,
        'model.pose_net.decoder.type': 'PoseDecoder',
        'model.pose_net.decoder.in_channels': resnet_widths(pose_arch)[-1],
    }


def convert_folder(folder: str, config: str = DEFAULT_CONFIG) -> dict:
    """Convert a Monodepth2 model folder; see the module docstring.

    Returns:
        ``{'state_dict': ..., 'meta': ...}``; the meta records the source, the
        training ``height`` / ``width`` / ``use_stereo``, the config and the
        ``model_overrides`` it needs, and Monodepth2's input mean / std.
    """
    tensors, extras = load_official_folder(folder)
    depth_arch = infer_resnet(tensors, 'encoder/encoder.')
    pose_arch = infer_resnet(tensors, 'pose_encoder/encoder.')
    scales = infer_scales(tensors)
    overrides = model_overrides(depth_arch, pose_arch, scales)
    shapes = target_shapes(config, overrides)
    state_dict, filled = convert_state_dict(
        tensors, build_key_map(depth_arch, pose_arch, scales), shapes, dropped_keys())
    meta = dict(
        source='monodepth2', source_folder=osp.abspath(folder), config=config,
        model_overrides=overrides, depth_encoder=depth_arch, pose_encoder=pose_arch,
        scales=list(scales), dropped=sorted(k for k in dropped_keys() if k in tensors),
        filled_num_batches_tracked=len(filled),
        input_mean=MONODEPTH2_MEAN, input_std=MONODEPTH2_STD,
        **{k: extras[k] for k in NON_TENSOR_KEYS if k in extras})
    return dict(state_dict=state_dict, meta=meta)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    result = convert_from_command_line(
        convert_folder, argv, 'Monodepth2',
        'encoder.pth, depth.pth, pose_encoder.pth, pose.pth', DEFAULT_CONFIG)
    if result is None:
        return 1
    checkpoint, args = result
    meta = checkpoint['meta']
    print(f'Saved {len(checkpoint["state_dict"])} tensors to {args.out} '
          f'(depth encoder {meta["depth_encoder"]}, pose encoder '
          f'{meta["pose_encoder"]}, scales {meta["scales"]}, trained at '
          f'{meta.get("height")}x{meta.get("width")}).')
    mean = ','.join(f'{m:g}' for m in MONODEPTH2_MEAN)
    std = ','.join(f'{s:g}' for s in MONODEPTH2_STD)
    options = [format_cfg_option(k, v) for k, v in meta['model_overrides'].items()]
    options += [f'model.data_preprocessor.mean="[{mean}]"',
                f'model.data_preprocessor.std="[{std}]"']
    print('Use it with --cfg-options ' + ' '.join(options))
    return 0


if __name__ == '__main__':
    sys.exit(main())
