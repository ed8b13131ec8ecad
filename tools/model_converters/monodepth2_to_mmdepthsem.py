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
scheme (:func:`build_key_map`); the depths of both ResNets (18 / 34 / 50 / 101 / 152)
and the decoder's output scales are read from the tensor shapes. The target model is
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
import argparse
import os.path as osp
import sys
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = [
    'ConversionError', 'Rule', 'load_official_folder', 'infer_resnet', 'infer_scales',
    'resnet_key_map', 'depth_decoder_order', 'depth_decoder_key_map',
    'pose_decoder_key_map', 'dropped_keys', 'build_key_map', 'convert_state_dict',
    'target_shapes', 'convert_folder', 'main'
]

#: The four files of a Monodepth2 model folder (``<part>.pth``).
PARTS = ('encoder', 'depth', 'pose_encoder', 'pose')
#: Non-tensor entries Monodepth2 writes into ``encoder.pth``.
NON_TENSOR_KEYS = ('height', 'width', 'use_stereo')
DEFAULT_CONFIG = 'configs/selfsup/monodepth2_resnet18_synthetic_kitti.py'
#: Monodepth2's decoder widths ``num_ch_dec`` of blocks 0 .. 4.
DECODER_CHANNELS = (16, 32, 64, 128, 256)
#: Monodepth2's input normalisation ``(x - 0.45) / 0.225`` on 0–255 images.
MONODEPTH2_MEAN = [0.45 * 255.0] * 3
MONODEPTH2_STD = [0.225 * 255.0] * 3
#: torchvision / timm ResNets by (block type, blocks per stage).
RESNET_ARCHS = {
    ('basic', (2, 2, 2, 2)): 'resnet18',
    ('basic', (3, 4, 6, 3)): 'resnet34',
    ('bottleneck', (3, 4, 6, 3)): 'resnet50',
    ('bottleneck', (3, 4, 23, 3)): 'resnet101',
    ('bottleneck', (3, 8, 36, 3)): 'resnet152',
}
_BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
_OPTIONAL_SUFFIX = '.num_batches_tracked'


class ConversionError(ValueError):
    """The official checkpoint and the target model do not match."""


class Rule(NamedTuple):
    """Where one official tensor goes.

    Attributes:
        target: Key in the mmdepthsem state dict.
        transform: Applied to the official tensor before the shape check.
        note: What ``transform`` does (used in error messages).
    """
    target: str
    transform: Optional[Callable[[Tensor], Tensor]] = None
    note: str = ''


# ------------------------------------------------------------------- loading
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
    tensors: Dict[str, Tensor] = {}
    extras: Dict[str, object] = {}
    for part in PARTS:
        path = osp.join(folder, f'{part}.pth')
        if not osp.isfile(path):
            raise FileNotFoundError(f'Monodepth2 model folder {folder} lacks {part}.pth')
        state = torch.load(path, map_location='cpu', weights_only=True)
        for key, value in state.items():
            if isinstance(value, Tensor):
                tensors[f'{part}/{key}'] = value
            elif part == 'encoder' and key in NON_TENSOR_KEYS:
                extras[key] = value
            else:
                raise ConversionError(f'{path}: unexpected non-tensor entry {key!r} '
                                      f'({type(value).__name__})')
    return tensors, extras


# ------------------------------------------------------- architecture from shapes
def infer_resnet(tensors: Dict[str, Tensor], prefix: str) -> str:
    """Name of the torchvision ResNet whose keys start with ``prefix``.

    Args:
        tensors: Official tensors (any key set).
        prefix: E.g. ``'encoder/encoder.'``.

    Returns:
        ``'resnet18'``, ``'resnet34'``, ``'resnet50'``, ``'resnet101'`` or
        ``'resnet152'`` (Monodepth2's ResNet-50 pose encoder of some releases is built
        from basic blocks and therefore comes out as ``'resnet34'``).

    Raises:
        ConversionError: The blocks match none of them.
    """
    block = 'bottleneck' if f'{prefix}layer1.0.conv3.weight' in tensors else 'basic'
    depths = []
    for stage in range(1, 5):
        n = 0
        while f'{prefix}layer{stage}.{n}.conv1.weight' in tensors:
            n += 1
        depths.append(n)
    name = RESNET_ARCHS.get((block, tuple(depths)))
    if name is None:
        raise ConversionError(f'{prefix}*: {block} blocks {depths} are no torchvision '
                              'ResNet-18/34/50/101/152')
    return name


