"""Initialise a segmentation decoder from a pretrained depth decoder (SDE-Seg §3.3).

SDE-Seg gives both task decoders the same architecture so that, after SDE
pretraining, the segmentation decoder can start as a copy of the depth decoder. Only
the output layers differ: the class head (19 logits instead of 1 disparity) and the
depth side outputs at the coarser scales, which the segmentation decoder lacks. Those
are left out, so the target model keeps their fresh initialisation when the result is
loaded non-strictly (``load_from``).
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Mapping, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

__all__ = ['TransferReport', 'transfer_depth_decoder_to_sem']

#: Parts of an SDE model the target takes over unchanged (same key, same shape).
KEEP_PREFIXES = ('backbone.', 'depth_decoder.', 'pose_net.')


@dataclass
class TransferReport:
    """What :func:`transfer_depth_decoder_to_sem` did.

    Attributes:
        copied: ``{target key: source key}`` of every tensor in the result.
        skipped: ``{target key: reason}`` of every target key left out; the target
            model keeps its initialisation there.
        dropped: ``{source key: reason}`` of every source tensor not used.
    """

    copied: Dict[str, str] = field(default_factory=dict)
    skipped: Dict[str, str] = field(default_factory=dict)
    dropped: Dict[str, str] = field(default_factory=dict)


def _shapes(target: Union[nn.Module, Mapping[str, Union[Tensor, torch.Size]]]
            ) -> Dict[str, torch.Size]:
    """``{key: shape}`` of a model's state dict or of a state dict / shape dict."""
    if isinstance(target, nn.Module):
        target = target.state_dict()
    return {k: v.shape if isinstance(v, Tensor) else torch.Size(v)
            for k, v in target.items()}


def _shape_text(shape: torch.Size) -> str:
    return str(tuple(shape))


def transfer_depth_decoder_to_sem(
        state_dict: Mapping[str, Tensor],
        target: Union[nn.Module, Mapping[str, Union[Tensor, torch.Size]]],
        src_prefix: str = 'depth_decoder.',
        dst_prefix: str = 'sem_decoder.',
        keep_prefixes: Sequence[str] = KEEP_PREFIXES
) -> Tuple['OrderedDict[str, Tensor]', TransferReport]:
    """A state dict for ``target`` from an SDE model's ``state_dict``.

    - Every target key ``dst_prefix + name`` gets the source tensor
      ``src_prefix + name`` when that exists with the same shape (the segmentation
      decoder starts as the depth decoder).
    - Every target key under ``keep_prefixes`` gets the source tensor of the same
      key when the shapes agree (encoder, depth decoder and pose net as pretrained).
    - Everything else is left out: target keys without a matching source (e.g. the
      class head ``sem_decoder.heads.scale0.*``, whose shape differs, or modules the
      SDE model lacks) keep the target's initialisation; source keys the target does
      not take (e.g. ``depth_decoder.heads.scale1-3`` when the target has no depth
      decoder, SDE-Seg pretraining's ``reference_backbone.*``) are dropped. Each
      one is in ``report.skipped`` (target) or ``report.dropped`` (source) with
      the reason.

    A DDP ``module.`` prefix on the source keys is removed first.

    Args:
        state_dict: Source state dict (``checkpoint['state_dict']`` of the SDE run).
        target: The target model, or its state dict, or ``{key: shape}``.
        src_prefix: Prefix of the source depth decoder.
        dst_prefix: Prefix of the target segmentation decoder.
        keep_prefixes: Prefixes copied key for key.

    Returns:
        ``(new_state_dict, report)``; the tensors are cloned, in target key order.

    Raises:
        ValueError: The target has no key under ``dst_prefix``, the source none
            under ``src_prefix``, or not one of them matches (other architecture).
    """
    source = OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state_dict.items())
    shapes = _shapes(target)
    if not any(k.startswith(dst_prefix) for k in shapes):
        raise ValueError(f'the target model has no `{dst_prefix}*` keys to initialise')
    if not any(k.startswith(src_prefix) for k in source):
        raise ValueError(f'the source state dict has no `{src_prefix}*` keys')

    report = TransferReport()
    result: 'OrderedDict[str, Tensor]' = OrderedDict()
    used = set()
    for key, shape in shapes.items():
        if key.startswith(dst_prefix):
            src_key = src_prefix + key[len(dst_prefix):]
        elif key.startswith(tuple(keep_prefixes)):
            src_key = key
        else:
            report.skipped[key] = 'target only: no source part maps to it; keeps init'
            continue
        if src_key not in source:
            report.skipped[key] = f'no {src_key} in the source; keeps init'
            continue
        used.add(src_key)
        if source[src_key].shape != shape:
            report.skipped[key] = (f'shape {_shape_text(shape)} differs from '
                                   f'{src_key} {_shape_text(source[src_key].shape)}; '
                                   'keeps init')
            continue
        result[key] = source[src_key].detach().clone()
        report.copied[key] = src_key
    if not any(k.startswith(dst_prefix) for k in report.copied):
        raise ValueError(f'no `{src_prefix}*` tensor fits a `{dst_prefix}*` key of '
                         'the target (name and shape): are both decoders the same '
                         'architecture?')
    for key in source:
        if key in used:
            continue
        if key.startswith(src_prefix) and dst_prefix + key[len(src_prefix):] \
                not in shapes and key not in shapes:
            report.dropped[key] = f'the target has no {dst_prefix}' \
                f'{key[len(src_prefix):]} (e.g. a depth side output) nor {key}'
        elif key in shapes:
            report.dropped[key] = 'outside the transferred prefixes'
        else:
            report.dropped[key] = 'not in the target model'
    return result, report
