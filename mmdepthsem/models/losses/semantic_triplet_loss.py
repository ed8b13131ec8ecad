"""Semantics-guided triplet loss of FSRE (Jung et al., ICCV 2021, eq. 5–8).

For every pixel ``i`` of a depth-decoder feature map, the ``K × K`` patch centred on
it is split by the (pseudo-)label into the anchor ``i``, positives ``P+`` (same class)
and negatives ``P−`` (other classes). With features ``F̂`` L2-normalised per pixel::

    d±(i) = mean_{j ∈ P±} ||F̂(i) − F̂(j)||_2                     # eq. 5, 6
    L_P(i) = max(0, d+(i) − d−(i) + m)                             # eq. 7
    L_SGT = mean of L_P(i) over the counted patches                # eq. 8

with ``T = K − 1`` and ``m = 0.3``; ``L_SGT = 0`` when no patch counts. The labels are
nearest-downsampled to each feature level, the per-level losses are summed (optionally
weighted) and the sum is multiplied by ``δ`` (``loss_weight``, 0.1 in FSRE).

The paper and the released code (``hyBlue/FSRE-Depth``, ``trainer_parallel.py``,
``compute_sgt_loss`` and ``compute_affinity``) differ in five rules, each an argument
here:

============================  ========================  ==========================
rule                          paper text (default)      released code
============================  ========================  ==========================
``border``: positions         ``'ignore'``: neither     ``'negative'``: labels
outside the image             positive nor negative     padded with −1, so they are
                                                        negatives, zero features
``include_anchor``            ``False``: ``P+`` holds   ``True``: the anchor is a
                              the neighbours only       positive (distance √ε)
``count_rule``: a patch       ``'greater'``:            ``'at_least'``:
counts when                   ``|P±| > T``              ``|P±| ≥ T``
``level_weighting``           ``'none'``: levels        ``'halving'``: the level at
                              summed                    stride ``2^s`` weighted
                                                        ``1 / 2^s``
``distance`` of two           ``'euclidean'``:          ``'affinity'``:
positions                     ``||F̂(i) − F̂(j)||_2``    ``sqrt(max(1e-9,
                                                        2 − 2 F̂(i)·F̂(j)))``, equal
                                                        for unit vectors, ``√2``
                                                        from a zero (padding)
                                                        feature, ``√1e-9`` for
                                                        identical ones
============================  ========================  ==========================

Pixels labelled ``ignore_index`` are neither positive nor negative, and an
ignore-label anchor never counts, under both readings (the release has no ignore label:
its pseudo-labels cover every pixel). ``configs/fsre`` use the released rules.
"""
import math
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

__all__ = ['triplet_patch_masks', 'semantic_triplet_loss', 'SemanticGuidedTripletLoss']

