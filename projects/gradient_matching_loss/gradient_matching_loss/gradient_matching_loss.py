"""Multi-scale gradient matching loss of Ranftl et al., "Towards Robust Monocular Depth
Estimation: Mixing Datasets for Zero-shot Cross-dataset Transfer" (MiDaS, TPAMI 2020,
eq. 11), with the optional least-squares scale-and-shift alignment of its ssi losses,
as an mmdepthsem plug-in."""
import warnings
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS

SPACES = ('depth', 'disparity')


def _as_bhw(x: Tensor, name: str) -> Tensor:
    """``(B, 1, H, W)`` or ``(B, H, W)`` -> ``(B, H, W)``."""
    if x.dim() == 4 and x.shape[1] == 1:
        return x[:, 0]
    if x.dim() == 3:
        return x
    raise ValueError(f'gradient_matching_loss: {name} must be (B, 1, H, W) or '
                     f'(B, H, W), got {tuple(x.shape)}')


def scale_shift_align(pred: Tensor, target: Tensor, valid: Tensor) -> Tensor:
    """``s * pred + t`` with ``(s, t)`` the per-image least-squares solution of
    ``min sum_valid (s * pred + t - target)^2`` (MiDaS eq. 4).

    The solution is ``s = cov(pred, target) / var(pred)``, ``t = mean(target) -
    s * mean(pred)`` over the image's valid pixels; gradients flow through ``s`` and
    ``t``. When the image's valid predictions are (numerically) constant, including
    images with fewer than two valid pixels, the scale is not determined and the
    shift-only fit ``s = 1`` is used instead.

    Args:
        pred, target: ``(B, H, W)`` in the same space; invalid target values must be
            finite (they are given zero weight).
        valid: ``(B, H, W)`` bool.

    Returns:
        The aligned prediction, ``(B, H, W)``.
    """
    w = valid.to(pred.dtype)
    n = w.sum(dim=(1, 2)).clamp(min=1)
    mean_p = (pred * w).sum(dim=(1, 2)) / n
    mean_t = (target * w).sum(dim=(1, 2)) / n
    dp = (pred - mean_p[:, None, None]) * w
    dt = (target - mean_t[:, None, None]) * w
    var_p = (dp * dp).sum(dim=(1, 2)) / n
    cov = (dp * dt).sum(dim=(1, 2)) / n
    mean_p2 = (pred.detach() ** 2 * w).sum(dim=(1, 2)) / n
    degenerate = var_p.detach() <= torch.finfo(pred.dtype).eps * mean_p2
    scale = torch.where(degenerate, torch.ones_like(cov),
                        cov / torch.where(degenerate, torch.ones_like(var_p), var_p))
    shift = mean_t - scale * mean_p
    return scale[:, None, None] * pred + shift[:, None, None]


