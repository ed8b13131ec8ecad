"""L1 depth (or disparity) regression loss of SOSD-Net (eq. 7)."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS


def l1_depth_loss(pred: Tensor,
                  target: Tensor,
                  valid_mask: Optional[Tensor] = None) -> Tensor:
    """Mean absolute error over the valid pixels of the whole batch.

    ``loss = (1 / N) * sum_i |pred_i - target_i|`` where the sum and ``N`` run over the
    valid pixels of all images together (SOSD eq. 7), so an image with more valid
    pixels weighs more; this is not the mean of per-image means. When no pixel of the
    batch is valid the loss is an exact zero that still depends on ``pred``, so the
    graph and DDP's gradient sync stay intact.

    Args:
        pred: Prediction ``(B, 1, H, W)`` or ``(B, H, W)``, in the target's units
            (metres for depth, pixels for disparity).
        target: Ground truth of the same shape and units, ``<= 0`` = invalid.
        valid_mask: Optional bool mask of the same shape; default ``target > 0``.
            Non-finite targets are always invalid.

    Returns:
        Scalar loss in the target's units.
    """
    if pred.shape != target.shape:
        raise ValueError(f'l1_depth_loss: pred {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} differ in shape')
    valid = torch.isfinite(target) & (target > 0)
    if valid_mask is not None:
        valid &= valid_mask.bool()
    count = int(valid.sum())
    if count == 0:
        return pred.sum() * 0.0
    # Replace invalid targets by pred itself so NaN/inf never reach the graph.
    safe_target = torch.where(valid, target.to(pred.dtype), pred.detach())
    abs_err = (pred - safe_target).abs() * valid
    return abs_err.sum() / count


@MODELS.register_module()
class DepthL1Loss(nn.Module):
    """Registered wrapper of :func:`l1_depth_loss`.

    Args:
        loss_weight: Multiplier of the loss.
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_l1') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Weighted :func:`l1_depth_loss` of ``pred`` against ``target``."""
        return self.loss_weight * l1_depth_loss(pred, target, valid_mask)

    @property
    def loss_name(self) -> str:
        return self._loss_name