def _is_bottleneck(arch: str) -> bool:
    return arch in ('resnet50', 'resnet101', 'resnet152')


def _stage_depths(arch: str) -> Tuple[int, ...]:
    for (_, depths), name in RESNET_ARCHS.items():
        if name == arch:
            return depths
    raise ConversionError(f'unknown ResNet {arch!r}')


def infer_scales(tensors: Dict[str, Tensor], prefix: str = 'depth/decoder.') -> List[int]:
    """Output scales of the depth decoder, from its ``dispconv`` input widths.

    The ten ``upconv`` blocks come first (positions 0–9); each later position is a
    ``dispconv`` of scale ``s`` reading the ``16 · 2**s`` channels of block ``s``.

    Raises:
        ConversionError: A position after the ``upconv`` blocks has an unexpected
            width.
    """
    scales = []
    position = 10
    while f'{prefix}{position}.conv.weight' in tensors:
        width = tensors[f'{prefix}{position}.conv.weight'].shape[1]
        if width not in DECODER_CHANNELS:
            raise ConversionError(f'{prefix}{position}.conv.weight reads {width} '
                                  f'channels, no decoder width of {DECODER_CHANNELS}')
        scales.append(DECODER_CHANNELS.index(width))
        position += 1
    return scales


# ------------------------------------------------------------- mapping table
def resnet_key_map(src: str, dst: str, arch: str) -> Dict[str, Rule]:
    """torchvision ResNet keys (Monodepth2's ``ResnetEncoder.encoder``) → timm keys.

    Both libraries name a ResNet ``conv1``, ``bn1``, ``layer{1-4}.{i}.conv{1-3}``,
    ``bn{1-3}``, ``downsample.{0,1}``; only the prefixes differ.

    Args:
        src: Official prefix, e.g. ``'encoder/encoder.'``.
        dst: Target prefix, e.g. ``'backbone.timm_model.'``.
        arch: ResNet name (see :data:`RESNET_ARCHS`).

    Returns:
        ``{official_key: Rule(target_key)}`` without the classifier ``fc.*``.
    """
    bottleneck = _is_bottleneck(arch)
    convs = (1, 2, 3) if bottleneck else (1, 2)
    names = ['conv1.weight'] + [f'bn1.{p}' for p in _BN]
    for stage, depth in enumerate(_stage_depths(arch), start=1):
        for i in range(depth):
            block = f'layer{stage}.{i}.'
            for c in convs:
                names.append(f'{block}conv{c}.weight')
                names += [f'{block}bn{c}.{p}' for p in _BN]
            # the first block of a stage changes width or stride; for basic blocks
            # layer1 keeps both (64 -> 64, stride 1)
            if i == 0 and (stage > 1 or bottleneck):
                names.append(f'{block}downsample.0.weight')
                names += [f'{block}downsample.1.{p}' for p in _BN]
    return {src + name: Rule(dst + name) for name in names}


def depth_decoder_order(scales: Sequence[int] = (0, 1, 2, 3)) -> List[tuple]:
    """Keys of Monodepth2's ``DepthDecoder.convs`` in insertion order.

    ``decoder = nn.ModuleList(list(convs.values()))`` saves them as
    ``decoder.<position>``: ``('upconv', i, 0)``, ``('upconv', i, 1)`` for
    ``i = 4 .. 0``, then ``('dispconv', s)`` for ``s`` in ``scales``.
    """
    order: List[tuple] = []
    for i in range(4, -1, -1):
        order += [('upconv', i, 0), ('upconv', i, 1)]
    return order + [('dispconv', s) for s in scales]


def depth_decoder_key_map(scales: Sequence[int] = (0, 1, 2, 3),
                          src: str = 'depth/decoder.',
                          dst: str = 'depth_decoder.') -> Dict[str, Rule]:
    """Monodepth2 ``DepthDecoder`` → :class:`MonodepthDepthDecoder`.

    ``('upconv', i, 0)`` / ``('upconv', i, 1)`` are ``ConvBlock``\\ s (``conv`` =
    ``Conv3x3`` whose ``conv`` is the ``nn.Conv2d``) and become
    ``blocks.block{i}.conv_in`` / ``conv_out``; ``('dispconv', s)`` is a ``Conv3x3``
    and becomes ``heads.scale{s}``.
    """
    table: Dict[str, Rule] = {}
    for position, name in enumerate(depth_decoder_order(scales)):
        if name[0] == 'upconv':
            _, i, j = name
            official = f'{src}{position}.conv.conv.'
            ours = f'{dst}blocks.block{i}.conv_{("in", "out")[j]}.conv.'
        else:
            official = f'{src}{position}.conv.'
            ours = f'{dst}heads.scale{name[1]}.'
        for param in ('weight', 'bias'):
            table[official + param] = Rule(ours + param)
    return table


