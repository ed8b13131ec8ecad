"""Reverse Huber (berHu) depth regression loss (Laina et al., 2016)."""
import warnings
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS


def berhu_loss(pred: Tensor,
               target: Tensor,
               valid_mask: Optional[Tensor] = None,
               threshold_ratio: float = 0.2,
               eps: float = 1e-12) -> Tensor:
    """Reverse Huber loss over the valid pixels of the whole batch.

    With ``e = |pred - target|`` on the valid pixels and the batch threshold
    ``c = threshold_ratio * max(e)`` (detached: no gradient flows through ``c``)::

        berhu(e) = e                       if e <= c
                   (e^2 + c^2) / (2 c)     if e >  c

    which is continuous at ``e = c`` (both branches give ``c``) and averaged over
    all valid pixels of the batch. When ``c`` is 0 (the prediction is exact) the
    loss is the L1 term, i.e. 0.

    Non-finite targets are always invalid. When no pixel of the batch is valid
    (e.g. an all-NaN target), a ``UserWarning`` is issued and the loss is an exact
    zero that still depends on ``pred`` (so the graph and DDP's gradient sync stay
    intact); it never returns NaN because of the target.

    Args:
        pred: Prediction ``(B, 1, H, W)`` or ``(B, H, W)``, in the target's units
            (metres for depth; unitless for sigmoid disparity).
        target: Target of the same shape and units, ``<= 0`` = invalid.
        valid_mask: Optional bool mask of the same shape; combined with the
            default ``isfinite(target) & (target > 0)``.
        threshold_ratio: ``c`` as a fraction of the largest batch error (0.2).
        eps: Lower bound of ``c`` in the quadratic branch's division.

    Returns:
        Scalar loss in the target's units.
    """
    if pred.shape != target.shape:
        raise ValueError(f'berhu_loss: pred {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} differ in shape')
    if not threshold_ratio > 0:
        raise ValueError(f'berhu_loss: threshold_ratio must be > 0, got '
                         f'{threshold_ratio}')
    valid = torch.isfinite(target) & (target > 0)
    if valid_mask is not None:
        valid &= valid_mask.bool()
    count = int(valid.sum())
    if count == 0:
        warnings.warn('berhu_loss: the target has no valid pixel (all non-finite or '
                      '<= 0, or masked out); returning a zero loss', UserWarning)
        return pred.sum() * 0.0
    # Invalid targets are replaced by pred itself so NaN/inf never reach the graph.
    safe_target = torch.where(valid, target.to(pred.dtype), pred.detach())
    error = (pred - safe_target).abs() * valid
    c = (threshold_ratio * error.detach().max()).clamp(min=eps)
    quadratic = (error * error + c * c) / (2 * c)
    per_pixel = torch.where(error <= c, error, quadratic) * valid
    return per_pixel.sum() / count


@MODELS.register_module()
class BerHuLoss(nn.Module):
    """Registered wrapper of :func:`berhu_loss`, called by :class:`DepthHead` as
    ``loss(pred, target, valid_mask)``.

    Used by the SIDE student of SDE-Seg's automatic data selection (§4.4), which
    regresses the SDE teacher's sigmoid disparities.

    Args:
        threshold_ratio: ``c = threshold_ratio * max |pred - target|`` (0.2).
        loss_weight: Multiplier of the loss.
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self,
                 threshold_ratio: float = 0.2,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_berhu') -> None:
        super().__init__()
        if not threshold_ratio > 0:
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
