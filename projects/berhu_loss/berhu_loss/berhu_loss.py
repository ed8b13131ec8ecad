"""BerHu (reverse Huber) depth loss of Laina et al., "Deeper Depth Prediction with
Fully Convolutional Residual Networks" (3DV 2016), as an mmdepthsem plug-in."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS


def berhu_loss(pred: Tensor,
               target: Tensor,
               valid_mask: Optional[Tensor] = None,
               threshold_ratio: float = 0.2) -> Tensor:
    """Reverse Huber loss averaged over the valid pixels of the whole batch.

    With ``e = |pred - target|`` on the valid pixels and the threshold
    ``c = threshold_ratio * max(e)`` over all valid pixels of the batch (detached, so
    no gradient flows through ``c``)::

        berhu(e) = e                      if e <= c
                   (e^2 + c^2) / (2 c)    otherwise

        loss = (1 / N) * sum_i berhu(e_i)    (N = number of valid pixels)

    The two branches meet at ``e = c`` with value ``c`` and slope 1. When every error
    is zero (``c = 0``) all pixels are in the L1 branch and the loss is 0 with a
    finite (zero) gradient. When no pixel of the batch is valid the loss is an exact
    zero that still depends on ``pred``, so the graph and DDP's gradient sync stay
    intact.

    Args:
        pred: Predicted depth ``(B, 1, H, W)`` or ``(B, H, W)``, metres.
        target: Ground-truth depth of the same shape, metres, ``<= 0`` = invalid.
        valid_mask: Optional bool mask of the same shape; default ``target > 0``.
            Non-finite targets are always invalid.
        threshold_ratio: ``c`` as a fraction of the batch's largest valid error
            (0.2 in Laina et al.).

    Returns:
        Scalar loss in metres.
    """
    if pred.shape != target.shape:
        raise ValueError(f'berhu_loss: pred {tuple(pred.shape)} and target '
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
    c = threshold_ratio * abs_err.detach().max()
    # c may be 0: divide by a positive stand-in so the unused quadratic branch stays
    # finite (torch.where back-propagates 0 * inf = NaN otherwise).
    safe_c = c.clamp(min=torch.finfo(abs_err.dtype).tiny)
    quadratic = (abs_err * abs_err + c * c) / (2 * safe_c)
    per_pixel = torch.where(abs_err <= c, abs_err, quadratic)
    return (per_pixel * valid).sum() / count


@MODELS.register_module()
class BerHuLoss(nn.Module):
    """Registered wrapper of :func:`berhu_loss`, called by ``DepthHead`` as
    ``loss(pred, target, valid_mask)`` with depth in metres.

    Args:
        threshold_ratio: Threshold ``c`` as a fraction of the batch's largest error.
        loss_weight: Multiplier of the loss.
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self,
                 threshold_ratio: float = 0.2,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_berhu') -> None:
        super().__init__()
        if threshold_ratio <= 0:
            raise ValueError(f'BerHuLoss: threshold_ratio must be > 0, got '
                             f'{threshold_ratio}')
        self.threshold_ratio = threshold_ratio
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Weighted :func:`berhu_loss` of ``pred`` against ``target``."""
        return self.loss_weight * berhu_loss(
            pred, target, valid_mask, threshold_ratio=self.threshold_ratio)

    @property
    def loss_name(self) -> str:
        return self._loss_name