def _first_pose(x: Tensor) -> Tensor:
    """First 6 output channels of the pose conv (the first predicted frame)."""
    if x.shape[0] % 6:
        raise ConversionError(f'pose conv has {x.shape[0]} outputs, not 6 per frame')
    return x[:6].clone()


def pose_decoder_key_map(src: str = 'pose/net.',
                         dst: str = 'pose_net.decoder.') -> Dict[str, Rule]:
    """Monodepth2 ``PoseDecoder`` → :class:`PoseDecoder`.

    ``net = nn.ModuleList(list(convs.values()))`` over ``'squeeze'``, ``('pose', 0)``,
    ``('pose', 1)``, ``('pose', 2)``: positions 0–3 are ``squeeze``, ``conv1``,
    ``conv2`` and ``conv_pose``; the last keeps its first frame's 6 outputs.
    """
    table: Dict[str, Rule] = {}
    for position, ours in enumerate(('squeeze', 'conv1', 'conv2', 'conv_pose')):
        for param in ('weight', 'bias'):
            rule = Rule(f'{dst}{ours}.{param}')
            if ours == 'conv_pose':
                rule = Rule(rule.target, _first_pose,
                            'first 6 outputs (num_frames_to_predict_for=2, frame 0)')
            table[f'{src}{position}.{param}'] = rule
    return table


def dropped_keys() -> Dict[str, str]:
    """Official tensors deliberately left out, with the reason."""
    reason = 'ImageNet classifier of torchvision ResNet; ResnetEncoder never runs it'
    return {f'{part}/encoder.fc.{p}': reason
            for part in ('encoder', 'pose_encoder') for p in ('weight', 'bias')}


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


# ---------------------------------------------------------------- conversion
def convert_state_dict(tensors: Dict[str, Tensor], key_map: Dict[str, Rule],
                       shapes: Dict[str, torch.Size],
                       dropped: Optional[Dict[str, str]] = None
                       ) -> Tuple[Dict[str, Tensor], List[str]]:
    """Apply ``key_map`` and check it against the target's keys and shapes.

    Args:
        tensors: Official tensors, keyed as in ``key_map``.
        key_map: ``{official_key: Rule}``.
        shapes: ``{target_key: shape}`` of the target model's state dict.
        dropped: Official keys to leave out on purpose (:func:`dropped_keys`).

    Returns:
        ``(state_dict, filled)``: the target state dict, and the
        ``num_batches_tracked`` keys set to 0 because the official file lacks them.

    Raises:
        ConversionError: Official tensors without a rule, rules whose official
            tensor or target key does not exist, target keys left empty, several
            tensors for one target, or shape mismatches (key and both shapes).
    """
    dropped = dropped or {}
    problems: List[str] = []
    unmapped = sorted(k for k in tensors if k not in key_map and k not in dropped)
    if unmapped:
        problems.append(f'{len(unmapped)} official tensors have no rule: '
                        + ', '.join(unmapped))
    unknown = sorted(f'{k} -> {r.target}' for k, r in key_map.items()
                     if r.target not in shapes)
    if unknown:
        problems.append(f'{len(unknown)} rules point at keys the target model does '
                        'not have: ' + ', '.join(unknown))
    absent = sorted(k for k, r in key_map.items() if k not in tensors
                    and not k.endswith(_OPTIONAL_SUFFIX) and r.target in shapes)
    if absent:
        problems.append(f'{len(absent)} official tensors of the table are missing '
                        'from the files: ' + ', '.join(absent))
    state_dict: Dict[str, Tensor] = {}
    sources: Dict[str, str] = {}
    for key, rule in key_map.items():
        if key not in tensors or rule.target not in shapes:
            continue
        if rule.target in sources:
            problems.append(f'{key} and {sources[rule.target]} both map to '
                            f'{rule.target}')
            continue
        value = tensors[key]
        converted = rule.transform(value) if rule.transform else value
        if converted.shape != shapes[rule.target]:
            after = f' ({rule.note}: {tuple(converted.shape)})' if rule.transform else ''
            problems.append(f'shape mismatch: official {key} {tuple(value.shape)}'
                            f'{after} vs target {rule.target} '
                            f'{tuple(shapes[rule.target])}')
            continue
        sources[rule.target] = key
        state_dict[rule.target] = converted
    rule_of = {r.target: k for k, r in key_map.items()}
    filled: List[str] = []
    unfilled = []
    for target in shapes:
        if target in state_dict:
            continue
        if target not in rule_of:
            unfilled.append(target)
        elif target.endswith(_OPTIONAL_SUFFIX) and rule_of[target] not in tensors:
            state_dict[target] = torch.zeros((), dtype=torch.long)
            filled.append(target)
        # else: its official tensor is missing or misshapen, reported above
    if unfilled:
        problems.append(f'{len(unfilled)} target keys are not filled (no official '
                        'tensor maps to them): '
                        + ', '.join(sorted(unfilled)))
    if problems:
        raise ConversionError('Monodepth2 -> mmdepthsem conversion failed:\n- '
                              + '\n- '.join(problems))
    return {k: state_dict[k] for k in shapes}, filled