#: Choices of the rules where the paper and the released code differ.
BORDER_RULES = ('ignore', 'negative')
COUNT_RULES = ('greater', 'at_least')
LEVEL_WEIGHTINGS = ('none', 'halving')
DISTANCES = ('euclidean', 'affinity')


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
                        threshold: int = -1, border: str = 'ignore',
                        include_anchor: bool = False, count_rule: str = 'greater'
                        ) -> Tuple[Tensor, Tensor, Tensor]:
    """Positive / negative masks of every ``K × K`` patch and which patches count.

    Args:
        labels: ``(B, h, w)`` integer labels at the feature resolution.
        kernel_size: ``K`` (odd).
        ignore_index: Label of pixels that are neither positive nor negative.
        threshold: ``T``; negative means ``K − 1``.
        border: ``'ignore'``: positions outside the image are in neither set;
            ``'negative'``: they are negatives (the released code).
        include_anchor: Count the anchor itself among the positives.
        count_rule: ``'greater'`` counts a patch when ``|P+| > T`` and ``|P−| > T``;
            ``'at_least'`` when ``|P+| ≥ T`` and ``|P−| ≥ T``.

    Returns:
        ``pos`` and ``neg`` ``(B, K*K, h*w)`` bool masks over the patch (row-major
        offsets, the anchor at ``K*K // 2``) and ``counted`` ``(B, h*w)`` bool.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'kernel_size must be odd and positive, got {kernel_size}')
    _check_choice('border', border, BORDER_RULES)
    _check_choice('count_rule', count_rule, COUNT_RULES)
    if threshold < 0:
        threshold = kernel_size - 1
    pad = kernel_size // 2
    # outside the image: a value no label takes (-1) or the ignore label
    fill = -1 if border == 'negative' else ignore_index
    padded = F.pad(labels[:, None].float(), (pad, pad, pad, pad), value=fill)
    patches = F.unfold(padded, kernel_size).long()               # (B, K*K, h*w)
    anchor = labels.flatten(1).long()[:, None]                   # (B, 1, h*w)
    valid = patches != ignore_index
    pos = valid & (patches == anchor)
    pos[:, (kernel_size * kernel_size) // 2] = include_anchor
    neg = valid & (patches != anchor)
    if count_rule == 'greater':
        enough = (pos.sum(1) > threshold) & (neg.sum(1) > threshold)
    else:
        enough = (pos.sum(1) >= threshold) & (neg.sum(1) >= threshold)
    counted = (anchor[:, 0] != ignore_index) & enough
    return pos, neg, counted


def _check_choice(name: str, value: str, choices: Tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f'SemanticGuidedTripletLoss: {name} must be one of '
                         f'{choices}, got {value!r}')


def _safe_norm(diff: Tensor, dim: int) -> Tensor:
    """Euclidean norm along ``dim`` with a zero (not NaN) gradient at 0."""
    sq = diff.pow(2).sum(dim)
    nonzero = sq > 0
    return torch.where(nonzero, sq.where(nonzero, torch.ones_like(sq)).sqrt(),
                       torch.zeros_like(sq))


def _affinity_distance(a: Tensor, b: Tensor, dim: int, eps: float = 1e-9) -> Tensor:
    """``sqrt(max(eps, 2 - 2 a·b))`` along ``dim``: the distance of unit vectors from
    their dot product, ``√2`` against a zero feature (the released code's rule)."""
    return (2 - 2 * (a * b).sum(dim)).clamp(min=eps).sqrt()


def semantic_triplet_loss(feat: Tensor, labels: Tensor, kernel_size: int = 5,
                          margin: float = 0.3, ignore_index: int = 255,
                          threshold: int = -1, border: str = 'ignore',
                          include_anchor: bool = False, count_rule: str = 'greater',
                          distance: str = 'euclidean') -> Tuple[Tensor, Tensor]:
    """``L_SGT`` of one feature level (eq. 5–8) and the number of counted patches.

    Args:
        feat: ``(B, C, h, w)`` depth-decoder features (normalised here).
        labels: ``(B, H, W)`` integer labels, nearest-downsampled to ``(h, w)``.
        kernel_size: ``K``.
        margin: ``m``.
        ignore_index: Label ignored.
        threshold: ``T``; negative means ``K − 1``.
        border, include_anchor, count_rule: See :func:`triplet_patch_masks`.
        distance: ``'euclidean'`` or ``'affinity'`` (see the module docstring).

    Returns:
        Scalar loss (0 connected to ``feat`` when nothing counts) and the int64
        count of patches that entered the mean.
    """
    if feat.dim() != 4:
        raise ValueError(f'feat must be (B, C, h, w), got {tuple(feat.shape)}')
    _check_choice('distance', distance, DISTANCES)
    b, c, h, w = feat.shape
    labels = _labels_at(labels.to(feat.device), (h, w))
    if labels.shape[0] != b:
        raise ValueError(f'batch of labels {labels.shape[0]} != batch of feat {b}')
    pos, neg, counted = triplet_patch_masks(labels, kernel_size, ignore_index,
                                            threshold, border, include_anchor,
                                            count_rule)
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
    anchors = table[centre][:, None]                                 # (N, 1, C)
    if distance == 'affinity':
        dist = _affinity_distance(neighbours, anchors, dim=2)        # (N, K*K)
    else:
        dist = _safe_norm(neighbours - anchors, dim=2)
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
        border: ``'ignore'`` (paper) or ``'negative'`` (release), see the module
            docstring.
        include_anchor: The anchor is a positive (release).
        count_rule: ``'greater'`` (paper) or ``'at_least'`` (release).
        level_weighting: ``'none'`` (paper) sums the levels; ``'halving'``
            (release) weights a level at stride ``2^s`` of the labels by ``1 / 2^s``,
            ``s`` read from the label and feature heights.
        distance: ``'euclidean'`` (paper) or ``'affinity'`` (release).
        loss_weight: ``δ`` (0.1 in FSRE configs).
        loss_name: Key of the loss in the loss dict.
    """

    def __init__(self, kernel_size: int = 5, margin: float = 0.3, threshold: int = -1,
                 ignore_index: int = 255, border: str = 'ignore',
                 include_anchor: bool = False, count_rule: str = 'greater',
                 level_weighting: str = 'none', distance: str = 'euclidean',
                 loss_weight: float = 1.0, loss_name: str = 'loss_sgt') -> None:
        super().__init__()
        _check_choice('distance', distance, DISTANCES)
        _check_choice('border', border, BORDER_RULES)
        _check_choice('count_rule', count_rule, COUNT_RULES)
        _check_choice('level_weighting', level_weighting, LEVEL_WEIGHTINGS)
        self.kernel_size = kernel_size
        self.margin = margin
        self.threshold = threshold
        self.ignore_index = ignore_index
        self.border = border
        self.include_anchor = include_anchor
        self.count_rule = count_rule
        self.level_weighting = level_weighting
        self.distance = distance
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
                self.threshold, self.border, self.include_anchor, self.count_rule,
                self.distance)
            if self.level_weighting == 'halving':
                loss = loss / self.level_stride(labels, feat)
            total = loss if total is None else total + loss
            counts.append(count)
        self.last_counts = counts
        self.last_count = torch.stack(counts).sum()
        total = self.loss_weight * total
        return (total, self.last_count) if return_count else total

    @staticmethod
    def level_stride(labels: Tensor, feat: Tensor) -> int:
        """Stride ``2^s`` of a ``(B, C, h, w)`` level relative to the label map:
        ``round(log2(H / h))``, ``H`` the labels' height."""
        ratio = labels.shape[-2] / feat.shape[-2]
        if ratio < 1:
            raise ValueError(f'SemanticGuidedTripletLoss: feature height '
                             f'{feat.shape[-2]} exceeds the label height '
                             f'{labels.shape[-2]}')
        return 2 ** round(math.log2(ratio))

    @property
    def loss_name(self) -> str:
        """Key of the loss in the loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, margin={self.margin}, '
                f'threshold={self.threshold}, ignore_index={self.ignore_index}, '
                f'border={self.border!r}, include_anchor={self.include_anchor}, '
                f'count_rule={self.count_rule!r}, '
                f'level_weighting={self.level_weighting!r}, '
                f'distance={self.distance!r}, '
                f'loss_weight={self.loss_weight}')
