"""Mixing augmentations against the papers' equations on hand-built samples."""
import numpy as np
import pytest
import torch

from mmdepthsem.datasets.transforms import (AffineMix, ClassMix, CutDepth, CutMix,
                                            DepthMix, NearFarMix, VCutDepth)
from mmdepthsem.datasets.transforms.mixing import (MixView, closer_mask,
                                                   normalised_disparity)


def make_sample(depth, labels=None, value=None, name='a.png'):
    """A pipeline ``results`` dict whose image encodes the sample (``value``)."""
    depth = np.asarray(depth, np.float32)
    h, w = depth.shape
    if value is None:
        img = (np.arange(h * w * 3) % 256).astype(np.uint8).reshape(h, w, 3)
    else:
        img = np.full((h, w, 3), value, np.uint8)
    results = dict(img=img, gt_depth_map=depth, img_path=name, img_shape=(h, w))
    if labels is not None:
        results['gt_seg_map'] = np.asarray(labels, np.uint8)
        results['seg_fields'] = ['gt_seg_map']
    return results


class FixedUniform:
    """An RNG stand-in whose ``uniform`` returns given values in turn (the last one
    repeated) and records the bounds of the first call."""

    def __init__(self, *values):
        self.values = list(values)
        self.bounds = None

    def uniform(self, lo, hi):
        if self.bounds is None:
            self.bounds = (lo, hi)
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]

    def rand(self):
        return 0.0


def mix(transform, first, second, rng=None):
    first = dict(first, mix_results=[second])
    if rng is None:
        return transform(first)
    views = [transform.view(r, r['img'].shape[:2], r['img_path'])
             for r in (first, second)]
    from mmdepthsem.datasets.transforms.mixing import apply_plan_to_results
    plan = transform.draw_plan(views[0], views[1], rng)
    first.pop('mix_results')
    out = apply_plan_to_results(first, second, plan)
    out['mix_info'] = plan.info
    return out


# ------------------------------------------------------------------ NearFarMix
D1 = [[1.0, 2.0, 3.0, 0.0],
      [1.5, 2.5, 3.5, 4.0],
      [5.0, 0.0, 1.0, 2.0],
      [6.0, 7.0, 8.0, 9.0]]
D2 = [[2.0, 2.0, 2.0, 2.0],
      [9.0, 9.0, 9.0, 9.0],
      [1.0, 1.0, 1.0, 0.0],
      [4.0, 4.0, 4.0, 4.0]]


def test_near_far_mix_every_pixel_source_follows_eq7():
    first = make_sample(D1, labels=np.full((4, 4), 1), value=10, name='one')
    second = make_sample(D2, labels=np.full((4, 4), 2), value=200, name='two')
    thr = 2.5
    out = mix(NearFarMix(depth_range=(0.0, 100.0)), first, second, FixedUniform(thr))
    d1, d2 = np.array(D1), np.array(D2)
    # eq. 7 literally, with binary masks
    m1 = ((d1 <= thr) & (d1 > 0)).astype(int)
    m2 = (d2 > thr).astype(int)
    mo = -(m1 * m2)
    me = (1 - m1) * (1 - m2)
    weight_second = m2 + mo + me  # coefficient of I2 in eq. 7
    assert np.array_equal(weight_second, 1 - m1)  # the reduction the code uses
    # near pixels of image 1 (incl. the overlap with image 2's far region)
    expected_from_first = np.array([[1, 1, 0, 0],
                                    [1, 1, 0, 0],
                                    [0, 0, 1, 1],
                                    [0, 0, 0, 0]], bool)
    assert np.array_equal(m1.astype(bool), expected_from_first)
    from_first = out['img'][..., 0] == 10
    assert np.array_equal(from_first, expected_from_first)
    assert np.array_equal(out['gt_seg_map'] == 1, expected_from_first)
    assert np.array_equal(out['gt_depth_map'], np.where(expected_from_first, d1, d2))
    # the invalid pixel (0, 3) of image 1 is never near, even though 0 <= thr
    assert out['gt_depth_map'][0, 3] == d2[0, 3]
    # the mutually exclusive region (image 1 far, image 2 near) comes from image 2
    assert out['img'][2, 0, 0] == 200 and d1[2, 0] > thr >= d2[2, 0]
    assert out['mix_info']['thr'] == thr and out['mix_info']['applied']