def model_overrides(depth_arch: str, pose_arch: str,
                    scales: Sequence[int]) -> Dict[str, object]:
    """``--cfg-options`` that give a config the official model's architecture."""
    def widths(arch: str) -> List[int]:
        return [64, 256, 512, 1024, 2048] if _is_bottleneck(arch) else \
            [64, 64, 128, 256, 512]
    return {
        'model.backbone.model_name': depth_arch,
        'model.depth_decoder.in_channels': widths(depth_arch),
        'model.depth_decoder.scales': sorted(scales),
        'model.pose_net.encoder.model_name': pose_arch,
        'model.pose_net.encoder.num_input_frames': 2,
        'model.pose_net.decoder.type': 'PoseDecoder',
        'model.pose_net.decoder.in_channels': widths(pose_arch)[-1],
    }


def target_shapes(config: str, overrides: Optional[Dict[str, object]] = None
                  ) -> Dict[str, torch.Size]:
    """Build the model of ``config`` (no downloads) and return its key shapes.

    Args:
        config: mmdepthsem config of a ``SelfSupervisedDepthEstimator``.
        overrides: ``--cfg-options``-style dotted keys applied first
            (:func:`model_overrides`).
    """
    from mmengine.config import Config

    from mmdepthsem.registry import MODELS
    from mmdepthsem.utils import register_all_modules
    from mmdepthsem.utils.tool_config import model_cfg_without_downloads

    register_all_modules()
    cfg = Config.fromfile(config)
    if overrides:
        cfg.merge_from_dict(dict(overrides))
    model = MODELS.build(model_cfg_without_downloads(cfg.model))
    return {k: v.shape for k, v in model.state_dict().items()}


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


def _format_option(key: str, value: object) -> str:
    if isinstance(value, (list, tuple)):
        return f'{key}="[{",".join(str(v) for v in value)}]"'
    return f'{key}={value}'


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description='Convert an official Monodepth2 model folder (encoder.pth, '
        'depth.pth, pose_encoder.pth, pose.pth) into an mmdepthsem checkpoint.')
    parser.add_argument('folder', help='Monodepth2 model folder')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='mmdepthsem config of the target model '
                        f'(default {DEFAULT_CONFIG})')
    args = parser.parse_args(argv)
    try:
        checkpoint = convert_folder(args.folder, args.config)
    except (ConversionError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir):
        raise FileNotFoundError(f'output folder {out_dir} does not exist')
    torch.save(checkpoint, args.out)
    meta = checkpoint['meta']
    print(f'Saved {len(checkpoint["state_dict"])} tensors to {args.out} '
          f'(depth encoder {meta["depth_encoder"]}, pose encoder '
          f'{meta["pose_encoder"]}, scales {meta["scales"]}, trained at '
          f'{meta.get("height")}x{meta.get("width")}).')
    mean = ','.join(f'{m:g}' for m in MONODEPTH2_MEAN)
    std = ','.join(f'{s:g}' for s in MONODEPTH2_STD)
    options = [_format_option(k, v) for k, v in meta['model_overrides'].items()]
    options += [f'model.data_preprocessor.mean="[{mean}]"',
                f'model.data_preprocessor.std="[{std}]"']
    print('Use it with --cfg-options ' + ' '.join(options))
    return 0


if __name__ == '__main__':
    sys.exit(main())
