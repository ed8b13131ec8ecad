"""LayerNorm over the channels of ``(B, C, H, W)`` maps as an mmcv norm layer.

mmcv's ``'LN'`` is ``nn.LayerNorm``, which normalises the last axis (the width of an
NCHW map). ``norm_cfg=dict(type='LN2d')`` gives timm's ``LayerNorm2d``, which
normalises each pixel over its channels (the LayerNorm of DSS eq. 1 and 3).
"""
from timm.layers import LayerNorm2d

from mmdepthsem.registry import MODELS

MODELS.register_module('LN2d', module=LayerNorm2d)

__all__ = ['LayerNorm2d']
