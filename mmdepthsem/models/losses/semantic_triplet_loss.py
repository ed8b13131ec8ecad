"""Semantics-guided triplet loss of FSRE (Jung et al., ICCV 2021, eq. 5–8).

For every pixel ``i`` of a depth-decoder feature map, the ``K × K`` patch centred on
it is split by the (pseudo-)label into the anchor ``i``, positives ``P+`` (same class,
anchor excluded) and negatives ``P−`` (other classes). Pixels with the ignore label,
including the border padding, are in neither set, and an ignore-label anchor never
counts. With features ``F̂`` L2-normalised per pixel::

    d±(i) = mean_{j ∈ P±} ||F̂(i) − F̂(j)||_2                     # eq. 5, 6
    L_P(i) = max(0, d+(i) − d−(i) + m)                             # eq. 7
    L_SGT = mean of L_P(i) over i with |P+| > T and |P−| > T       # eq. 8

with ``T = K − 1`` and ``m = 0.3``; ``L_SGT = 0`` when no patch counts. The labels are
nearest-downsampled to each feature level, the per-level losses are summed and the
sum is multiplied by ``δ`` (``loss_weight``, 0.1 in FSRE).

Differences from the official FSRE code (this file follows the paper): the official
code counts the anchor itself among the positives, uses ``≥ T`` instead of ``> T``, and
weights the level at scale ``s`` by ``1 / 2**s``.
"""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

__all__ = ['triplet_patch_masks', 'semantic_triplet_loss', 'SemanticGuidedTripletLoss']


