"""Tests of FSRE's semantics-guided triplet loss (eq. 5–8)."""
import math

import pytest
import torch

from mmdepthsem.models.losses.semantic_triplet_loss import (SemanticGuidedTripletLoss,
                                                            semantic_triplet_loss,
                                                            triplet_patch_masks)
from mmdepthsem.registry import MODELS

IGNORE = 255


def _two_class_map() -> torch.Tensor:
    """5×5 map, columns 0–1 class 0 and columns 2–4 class 1, shape (1, 5, 5).

    With K = 5, T = 4 (valid rows R: 3, 4, 5, 4, 3 for anchor rows 0..4):
      col 0 (class 0): sees cols 0–2, |P−| = R > 4 only for R = 5 -> 1 anchor
      col 1 (class 0): cols 0–3, |P+| = 2R − 1, |P−| = 2R, both > 4 for R ≥ 3 -> 5
      col 2 (class 1): cols 0–4, |P+| = 3R − 1, |P−| = 2R -> 5
      col 3 (class 1): cols 1–4, |P−| = R -> only R = 5 -> 1
      col 4 (class 1): cols 2–4, no negatives -> 0
    12 counted anchors in total.
    """
    labels = torch.ones(1, 5, 5, dtype=torch.long)
    labels[..., :2] = 0
    return labels


def _class_features(labels: torch.Tensor, vectors: dict) -> torch.Tensor:
    """(B, C, h, w) features with the vector ``vectors[class]`` at every pixel."""
    dim = len(next(iter(vectors.values())))
    feat = torch.zeros(labels.shape[0], dim, *labels.shape[-2:])
    for cls, vec in vectors.items():
        mask = (labels == cls)[:, None].float()
        feat = feat + mask * torch.tensor(vec, dtype=torch.float32).view(1, -1, 1, 1)
    return feat


def test_counted_patches_by_hand():
    labels = _two_class_map()
    pos, neg, counted = triplet_patch_masks(labels, kernel_size=5)
    expected = torch.zeros(5, 5, dtype=torch.bool)
    expected[2, 0] = expected[2, 3] = True
    expected[:, 1] = expected[:, 2] = True
    assert torch.equal(counted.view(5, 5), expected)
    # Anchor (0, 1): 3 valid rows x cols 0–3 -> |P+| = 5, |P−| = 6.
    idx = 0 * 5 + 1
    assert pos[0, :, idx].sum() == 5 and neg[0, :, idx].sum() == 6
    feat = torch.randn(1, 3, 5, 5)
    _, count = semantic_triplet_loss(feat, labels)
    assert count == 12


def test_hinge_values_for_hand_set_features():
    labels = _two_class_map()
    # One-hot per class: d+ = 0, d− = sqrt(2) > m -> every hinge is 0.
    feat = _class_features(labels, {0: [1.0, 0.0], 1: [0.0, 1.0]})
    loss, count = semantic_triplet_loss(feat, labels)
    assert count == 12 and loss.item() == 0.0
    # Identical features: d+ = d− = 0 -> every hinge is m.
    loss, _ = semantic_triplet_loss(torch.ones(1, 4, 5, 5), labels, margin=0.3)
    assert loss.item() == pytest.approx(0.3, abs=1e-6)
    # Classes 0.1 apart on the unit circle (scaled inputs are normalised first):
    # hinge = 0 − 0.1 + 0.3 = 0.2 at every counted patch.
    theta = 2 * math.asin(0.05)
    feat = _class_features(labels, {0: [3.0, 0.0],
                                    1: [2 * math.cos(theta), 2 * math.sin(theta)]})
    loss, _ = semantic_triplet_loss(feat, labels, margin=0.3)
    assert loss.item() == pytest.approx(0.2, abs=1e-5)


