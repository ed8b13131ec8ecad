"""Key tables shared by the converters of Monodepth2-lineage checkpoints.

Monodepth2 (Godard et al., ICCV 2019) and the methods built on its code (FSRE-Depth,
SDE-Seg) save their networks as plain state dicts with the same naming scheme: a
torchvision ResNet under ``encoder.``, decoders whose convolutions are kept in an
``nn.ModuleList`` and therefore saved under positional keys, and a pose decoder
``net.0`` … ``net.3``. This module turns that scheme into explicit
``{official key: Rule(target key)}`` tables for mmdepthsem's ``TIMMBackbone``,
``MonodepthDepthDecoder`` and ``PoseDecoder``, and applies a table with full checks
(:func:`convert_state_dict`): every official tensor must land on a target key of the
same shape and every target key must be filled. The scripts under
``tools/model_converters/`` combine these tables per format.
"""
import argparse
import io
import os.path as osp
import sys
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .checkpoint import atomic_write_bytes

__all__ = [
    'ConversionError', 'Rule', 'RESNET_ARCHS', 'DECODER_CHANNELS', 'MONODEPTH2_MEAN',
    'MONODEPTH2_STD', 'load_state_files', 'infer_resnet', 'resnet_widths',
    'infer_scales', 'resnet_key_map', 'depth_decoder_order', 'depth_decoder_key_map',
    'pose_decoder_key_map', 'convert_state_dict', 'target_shapes', 'format_cfg_option',
    'convert_from_command_line'
]

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
def load_state_files(folder: str, parts: Sequence[str],
                     non_tensor_keys: Dict[str, Sequence[str]],
                     source: str) -> Tuple[Dict[str, Tensor], Dict[str, object]]:
    """Read the plain state dicts ``<folder>/<part>.pth`` of an official model.

    Args:
        folder: Model folder.
        parts: File stems to read, e.g. ``('encoder', 'depth', ...)``.
        non_tensor_keys: ``{part: keys}`` of non-tensor entries a file may hold
            (e.g. ``height`` / ``width`` in ``encoder.pth``).
        source: Name of the format, for error messages.

    Returns:
        ``(tensors, extras)``: every tensor keyed ``'<part>/<key>'``, and the allowed
        non-tensor entries keyed by their own name.

    Raises:
        FileNotFoundError: A file is missing.
        ConversionError: A file holds an unexpected non-tensor entry.
    """
    tensors: Dict[str, Tensor] = {}
    extras: Dict[str, object] = {}
    for part in parts:
        path = osp.join(folder, f'{part}.pth')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{source} model folder {folder} lacks {part}.pth')
        state = torch.load(path, map_location='cpu', weights_only=True)
        for key, value in state.items():
            if isinstance(value, Tensor):
                tensors[f'{part}/{key}'] = value
            elif key in non_tensor_keys.get(part, ()):
                extras[key] = value
            else:
                raise ConversionError(f'{path}: unexpected non-tensor entry {key!r} '
                                      f'({type(value).__name__})')
    return tensors, extras


def dropped_keys() -> Dict[str, str]:
    """Official tensors deliberately left out, with the reason: the ImageNet
    classifier of the torchvision ResNets (``encoder.pth`` / ``pose_encoder.pth``
    hold it when the encoders were built from ImageNet weights; ResnetEncoder never
    runs it)."""
    reason = 'ImageNet classifier of torchvision ResNet; ResnetEncoder never runs it'
    return {f'{part}/encoder.fc.{p}': reason
            for part in ('encoder', 'pose_encoder') for p in ('weight', 'bias')}


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


def resnet_widths(arch: str) -> List[int]:
    """Channels of the five ResNet feature maps (strides 2 .. 32) of ``arch``."""
    return [64, 256, 512, 1024, 2048] if _is_bottleneck(arch) else \
        [64, 64, 128, 256, 512]