def test_near_far_mix_threshold_interval_and_draws_in_bounds():
    transform = NearFarMix(depth_range=(1.2, 8.5))
    first = make_sample(D1)
    second = make_sample(D2)
    rng = FixedUniform(3.0)
    mix(transform, first, second, rng)
    # lo = max(min valid D1 = 1.0, 1.2), hi = min(max valid D2 = 9.0, 8.5)
    assert rng.bounds == (1.2, 8.5)
    np.random.seed(0)
    views = [transform.view(r, (4, 4), 'x') for r in (first, second)]
    thresholds = [transform.plan(*views).info['thr'] for _ in range(1000)]
    assert min(thresholds) >= 1.2 and max(thresholds) <= 8.5
    assert max(thresholds) - min(thresholds) > 6.0  # actually spread over [lo, hi]


def test_near_far_mix_empty_interval_returns_image_one_unchanged():
    first = make_sample(np.full((4, 4), 7.0), value=10)
    second = make_sample(np.full((4, 4), 3.0), value=200)  # max D2 3 < min D1 7
    before = {k: v.copy() for k, v in first.items() if isinstance(v, np.ndarray)}
    out = mix(NearFarMix(depth_range=(1.5, 6.5)), first, second)
    for key, value in before.items():
        assert np.array_equal(out[key], value)
    assert out['mix_info'] == dict(applied=False, skipped='empty_interval',
                                   method='NearFarMix')


def test_near_far_mix_uint8_255_and_ignore_labels_survive():
    first = make_sample(np.full((4, 4), 1.0), labels=np.full((4, 4), 255), value=255)
    second = make_sample(np.full((4, 4), 9.0), labels=np.full((4, 4), 3), value=7)
    first['gt_depth_map'][:, 2:] = 9.0
    out = mix(NearFarMix(depth_range=(0.5, 10.0)), first, second, FixedUniform(5.0))
    assert out['img'].dtype == np.uint8
    assert (out['img'][:, :2] == 255).all() and (out['img'][:, 2:] == 7).all()
    assert (out['gt_seg_map'][:, :2] == 255).all() and (out['gt_seg_map'][:, 2:] == 3
                                                         ).all()


def test_depth_based_mix_refuses_a_sample_without_depth():
    first = make_sample(D1)
    second = make_sample(D2, name='no_depth.png')
    del second['gt_depth_map']
    with pytest.raises(KeyError, match='no_depth.png has no depth map'):
        mix(NearFarMix(depth_range=(1.0, 5.0)), first, second)
    with pytest.raises(KeyError, match='no depth map'):
        mix(DepthMix(mask_source='gt'), first, second)


def test_mix_without_partner_names_the_wrapper():
    with pytest.raises(KeyError, match='MixedSampleDataset'):
        NearFarMix(depth_range=(1.0, 5.0))(make_sample(D1))


def test_mismatched_sizes_and_fields_are_named():
    with pytest.raises(ValueError, match='same geometric pipeline'):
        mix(CutMix(), make_sample(np.ones((4, 4))), make_sample(np.ones((4, 6))))
    with pytest.raises(KeyError, match='gt_seg_map'):
        mix(CutMix(), make_sample(np.ones((4, 4)), labels=np.zeros((4, 4))),
            make_sample(np.ones((4, 4))))


# -------------------------------------------------------------------- DepthMix
def test_depth_mix_closer_pixels_of_image_i_win_within_epsilon():
    # 6x6: image i is a ramp 1..6 m by column; image j constant 3 m
    di = np.tile(np.arange(1, 7, dtype=np.float32), (6, 1))
    dj = np.full((6, 6), 3.0, np.float32)
    first, second = make_sample(di, value=10), make_sample(dj, value=200)
    out = mix(DepthMix(epsilon=0.0, space='depth', mask_source='gt'), first, second)
    assert np.array_equal(out['img'][..., 0] == 10, di < dj)  # eq. 10, ε = 0
    out = mix(DepthMix(epsilon=0.5, space='depth', mask_source='gt'),
              make_sample(di, value=10), make_sample(dj, value=200))
    assert np.array_equal(out['img'][..., 0] == 10, di < dj + 0.5)
    # ties within epsilon go to image i
    assert (out['img'][:, 2, 0] == 10).all() and (out['img'][:, 3, 0] == 200).all()