def _labels_at(labels: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest-downsample ``(B, H, W)`` or ``(B, 1, H, W)`` labels to ``(B, h, w)``."""
    if labels.dim() == 4:
        labels = labels[:, 0]
    if labels.dim() != 3:
        raise ValueError(f'labels must be (B, H, W), got {tuple(labels.shape)}')
    if tuple(labels.shape[-2:]) == tuple(size):
        return labels.long()
    resized = F.interpolate(labels[:, None].float(), size=size, mode='nearest')
    return resized[:, 0].long()


def triplet_patch_masks(labels: Tensor, kernel_size: int = 5, ignore_index: int = 255,
                        threshold: int = -1) -> Tuple[Tensor, Tensor, Tensor]:
    """Positive / negative masks of every ``K × K`` patch and which patches count.

    Args:
        labels: ``(B, h, w)`` integer labels at the feature resolution.
        kernel_size: ``K`` (odd).
        ignore_index: Label of pixels that are neither positive nor negative; also
            used to pad the border.
        threshold: ``T``; a patch counts when ``|P+| > T`` and ``|P−| > T``.
            Negative means ``K − 1``.

    Returns:
        ``pos`` and ``neg`` ``(B, K*K, h*w)`` bool masks over the patch (row-major
        offsets, the anchor at ``K*K // 2`` is never positive) and ``counted``
        ``(B, h*w)`` bool.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'kernel_size must be odd and positive, got {kernel_size}')
    if threshold < 0:
        threshold = kernel_size - 1
    pad = kernel_size // 2
    padded = F.pad(labels[:, None].float(), (pad, pad, pad, pad), value=ignore_index)
    patches = F.unfold(padded, kernel_size).long()               # (B, K*K, h*w)
    anchor = labels.flatten(1).long()[:, None]                   # (B, 1, h*w)
    valid = patches != ignore_index
    pos = valid & (patches == anchor)
    pos[:, (kernel_size * kernel_size) // 2] = False
    neg = valid & (patches != anchor)
    counted = (anchor[:, 0] != ignore_index) & (pos.sum(1) > threshold) & \
        (neg.sum(1) > threshold)
    return pos, neg, counted


def _safe_norm(diff: Tensor, dim: int) -> Tensor:
    """Euclidean norm along ``dim`` with a zero (not NaN) gradient at 0."""
    sq = diff.pow(2).sum(dim)
    nonzero = sq > 0
    return torch.where(nonzero, sq.where(nonzero, torch.ones_like(sq)).sqrt(),
                       torch.zeros_like(sq))


def semantic_triplet_loss(feat: Tensor, labels: Tensor, kernel_size: int = 5,
                          margin: float = 0.3, ignore_index: int = 255,
                          threshold: int = -1) -> Tuple[Tensor, Tensor]:
    """``L_SGT`` of one feature level (eq. 5–8) and the number of counted patches.

    Args:
        feat: ``(B, C, h, w)`` depth-decoder features (normalised here).
        labels: ``(B, H, W)`` integer labels, nearest-downsampled to ``(h, w)``.
        kernel_size: ``K``.
        margin: ``m``.
        ignore_index: Label ignored (and used as border padding).
        threshold: ``T``; negative means ``K − 1``.

    Returns:
        Scalar loss (0 connected to ``feat`` when nothing counts) and the int64
        count of patches that entered the mean.
    """
    if feat.dim() != 4:
        raise ValueError(f'feat must be (B, C, h, w), got {tuple(feat.shape)}')
    b, c, h, w = feat.shape
    labels = _labels_at(labels.to(feat.device), (h, w))
    if labels.shape[0] != b:
        raise ValueError(f'batch of labels {labels.shape[0]} != batch of feat {b}')
    pos, neg, counted = triplet_patch_masks(labels, kernel_size, ignore_index,
                                            threshold)
    count = counted.sum()
    if count == 0:
        return feat.sum() * 0.0, count
    feat = F.normalize(feat, dim=1)
    # Gather the K x K neighbourhoods of the counted anchors only, from a
    # (pixels, C) table of the zero-padded map: unfolding the whole map costs K*K
    # copies of it (and as many in backward) for the usually few counted anchors.
    pad = kernel_size // 2
    hp, wp = h + 2 * pad, w + 2 * pad
    table = F.pad(feat, (pad, pad, pad, pad)).permute(0, 2, 3, 1).reshape(-1, c)
    batch_idx, pixel = counted.nonzero(as_tuple=True)                # (N,)
    centre = batch_idx * (hp * wp) + (pixel // w + pad) * wp + pixel % w + pad
    steps = torch.arange(-pad, pad + 1, device=feat.device)
    offsets = (steps[:, None] * wp + steps[None, :]).flatten()       # row-major K*K
    neighbours = table[centre[:, None] + offsets]                    # (N, K*K, C)
    dist = _safe_norm(neighbours - table[centre][:, None], dim=2)    # (N, K*K)
    pos, neg = pos[batch_idx, :, pixel], neg[batch_idx, :, pixel]
    d_pos = (dist * pos).sum(1) / pos.sum(1)
    d_neg = (dist * neg).sum(1) / neg.sum(1)
    return (d_pos - d_neg + margin).clamp(min=0).mean(), count


@MODELS.register_module()
class SemanticGuidedTripletLoss(nn.Module):
    """Registered ``δ · Σ_levels L_SGT`` (see the module docstring).

    ``forward(feats, labels)`` returns the loss; the number of counted patches
    (summed over levels, int64 tensor) is kept in ``last_count`` (per level in
    ``last_counts``) for logging, or returned with ``return_count=True``.

    Args:
        kernel_size: ``K`` (5).
        margin: ``m`` (0.3).
        threshold: ``T``; negative means ``K − 1``.
        ignore_index: Ignored label (255).
        loss_weight: ``δ`` (0.1 in FSRE configs).
        loss_name: Key of the loss in the loss dict.
    """

    def __init__(self, kernel_size: int = 5, margin: float = 0.3, threshold: int = -1,
                 ignore_index: int = 255, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sgt') -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.margin = margin
        self.threshold = threshold
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        self.last_count: Tensor = torch.zeros((), dtype=torch.long)
        self.last_counts: List[Tensor] = []

    def forward(self, feats: Union[Tensor, Sequence[Tensor]], labels: Tensor,
                return_count: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Weighted sum of the per-level losses.

        Args:
            feats: One ``(B, C, h, w)`` map or a sequence of them (FSRE: decoder
                blocks 3, 2, 1), each at its own resolution.
            labels: ``(B, H, W)`` int64 labels (ignore ``ignore_index``).
            return_count: Also return the number of counted patches.

        Returns:
            Scalar loss, and with ``return_count`` the int64 count too.
        """
        if isinstance(feats, Tensor):
            feats = [feats]
        if len(feats) == 0:
            raise ValueError('SemanticGuidedTripletLoss: no feature level given')
        total, counts = None, []
        for feat in feats:
            loss, count = semantic_triplet_loss(
                feat, labels, self.kernel_size, self.margin, self.ignore_index,
                self.threshold)
            total = loss if total is None else total + loss
            counts.append(count)
        self.last_counts = counts
        self.last_count = torch.stack(counts).sum()
        total = self.loss_weight * total
        return (total, self.last_count) if return_count else total

    @property
    def loss_name(self) -> str:
        """Key of the loss in the loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, margin={self.margin}, '
                f'threshold={self.threshold}, ignore_index={self.ignore_index}, '
                f'loss_weight={self.loss_weight}')