def gradient_matching_loss(pred: Tensor,
                           target: Tensor,
                           valid_mask: Optional[Tensor] = None,
                           num_scales: int = 4,
                           space: str = 'disparity',
                           align_scale_shift: bool = True,
                           min_depth: float = 1e-3) -> Tensor:
    """Multi-scale gradient matching loss over the valid pixels of the batch.

    With ``p, d`` the prediction and target in ``space`` (``'depth'``: the values as
    passed; ``'disparity'``: their reciprocals, ``1 / max(pred, min_depth)`` and
    ``1 / target``), optionally ``p`` replaced by its per-image least-squares
    scale-and-shift alignment to ``d`` (:func:`scale_shift_align`), the residual
    ``R = p - d`` and ``R^k`` its subsampling ``R[::2^k, ::2^k]`` (same for the mask)::

        loss = (1 / M) * sum_{k=0}^{K-1} sum_i (|grad_x R^k_i| + |grad_y R^k_i|)

    where ``grad_x R^k_i`` is the difference of horizontally neighbouring pixels of
    scale ``k`` (likewise vertically), counted only when both are valid, and ``M`` is
    the number of valid full-resolution pixels of the whole batch (MiDaS eq. 11).

    When no pixel of the batch is valid a ``UserWarning`` is issued and the loss is an
    exact zero that still depends on ``pred`` (graph and DDP gradient sync intact).

    Args:
        pred: Predicted depth ``(B, 1, H, W)`` or ``(B, H, W)``, metres.
        target: Ground-truth depth of the same shape, ``<= 0`` = invalid.
        valid_mask: Optional bool mask of the same shape; default ``target > 0``.
            Non-finite targets are always invalid.
        num_scales: ``K``, the number of scales (4 in MiDaS).
        space: ``'depth'`` or ``'disparity'`` (MiDaS trains in disparity space).
        align_scale_shift: Align the prediction to the target by least squares
            first (the ssi variant of MiDaS).
        min_depth: Predictions are clamped to at least this before the reciprocal.

    Returns:
        Scalar loss in the units of ``space`` (metres or 1 / metres).
    """
    if pred.shape != target.shape:
        raise ValueError(f'gradient_matching_loss: pred {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} differ in shape')
    if space not in SPACES:
        raise ValueError(f'gradient_matching_loss: space must be one of {SPACES}, got '
                         f'{space!r}')
    if num_scales < 1:
        raise ValueError(f'gradient_matching_loss: num_scales must be >= 1, got '
                         f'{num_scales}')
    valid = torch.isfinite(target) & (target > 0)
    if valid_mask is not None:
        valid &= valid_mask.bool()
    count = int(valid.sum())
    if count == 0:
        warnings.warn('gradient_matching_loss: no valid target pixel in the batch; '
                      'returning 0')
        return pred.sum() * 0.0
    p, valid = _as_bhw(pred, 'pred'), _as_bhw(valid, 'valid_mask')
    # invalid targets -> 1 so that NaN/inf/0 never reach the graph (weight 0 there)
    d = torch.where(valid, _as_bhw(target, 'target').to(p.dtype), torch.ones_like(p))
    if space == 'disparity':
        p = 1.0 / p.clamp(min=min_depth)
        d = 1.0 / d
    if align_scale_shift:
        p = scale_shift_align(p, d, valid)
    residual = torch.where(valid, p - d, torch.zeros_like(p))
    total = residual.new_zeros(())
    for k in range(num_scales):
        step = 2**k
        r = residual[:, ::step, ::step]
        m = valid[:, ::step, ::step]
        grad_x = (r[:, :, 1:] - r[:, :, :-1]).abs() * (m[:, :, 1:] & m[:, :, :-1])
        grad_y = (r[:, 1:, :] - r[:, :-1, :]).abs() * (m[:, 1:, :] & m[:, :-1, :])
        total = total + grad_x.sum() + grad_y.sum()
    return total / count


@MODELS.register_module()
class GradientMatchingLoss(nn.Module):
    """Registered wrapper of :func:`gradient_matching_loss`, called by ``DepthHead``
    as ``loss(pred, target, valid_mask)`` with depth in metres.

    Args:
        num_scales: Number of scales ``K``, each subsampled by 2 (4 in MiDaS).
        space: ``'depth'`` (the head's values as passed) or ``'disparity'``
            (their reciprocals, as MiDaS).
        align_scale_shift: Least-squares scale-and-shift alignment of the
            prediction to the target before the gradients (MiDaS's ssi variant).
        min_depth: Clamp of the prediction before the reciprocal (``'disparity'``).
        loss_weight: Multiplier of the loss (MiDaS uses 0.5 with its ssi MSE).
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self,
                 num_scales: int = 4,
                 space: str = 'disparity',
                 align_scale_shift: bool = True,
                 min_depth: float = 1e-3,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_grad_match') -> None:
        super().__init__()
        if space not in SPACES:
            raise ValueError(f'GradientMatchingLoss: space must be one of {SPACES}, '
                             f'got {space!r}')
        if num_scales < 1:
            raise ValueError(f'GradientMatchingLoss: num_scales must be >= 1, got '
                             f'{num_scales}')
        if min_depth <= 0:
            raise ValueError(f'GradientMatchingLoss: min_depth must be > 0, got '
                             f'{min_depth}')
        self.num_scales = num_scales
        self.space = space
        self.align_scale_shift = align_scale_shift
        self.min_depth = min_depth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Weighted :func:`gradient_matching_loss` of ``pred`` against ``target``."""
        return self.loss_weight * gradient_matching_loss(
            pred, target, valid_mask, num_scales=self.num_scales, space=self.space,
            align_scale_shift=self.align_scale_shift, min_depth=self.min_depth)

    @property
    def loss_name(self) -> str:
        return self._loss_name
