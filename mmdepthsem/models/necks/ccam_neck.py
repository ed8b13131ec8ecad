"""CCAM: the Cross-Channel Attention Module of Bansal et al., "Semantics-Depth-
Symbiosis: Deeply Coupled Semi-Supervised Learning of Semantics and Depth" (WACV
2023), as a DSS Table 4 comparison neck (DSS reference [2]).

Published description: squeeze-and-excitation style channel attention shared across
the two tasks — the channel weights computed from one task's features re-weight the
other task's channels, in both directions. Left open, chosen here:

- The excitation MLP is SE's: global average pool -> 1x1 conv ``C -> C/r`` -> ReLU
  -> 1x1 conv ``C/r -> C`` -> sigmoid, with SE's reduction ``r = 16`` and biases.
- The re-weighted features replace the input (plain SE rescaling, no residual);
  ``residual=True`` gives ``F + F * w`` instead.
"""
from typing import Optional, Tuple

from torch import Tensor, nn

from mmdepthsem.models.necks.cross_task_neck import CrossTaskNeck
from mmdepthsem.registry import MODELS


def _channel_gate(channels: int, reduction: int) -> nn.Sequential:
    """SE excitation ``(B, C, h, w) -> (B, C, 1, 1)`` weights in ``(0, 1)``."""
    hidden = max(channels // reduction, 1)
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1),
        nn.Conv2d(channels, hidden, 1),
        nn.ReLU(inplace=True),
        nn.Conv2d(hidden, channels, 1),
        nn.Sigmoid())


@MODELS.register_module()
class CCAMNeck(CrossTaskNeck):
    """DSS task necks + cross-channel attention (CCAM).

    ::

        F_d' = F_d * sigmoid(MLP_s(avgpool(F_s)))   # semantics re-weight depth
        F_s' = F_s * sigmoid(MLP_d(avgpool(F_d)))   # depth re-weights semantics

    Args:
        reduction: SE reduction ``r`` of the excitation MLPs (16).
        residual: Return ``F + F * w`` instead of ``F * w``.
        **kwargs: :class:`CrossTaskNeck`'s arguments (task necks).
    """

    def __init__(self,
                 reduction: int = 16,
                 residual: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.residual = residual
        # Named after the task whose features compute the weights.
        self.sem_gate = _channel_gate(self.channels, reduction)
        self.depth_gate = _channel_gate(self.channels, reduction)

    def interact(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """Cross-task channel re-weighting.

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s')``, each ``(B, C, h, w)``.
        """
        depth_out = depth * self.sem_gate(sem)
        sem_out = sem * self.depth_gate(depth)
        if self.residual:
            depth_out = depth_out + depth
            sem_out = sem_out + sem
        return depth_out, sem_out
