"""SGRE's depth decoder: semantic fusion at every level, self-attention and SEEM."""
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdepthsem.registry import MODELS
from ..necks.seem import write_point_features
from .monodepth_decoder import BLOCKS, MonodepthDepthDecoder, _conv3x3


@MODELS.register_module()
class SemanticFusedDepthDecoder(MonodepthDepthDecoder):
    """Monodepth2's decoder with SGRE's semantic fusion, attention and SEEM.

    Block ``b`` (``4`` = coarsest, as :class:`MonodepthDepthDecoder`; appendix
    Table 4 of SGRE uses the same numbers)::

        D_upconv_b = ConvBlock(x)                                 # stride 2**(b+1)
        aconv_b    = ELU(conv3x3([D_upconv_b, S_upconv_b]))       # semantic fusion
        aconv_b    = Attn_b(aconv_b)            if b in attention_blocks
        up         = nearest ↑ aconv_b                              # stride 2**b
        up         = write SEEM(points) into up if b == 0 and SEEM is built
        x          = D_conv_b = ConvBlock([up, econv_{b-1}])        # no skip for b = 0

    ``S_upconv_b`` is the semantic decoder's first conv output of the same block
    (``MonodepthDepthDecoder(...)(feats)['upconvs'][b]``). SEEM reads econv1,
    econv0, ``↑aconv2, ↑aconv1, ↑aconv0`` (after attention where there is one) and
    ``↑S_upconv2, ↑S_upconv1, ↑S_upconv0`` at the points and replaces ``↑aconv0``
    there (``specs/sgre.md``). Without attention blocks and SEEM this is the fusion
    ("concatenation only") model of SGRE's Table 9.

    Args:
        in_channels: Encoder channels at strides 2 .. 32 (ResNet-50:
            ``(64, 256, 512, 1024, 2048)``).
        channels: Widths of blocks ``b = 0 .. 4`` (``(16, 32, 64, 128, 256)``).
        sem_channels: Widths of the semantic decoder's blocks ``b = 0 .. 4``;
            ``None`` for ``channels``.
        scales: Disparity output scales.
        attention_blocks: Blocks whose ``aconv`` gets self-attention (``(4, 3, 2)``;
            Table 6 ablates ``(4,)`` .. ``(4, 3, 2, 1, 0)``).
        attention: Config of the attention module, built with ``channels=C_b``.
        seem: Config of :class:`SemanticEdgeEnhancement`, or ``None`` for none.
        seem_enc_index: Positions (in the five encoder features, fine to coarse) of
            the encoder maps SEEM reads: ``(1, 0)`` = econv1, econv0.
        seem_blocks: Blocks whose ``↑aconv`` / ``↑S_upconv`` SEEM reads
            (``(2, 1, 0)``); must end with 0, the map written into.
        in_index, out_channels, out_activation, block_hooks, init_cfg: As
            :class:`MonodepthDepthDecoder`.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024, 2048),
                 channels: Sequence[int] = (16, 32, 64, 128, 256),
                 sem_channels: Optional[Sequence[int]] = None,
                 scales: Sequence[int] = (0, 1, 2, 3),
                 attention_blocks: Sequence[int] = (4, 3, 2),
                 attention: dict = dict(type='SemanticGuidedSelfAttention'),
                 seem: Optional[dict] = None,
                 seem_enc_index: Sequence[int] = (1, 0),
                 seem_blocks: Sequence[int] = (2, 1, 0),
                 **kwargs) -> None:
        super().__init__(in_channels=in_channels, channels=channels, scales=scales,
                         **kwargs)
        self.sem_channels = tuple(sem_channels or channels)
        if len(self.sem_channels) != 5:
            raise ValueError('SemanticFusedDepthDecoder: `sem_channels` needs 5 values')
        self.fuse = nn.ModuleDict({
            f'block{b}': nn.Sequential(OrderedDict(
                conv=_conv3x3(self.channels[b] + self.sem_channels[b], self.channels[b]),
                act=nn.ELU(inplace=True)))
            for b in BLOCKS})
        unknown = set(attention_blocks) - set(BLOCKS)
        if unknown:
            raise ValueError(f'SemanticFusedDepthDecoder: attention_blocks {unknown} '
                             'are not block indices 0 .. 4')
        self.attention_blocks = tuple(attention_blocks)
        self.attention = nn.ModuleDict({
            f'block{b}': MODELS.build(dict(attention, channels=self.channels[b]))
            for b in self.attention_blocks})
        self.seem_enc_index = tuple(seem_enc_index)
        self.seem_blocks = tuple(seem_blocks)
        self.seem = None
        if seem is not None:
            if not self.seem_blocks or self.seem_blocks[-1] != 0:
                raise ValueError('SemanticFusedDepthDecoder: `seem_blocks` must end '
                                 f'with block 0 (the map SEEM writes into), got '
                                 f'{self.seem_blocks}')
            seem = dict(seem)
            seem.setdefault('enc_channels',
                            tuple(self.in_channels[i] for i in self.seem_enc_index))
            seem.setdefault('dec_channels',
                            tuple(self.channels[b] for b in self.seem_blocks))
            seem.setdefault('sem_channels',
                            tuple(self.sem_channels[b] for b in self.seem_blocks))
            seem.setdefault('out_channels', self.channels[0])
            self.seem = MODELS.build(seem)
            if self.seem.out_channels != self.channels[0]:
                raise ValueError(
                    f'SemanticFusedDepthDecoder: SEEM writes {self.seem.out_channels} '
                    f'channels into a {self.channels[0]}-channel map')

    def forward(self, inputs: Sequence[Tensor], sem_upconvs: Mapping[int, Tensor],
                points: Optional[Tensor] = None,
                image_size: Optional[Tuple[int, int]] = None
                ) -> Dict[str, Dict[int, Tensor]]:
        """Decode encoder features fused with the semantic decoder's.

        Args:
            inputs: Backbone outputs, as :meth:`MonodepthDepthDecoder.forward`.
            sem_upconvs: ``{b: (B, sem_channels[b], H / 2**(b+1), W / 2**(b+1))}``.
            points: ``(B, N, 2)`` integer ``(x, y)`` SEEM points of the input image;
                needed when SEEM is built.
            image_size: ``(H, W)`` of the input image; defaults to twice the
                stride-2 encoder feature.

        Returns:
            ``dict(outputs={s: ...}, features={b: ...}, upconvs={b: ...},
            fused={b: ↑aconv_b})``: as :meth:`MonodepthDepthDecoder.forward`, plus
            the upsampled fused maps (after attention; ``fused[0]`` before the SEEM
            write-back).
        """
        feats = self._features(inputs)
        if image_size is None:
            image_size = (feats[0].shape[-2] * 2, feats[0].shape[-1] * 2)
        if self.seem is not None and points is None:
            raise ValueError('SemanticFusedDepthDecoder: SEEM needs `points` '
                             '(SampleSEEMPoints in the pipeline, or test-time points)')
        result = dict(outputs={}, features={}, upconvs={}, fused={})
        x = feats[4]
        for b in BLOCKS:
            if b not in sem_upconvs:
                raise KeyError(f'SemanticFusedDepthDecoder: no semantic upconv for '
                               f'block {b}')
            unit = self.blocks[f'block{b}']
            upconv = unit.conv_in(x)
            fused = self.fuse[f'block{b}'](torch.cat([upconv, sem_upconvs[b]], dim=1))
            if f'block{b}' in self.attention:
                fused = self.attention[f'block{b}'](fused)
            skip = feats[b - 1] if b > 0 else None
            size = skip.shape[-2:] if skip is not None else \
                (fused.shape[-2] * 2, fused.shape[-1] * 2)
            up = F.interpolate(fused, size=size, mode='nearest')
            result['fused'][b] = up
            if b == 0 and self.seem is not None:
                up = write_point_features(
                    up, points, self._seem_features(feats, result['fused'], sem_upconvs,
                                                    points, image_size), image_size)
            x = unit.conv_out(up if skip is None else torch.cat([up, skip], dim=1))
            if str(b) in self.block_hooks:
                x = self.block_hooks[str(b)](x)
            result['upconvs'][b] = upconv
            result['features'][b] = x
            if b in self.scales:
                result['outputs'][b] = self.forward_head(b, x)
        return result

    def _seem_features(self, feats: Sequence[Tensor], fused: Mapping[int, Tensor],
                       sem_upconvs: Mapping[int, Tensor], points: Tensor,
                       image_size: Tuple[int, int]) -> Tensor:
        """SEEM's ``(B, C_0, N)`` point features from the maps it reads."""
        dec = [fused[b] for b in self.seem_blocks]
        sem = [F.interpolate(sem_upconvs[b], size=fused[b].shape[-2:], mode='nearest')
               for b in self.seem_blocks]
        enc = [feats[i] for i in self.seem_enc_index]
        return self.seem(enc, dec, sem, points, image_size)
