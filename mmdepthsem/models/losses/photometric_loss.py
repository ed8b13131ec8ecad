"""Photometric reprojection loss with per-pixel minimum and auto-masking.

FSRE eq. 2 (after Godard et al., Monodepth / Monodepth2): for a target image ``I`` and a
view ``Î`` synthesised from a source frame,
``pe(I, Î) = α (1 - SSIM(I, Î)) / 2 + (1 - α) |I - Î|`` with ``α = 0.85``; SSIM uses
3×3 average pooling with reflection padding and ``C1 = 0.01²``, ``C2 = 0.03²``, and both
terms are averaged over colour channels of ``[0, 1]`` images. Monodepth2's minimum
reprojection keeps, per pixel, the smallest error over the source frames (occlusions);
its auto-mask lets the errors of the *unwarped* sources join that minimum (plus
``1e-5 · N(0, 1)`` to break ties), so pixels that look the same without warping — a
static camera, objects moving with it — are effectively ignored.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdepthsem.registry import MODELS

__all__ = [
    'ssim_map', 'photometric_error', 'min_reprojection', 'automask_min_reprojection',
    'PhotometricReprojectionLoss'
]

Frames = Union[Tensor, Sequence[Tensor]]


def _check_broadcast(name: str, x: Tensor, y: Tensor) -> None:
    """``y`` must have ``x``'s shape or broadcast to it over size-1 leading dims
    (same number of dims: a missing dim would silently pair the wrong images)."""
    ok = x.dim() >= 3 and y.dim() == x.dim() and y.shape[-3:] == x.shape[-3:]
    if ok:
        try:
            ok = torch.broadcast_shapes(x.shape, y.shape) == x.shape
        except RuntimeError:
            ok = False
    if not ok:
        raise ValueError(f'{name}: shapes {tuple(x.shape)} and {tuple(y.shape)} '
                         'differ')


def _per_image(fn, t: Tensor) -> Tensor:
    """Apply a ``(N, C, H, W)`` op to a ``(..., C, H, W)`` tensor."""
    out = fn(t.reshape(-1, *t.shape[-3:]))
    return out.view(*t.shape[:-3], *out.shape[-3:])


def ssim_map(x: Tensor, y: Tensor, c1: float = 0.01 ** 2,
             c2: float = 0.03 ** 2) -> Tensor:
    """Per-pixel SSIM *dissimilarity* ``(1 - SSIM) / 2``, clamped to ``[0, 1]``.

    Local means, variances and covariance come from 3×3 average pooling of the
    reflection-padded images (Monodepth2's SSIM), so the map keeps the input size.
    Each image is padded once (padding commutes with the products ``x²``, ``y²``,
    ``x y``), and a ``y`` shared by several ``x`` has its statistics computed once.

    Args:
        x: ``(B, C, H, W)`` image in ``[0, 1]`` (``H, W >= 2`` for reflection), or
            any ``(..., C, H, W)`` stack, e.g. ``(B, N, C, H, W)`` views.
        y: Image in ``[0, 1]`` of ``x``'s shape, or broadcasting to it over the
            leading dims (e.g. one ``(B, 1, C, H, W)`` target for ``N`` views).
        c1: Stabiliser of the luminance term, ``(0.01 · L)²`` with range ``L = 1``.
        c2: Stabiliser of the contrast-structure term, ``(0.03 · L)²``.

    Returns:
        Dissimilarity per pixel and channel, shaped like ``x`` (0 for identical
        patches).
    """
    _check_broadcast('ssim_map', x, y)

    def pool(t: Tensor) -> Tensor:
        return _per_image(lambda v: F.avg_pool2d(v, 3, stride=1), t)

    px = _per_image(lambda v: F.pad(v, (1, 1, 1, 1), mode='reflect'), x)
    py = _per_image(lambda v: F.pad(v, (1, 1, 1, 1), mode='reflect'), y)
    mu_x, mu_y = pool(px), pool(py)
    sigma_x = pool(px * px) - mu_x * mu_x
    sigma_y = pool(py * py) - mu_y * mu_y
    sigma_xy = pool(px * py) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (sigma_x + sigma_y + c2)
    return ((1 - numerator / denominator) / 2).clamp(0, 1)


def photometric_error(pred: Tensor, target: Tensor, alpha: float = 0.85) -> Tensor:
    """Per-pixel photometric error ``α (1 - SSIM) / 2 + (1 - α) |pred - target|``.

    Args:
        pred: ``(B, C, H, W)`` synthesised (or unwarped source) image in ``[0, 1]``,
            or a ``(B, N, C, H, W)`` stack of them.
        target: ``(B, C, H, W)`` target image in ``[0, 1]`` (``(B, 1, C, H, W)``
            for a stack: broadcast, its SSIM statistics computed once).
        alpha: Weight of the SSIM term (0.85 in Monodepth2 / FSRE).

    Returns:
        ``(B, 1, H, W)`` error (``(B, N, H, W)`` for a stack); both terms are means
        over channels.
    """
    _check_broadcast('photometric_error', pred, target)
    channel = pred.dim() - 3
    l1 = (pred - target).abs().mean(dim=channel, keepdim=pred.dim() == 4)
    if alpha == 0:
        return l1
    ssim = ssim_map(pred, target).mean(dim=channel, keepdim=pred.dim() == 4)
    return alpha * ssim + (1 - alpha) * l1


def min_reprojection(errors: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-pixel minimum over candidate errors (Monodepth2's minimum reprojection).

    Args:
        errors: ``(B, N, H, W)`` one error map per candidate (source frame).

    Returns:
        ``(loss_map, argmin)``: ``(B, 1, H, W)`` smallest error and ``(B, 1, H, W)``
        int64 index of the candidate that gave it (ties: the first).
    """
    if errors.dim() != 4:
        raise ValueError(f'min_reprojection: errors must be (B, N, H, W), got '
                         f'{tuple(errors.shape)}')
    values, index = errors.min(dim=1, keepdim=True)
    return values, index


def automask_min_reprojection(reprojection: Tensor, identity: Tensor,
                              noise_std: float = 1e-5,
                              generator: Optional[torch.Generator] = None
                              ) -> Tuple[Tensor, Tensor]:
    """Minimum reprojection with Monodepth2's auto-mask.

    The identity errors (target vs. the unwarped sources) plus ``noise_std · N(0, 1)``
    join the per-pixel minimum. Where an identity error wins, the returned loss is
    that error — a constant without gradient, kept so the loss value matches
    Monodepth2's — and the pixel is masked out.

    Args:
        reprojection: ``(B, N, H, W)`` errors of the warped sources.
        identity: ``(B, M, H, W)`` errors of the unwarped sources (usually
            ``M = N``).
        noise_std: Standard deviation of the tie-breaking noise (1e-5).
        generator: Optional random generator for the noise (on the errors' device).

    Returns:
        ``(loss_map, mask)``: ``(B, 1, H, W)`` per-pixel minimum over all ``N + M``
        candidates and ``(B, 1, H, W)`` bool, True where a warped source won.
    """
    if reprojection.dim() != 4 or identity.dim() != 4 or \
            reprojection.shape[0] != identity.shape[0] or \
            reprojection.shape[-2:] != identity.shape[-2:]:
        raise ValueError('automask_min_reprojection: reprojection '
                         f'{tuple(reprojection.shape)} and identity '
                         f'{tuple(identity.shape)} must be (B, N, H, W) and '
                         '(B, M, H, W) of the same batch and size')
    noise = torch.randn(identity.shape, generator=generator, device=identity.device,
                        dtype=identity.dtype)
    identity = identity + noise_std * noise
    loss_map, index = min_reprojection(torch.cat([identity, reprojection], dim=1))
    return loss_map, index >= identity.shape[1]


def _stack_frames(frames: Frames, name: str) -> Tensor:
    """``(B, N, C, H, W)`` from a 5-D tensor or a sequence of ``(B, C, H, W)``."""
    if isinstance(frames, Tensor):
        if frames.dim() != 5:
            raise ValueError(f'{name} must be (B, N, C, H, W) or a sequence of '
                             f'(B, C, H, W), got {tuple(frames.shape)}')
        return frames
    if len(frames) == 0:
        raise ValueError(f'{name} is empty')
    return torch.stack(list(frames), dim=1)


@MODELS.register_module()
class PhotometricReprojectionLoss(nn.Module):
    """Registered photometric loss: error per source, minimum, auto-mask, mean.

    ``loss = loss_weight · mean(min_n pe(I, Î_n))`` over all pixels, the minimum
    including the identity errors when ``automask`` is on. Monodepth2 averages this
    over 4 scales and FSRE's released code sums it weighted ``1 / 2^s``, each scale's
    disparity upsampled to full resolution before warping; that loop (and its
    ``scale_weighting``) belongs to the caller, which calls this module once per
    scale.

    Images must be in ``[0, 1]``: undo the data preprocessor's normalisation of
    ``img_clean`` / ``frames_clean`` first.

    Args:
        alpha: SSIM weight α (0.85).
        automask: Use Monodepth2's auto-mask (needs ``sources`` in ``forward``).
        noise_std: Tie-breaking noise on the identity errors.
        loss_weight: Multiplier of the loss.
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self,
                 alpha: float = 0.85,
                 automask: bool = True,
                 noise_std: float = 1e-5,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_photometric') -> None:
        super().__init__()
        if not 0 <= alpha <= 1:
            raise ValueError(f'PhotometricReprojectionLoss: alpha must lie in [0, 1], '
                             f'got {alpha}')
        self.alpha = alpha
        self.automask = automask
        self.noise_std = noise_std
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def identity_errors(self, target: Tensor, sources: Frames) -> Tensor:
        """``(B, N, H, W)`` errors of the unwarped sources against the target.

        They do not depend on the depth, so a caller looping over scales computes
        them once and passes them to :meth:`loss_map` as ``identity``.
        """
        sources = _stack_frames(sources, 'sources')
        return photometric_error(sources, target.unsqueeze(1), self.alpha)

    def loss_map(self, target: Tensor, warped: Frames,
                 sources: Optional[Frames] = None,
                 identity: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Per-pixel loss and the auto-mask.

        Args:
            target: ``(B, C, H, W)`` target image in ``[0, 1]``.
            warped: Sources warped into the target view, ``(B, N, C, H, W)`` or ``N``
                tensors ``(B, C, H, W)``.
            sources: The unwarped sources, same layout; with ``automask`` either
                these or ``identity`` are required.
            identity: Precomputed :meth:`identity_errors` (used instead of
                ``sources``).

        Returns:
            ``(loss_map, mask)``: ``(B, 1, H, W)`` minimum error (unweighted) and
            ``(B, 1, H, W)`` bool, True where a warped source won (all True without
            auto-mask).
        """
        warped = _stack_frames(warped, 'warped')
        reprojection = photometric_error(warped, target.unsqueeze(1), self.alpha)
        if not self.automask:
            loss_map, _ = min_reprojection(reprojection)
            return loss_map, torch.ones_like(loss_map, dtype=torch.bool)
        if identity is None:
            if sources is None:
                raise ValueError('PhotometricReprojectionLoss: automask=True needs '
                                 'the unwarped `sources`')
            identity = self.identity_errors(target, sources)
        return automask_min_reprojection(reprojection, identity, self.noise_std)

    def forward(self, target: Tensor, warped: Frames,
                sources: Optional[Frames] = None) -> Tensor:
        """Scalar loss; arguments as :meth:`loss_map`."""
        loss_map, _ = self.loss_map(target, warped, sources)
        return self.loss_weight * loss_map.mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name
