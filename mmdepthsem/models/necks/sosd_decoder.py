"""SOSD-Net's backbone head and decoder (sec. 3.2.1-3.2.2, Figures 4-5)."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmengine.model.weight_init import normal_init
from mmseg.models.decode_heads.aspp_head import ASPPModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 3
                 ) -> nn.Sequential:
    """Plain conv → BN → ReLU (a ``ConvModule`` would re-initialise the conv with
    Kaiming in its own ``init_weights``, overriding SOSD's N(0, 0.1²) init)."""
    return nn.Sequential(OrderedDict(
        conv=nn.Conv2d(in_channels, out_channels, kernel_size,
                       padding=kernel_size // 2, bias=False),
        bn=nn.BatchNorm2d(out_channels),
        act=nn.ReLU(inplace=True)))


@MODELS.register_module()
class SOSDDecoder(BaseModule):
    """ASPP context head and the three-way decoder of SOSD-Net.

    Backbone part (Fig. 4, DeepLabV3+-style; ``specs/sosd.md``)::

        x16 = stride-16 encoder feature (Xception-65, output stride 16)
        ctx = 1×1([ 1×1 conv(x16)            # "cross-channel learner"
                    3×3 dil 6 / 12 / 18      # ASPP
                    ↑ 1×1 conv(avgpool(x16)) ])   # "full-image extractor"
        low = 1×1 conv(x4) → 48 channels     # the "refined fp", stride 4

    Decoder (Fig. 5): ``cat(↑ctx to stride 4, low)`` feeds three task stacks of
    3×3 conv-BN-ReLU layers: the semantic feature (one layer), the common
    representation (one layer) and the depth feature (two layers), all ``channels``
    wide.

    Parameter groups of the EM strategy (:class:`AlternatingMultiTaskEstimator`):
    ``aspp``, ``image_pool``, ``bottleneck``, ``low_level`` and ``common`` are shared,
    ``depth_feature`` is depth, ``semantic_feature`` is semantic.

    Args:
        in_channels: Channels of the low-level and the high-level encoder features
            (Xception-65: ``(256, 2048)``).
        in_index: Positions of those two features in the backbone outputs.
        channels: Width of the context and task features (256).
        dilations: ASPP dilations; 1 is the 1×1 "cross-channel learner".
        low_level_channels: Width of the projected low-level feature (48).
        num_convs: Layers of the ``(semantic, common, depth)`` stacks (1, 1, 2).
        norm_cfg: Norm of the ASPP / projection ``ConvModule`` s.
        task_init_std: Std of the normal init of the task stacks' convolutions
            (paper: "Gaussian with zero mean and 0.01 variance"); ``None`` keeps
            PyTorch's default.
        align_corners: ``align_corners`` of the bilinear upsampling.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 2048),
                 in_index: Sequence[int] = (0, 1),
                 channels: int = 256,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 low_level_channels: int = 48,
                 num_convs: Sequence[int] = (1, 1, 2),
                 norm_cfg: dict = dict(type='BN'),
                 task_init_std: Optional[float] = 0.1,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 2 or len(in_index) != 2:
            raise ValueError('SOSDDecoder: `in_channels` and `in_index` name the '
                             'low-level and the high-level feature (2 each)')
        if len(num_convs) != 3 or min(num_convs) < 1:
            raise ValueError('SOSDDecoder: `num_convs` gives the (semantic, common, '
                             f'depth) stack depths, each >= 1; got {num_convs}')
        low_in, high_in = in_channels
        self.in_channels = tuple(in_channels)
        self.in_index = tuple(in_index)
        self.align_corners = align_corners
        self.task_init_std = task_init_std
        act_cfg = dict(type='ReLU')
        self.aspp = ASPPModule(tuple(dilations), high_in, channels, None, norm_cfg,
                               act_cfg)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(high_in, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.bottleneck = ConvModule((len(dilations) + 1) * channels, channels, 1,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.low_level = ConvModule(low_in, low_level_channels, 1, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg)

        def stack(depth: int) -> nn.Sequential:
            layers = [conv_bn_relu(channels + low_level_channels, channels)]
            layers += [conv_bn_relu(channels, channels) for _ in range(depth - 1)]
            return nn.Sequential(*layers)

        self.semantic_feature = stack(num_convs[0])
        self.common = stack(num_convs[1])
        self.depth_feature = stack(num_convs[2])
        self.channels = channels

    def init_weights(self) -> None:
        super().init_weights()
        if self.task_init_std is None:
            return
        for stack in (self.semantic_feature, self.common, self.depth_feature):
            for module in stack.modules():
                if isinstance(module, nn.Conv2d):
                    normal_init(module, mean=0.0, std=self.task_init_std, bias=0.0)

    def context(self, high: Tensor) -> Tensor:
        """ASPP + cross-channel learner + full-image extractor: ``(B, C, h, w)``."""
        pooled = F.interpolate(self.image_pool(high), size=high.shape[-2:],
                               mode='bilinear', align_corners=self.align_corners)
        return self.bottleneck(torch.cat([pooled] + list(self.aspp(high)), dim=1))

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """Decode the backbone features.

        Args:
            inputs: Backbone outputs; ``inputs[in_index[0]]`` is the low-level
                ``(B, C_low, H/4, W/4)`` feature, ``inputs[in_index[1]]`` the
                ``(B, C_high, H/16, W/16)`` one.

        Returns:
            ``(semantic_feature, common_representation, depth_feature)``, each
            ``(B, channels, H/4, W/4)``.
        """
        low, high = (inputs[i] for i in self.in_index)
        for feat, cin, name in zip((low, high), self.in_channels, ('low', 'high')):
            if feat.shape[1] != cin:
                raise ValueError(f'SOSDDecoder: the {name}-level feature has '
                                 f'{feat.shape[1]} channels, `in_channels` says {cin}')
        ctx = F.interpolate(self.context(high), size=low.shape[-2:], mode='bilinear',
                            align_corners=self.align_corners)
        fused = torch.cat([ctx, self.low_level(low)], dim=1)
        return (self.semantic_feature(fused), self.common(fused),
                self.depth_feature(fused))