def test_depth_mix_normalised_disparity_space():
    di = torch.tensor([[1.0, 2.0], [4.0, 0.0]])
    disp = normalised_disparity(di)
    # 1/d = 1, .5, .25 -> normalised (x - .25) / .75
    assert torch.allclose(disp[:1], torch.tensor([[1.0, 1 / 3]]))
    assert disp[1, 0] == 0 and torch.isnan(disp[1, 1])
    dj = torch.tensor([[2.0, 2.0], [1.0, 3.0]])  # normalised: 0, 0, 1, 1/3
    mask = closer_mask(di, dj, epsilon=0.03)
    # (0,0): 1 >= 0-ε; (0,1): 1/3 >= -ε; (1,0): 0 >= 1-ε? no; (1,1): i invalid -> j
    assert mask.tolist() == [[True, True], [False, False]]
    # epsilon on normalised disparity: 1/3 vs 1/3 + 0.02 stays with i
    assert bool(closer_mask(torch.tensor([[1.0, 2.0, 4.0]]),
                            torch.tensor([[1.0, 1.94, 4.0]]), 0.03)[0, 1])


def test_depth_mix_invalid_depth_rules_and_confidence_follow_the_mask():
    di = np.array([[0.0, 2.0], [0.0, 5.0]], np.float32)
    dj = np.array([[3.0, 0.0], [0.0, 1.0]], np.float32)
    first, second = make_sample(di, value=10), make_sample(dj, value=200)
    first['gt_pseudo_conf'] = np.full((2, 2), 0.25, np.float32)
    second['gt_pseudo_conf'] = np.full((2, 2), 1.0, np.float32)
    out = mix(DepthMix(space='depth', mask_source='gt'), first, second)
    expected_first = np.array([[False, True], [True, False]])
    assert np.array_equal(out['img'][..., 0] == 10, expected_first)
    assert np.array_equal(out['gt_pseudo_conf'], np.where(expected_first, 0.25, 1.0))


def test_depth_mix_reads_the_depth_estimate_by_default():
    first, second = make_sample(np.ones((2, 2))), make_sample(np.ones((2, 2)))
    with pytest.raises(KeyError, match='LoadDepthEstimate'):
        mix(DepthMix(), first, second)
    first['est_depth_map'] = np.array([[1.0, 9.0], [1.0, 9.0]], np.float32)
    second['est_depth_map'] = np.full((2, 2), 5.0, np.float32)
    out = mix(DepthMix(space='depth'), dict(first, img=np.full((2, 2, 3), 10, np.uint8)),
              dict(second, img=np.full((2, 2, 3), 200, np.uint8)))
    assert (out['img'][:, 0, 0] == 10).all() and (out['img'][:, 1, 0] == 200).all()
    assert np.array_equal(out['est_depth_map'], [[1.0, 5.0], [1.0, 5.0]])


# --------------------------------------------------------- CutMix and ClassMix
def test_cut_mix_pastes_one_rectangle_without_depth():
    first = make_sample(np.zeros((6, 6)), labels=np.full((6, 6), 1), value=10)
    second = make_sample(np.zeros((6, 6)), labels=np.full((6, 6), 2), value=200)
    del first['gt_depth_map'], second['gt_depth_map']
    np.random.seed(3)
    out = mix(CutMix(), first, second)
    x0, y0, x1, y1 = out['mix_info']['box']
    pasted = np.zeros((6, 6), bool)
    pasted[y0:y1, x0:x1] = True
    assert np.array_equal(out['img'][..., 0] == 200, pasted)
    assert np.array_equal(out['gt_seg_map'] == 2, pasted)


def test_class_mix_keeps_half_of_image_one_classes_rounded_up():
    labels = np.array([[0, 0, 1, 1], [2, 2, 255, 255], [0, 1, 2, 255], [0, 0, 0, 0]])
    first = make_sample(np.ones((4, 4)), labels=labels, value=10)
    second = make_sample(np.ones((4, 4)), labels=np.full((4, 4), 7), value=200)
    np.random.seed(1)
    out = mix(ClassMix(rounding='ceil'), first, second)
    kept = out['mix_info']['classes']
    assert len(kept) == 2 and set(kept) <= {0, 1, 2}  # ceil(3 / 2), ignore excluded
    expected = np.isin(labels, kept)
    assert np.array_equal(out['img'][..., 0] == 10, expected)
    assert np.array_equal(out['gt_seg_map'], np.where(expected, labels, 7))
    assert (out['gt_seg_map'][labels == 255] == 7).all()  # ignored pixels not kept


