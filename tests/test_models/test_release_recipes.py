"""Released-code training rules next to the paper-literal ones (docs/selfsup.md).

Each rule where Monodepth2's or FSRE's released training code differs from the papers'
text is pinned on small tensors with values worked out by hand: the warping's
``align_corners`` (row A of the table), the scale weighting of the photometric and
smoothness terms (D, E) and the four rules of the semantics-guided triplet loss (F).
"""
import math

import pytest
import torch

from mmdepthsem.models.estimators.self_supervised_estimator import \
    combine_scale_losses
from mmdepthsem.models.losses import SemanticGuidedTripletLoss
from mmdepthsem.models.losses.semantic_triplet_loss import (semantic_triplet_loss,
                                                            triplet_patch_masks)
from mmdepthsem.models.utils.camera_geometry import sampled_pixel, warp_frame

from .test_self_supervised_estimator import build, run_loss, sample

# ----------------------------------------------------------------- A. warping


def _identity_warp(align_corners: bool):
    """Warp a 2x5 ramp [0, 10, 20, 30, 40] with the identity pose."""
    row = torch.tensor([0., 10., 20., 30., 40.])
    source = row.expand(1, 1, 2, 5).clone()
    depth = torch.full((1, 1, 2, 5), 3.0)
    K = torch.tensor([[[4.0, 0, 2.0], [0, 4.0, 0.5], [0, 0, 1]]])
    return warp_frame(source, depth, K, torch.eye(4)[None],
                      align_corners=align_corners)


def test_align_corners_true_samples_each_projected_pixel_at_itself():
    warped, valid = _identity_warp(True)
    assert torch.allclose(warped[0, 0, 0], torch.tensor([0., 10., 20., 30., 40.]),
                          atol=1e-4)
    assert valid.all()


def test_align_corners_false_reproduces_monodepth2s_stretch():
    # grid x_n = 2u/(W-1) - 1 read with align_corners=False samples u*W/(W-1) - 1/2:
    # u = 0..4 -> -0.5 (border: 0), 0.75, 2.0, 3.25, 4.5 (border: 40)
    warped, valid = _identity_warp(False)
    expected = torch.tensor([0., 7.5, 20., 32.5, 40.])
    assert torch.allclose(warped[0, 0, 0], expected, atol=1e-4)
    assert torch.allclose(warped[0, 0, 1], expected, atol=1e-4)
    # the samples at -0.5 and 4.5 (and at rows -0.5 / 1.5) lie outside the centres
    assert not valid.any()
    coords = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert torch.allclose(sampled_pixel(coords, 5, False),
                          torch.tensor([-0.5, 0.75, 2.0, 3.25, 4.5]))
    assert torch.allclose(sampled_pixel(coords, 5, True),
                          torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]))


def test_estimator_passes_align_corners_to_the_warp():
    samples = [sample()]
    losses = {}
    for flag in (True, False):
        model = build(scales=(0, ))
        model.align_corners = flag
        torch.manual_seed(1)
        losses[flag] = run_loss(model, samples)['loss_photometric']
    assert not torch.isclose(losses[True], losses[False], rtol=1e-5)


# ------------------------------------------------------- D, E. scale weighting


def test_combine_scale_losses_by_hand():
    values = [torch.tensor(v) for v in (1.0, 2.0, 3.0, 4.0)]
    scales = (0, 1, 2, 3)
    assert combine_scale_losses(values, scales, 'mean').item() == pytest.approx(2.5)
    # FSRE's release: 1 + 2/2 + 3/4 + 4/8
    assert combine_scale_losses(values, scales, 'halving').item() == \
        pytest.approx(3.25)
    assert combine_scale_losses(values, scales, 'halving', halve=False).item() == \
        pytest.approx(10.0)
    with pytest.raises(ValueError, match='scale weighting'):
        combine_scale_losses(values, scales, 'sum')
    with pytest.raises(ValueError, match='per-scale'):
        combine_scale_losses(values[:2], scales, 'mean')


