"""SDE-Seg's decoder: ASPP on the output-stride-16 feature, then four U-Net up-blocks.

Hoyer et al. (IJCV 2023, sec. 4.2) use one architecture for both task decoders so
that the segmentation decoder can start from the depth decoder's weights (transfer):
an ASPP block (dilations 6, 12, 18) on the encoder's last feature, then four
upsampling blocks with skip connections; the depth decoder has a disparity side
output after each up-block, the segmentation decoder a class head after the last.

In the block index of :class:`MonodepthDepthDecoder` (``b = 4 .. 0``, block ``b``
ends at stride ``2**b``): block 4 is the ASPP (stride 16 in, stride 16 out), blocks
3, 2, 1, 0 are the four up-blocks (strides 8, 4, 2, 1; skips from the encoder
features at strides 8, 4, 2). PAD-Net's distillation "after the third decoder
block" therefore follows block ``b = 1``.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS
from .monodepth_decoder import (MonodepthDepthDecoder, _conv_block,
                                upsample_to_skip)


class ASPPBlock(nn.Module):
    """DeepLabv3's ASPP as a decoder block: ``conv_in`` = ASPP, ``merge`` = resize.

    ``conv_in``: image pooling + 1×1 conv + three dilated 3×3 convs (mmseg's
    :class:`ASPPModule`), concatenated and fused by a 3×3 conv, each conv with
    norm and ReLU. ``merge`` keeps the output at the stride of the next skip
    feature: unchanged for an output-stride-16 encoder (the paper's), nearest ×2
    for an output-stride-32 one (no skip is concatenated in either case).

    With ``skip_conv`` the block is the official SDE-Seg code's block 4 instead:
    ``merge`` resizes the ASPP output to the skip (the stride-16 encoder feature),
    concatenates the skip and applies ``conv_out``, a Monodepth2 ``ConvBlock``
    (3×3 conv with reflection padding and bias, ELU), like the up-blocks.

    Args:
        in_channels: Channels of the encoder's last feature.
        channels: Width of every ASPP branch and of the output.
        dilations: Dilations of the 3×3 branches (a 1×1 branch is always added).
        norm_cfg: Norm of the ASPP convs.
        skip_conv: Add ``conv_out`` over ``[ASPP output, skip]``.
        skip_channels: Channels of the skip (only with ``skip_conv``).
        fuse_kernel_size: Kernel of the fusion conv (3; the official code: 1).
        fuse_dropout: Dropout after the fusion (0; the official code: 0.5).
    """

    def __init__(self, in_channels: int, channels: int,
                 dilations: Sequence[int] = (6, 12, 18),
                 norm_cfg: Optional[dict] = None,
                 skip_conv: bool = False,
                 skip_channels: int = 0,
                 fuse_kernel_size: int = 3,
                 fuse_dropout: float = 0.0) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        self.conv_in = _ASPP(in_channels, channels, dilations, norm_cfg,
                             fuse_kernel_size, fuse_dropout)
        self.skip_conv = skip_conv
        if skip_conv:
            self.conv_out = _conv_block(channels + skip_channels, channels)

    def merge(self, x: Tensor, skip: Optional[Tensor]) -> Tensor:
        """``x`` at the skip's size (``skip`` is the stride-16 encoder feature),
        then, with ``skip_conv``, ``conv_out([x, skip])``."""
        if self.skip_conv:
            return self.conv_out(upsample_to_skip(x, skip))
        if skip is not None and x.shape[-2:] != skip.shape[-2:]:
            x = F.interpolate(x, size=skip.shape[-2:], mode='nearest')
        return x


class _ASPP(nn.Module):
    """Image pooling + parallel (dilated) convs + a fusion conv (3×3 or 1×1)."""

    def __init__(self, in_channels: int, channels: int, dilations: Sequence[int],
                 norm_cfg: dict, fuse_kernel_size: int = 3,
                 fuse_dropout: float = 0.0) -> None:
        super().__init__()
        act_cfg = dict(type='ReLU')
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.branches = ASPPModule((1, *dilations), in_channels, channels,
                                   conv_cfg=None, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.fuse = ConvModule((len(dilations) + 2) * channels, channels,
                               fuse_kernel_size, padding=fuse_kernel_size // 2,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)
        # no parameters, so the state dict is the same with or without it
        self.dropout = nn.Dropout(fuse_dropout) if fuse_dropout > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C_in, h, w)`` -> ``(B, channels, h, w)``."""
        pooled = self.image_pool(x).expand(-1, -1, *x.shape[-2:])
        return self.dropout(self.fuse(torch.cat([pooled, *self.branches(x)], dim=1)))


@MODELS.register_module()
class ASPPUNetDecoder(MonodepthDepthDecoder):
    """ASPP + four U-Net up-blocks with (sigmoid disparity or class) outputs.

    Same interface as :class:`MonodepthDepthDecoder` (five encoder features at
    strides 2, 4, 8, 16, 16 — an output-stride-16 encoder such as timm's ResNet with
    ``output_stride=16`` — block outputs, side outputs per scale, and stepping in
    lockstep with another decoder for PAD-Net's distillation), with block 4 replaced
    by :class:`ASPPBlock`. Every state-dict key of a 19-class segmentation decoder
    except its head exists with the same shape in the depth decoder, which is what
    the SDE → segmentation transfer copies.

    Args:
        in_channels: Encoder channels at strides 2, 4, 8, 16, 16 (ResNet-101:
            ``(64, 256, 512, 1024, 2048)``).
        channels: Widths of blocks ``b = 0 .. 4``; ``channels[4]`` is the ASPP
            width (256) and blocks 3..0 are the up-blocks (256, 128, 64, 32).
        aspp_dilations: Dilations of ASPP's 3×3 branches (6, 12, 18).
        norm_cfg: Norm of the ASPP convs (the up-blocks follow Monodepth2: no
            norm, ELU).
        aspp_skip_conv: Give block 4 the official SDE-Seg code's second conv
            over ``[ASPP output, stride-16 skip]`` (see :class:`ASPPBlock`).
        aspp_fuse_kernel_size: Kernel of the ASPP fusion conv (3; official: 1).
        aspp_fuse_dropout: Dropout after the ASPP fusion (0; official: 0.5).
        **kwargs: :class:`MonodepthDepthDecoder` arguments (``scales``,
            ``out_channels``, ``out_activation``, ``in_index``, ``block_hooks``).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024, 2048),
                 channels: Sequence[int] = (32, 64, 128, 256, 256),
                 aspp_dilations: Sequence[int] = (6, 12, 18),
                 norm_cfg: Optional[dict] = None,
                 aspp_skip_conv: bool = False,
                 aspp_fuse_kernel_size: int = 3,
                 aspp_fuse_dropout: float = 0.0,
                 **kwargs) -> None:
        # Read by _make_block during the parent's construction.
        self.aspp_dilations = tuple(aspp_dilations)
        self.aspp_norm_cfg = norm_cfg
        self.aspp_options = dict(skip_conv=aspp_skip_conv,
                                 fuse_kernel_size=aspp_fuse_kernel_size,
                                 fuse_dropout=aspp_fuse_dropout)
        super().__init__(in_channels=in_channels, channels=channels, **kwargs)

    def _make_block(self, block: int) -> nn.Module:
        if block == 4:
            return ASPPBlock(self.in_channels[4], self.channels[4],
                             self.aspp_dilations, self.aspp_norm_cfg,
                             skip_channels=self.in_channels[3], **self.aspp_options)
        return super()._make_block(block)