# ----------------------------------------------------------- CutDepth, V-CutDepth
def test_cut_depth_paints_normalised_depth_only_into_the_image():
    depth = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 3.0]], np.float32)
    sample = make_sample(depth, labels=np.ones((2, 3)), value=77)
    np.random.seed(0)
    transform = CutDepth(size_range=(1.0, 1.0))  # the whole image
    out = transform(dict(sample))
    gray = np.round((depth - 1) / 4 * 255)
    gray[1, 0] = 0  # invalid
    assert np.array_equal(out['img'], np.repeat(gray[..., None], 3, -1).astype(np.uint8))
    assert np.array_equal(out['gt_depth_map'], depth)  # targets untouched
    assert (out['gt_seg_map'] == 1).all()


def test_vertical_cut_depth_spans_every_row():
    sample = make_sample(np.tile(np.arange(1, 9, dtype=np.float32), (5, 1)), value=77)
    np.random.seed(2)
    out = VCutDepth(size_range=(0.25, 0.5))(sample)
    x0, y0, x1, y1 = out['mix_info']['box']
    assert (y0, y1) == (0, 5) and 2 <= x1 - x0 <= 4
    changed = (out['img'][..., 0] != 77)
    assert changed[:, x0:x1].all() and not changed[:, :x0].any()


# ------------------------------------------------------------------- AffineMix
def test_affine_mix_zooms_partner_and_scales_its_depth():
    transform = AffineMix(scale_range=(2.0, 2.0), shift=0.0, mask_source='gt')
    h = w = 5
    d2 = np.full((h, w), 4.0, np.float32)
    second = make_sample(d2, labels=np.arange(25).reshape(5, 5) % 7, value=None)
    first = make_sample(np.full((h, w), 3.0, np.float32), labels=np.full((5, 5), 9),
                        value=10)
    out = mix(transform, first, second, FixedUniform(2.0, 0.0))
    # zoom x2 about the centre: output (2, 2) reads source (2, 2); the warped depth
    # is 4 / 2 = 2 m < 3 m, so the partner wins everywhere it has a source
    affine = AffineMix.affine_matrix((h, w), 2.0, (0.0, 0.0))
    assert torch.allclose(affine @ torch.tensor([2.0, 2.0, 1.0]), torch.tensor([2.0,
                                                                                 2.0]))
    assert (out['gt_depth_map'] == 2.0).all()
    assert out['gt_seg_map'][2, 2] == second['gt_seg_map'][2, 2]
    # output (0, 0) reads source (1, 1)
    assert out['gt_seg_map'][0, 0] == second['gt_seg_map'][1, 1]


def test_affine_mix_pixels_without_source_never_win():
    transform = AffineMix(scale_range=(0.5, 0.5), shift=0.0, mask_source='gt')
    first = make_sample(np.full((6, 6), 50.0, np.float32), value=10)
    second = make_sample(np.full((6, 6), 1.0, np.float32), value=200)
    out = mix(transform, first, second, FixedUniform(0.5, 0.0))
    # zoom out by 2: the border ring has no source and keeps image 1
    assert (out['img'][0, :, 0] == 10).all() and (out['img'][:, 0, 0] == 10).all()
    # inside, the partner (1 m / 0.5 = 2 m) is nearer than 50 m
    assert out['img'][2, 2, 0] == 200 and out['gt_depth_map'][2, 2] == 2.0


def test_prob_zero_never_mixes():
    first, second = make_sample(D1, value=10), make_sample(D2, value=200)
    out = mix(NearFarMix(depth_range=(0.1, 10.0), prob=0.0), first, second)
    assert (out['img'] == 10).all() and out['mix_info']['skipped'] == 'prob'


def test_view_uses_densified_depth_for_sparse_ground_truth():
    sparse = np.zeros((3, 3), np.float32)
    sparse[0, 0], sparse[2, 2] = 1.0, 9.0
    view = NearFarMix(depth_range=(0.1, 10.0), mask_source='densified').view(
        dict(gt_depth_map=sparse), (3, 3), 'x')
    assert view.depth[0, 1] == 1.0 and view.depth[2, 1] == 9.0
    assert bool((view.depth > 0).all())
    assert isinstance(view, MixView)
