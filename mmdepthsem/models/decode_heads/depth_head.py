"""A convolutional depth head with a bounded output."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import stack_pixel_field

SampleList = Sequence['DepthSemDataSample']  # noqa: F821


@MODELS.register_module()
class DepthHead(BaseModule):
    """Predict metric depth from one decoder feature map.

    ``num_convs`` conv-norm-act layers, a 3×3 convolution to one channel, then the
    output activation:

    - ``'sigmoid'``: ``depth = max_depth * sigmoid(x)`` (DSS eq. 6, BTS), in
      ``(0, max_depth)``;
    - ``'relu'``: ``depth = relu(x) + min_depth``;
    - ``'softplus'``: ``depth = softplus(x) + min_depth``.

    With ``upsample_factor=1`` (default) the map stays at the feature resolution; the
    losses and ``predict`` resize it bilinearly (``align_corners=False``) to the target
    / input size, which is DSS's ×4 upsampling when the feature has stride 4.
    ``upsample_factor=4`` does that ×4 bilinear upsampling in ``forward`` (DSS eq. 6:
    conv → sigmoid → ×4 → × max_depth; the scaling commutes with the upsampling), so
    the raw ``mode='tensor'`` output is at input resolution. Bilinear interpolation
    keeps the values inside the activation's range.

    Args:
        in_channels: Channels of the input feature.
        channels: Channels of the hidden conv layers (ignored when ``num_convs=0``).
        num_convs: Hidden conv-norm-act layers before the output conv.
        in_index: Which element of the input sequence to use.
        upsample_factor: Bilinear upsampling of the output map in ``forward``
            (1 = none).
        activation: ``'sigmoid'``, ``'relu'`` or ``'softplus'``.
        min_depth: Lower bound added by relu/softplus, metres.
        max_depth: Upper bound of the sigmoid output, metres.
        loss_decode: One loss config or a list; each loss is called as
            ``loss(pred, target, valid_mask)`` with depth in metres.
        norm_cfg: Norm config of the hidden layers.
        act_cfg: Activation config of the hidden layers.
        target_key: Data-sample field the losses compare with (``'gt_depth_map'``,
            metres; ``'gt_disparity_map'``, pixels, for a head regressing disparity
            as SOSD-Net on Cityscapes; the prediction keeps the name
            ``pred_depth_map``).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 64,
                 num_convs: int = 0,
                 in_index: int = 0,
                 upsample_factor: int = 1,
                 activation: str = 'sigmoid',
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0,
                 loss_decode: Union[dict, List[dict]] = dict(
                     type='ScaleInvariantLogLoss'),
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 target_key: str = 'gt_depth_map',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if activation not in ('sigmoid', 'relu', 'softplus'):
            raise ValueError(f'DepthHead: unknown activation {activation!r}; '
                             "use 'sigmoid', 'relu' or 'softplus'")
        if not 0 <= min_depth < max_depth:
            raise ValueError(f'DepthHead: need 0 <= min_depth < max_depth, got '
                             f'{min_depth}, {max_depth}')
        if upsample_factor < 1:
            raise ValueError(f'DepthHead: upsample_factor must be >= 1, got '
                             f'{upsample_factor}')
        self.in_index = in_index
        self.upsample_factor = upsample_factor
        self.activation = activation
        self.target_key = target_key
        self.min_depth = min_depth
        self.max_depth = max_depth
        layers = []
        cin = in_channels
        for _ in range(num_convs):
            layers.append(ConvModule(cin, channels, 3, padding=1,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg))
            cin = channels
        self.convs = nn.Sequential(*layers)
        self.conv_depth = nn.Conv2d(cin, 1, kernel_size=3, padding=1)
        losses = loss_decode if isinstance(loss_decode, list) else [loss_decode]
        self.loss_decode = nn.ModuleList([MODELS.build(cfg) for cfg in losses])

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Depth at the feature resolution.

        Args:
            inputs: A feature ``(B, C, h, w)`` or a sequence of them.

        Returns:
            Depth ``(B, 1, h * f, w * f)`` in metres, ``f = upsample_factor``.
        """
        x = self.conv_depth(self.convs(self.input_feature(inputs)))
        if self.activation == 'sigmoid':
            depth = torch.sigmoid(x) * self.max_depth
        elif self.activation == 'relu':
            depth = F.relu(x) + self.min_depth
        else:
            depth = F.softplus(x) + self.min_depth
        if self.upsample_factor > 1:
            depth = F.interpolate(depth, scale_factor=self.upsample_factor,
                                  mode='bilinear', align_corners=False)
        return depth

    def input_feature(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """The feature the convolutions read: ``inputs[in_index]`` (or ``inputs``)."""
        return inputs if isinstance(inputs, Tensor) else inputs[self.in_index]

    def loss(self, inputs, batch_data_samples: SampleList,
             train_cfg: Optional[dict] = None) -> Dict[str, Tensor]:
        """Depth losses against the samples' ``target_key`` field."""
        return self.loss_by_feat(self.forward(inputs), batch_data_samples)

    def loss_by_feat(self, depth: Tensor,
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        target = stack_pixel_field(batch_data_samples, self.target_key)
        if target is None:
            raise KeyError(f'DepthHead: every training sample needs '
                           f'`{self.target_key}`; add its loading transform to the '
                           'pipeline')
        target = target.to(depth.dtype)
        depth = F.interpolate(depth, size=target.shape[-2:], mode='bilinear',
                              align_corners=False)
        valid = torch.isfinite(target) & (target > 0)
        target = torch.where(valid, target, torch.zeros_like(target))
        losses = {}
        for loss_module in self.loss_decode:
            name = loss_module.loss_name
            value = loss_module(depth, target, valid)
            losses[name] = losses[name] + value if name in losses else value
        return losses

    def predict(self, inputs, batch_img_metas: List[dict],
                test_cfg: Optional[dict] = None) -> Tensor:
        """Depth ``(B, 1, H, W)`` in metres at the (padded) input size."""
        depth = self.forward(inputs)
        size = tuple(batch_img_metas[0]['img_shape'][:2])
        return F.interpolate(depth, size=size, mode='bilinear', align_corners=False)