def test_estimator_scale_weightings_from_single_scale_runs():
    """'mean' and 'halving' of the 4-scale loss equal their formulas applied to the
    four single-scale losses (each scale's disparity is warped at full size, so a
    one-scale run gives that scale's term; no auto-mask noise)."""
    samples = [sample(), sample(shifts=(-1, 3))]

    def losses(scales, weighting):
        model = build(scales=(0, 1, 2, 3))
        model.scales = scales
        model.scale_weighting = weighting
        model.photometric_loss.automask = False
        return run_loss(model, samples)

    single = [losses((s, ), 'mean') for s in range(4)]
    pe = [item['loss_photometric'] for item in single]
    # one scale, 'mean': the smoothness term is beta / 2^s * sm_s already
    sm = [item['loss_smooth'] for item in single]
    mean = losses((0, 1, 2, 3), 'mean')
    halving = losses((0, 1, 2, 3), 'halving')
    assert torch.allclose(mean['loss_photometric'], sum(pe) / 4, rtol=1e-5)
    assert torch.allclose(mean['loss_smooth'], sum(sm) / 4, rtol=1e-5)
    assert torch.allclose(halving['loss_photometric'],
                          sum(p / 2**s for s, p in enumerate(pe)), rtol=1e-5)
    assert torch.allclose(halving['loss_smooth'], sum(sm), rtol=1e-5)


def test_unknown_scale_weighting_is_refused():
    with pytest.raises(ValueError, match='scale_weighting'):
        build(scales=(0, )).__class__(
            backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                          features_only=True, pretrained=False),
            depth_decoder=dict(type='MonodepthDepthDecoder'),
            pose_net=dict(type='PoseNet'), scale_weighting='sum')


# ------------------------------------------------------- F. triplet loss rules

# 3x3 labels, class 1 in the right column (touching the border on three sides)
LABELS = torch.tensor([[[0, 0, 1], [0, 0, 1], [0, 0, 1]]])
RELEASE = dict(border='negative', include_anchor=True, count_rule='at_least',
               distance='affinity')
PAPER = dict(border='ignore', include_anchor=False, count_rule='greater',
             distance='euclidean')
EPS = 1e-9


def MASK_RULES(rules):
    return {k: v for k, v in rules.items() if k != 'distance'}


def _features():
    """Unit features: class 0 -> (1, 0), class 1 -> (0.6, 0.8), so the distance
    between the classes is sqrt(2 - 2 * 0.6) = sqrt(0.8). Float64, so the distance
    of identical features is the clamped sqrt(eps), not float32 rounding."""
    feat = torch.zeros(1, 2, 3, 3, dtype=torch.float64)
    feat[:, 0] = torch.where(LABELS == 0, 1.0, 0.6)
    feat[:, 1] = torch.where(LABELS == 0, 0.0, 0.8)
    return feat


def test_patch_masks_release_rules_by_hand():
    pos, neg, counted = triplet_patch_masks(LABELS, 3, **MASK_RULES(RELEASE))
    pos_n = pos.sum(1).view(3, 3)
    neg_n = neg.sum(1).view(3, 3)
    # positives include the anchor; negatives include the out-of-image positions
    assert pos_n.tolist() == [[4, 4, 2], [6, 6, 3], [4, 4, 2]]
    assert neg_n.tolist() == [[5, 5, 7], [3, 3, 6], [5, 5, 7]]
    # (0, 2): exactly K - 1 = 2 positives (anchor + one) -> counted with >=
    assert counted.all()


def test_patch_masks_paper_rules_by_hand():
    pos, neg, counted = triplet_patch_masks(LABELS, 3, **MASK_RULES(PAPER))
    assert pos.sum(1).view(3, 3).tolist() == [[3, 3, 1], [5, 5, 2], [3, 3, 1]]
    assert neg.sum(1).view(3, 3).tolist() == [[0, 2, 2], [0, 3, 3], [0, 2, 2]]
    # only the centre has more than K - 1 = 2 of both
    assert counted.view(3, 3).tolist() == [[False, False, False],
                                           [False, True, False],
                                           [False, False, False]]
    # the '>=' rule alone: (0, 1) and (2, 1) have exactly 2 negatives, 3 positives
    _, _, at_least = triplet_patch_masks(LABELS, 3, border='ignore',
                                         count_rule='at_least')
    assert at_least.view(3, 3).tolist() == [[False, True, False],
                                            [False, True, True],
                                            [False, True, False]]


def test_triplet_loss_release_rules_by_hand():
    m = 1.5
    s, c, r = math.sqrt(EPS), math.sqrt(0.8), math.sqrt(2.0)  # same, other, border
    # d- of each anchor: (other-class count * c + border count * r) / |P-|;
    # d+ = s everywhere (identical features within a class, the anchor included)
    d_neg = [[r, (2 * c + 3 * r) / 5, (2 * c + 5 * r) / 7],
             [r, c, (3 * c + 3 * r) / 6],
             [r, (2 * c + 3 * r) / 5, (2 * c + 5 * r) / 7]]
    expected = sum(max(0.0, s - d + m) for row in d_neg for d in row) / 9
    loss, count = semantic_triplet_loss(_features(), LABELS, 3, m, **RELEASE)
    assert count.item() == 9
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(0.251655, abs=1e-5)