def test_mixed_hinge_single_patch():
    # 5×5, K = 5, class 1 in rows 0–2, class 0 in rows 3–4 and T = 9. The centre
    # has |P+| = 14, |P−| = 10 and counts; (3, 2) has |P+| = 9 (not > 9); every other
    # anchor sees fewer than 10 of one class. Features: class 1 -> e0 except pixel
    # (0, 0) -> e1, class 0 -> e1, so d+ = sqrt(2)/14, d− = sqrt(2) and with m = 1.5
    # the hinge is sqrt(2)/14 − sqrt(2) + 1.5.
    labels = torch.zeros(1, 5, 5, dtype=torch.long)
    labels[:, :3] = 1
    feat = _class_features(labels, {0: [0.0, 1.0], 1: [1.0, 0.0]})
    feat[0, :, 0, 0] = torch.tensor([0.0, 1.0])
    _, _, counted = triplet_patch_masks(labels, 5, threshold=9)
    assert counted.view(5, 5).nonzero().tolist() == [[2, 2]]
    loss, count = semantic_triplet_loss(feat, labels, margin=1.5, threshold=9)
    assert count == 1
    expected = math.sqrt(2) / 14 - math.sqrt(2) + 1.5
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_ignore_pixels_are_neither_positive_nor_negative():
    # cols 0–1 class 0, col 2 ignore, cols 3–4 class 1.
    labels = torch.zeros(1, 5, 5, dtype=torch.long)
    labels[..., 2] = IGNORE
    labels[..., 3:] = 1
    pos, neg, counted = triplet_patch_masks(labels, 5)
    # Only (2, 1) and (2, 3) count (|P+| = 9, |P−| = 5); treating the ignore column
    # as a negative would add (2, 0) and (2, 4).
    assert counted.view(5, 5).nonzero().tolist() == [[2, 1], [2, 3]]
    centre = 2 * 5 + 1
    assert pos[0, :, centre].sum() == 9 and neg[0, :, centre].sum() == 5


def test_ignore_anchors_never_count():
    # cols 0–1 ignore, cols 2–4 class 1: treating 255 as a class would count the
    # whole column 1 (|P+| = 2R − 1, |P−| = 2R).
    labels = torch.full((1, 5, 5), 1, dtype=torch.long)
    labels[..., :2] = IGNORE
    _, _, counted = triplet_patch_masks(labels, 5)
    assert counted.sum() == 0
    feat = torch.randn(1, 3, 5, 5, requires_grad=True)
    loss, count = semantic_triplet_loss(feat, labels)
    assert count == 0 and loss.item() == 0.0


@pytest.mark.parametrize('cls', [0, 7])
def test_single_class_gives_zero_loss_and_count(cls):
    # The border is padded with the ignore label: with any other padding value the
    # corners of a uniform map would see 16 "negatives" and count.
    labels = torch.full((2, 6, 7), cls, dtype=torch.long)
    feat = torch.randn(2, 4, 6, 7, requires_grad=True)
    criterion = SemanticGuidedTripletLoss(loss_weight=0.1)
    loss, count = criterion([feat, feat[..., ::2, ::2]], labels, return_count=True)
    assert count == 0 and criterion.last_count == 0
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.isfinite(feat.grad).all() and feat.grad.abs().sum() == 0


def test_anchor_excluded_from_positives():
    # Class 1 at the centre and the four corners, class 0 elsewhere. The centre
    # anchor has |P+| = 4 (not > 4) once it is excluded; counting itself it would
    # have 5 and count. No class-0 anchor sees more than 3 class-1 pixels.
    labels = torch.zeros(1, 5, 5, dtype=torch.long)
    for r, c in [(2, 2), (0, 0), (0, 4), (4, 0), (4, 4)]:
        labels[0, r, c] = 1
    pos, neg, counted = triplet_patch_masks(labels, 5)
    centre = 2 * 5 + 2
    assert pos[0, :, centre].sum() == 4 and neg[0, :, centre].sum() == 20
    assert not pos[0, 12, :].any()
    assert counted.sum() == 0
    _, count = semantic_triplet_loss(torch.randn(1, 3, 5, 5), labels)
    assert count == 0


