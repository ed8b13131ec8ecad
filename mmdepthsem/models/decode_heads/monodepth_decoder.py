"""Monodepth2's depth decoder, with named blocks and hooks after each block.

Block index (``specs/selfsup_fsre.md``, "One level index"): blocks ``b = 4, 3, 2, 1, 0``
run from coarse to fine. Block ``b`` takes the previous output (the stride-32 encoder
feature for ``b = 4``) and computes::

    x = ConvBlock(x)                      # 3×3 conv, reflection padding, ELU
    x = nearest_upsample(x) ×2            # now at stride 2**b
    x = concat(x, encoder skip at stride 2**b)   # no skip for b = 0
    x = ConvBlock(x)                      # "skip-concat conv"
    x = hook_b(x)                         # optional, identity by default

with widths 16, 32, 64, 128, 256 for ``b = 0 .. 4``. Output scale ``s`` (stride
``2**s``, ``s = 0 .. 3``) is ``sigmoid(conv3x3(x_s))`` taken from block ``b = s``.

Placements of the papers in this index: FSRE's CMA (its ``l = 0, 1, 2``, counted from
the coarse end) follows blocks ``b = 4, 3, 2`` (strides 16, 8, 4); its semantics-guided
triplet loss uses the features of blocks ``b = 3, 2, 1``.

Hooking in: ``block_hooks`` puts a one-input module ``x -> x`` after a block's
skip-concat conv (a unidirectional refinement). Modules that need two decoders at once
(FSRE's bidirectional CMA) step the decoders together with
:func:`decode_in_lockstep`, which ``forward`` also uses. ``forward`` also returns every
block's output for feature losses.
"""
from collections import OrderedDict
from typing import (Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmdepthsem.registry import MODELS

__all__ = ['MonodepthDepthDecoder']

#: Blocks of the decoder, coarse to fine.
BLOCKS = (4, 3, 2, 1, 0)


def _conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3×3 convolution with reflection padding (PyTorch's default initialisation,
    as Monodepth2; mmcv's ``ConvModule`` would re-initialise it with Kaiming normal,
    which saturates the sigmoid outputs of this norm-free decoder at start)."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode='reflect')


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Monodepth2's ConvBlock: 3×3 conv with reflection padding, then ELU."""
    return nn.Sequential(
        OrderedDict(conv=_conv3x3(in_channels, out_channels), act=nn.ELU(inplace=True)))


class _UpBlock(nn.Module):
    """One decoder block: conv, ×2 nearest upsampling, skip concat, conv."""

    def __init__(self, in_channels: int, skip_channels: int, channels: int) -> None:
        super().__init__()
        self.conv_in = _conv_block(in_channels, channels)
        self.conv_out = _conv_block(channels + skip_channels, channels)

    def forward(self, x: Tensor, skip: Optional[Tensor]) -> Tensor:
        return self.merge(self.conv_in(x), skip)

    def merge(self, x: Tensor, skip: Optional[Tensor]) -> Tensor:
        """Upsample the ``conv_in`` output, concatenate the skip, ``conv_out``."""
        return self.conv_out(upsample_to_skip(x, skip))


def upsample_to_skip(x: Tensor, skip: Optional[Tensor]) -> Tensor:
    """×2 nearest upsampling, then concatenation with ``skip`` when there is one.

    With a skip the target size is the skip's: exactly ×2 for sizes divisible by 32,
    and aligned for odd sizes.
    """
    if skip is None:
        return F.interpolate(x, scale_factor=2.0, mode='nearest')
    x = F.interpolate(x, size=skip.shape[-2:], mode='nearest')
    return torch.cat([x, skip], dim=1)


@MODELS.register_module()
class MonodepthDepthDecoder(BaseModule):
    """Monodepth2-style multi-scale disparity decoder over a 5-level encoder.

    Args:
        in_channels: Channels of the encoder features at strides 2, 4, 8, 16, 32
            (ResNet-18/34: ``(64, 64, 128, 256, 512)``; ResNet-50:
            ``(64, 256, 512, 1024, 2048)``).
        channels: Widths of blocks ``b = 0 .. 4`` (``(16, 32, 64, 128, 256)``).
        scales: Output scales ``s`` (stride ``2**s``), each read from block ``b = s``.
        out_channels: Channels of each output (1 for disparity).
        out_activation: ``'sigmoid'`` (disparity in ``(0, 1)``, to be mapped by
            :func:`~mmdepthsem.models.utils.disp_to_depth`) or ``None`` (raw maps,
            e.g. ``out_channels=19`` logits when the same architecture serves as a
            semantic decoder).
        in_index: Which backbone outputs are the five features, fine to coarse.
        block_hooks: Optional ``{b: module or config}``; the module maps a block's
            ``(B, channels[b], H / 2**b, W / 2**b)`` output to a tensor of the same
            shape and runs right after that block's skip-concat conv.
        head_kernel_size: Kernel of the output heads: 3 (Monodepth2's ``dispconv``,
            reflection padding) or 1 (a plain 1×1 conv with bias, SDE-Seg's released
            segmentation head).
        head_channels: With a value (``head_kernel_size=1`` only), each output
            head is a bias-free 1×1 projection to ``head_channels`` followed by a
            1×1 conv with bias: the segmentation head of SDE-Seg's released
            ``JointSegDepthDecoder`` as its non-PAD rows build it (projection of
            the last block to 64 channels, no intermediate 3×3 conv).
        side_outputs: Blocks with an extra 1×1 conv head (``out_channels``, bias,
            same activation) on the block output *before* any cross-decoder
            exchange of :func:`decode_in_lockstep`: SDE-Seg's released intermediate
            segmentation head at the distillation block. Returned as
            ``side_outputs``; estimators decide which losses read them.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 64, 128, 256, 512),
                 channels: Sequence[int] = (16, 32, 64, 128, 256),
                 scales: Sequence[int] = (0, 1, 2, 3),
                 out_channels: int = 1,
                 out_activation: Optional[str] = 'sigmoid',
                 in_index: Sequence[int] = (0, 1, 2, 3, 4),
                 block_hooks: Optional[Dict[int, Union[dict, nn.Module]]] = None,
                 head_kernel_size: int = 3,
                 head_channels: Optional[int] = None,
                 side_outputs: Sequence[int] = (),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 5 or len(channels) != 5 or len(in_index) != 5:
            raise ValueError('MonodepthDepthDecoder: `in_channels`, `channels` and '
                             '`in_index` need 5 values (strides 2 .. 32 / blocks 0 .. 4)')
        if not set(scales) <= set(BLOCKS):
            raise ValueError(f'MonodepthDepthDecoder: scales must lie in 0 .. 4, got '
                             f'{tuple(scales)}')
        if not set(side_outputs) <= set(BLOCKS):
            raise ValueError(f'MonodepthDepthDecoder: side_outputs must lie in 0 .. 4, '
                             f'got {tuple(side_outputs)}')
        if head_kernel_size not in (1, 3):
            raise ValueError('MonodepthDepthDecoder: head_kernel_size must be 1 or 3, '
                             f'got {head_kernel_size!r}')
        if head_channels is not None and (head_kernel_size != 1 or head_channels < 1):
            raise ValueError('MonodepthDepthDecoder: head_channels needs '
                             'head_kernel_size=1 and a positive width, got '
                             f'head_channels={head_channels!r}, '
                             f'head_kernel_size={head_kernel_size!r}')
        if out_activation not in ('sigmoid', None):
            raise ValueError(f'MonodepthDepthDecoder: unknown out_activation '
                             f'{out_activation!r}; use "sigmoid" or None')
        self.in_channels = tuple(in_channels)
        self.channels = tuple(channels)
        self.scales = tuple(sorted(scales))
        self.in_index = tuple(in_index)
        self.out_activation = out_activation
        self.blocks = nn.ModuleDict(
            {f'block{b}': self._make_block(b) for b in BLOCKS})
        self.head_kernel_size = head_kernel_size
        self.head_channels = head_channels
        self.heads = nn.ModuleDict({
            f'scale{s}': self._make_head(channels[s], out_channels)
            for s in self.scales})
        self.side_outputs = tuple(sorted(side_outputs))
        self.side_heads = nn.ModuleDict({
            f'block{b}': nn.Conv2d(channels[b], out_channels, 1)
            for b in self.side_outputs})
        self.block_hooks = nn.ModuleDict()
        for b, hook in (block_hooks or {}).items():
            if int(b) not in BLOCKS:
                raise ValueError(f'MonodepthDepthDecoder: block_hooks key {b!r} is not '
                                 'a block index 0 .. 4')
            self.block_hooks[str(int(b))] = (
                hook if isinstance(hook, nn.Module) else MODELS.build(hook))

    def _make_head(self, in_channels: int, out_channels: int) -> nn.Module:
        """One output head: 3×3 (reflection padding) or 1×1 conv, or with
        ``head_channels`` a bias-free 1×1 projection then a 1×1 conv."""
        if self.head_kernel_size == 3:
            return _conv3x3(in_channels, out_channels)
        if self.head_channels is None:
            return nn.Conv2d(in_channels, out_channels, 1)
        return nn.Sequential(
            nn.Conv2d(in_channels, self.head_channels, 1, bias=False),
            nn.Conv2d(self.head_channels, out_channels, 1))

    def _make_block(self, block: int) -> nn.Module:
        """Block ``b``: an :class:`_UpBlock` from the previous block's width (the
        encoder's for ``b = 4``) with the stride-``2**b`` skip (none for ``b = 0``).

        Subclasses may return another module with the same ``conv_in`` /
        ``merge(x, skip)`` interface.
        """
        block_in = self.in_channels[4] if block == 4 else self.channels[block + 1]
        skip = self.in_channels[block - 1] if block > 0 else 0
        return _UpBlock(block_in, skip, self.channels[block])

    def _features(self, inputs: Sequence[Tensor]) -> Sequence[Tensor]:
        """The five encoder features, fine to coarse, with a channel check."""
        feats = [inputs[i] for i in self.in_index]
        for i, (feat, cin) in enumerate(zip(feats, self.in_channels)):
            if feat.shape[1] != cin:
                raise ValueError(
                    f'MonodepthDepthDecoder: input {self.in_index[i]} has '
                    f'{feat.shape[1]} channels, `in_channels[{i}]` says {cin}')
        return feats

    def forward_block(self, block: int, x: Tensor, inputs: Sequence[Tensor],
                      return_upconv: bool = False
                      ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Run block ``b`` (and its hook, if any).

        Args:
            block: Block index ``b`` (4 = coarsest).
            x: Output of block ``b + 1``, or the stride-32 encoder feature for
                ``b = 4``.
            inputs: Backbone outputs (as ``forward``); the skip is the feature at
                stride ``2**b``.
            return_upconv: Also return the block's first conv output (SGRE's
                ``upconv_b``), before the upsampling.

        Returns:
            ``(B, channels[b], H / 2**b, W / 2**b)`` block output, and with
            ``return_upconv`` the ``(B, channels[b], H / 2**(b+1), W / 2**(b+1))``
            ``upconv_b`` as well.
        """
        skip = inputs[self.in_index[block - 1]] if block > 0 else None
        unit = self.blocks[f'block{block}']
        upconv = unit.conv_in(x)
        x = unit.merge(upconv, skip)
        if str(block) in self.block_hooks:
            x = self.block_hooks[str(block)](x)
        return (x, upconv) if return_upconv else x

    def forward_head(self, scale: int, x: Tensor) -> Tensor:
        """Output map of scale ``s`` from the output of block ``b = s``.

        Returns:
            ``(B, out_channels, H / 2**s, W / 2**s)``, in ``(0, 1)`` with sigmoid.
        """
        out = self.heads[f'scale{scale}'](x)
        return out.sigmoid() if self.out_activation == 'sigmoid' else out

    def forward_side_head(self, block: int, x: Tensor) -> Tensor:
        """Side output of block ``b`` (one of ``side_outputs``) from its output.

        Returns:
            ``(B, out_channels, H / 2**b, W / 2**b)``, in ``(0, 1)`` with sigmoid.
        """
        out = self.side_heads[f'block{block}'](x)
        return out.sigmoid() if self.out_activation == 'sigmoid' else out

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Dict[int, Tensor]]:
        """Decode encoder features.

        Args:
            inputs: Backbone outputs; ``inputs[in_index[i]]`` is the
                ``(B, in_channels[i], H / 2**(i+1), W / 2**(i+1))`` feature.

        Returns:
            ``dict(outputs={s: (B, out_channels, H / 2**s, W / 2**s)},
            features={b: (B, channels[b], H / 2**b, W / 2**b)},
            upconvs={b: (B, channels[b], H / 2**(b+1), W / 2**(b+1))})``: the
            (sigmoid disparity) outputs per scale, every block's output (after its
            hook) and every block's first conv output (SGRE's ``upconv_b``); and
            ``side_outputs={b: (B, out_channels, H / 2**b, W / 2**b)}`` of the
            ``side_outputs`` blocks (empty without them).
        """
        return decode_in_lockstep([self], inputs)[0]