def test_triplet_loss_paper_rules_by_hand():
    # only the centre counts: d+ = 0 over its 5 class-0 neighbours, d- over 3 class-1
    m = 1.5
    loss, count = semantic_triplet_loss(_features(), LABELS, 3, m, **PAPER)
    assert count.item() == 1
    assert loss.item() == pytest.approx(m - math.sqrt(0.8), rel=1e-6)


def test_affinity_distance_rule_alone():
    # paper counting, release distance: d+ = sqrt(eps) instead of 0
    rules = dict(PAPER, distance='affinity')
    loss, _ = semantic_triplet_loss(_features(), LABELS, 3, 1.5, **rules)
    assert loss.item() == pytest.approx(math.sqrt(EPS) - math.sqrt(0.8) + 1.5,
                                        rel=1e-6)
    # border negatives are sqrt(2) from a unit anchor by affinity, 1 by Euclid
    rules = dict(RELEASE, distance='euclidean')
    loss, count = semantic_triplet_loss(_features(), LABELS, 3, 1.5, **rules)
    c = math.sqrt(0.8)
    d_neg = [[1.0, (2 * c + 3) / 5, (2 * c + 5) / 7], [1.0, c, (3 * c + 3) / 6],
             [1.0, (2 * c + 3) / 5, (2 * c + 5) / 7]]
    expected = sum(max(0.0, 1.5 - d) for row in d_neg for d in row) / 9
    assert count.item() == 9 and loss.item() == pytest.approx(expected, rel=1e-6)


def test_level_weighting_halves_per_label_stride():
    labels = LABELS.repeat_interleave(2, 1).repeat_interleave(2, 2)  # (1, 6, 6)
    feat = _features()                                               # stride 2
    plain = SemanticGuidedTripletLoss(kernel_size=3, margin=1.5, **RELEASE)
    halved = SemanticGuidedTripletLoss(kernel_size=3, margin=1.5,
                                       level_weighting='halving', **RELEASE)
    level = semantic_triplet_loss(feat, labels, 3, 1.5, **RELEASE)[0]
    assert plain(feat, labels).item() == pytest.approx(level.item(), rel=1e-6)
    assert halved(feat, labels).item() == pytest.approx(level.item() / 2, rel=1e-6)
    # two levels at strides 2 and 1: l_2 / 2 + l_1
    full = _features().repeat_interleave(2, 2).repeat_interleave(2, 3)
    both = halved([feat, full], labels)
    expected = level / 2 + semantic_triplet_loss(full, labels, 3, 1.5, **RELEASE)[0]
    assert both.item() == pytest.approx(expected.item(), rel=1e-6)
    assert SemanticGuidedTripletLoss.level_stride(labels, full) == 1


def test_release_rules_match_a_loop_reference_on_random_maps():
    """The vectorised loss equals a plain loop over anchors written from the rules."""
    torch.manual_seed(0)
    feat = torch.randn(2, 4, 6, 7, dtype=torch.float64)
    labels = torch.randint(0, 3, (2, 6, 7))
    k, m = 5, 0.3
    unit = torch.nn.functional.normalize(feat, dim=1)
    terms = []
    for b in range(2):
        for y in range(6):
            for x in range(7):
                d_pos, d_neg = [], []
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        yy, xx = y + dy, x + dx
                        inside = 0 <= yy < 6 and 0 <= xx < 7
                        other = unit[b, :, yy, xx] if inside else \
                            torch.zeros(4, dtype=torch.float64)
                        cos = float(unit[b, :, y, x] @ other)
                        dist = math.sqrt(max(EPS, 2 - 2 * cos))
                        same = inside and labels[b, yy, xx] == labels[b, y, x]
                        (d_pos if same else d_neg).append(dist)
                if len(d_pos) >= k - 1 and len(d_neg) >= k - 1:
                    terms.append(max(0.0, sum(d_pos) / len(d_pos) -
                                     sum(d_neg) / len(d_neg) + m))
    loss, count = semantic_triplet_loss(feat, labels, k, m, **RELEASE)
    assert count.item() == len(terms) > 0
    assert loss.item() == pytest.approx(sum(terms) / len(terms), rel=1e-5)


def test_bad_rule_names_are_refused():
    for key, value in (('border', 'zero'), ('count_rule', '>'),
                       ('level_weighting', 'mean'), ('distance', 'cosine')):
        with pytest.raises(ValueError, match=key):
            SemanticGuidedTripletLoss(**{key: value})