def infer_scales(tensors: Dict[str, Tensor],
                 prefix: str = 'depth/decoder.') -> List[int]:
    """Output scales of a Monodepth2-style decoder, from its ``dispconv`` input
    widths (``prefix``: its ``decoder.`` ModuleList, ``depth.pth`` by default).

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


def pose_decoder_key_map(src: str = 'pose/net.', dst: str = 'pose_net.decoder.',
                         num_frames: int = 2) -> Dict[str, Rule]:
    """Monodepth2 ``PoseDecoder`` → :class:`PoseDecoder`.

    ``net = nn.ModuleList(list(convs.values()))`` over ``'squeeze'``, ``('pose', 0)``,
    ``('pose', 1)``, ``('pose', 2)``: positions 0–3 are ``squeeze``, ``conv1``,
    ``conv2`` and ``conv_pose``. With ``num_frames`` (the official
    ``num_frames_to_predict_for``) above 1, ``conv_pose`` keeps the first frame's 6
    outputs.
    """
    table: Dict[str, Rule] = {}
    for position, ours in enumerate(('squeeze', 'conv1', 'conv2', 'conv_pose')):
        for param in ('weight', 'bias'):
            rule = Rule(f'{dst}{ours}.{param}')
            if ours == 'conv_pose' and num_frames > 1:
                rule = Rule(rule.target, _first_pose,
                            f'first 6 outputs (num_frames_to_predict_for='
                            f'{num_frames}, frame 0)')
            table[f'{src}{position}.{param}'] = rule
    return table


# ---------------------------------------------------------------- conversion
def convert_state_dict(tensors: Dict[str, Tensor], key_map: Dict[str, Rule],
                       shapes: Dict[str, torch.Size],
                       dropped: Optional[Dict[str, str]] = None,
                       source: str = 'Monodepth2'
                       ) -> Tuple[Dict[str, Tensor], List[str]]:
    """Apply ``key_map`` and check it against the target's keys and shapes.

    Args:
        tensors: Official tensors, keyed as in ``key_map``.
        key_map: ``{official_key: Rule}``.
        shapes: ``{target_key: shape}`` of the target model's state dict.
        dropped: Official keys to leave out on purpose, with the reason.
        source: Name of the official format, for the error message.

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
        raise ConversionError(f'{source} -> mmdepthsem conversion failed:\n- '
                              + '\n- '.join(problems))
    return {k: state_dict[k] for k in shapes}, filled


def target_shapes(config: str, overrides: Optional[Dict[str, object]] = None
                  ) -> Dict[str, torch.Size]:
    """Build the model of ``config`` (no downloads) and return its key shapes.

    Args:
        config: mmdepthsem config of a ``SelfSupervisedDepthEstimator``.
        overrides: ``--cfg-options``-style dotted keys applied first (a
            converter's ``model_overrides``).
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


def format_cfg_option(key: str, value: object) -> str:
    """``key=value`` as ``tools/*.py --cfg-options`` reads it (lists quoted)."""
    if isinstance(value, (list, tuple)):
        return f'{key}="[{",".join(str(v) for v in value)}]"'
    return f'{key}={value}'


def convert_from_command_line(convert: Callable[[str, str], dict],
                              argv: Optional[Sequence[str]], source: str,
                              files: str, default_config: str
                              ) -> Optional[Tuple[dict, argparse.Namespace]]:
    """The command line shared by the converter scripts: ``FOLDER OUT [--config]``.

    Args:
        convert: ``convert(folder, config) -> checkpoint``.
        argv: Arguments (``None``: ``sys.argv``).
        source: Name of the official format, e.g. ``'FSRE-Depth'``.
        files: The files of an official folder, for the help text.
        default_config: Default of ``--config``.

    Returns:
        ``(checkpoint, args)`` once the checkpoint is saved to ``args.out``, or
        ``None`` after printing why the conversion failed to stderr.
    """
    parser = argparse.ArgumentParser(
        description=f'Convert an official {source} model folder ({files}) into an '
        'mmdepthsem checkpoint.')
    parser.add_argument('folder', help=f'{source} model folder')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument('--config', default=default_config,
                        help='mmdepthsem config of the target model '
                        f'(default {default_config})')
    args = parser.parse_args(argv)
    try:
        checkpoint = convert(args.folder, args.config)
    except (ConversionError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return None
    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir):
        raise FileNotFoundError(f'output folder {out_dir} does not exist')
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(buffer.getvalue(), args.out)
    return checkpoint, args