def decode_in_lockstep(decoders: Sequence[MonodepthDepthDecoder],
                       inputs: Sequence[Tensor],
                       exchange: Optional[Mapping[str, Callable]] = None
                       ) -> List[Dict[str, Dict[int, Tensor]]]:
    """Run decoders on the same encoder features block by block, b = 4 .. 0.

    After block ``b``, ``exchange[str(b)]`` (when given) takes the decoders' block
    outputs as positional arguments and returns their replacements, e.g. FSRE's
    bidirectional CMA between the depth and the semantic decoder.

    Args:
        decoders: Decoders sharing the encoder (their ``in_index`` may differ).
        inputs: Backbone outputs, as :meth:`MonodepthDepthDecoder.forward`.
        exchange: Cross-decoder modules keyed by block index.

    Returns:
        One ``dict(outputs=..., features=..., upconvs=..., side_outputs=...)`` per
        decoder, as ``forward``; side outputs read the block output before the
        exchange.
    """
    xs = [dec._features(inputs)[4] for dec in decoders]
    results = [dict(outputs={}, features={}, upconvs={}, side_outputs={})
               for _ in decoders]
    for block in BLOCKS:
        stepped = [dec.forward_block(block, x, inputs, return_upconv=True)
                   for dec, x in zip(decoders, xs)]
        xs = [x for x, _ in stepped]
        for dec, x, result in zip(decoders, xs, results):
            if block in getattr(dec, 'side_outputs', ()):
                result['side_outputs'][block] = dec.forward_side_head(block, x)
        if exchange is not None and str(block) in exchange:
            xs = list(exchange[str(block)](*xs))
        for dec, x, (_, upconv), result in zip(decoders, xs, stepped, results):
            result['features'][block] = x
            result['upconvs'][block] = upconv
            if block in dec.scales:
                result['outputs'][block] = dec.forward_head(block, x)
    return results
