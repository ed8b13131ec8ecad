"""SOSD-Net's depth-to-semantic unit (sec. 3.2.4, Fig. 7) as an mmseg decode head."""
from collections import OrderedDict
from typing import Optional, Sequence

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor, nn

from mmdepthsem.registry import MODELS


def cue_branch(in_channels: int, widths: Sequence[int] = (64, 32)) -> nn.Sequential:
    """conv3×3 → ``widths[0]`` → BN → ReLU → conv3×3 → ``widths[1]`` (Fig. 7)."""
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(in_channels, widths[0], 3, padding=1),
        bn1=nn.BatchNorm2d(widths[0]),
        act1=nn.ReLU(inplace=True),
        conv2=nn.Conv2d(widths[0], widths[1], 3, padding=1)))


@MODELS.register_module()
class DepthToSemanticHead(BaseDecodeHead):
    """Semantic logits from the semantic feature and a depth-derived cue.

    Reads SOSD's decoder outputs ``(semantic_feature, common, depth_feature)``::

        d = branch_depth(depth_feature)     # d⁻²-like, 64 → 32 channels
        c = branch_common(common)           # ΔXΔY-like, 64 → 32 channels
        cue = conv1×1(d ⊙ c) → 32
        logits = conv3×3([semantic_feature, cue]) → num_classes

    then mmseg's bilinear resize to the label / input size. With ``with_unit=False``
    the logits come from the semantic feature alone (the MTL baseline), through the
    same 3×3 classifier. Losses and inference are mmseg's (``loss_decode``,
    ``ignore_index``, ``predict``).

    Args:
        in_channels: Channels of ``(semantic_feature, common, depth_feature)``.
        num_classes: Number of classes.
        in_index: Positions of the three features in the decoder outputs.
        with_unit: Build the depth-to-semantic unit.
        branch_channels: Widths of the two branches (64, 32).
        cue_channels: Width of the 1×1 fusion (32).
        init_cfg: Defaults to N(0, 0.1²) weights and zero biases for every conv.
        **kwargs: mmseg ``BaseDecodeHead`` arguments (``loss_decode``,
            ``ignore_index``, ``align_corners``, ...).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 256, 256),
                 num_classes: int = 40,
                 in_index: Sequence[int] = (0, 1, 2),
                 with_unit: bool = True,
                 branch_channels: Sequence[int] = (64, 32),
                 cue_channels: int = 32,
                 init_cfg: Optional[dict] = dict(type='Normal', std=0.1, bias=0.0,
                                                 layer='Conv2d'),
                 **kwargs) -> None:
        sem_channels, common_channels, depth_channels = in_channels
        kwargs.setdefault('dropout_ratio', 0.0)
        super().__init__(in_channels=list(in_channels),
                         channels=sem_channels + (cue_channels if with_unit else 0),
                         num_classes=num_classes, in_index=list(in_index),
                         input_transform='multiple_select', init_cfg=init_cfg,
                         **kwargs)
        self.with_unit = with_unit
        # Fig. 7's classifier is a 3×3 convolution (mmseg's default is 1×1)
        self.conv_seg = nn.Conv2d(self.channels, self.out_channels, 3, padding=1)
        if with_unit:
            self.branch_depth = cue_branch(depth_channels, branch_channels)
            self.branch_common = cue_branch(common_channels, branch_channels)
            self.cue_conv = nn.Conv2d(branch_channels[1], cue_channels, 1)

    def cue(self, common: Tensor, depth: Tensor) -> Tensor:
        """``(B, cue_channels, h, w)`` depth-to-semantic cue."""
        return self.cue_conv(self.branch_depth(depth) * self.branch_common(common))

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Logits ``(B, num_classes, h, w)`` at the decoder's resolution."""
        sem, common, depth = self._transform_inputs(inputs)
        x = torch.cat([sem, self.cue(common, depth)], dim=1) if self.with_unit else sem
        return self.cls_seg(x)
