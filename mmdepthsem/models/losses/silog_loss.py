"""Scale-invariant logarithmic (SILog) depth loss."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS


def silog_loss(pred: Tensor,
               target: Tensor,
               valid_mask: Optional[Tensor] = None,
               alpha: float = 10.0,
               lambd: float = 0.85,
               min_pred: float = 1e-3) -> Tensor:
    """SILog loss of Eigen et al., per image, then averaged over images.

    For each image with valid pixels, ``g = ln(pred) - ln(target)`` over its ``T``
    valid pixels and ``loss = alpha * sqrt(mean(g^2) - lambd * mean(g)^2)``
    (DSS eq. 8 with alpha = 10, lambda = 0.85). Images without valid pixels are left
    out of the mean; when no image has one the loss is an exact zero that still
    depends on ``pred``, so the graph and DDP's gradient sync stay intact.

    Args:
        pred: Predicted depth ``(B, 1, H, W)`` or ``(B, H, W)``, metres.
        target: Ground-truth depth of the same shape, metres, 0 = invalid.
        valid_mask: Optional bool mask of the same shape; default ``target > 0``.
            Non-finite targets are always invalid.
        alpha: Output scale (10 in DSS/BTS).
        lambd: Variance-focus weight lambda in [0, 1] (0.85 in DSS/BTS).
        min_pred: Predictions are clamped to at least this many metres before
            the logarithm.

    Returns:
        Scalar loss.
    """
    if pred.shape != target.shape:
        raise ValueError(f'silog_loss: pred {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} differ in shape')
    valid = torch.isfinite(target) & (target > 0)
    if valid_mask is not None:
        valid &= valid_mask.bool()
    batch = pred.shape[0]
    valid = valid.reshape(batch, -1)
    safe_target = torch.where(valid, target.reshape(batch, -1),
                              torch.ones_like(valid, dtype=pred.dtype))
    g = torch.log(pred.reshape(batch, -1).clamp(min=min_pred)) - torch.log(safe_target)
    g = g * valid
    count = valid.sum(dim=1)
    has_pixels = count > 0
    if not bool(has_pixels.any()):
        return pred.sum() * 0.0
    count = count.clamp(min=1).to(g.dtype)
    mean_g = g.sum(dim=1) / count
    mean_g2 = (g * g).sum(dim=1) / count
    # clamp: the variance term can round to a tiny negative number when g is constant
    per_image = alpha * torch.sqrt((mean_g2 - lambd * mean_g * mean_g).clamp(min=1e-12))
    return per_image[has_pixels].mean()


@MODELS.register_module()
class ScaleInvariantLogLoss(nn.Module):
    """Registered wrapper of :func:`silog_loss`.

    mmseg 1.2.2's ``SiLogLoss`` fixes lambda at 0.5 and averages differently; this
    one exposes ``alpha`` and ``lambd`` so configs can state the paper values.

    Args:
        alpha: Output scale.
        lambd: Variance-focus weight.
        loss_weight: Multiplier of the loss.
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self,
                 alpha: float = 10.0,
                 lambd: float = 0.85,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_silog') -> None:
        super().__init__()
        self.alpha = alpha
        self.lambd = lambd
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        return self.loss_weight * silog_loss(
            pred, target, valid_mask, alpha=self.alpha, lambd=self.lambd)

    @property
    def loss_name(self) -> str:
        return self._loss_name