def _slow_reference(feat, labels, k, margin, ignore):
    """Explicit loops over pixels and patch offsets (labels already at feat size)."""
    b, _, h, w = feat.shape
    t = k - 1
    r = k // 2
    feat = feat / feat.norm(dim=1, keepdim=True).clamp_min(1e-12)
    hinges, count = [], 0
    for n in range(b):
        for y in range(h):
            for x in range(w):
                anchor = int(labels[n, y, x])
                if anchor == ignore:
                    continue
                d_pos, d_neg = [], []
                for dy in range(-r, r + 1):
                    for dx in range(-r, r + 1):
                        yy, xx = y + dy, x + dx
                        if (dy, dx) == (0, 0) or not (0 <= yy < h and 0 <= xx < w):
                            continue
                        lab = int(labels[n, yy, xx])
                        if lab == ignore:
                            continue
                        dist = float((feat[n, :, y, x] - feat[n, :, yy, xx]).norm())
                        (d_pos if lab == anchor else d_neg).append(dist)
                if len(d_pos) > t and len(d_neg) > t:
                    count += 1
                    hinges.append(max(0.0, sum(d_pos) / len(d_pos)
                                      - sum(d_neg) / len(d_neg) + margin))
    return (sum(hinges) / len(hinges) if hinges else 0.0), count


@pytest.mark.parametrize('k', [3, 5])
def test_matches_slow_reference(k):
    g = torch.Generator().manual_seed(k)
    # Blocky labels at twice the feature resolution so that patches cross borders.
    coarse = torch.randint(0, 3, (2, 4, 5), generator=g)
    labels = coarse.repeat_interleave(3, 1).repeat_interleave(3, 2)  # (2, 12, 15)
    labels[torch.rand(labels.shape, generator=g) < 0.1] = IGNORE
    feat = torch.randn(2, 3, 6, 8, generator=g)  # labels are nearest-downsampled
    small = torch.nn.functional.interpolate(
        labels[:, None].float(), size=(6, 8), mode='nearest')[:, 0].long()
    expected_loss, expected_count = _slow_reference(feat, small, k, 0.3, IGNORE)
    assert expected_count > 0
    loss, count = semantic_triplet_loss(feat, labels, kernel_size=k, margin=0.3)
    assert int(count) == expected_count
    assert loss.item() == pytest.approx(expected_loss, abs=1e-5)


def test_downsampling_is_nearest_subsampling():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (1, 12, 16), generator=g)
    feat = torch.randn(1, 3, 6, 8, generator=g)
    loss_a, count_a = semantic_triplet_loss(feat, labels, kernel_size=3)
    loss_b, count_b = semantic_triplet_loss(feat, labels[:, ::2, ::2], kernel_size=3)
    assert count_a == count_b and loss_a.item() == pytest.approx(loss_b.item())


def test_levels_sum_weight_and_gradient():
    g = torch.Generator().manual_seed(1)
    coarse = torch.randint(0, 3, (2, 4, 4), generator=g)
    labels = coarse.repeat_interleave(8, 1).repeat_interleave(8, 2)  # (2, 32, 32)
    feats = [torch.randn(2, 4, s, s, generator=g).requires_grad_() for s in (8, 16)]
    criterion = MODELS.build(dict(type='SemanticGuidedTripletLoss', loss_weight=0.1))
    assert criterion.loss_name == 'loss_sgt'
    total = criterion(feats, labels)
    parts = [semantic_triplet_loss(f, labels) for f in feats]
    assert total.item() == pytest.approx(0.1 * sum(p[0].item() for p in parts))
    assert int(criterion.last_count) == sum(int(p[1]) for p in parts) > 0
    assert [int(c) for c in criterion.last_counts] == [int(p[1]) for p in parts]
    total.backward()
    for f in feats:
        assert torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0


def test_identical_positive_features_have_finite_gradient():
    labels = _two_class_map()
    feat = _class_features(labels, {0: [1.0, 0.2], 1: [0.9, 0.3]}).requires_grad_()
    loss, count = semantic_triplet_loss(feat, labels)
    assert count == 12 and loss.item() > 0
    loss.backward()
    assert torch.isfinite(feat.grad).all() and feat.grad.abs().sum() > 0
