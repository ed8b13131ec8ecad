"""SOSD-Net's semantic-to-depth unit (sec. 3.2.3, Fig. 6) as a depth head."""
from collections import OrderedDict
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from mmdepthsem.registry import MODELS
from .depth_head import DepthHead


def objectness_branch(in_channels: int, hidden_channels: int = 2) -> nn.Sequential:
    """conv3×3 → ``hidden`` → BN → ReLU → conv3×3 → 1 → BN → softplus.

    The softplus keeps the branch positive, so the product of two branches has a
    real, differentiable square root (``specs/sosd.md``, an interpretation: the paper
    names only the widths 2 and 1 and the BatchNorm).
    """
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(in_channels, hidden_channels, 3, padding=1),
        bn1=nn.BatchNorm2d(hidden_channels),
        act1=nn.ReLU(inplace=True),
        conv2=nn.Conv2d(hidden_channels, 1, 3, padding=1),
        bn2=nn.BatchNorm2d(1),
        act2=nn.Softplus()))


def objectness_cue(area_3d: Tensor, area_2d_inv: Tensor, eps: float = 1e-6) -> Tensor:
    """Eq. 3 as a feature: ``sqrt(ΔXΔY · (ΔuΔv)⁻¹ + eps)``, a depth-like cue.

    Args:
        area_3d: ``(B, 1, h, w)`` positive map related to ``ΔX ΔY``.
        area_2d_inv: ``(B, 1, h, w)`` positive map related to ``(Δu Δv)⁻¹``.
        eps: Keeps the root finite and differentiable at 0.

    Returns:
        ``(B, 1, h, w)`` cue.
    """
    return torch.sqrt(area_3d * area_2d_inv + eps)


@MODELS.register_module()
class SemanticToDepthHead(DepthHead):
    """Depth from the depth feature and the semantic-objectness cue.

    Reads SOSD's decoder outputs ``(semantic_feature, common, depth_feature)``::

        a = branch_3d(common)               # ΔXΔY-like, 2 → 1 channels, BN
        b = branch_2d(semantic_feature)     # (ΔuΔv)⁻¹-like, 2 → 1 channels, BN
        cue = sqrt(a · b + eps)
        depth = act(conv3×3([depth_feature, cue]) → 1) → bilinear to the input size

    With ``with_unit=False`` the cue is left out (the MTL baseline: one 3×3 conv on
    the depth feature). The output activation, loss and target field are those of
    :class:`DepthHead` (SOSD: softplus, L1, metres on NYU or disparity pixels on
    Cityscapes).

    Args:
        in_channels: Channels of the depth feature.
        sem_channels: Channels of the semantic feature.
        common_channels: Channels of the common representation.
        in_index: Position of the depth feature in the decoder outputs.
        sem_index: Position of the semantic feature.
        common_index: Position of the common representation.
        with_unit: Build the semantic-to-depth unit.
        hidden_channels: Width of the branches' first conv (2).
        eps: See :func:`objectness_cue`.
        init_cfg: Defaults to N(0, 0.1²) weights and zero biases for every conv
            (the paper's task-layer init).
        **kwargs: :class:`DepthHead` arguments (``activation``, ``loss_decode``,
            ``target_key``, ``upsample_factor``, ...); ``num_convs`` is 0.
    """

    def __init__(self,
                 in_channels: int = 256,
                 sem_channels: int = 256,
                 common_channels: int = 256,
                 in_index: int = 2,
                 sem_index: int = 0,
                 common_index: int = 1,
                 with_unit: bool = True,
                 hidden_channels: int = 2,
                 eps: float = 1e-6,
                 init_cfg: Optional[dict] = dict(type='Normal', std=0.1, bias=0.0,
                                                 layer='Conv2d'),
                 **kwargs) -> None:
        if kwargs.get('num_convs', 0):
            raise ValueError('SemanticToDepthHead: the unit has no hidden convs '
                             '(num_convs must be 0)')
        kwargs.pop('num_convs', None)
        super().__init__(in_channels=in_channels + int(with_unit), num_convs=0,
                         in_index=in_index, init_cfg=init_cfg, **kwargs)
        self.with_unit = with_unit
        self.sem_index, self.common_index = sem_index, common_index
        self.eps = eps
        if with_unit:
            self.branch_3d = objectness_branch(common_channels, hidden_channels)
            self.branch_2d = objectness_branch(sem_channels, hidden_channels)

    def cue(self, inputs: Sequence[Tensor]) -> Tensor:
        """The ``(B, 1, h, w)`` objectness cue of the decoder outputs."""
        return objectness_cue(self.branch_3d(inputs[self.common_index]),
                              self.branch_2d(inputs[self.sem_index]), self.eps)

    def input_feature(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        if isinstance(inputs, Tensor):
            raise TypeError('SemanticToDepthHead reads the decoder outputs '
                            '(semantic_feature, common, depth_feature), got one tensor')
        depth = inputs[self.in_index]
        if not self.with_unit:
            return depth
        return torch.cat([depth, self.cue(inputs)], dim=1)
