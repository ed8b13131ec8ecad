"""DepthMetric and its pure functions, checked against values worked out by hand."""
import math

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from mmdepthsem.evaluation.functional import (DEPTH_METRICS, SUM_KEYS,
                                              compute_depth_metrics,
                                              depth_error_sums, depth_eval_mask,
                                              depth_metrics_from_sums, eval_crop_box,
                                              median, prepare_depth_pair)
from mmdepthsem.evaluation.metrics import DepthMetric
from mmdepthsem.registry import METRICS
from mmdepthsem.structures.depth_sem_data_sample import DepthSemDataSample

LN = math.log
L10 = math.log10

# Image A: 2 x 2, one invalid gt pixel. Valid pairs (pred, gt): (1.8, 1), (2, 2), (3, 4).
GT_A = [[1.0, 2.0], [4.0, 0.0]]
PRED_A = [[1.8, 2.0], [3.0, 5.0]]
# Image B: one valid pixel, (pred, gt) = (4, 2).
GT_B = [[2.0, 0.0], [0.0, 0.0]]
PRED_B = [[4.0, 1.0], [1.0, 1.0]]


def expected_a():
    g = [LN(1.8), 0.0, LN(0.75)]
    return {
        'abs_rel': (0.8 / 1 + 0 + 1 / 4) / 3,
        'sq_rel': (0.64 / 1 + 0 + 1 / 4) / 3,
        'rmse': math.sqrt((0.64 + 0 + 1) / 3),
        'rmse_log': math.sqrt(sum(x * x for x in g) / 3),
        'log10': (L10(1.8) + 0 + abs(L10(0.75))) / 3,
        'silog': 100 * math.sqrt(sum(x * x for x in g) / 3 - (sum(g) / 3)**2),
        # ratios max(d/d*, d*/d): 1.8, 1, 4/3
        'delta1': 1 / 3,
        'delta2': 2 / 3,
        'delta3': 1.0,
        'mae': (0.8 + 0 + 1) / 3,
    }


def expected_b():
    return {
        'abs_rel': 1.0, 'sq_rel': 2.0, 'rmse': 2.0, 'rmse_log': LN(2), 'log10': L10(2),
        'silog': 0.0, 'delta1': 0.0, 'delta2': 0.0, 'delta3': 0.0, 'mae': 2.0
    }


def sample(pred, gt, img_path='img.png'):
    return {
        'pred_depth_map': {'data': torch.as_tensor(pred, dtype=torch.float32)[None]},
        'gt_depth_map': {'data': torch.as_tensor(gt, dtype=torch.float32)[None]},
        'img_path': img_path,
    }


def evaluate(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def assert_close(result, expected, prefix=''):
    for key, value in expected.items():
        assert result[prefix + key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


# --- pure functions -------------------------------------------------------------------

def test_every_metric_on_one_image():
    got = compute_depth_metrics(torch.tensor(PRED_A), torch.tensor(GT_A), 1e-3, 10)
    assert list(got) == list(DEPTH_METRICS)
    assert_close(got, expected_a())


def test_error_sums_are_float64_sums():
    sums = depth_error_sums(torch.tensor([1.8, 2.0, 3.0]), torch.tensor([1.0, 2.0, 4.0]))
    assert sums['count'] == 3
    assert sums['sq_err'] == pytest.approx(1.64)
    assert sums['log_err'] == pytest.approx(LN(1.8) + LN(0.75))
    assert (sums['delta1'], sums['delta2'], sums['delta3']) == (1, 2, 3)
    assert sums['abs_err'] == pytest.approx(1.8)
    assert set(sums) == set(SUM_KEYS)


def test_median_averages_the_middle_pair():
    assert float(median(torch.tensor([4.0, 1.0, 3.0, 2.0]))) == 2.5
    assert float(median(torch.tensor([5.0, 1.0, 3.0]))) == 3.0


@pytest.mark.parametrize('crop, size, box', [
    ('nyu_eigen', (480, 640), (45, 471, 41, 601)),
    ('nyu_eigen', (240, 320), (22, 235, 20, 300)),  # floor(45/2), floor(471/2), ...
    ('kitti_garg', (375, 1242), (153, 371, 44, 1197)),
    ('kitti_eigen', (375, 1242), (124, 342, 44, 1197)),
    (None, (5, 7), (0, 5, 0, 7)),
    ((0.5, 1.0, 0.25, 0.75), (10, 8), (5, 10, 2, 6)),
])
def test_crop_boxes(crop, size, box):
    assert eval_crop_box(*size, crop) == box


def test_nyu_crop_mask_hits_exactly_the_documented_rows_and_cols():
    mask = depth_eval_mask(torch.ones(1, 480, 640), 1e-3, 10, 'nyu_eigen')[0]
    rows = mask.any(dim=1).nonzero().flatten()
    cols = mask.any(dim=0).nonzero().flatten()
    assert (rows.min().item(), rows.max().item()) == (45, 470)
    assert (cols.min().item(), cols.max().item()) == (41, 600)
    assert mask.sum().item() == 426 * 560


def test_bad_crop_names_valid_ones():
    with pytest.raises(ValueError, match='kitti_garg'):
        eval_crop_box(10, 10, 'eigen')
    with pytest.raises(ValueError, match='four fractions'):
        eval_crop_box(10, 10, (0.5, 0.2, 0.0, 1.0))


def test_range_excludes_min_includes_max():
    gt = torch.tensor([[1e-3, 0.5, 10.0, 10.5, float('nan'), 0.0]])
    assert depth_eval_mask(gt, 1e-3, 10, None).tolist() == [[False, True, True, False,
                                                             False, False]]


def test_prediction_is_clamped_to_range():
    pred, gt, _ = prepare_depth_pair(torch.tensor([[20.0, 0.0, -3.0]]),
                                     torch.tensor([[5.0, 5.0, 5.0]]), 1e-3, 10)
    assert pred.tolist() == pytest.approx([10.0, 1e-3, 1e-3])
    got = compute_depth_metrics(torch.tensor([[20.0]]), torch.tensor([[5.0]]), 1e-3, 10)
    assert got['abs_rel'] == pytest.approx(1.0)  # |10 - 5| / 5, not |20 - 5| / 5


def test_prediction_is_resized_bilinearly_to_gt():
    # (1, 2) -> (1, 4) with align_corners=False samples x = -0.25, 0.25, 0.75, 1.25.
    pred = torch.tensor([[1.0, 3.0]])
    gt = torch.tensor([[1.0, 1.5, 2.5, 3.0]])
    pred_valid, _, _ = prepare_depth_pair(pred, gt, 1e-3, 10)
    assert pred_valid.tolist() == pytest.approx([1.0, 1.5, 2.5, 3.0])


def test_median_scaling_comes_before_clamping():
    # median(gt) = 2, median(pred) = 20: ratio 0.1 gives a perfect prediction. Clamping
    # first (to 5) would give ratio 0.4 and pred (2, 2).
    pred, gt, ratio = prepare_depth_pair(torch.tensor([[10.0, 30.0]]),
                                         torch.tensor([[1.0, 3.0]]), 1e-3, 5,
                                         median_scaling=True)
    assert ratio == pytest.approx(0.1)
    assert pred.tolist() == pytest.approx([1.0, 3.0])


def test_non_finite_prediction_raises():
    with pytest.raises(ValueError, match='NaN or infinite at 1 of 2'):
        prepare_depth_pair(torch.tensor([[float('nan'), 1.0]]),
                           torch.tensor([[1.0, 1.0]]), 1e-3, 10)


# --- the metric class -----------------------------------------------------------------

def test_registered_in_mmdepthsem_scope():
    metric = METRICS.build(dict(type='DepthMetric', max_depth=10))
    assert isinstance(metric, DepthMetric)


def test_per_image_and_pooled_averaging():
    a, b = expected_a(), expected_b()
    per_image = evaluate(DepthMetric(max_depth=10), [sample(PRED_A, GT_A),
                                                     sample(PRED_B, GT_B)])
    assert_close(per_image, {k: (a[k] + b[k]) / 2 for k in a})

    pooled = evaluate(DepthMetric(max_depth=10, average='pixel'),
                      [sample(PRED_A, GT_A), sample(PRED_B, GT_B)])
    g = [LN(1.8), 0.0, LN(0.75), LN(2)]
    assert_close(pooled, {
        'abs_rel': (1.05 + 1) / 4,
        'sq_rel': (0.89 + 2) / 4,
        'rmse': math.sqrt((1.64 + 4) / 4),
        'rmse_log': math.sqrt(sum(x * x for x in g) / 4),
        'log10': (L10(1.8) + abs(L10(0.75)) + L10(2)) / 4,
        'silog': 100 * math.sqrt(sum(x * x for x in g) / 4 - (sum(g) / 4)**2),
        'delta1': 1 / 4, 'delta2': 2 / 4, 'delta3': 3 / 4,
        'mae': (1.8 + 2) / 4,
    })


def test_mae_by_hand_image_and_pixel_average():
    # |d - d*|: image A 0.8, 0, 1 (mean 0.6); image B 2 (mean 2).
    images = [sample(PRED_A, GT_A), sample(PRED_B, GT_B)]
    per_image = evaluate(DepthMetric(max_depth=10, metrics=['mae']), images)
    assert set(per_image) == {'mae'}
    assert per_image['mae'] == pytest.approx((0.6 + 2.0) / 2)  # 1.3
    pooled = evaluate(DepthMetric(max_depth=10, metrics='mae', average='pixel'),
                      images)
    assert pooled['mae'] == pytest.approx(3.8 / 4)  # 0.95, not 1.3


def test_default_report_is_the_old_keys_plus_mae():
    result = evaluate(DepthMetric(max_depth=10), [sample(PRED_A, GT_A)])
    old = ['abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10', 'silog', 'delta1',
           'delta2', 'delta3']
    assert list(result) == old + ['mae']
    without = evaluate(DepthMetric(max_depth=10, metrics=old), [sample(PRED_A, GT_A)])
    assert without == {k: result[k] for k in old}


def test_mae_on_disparity_maps_in_pixels():
    # Cityscapes-like disparities in pixels, 0 = invalid; the pixel of 150 px is out of
    # range (max_depth bounds the disparity here).
    # image 1: |error| 2, 0, 5 (mean 7/3); image 2: |error| 10 (mean 10).
    gt_1 = [[10.0, 20.0], [40.0, 0.0]]
    pred_1 = [[12.0, 20.0], [35.0, 3.0]]
    gt_2 = [[50.0, 0.0], [150.0, 0.0]]
    pred_2 = [[60.0, 1.0], [1.0, 1.0]]

    def disparity_sample(pred, gt):
        return {
            'pred_disparity_map': {'data': torch.tensor(pred)[None]},
            'gt_disparity_map': {'data': torch.tensor(gt)[None]},
        }

    kwargs = dict(max_depth=128, metrics=['mae', 'rmse'], pred_key='pred_disparity_map',
                  gt_key='gt_disparity_map')
    images = [disparity_sample(pred_1, gt_1), disparity_sample(pred_2, gt_2)]
    per_image = evaluate(DepthMetric(**kwargs), images)
    assert per_image['mae'] == pytest.approx((7 / 3 + 10) / 2)
    assert per_image['rmse'] == pytest.approx((math.sqrt(29 / 3) + 10) / 2)
    pooled = evaluate(DepthMetric(average='pixel', **kwargs), images)
    assert pooled['mae'] == pytest.approx(17 / 4)
    assert pooled['rmse'] == pytest.approx(math.sqrt(129 / 4))


def test_results_from_several_ranks_combine_like_one():
    # What BaseMetric does after collecting: concatenate per-rank result lists.
    ranks = [DepthMetric(max_depth=10, average='pixel') for _ in range(2)]
    ranks[0].process({}, [sample(PRED_A, GT_A)])
    ranks[1].process({}, [sample(PRED_B, GT_B)])
    single = DepthMetric(max_depth=10, average='pixel')
    single.process({}, [sample(PRED_A, GT_A), sample(PRED_B, GT_B)])
    merged = ranks[0].compute_metrics(ranks[0].results + ranks[1].results)
    assert merged == pytest.approx(single.compute_metrics(single.results))


def test_image_without_valid_pixel_is_skipped_with_a_warning():
    metric = DepthMetric(max_depth=10)
    with pytest.warns(UserWarning, match=r'skipped 1 of 2 images.*empty\.png'):
        empty = sample(PRED_A, [[0.0, 0.0], [20.0, 0.0]], 'empty.png')
        result = evaluate(metric, [sample(PRED_A, GT_A), empty])
    assert_close(result, expected_a())
    assert not any(math.isnan(v) for v in result.values())


def test_no_valid_pixel_at_all_raises():
    metric = DepthMetric(max_depth=10)
    with pytest.raises(ValueError, match='none of the 1 images'):
        with pytest.warns(UserWarning):
            evaluate(metric, [sample(PRED_A, [[0.0, 0.0], [0.0, 0.0]])])


def test_nyu_crop_through_the_metric_480x640_and_320x240():
    gt = torch.ones(480, 640)
    pred = torch.ones(480, 640)
    pred[45, 41] = 2.0  # first row and col inside the crop
    pred[470, 600] = 2.0  # last row and col inside
    pred[44, :] = pred[471, :] = 3.0  # just outside
    pred[:, 40] = pred[:, 601] = 3.0
    result = evaluate(DepthMetric(max_depth=10, crop='nyu_eigen', metrics=['abs_rel']),
                      [sample(pred, gt)])
    assert result['abs_rel'] == pytest.approx(2 / (426 * 560))

    gt = torch.ones(240, 320)
    pred = torch.full((240, 320), 3.0)
    pred[22:235, 20:300] = 1.0  # the crop at half size
    result = evaluate(DepthMetric(max_depth=10, crop='nyu_eigen', metrics=['abs_rel']),
                      [sample(pred, gt)])
    assert result['abs_rel'] == 0.0


def test_kitti_garg_crop_through_the_metric():
    gt = torch.ones(375, 1242)
    pred = torch.full((375, 1242), 3.0)
    pred[153:371, 44:1197] = 1.0
    result = evaluate(DepthMetric(max_depth=80, crop='kitti_garg', metrics=['rmse']),
                      [sample(pred, gt)])
    assert result['rmse'] == 0.0


def test_median_scaling_and_ratio_statistics():
    gt = [[1.0, 2.0], [3.0, 4.0]]
    images = [sample([[x / 2 for x in row] for row in gt], gt),  # ratio 2
              sample([[x / 4 for x in row] for row in gt], gt)]  # ratio 4
    result = evaluate(DepthMetric(max_depth=80, median_scaling=True), images)
    assert result['abs_rel'] == pytest.approx(0.0, abs=1e-7)
    assert result['delta1'] == 1.0
    assert result['median_ratio_mean'] == pytest.approx(3.0)
    assert result['median_ratio_std'] == pytest.approx(1.0)

    plain = evaluate(DepthMetric(max_depth=80), images[:1])
    assert 'median_ratio_mean' not in plain
    assert plain['abs_rel'] == pytest.approx(0.5)


def test_metric_subset_prefix_and_data_sample_input():
    data_sample = DepthSemDataSample(metainfo=dict(img_path='a.png'))
    data_sample.pred_depth_map = PixelData(data=torch.tensor(PRED_A)[None])
    data_sample.gt_depth_map = PixelData(data=torch.tensor(GT_A)[None])
    evaluator = Evaluator(DepthMetric(max_depth=10, metrics=['rmse', 'delta1'],
                                      prefix='depth'))
    evaluator.process([data_sample])
    result = evaluator.evaluate(1)
    assert set(result) == {'depth/rmse', 'depth/delta1'}
    assert_close(result, {k: expected_a()[k] for k in ('rmse', 'delta1')}, 'depth/')


def test_bad_arguments_have_clear_errors():
    with pytest.raises(ValueError, match=r"valid names are \['abs_rel'"):
        DepthMetric(max_depth=10, metrics=['abs_rel', 'a1'])
    with pytest.raises(TypeError, match='max_depth'):
        DepthMetric()
    with pytest.raises(ValueError, match='average'):
        DepthMetric(max_depth=10, average='batch')
    with pytest.raises(ValueError, match='valid crops'):
        DepthMetric(max_depth=10, crop='nyu')
    with pytest.raises(KeyError, match='gt_depth_map'):
        DepthMetric(max_depth=10).process(
            {}, [{'pred_depth_map': {'data': torch.ones(1, 2, 2)}}])


def test_metrics_from_sums_rejects_empty():
    with pytest.raises(ValueError):
        depth_metrics_from_sums(dict(count=0))


# --- per-class abs_rel ----------------------------------------------------------------

CLASSES = ('road', 'car', 'sky', 'person', 'bus')
# Two 2 x 3 images. Per pixel (pred, gt, label) -> |d - d*| / d*:
# image 1: (2, 1, road) 1 | (2, 2, road) 0 | (3, 4, car) 0.25
#          (3, 2, ignore) 0.5 | (1, 0, sky) invalid | (5, 5, car) 0
GT_1 = [[1.0, 2.0, 4.0], [2.0, 0.0, 5.0]]
PRED_1 = [[2.0, 2.0, 3.0], [3.0, 1.0, 5.0]]
LABEL_1 = [[0, 0, 1], [255, 2, 1]]
# image 2: (1, 2, car) 0.5 | (4, 4, road) 0 | (1.5, 1, road) 0.5
#          (1, 1, person) 0 | (2, 0, sky) invalid | (6, 8, road) 0.25
GT_2 = [[2.0, 4.0, 1.0], [1.0, 0.0, 8.0]]
PRED_2 = [[1.0, 4.0, 1.5], [1.0, 2.0, 6.0]]
LABEL_2 = [[1, 0, 0], [3, 2, 0]]
# 'sky' only labels invalid pixels and 'bus' never occurs: both are left out.
EXPECTED_CLASSES = {
    'abs_rel/road': (1.0 + 0 + 0 + 0.5 + 0.25) / 5,
    'abs_rel/car': (0.25 + 0 + 0.5) / 3,
    'abs_rel/person': 0.0,
}


def labelled(pred, gt, label, img_path='img.png', key='gt_sem_seg'):
    data_sample = sample(pred, gt, img_path)
    data_sample[key] = {'data': torch.as_tensor(label, dtype=torch.int64)[None]}
    return data_sample


def two_labelled_images():
    return [labelled(PRED_1, GT_1, LABEL_1, '1.png'),
            labelled(PRED_2, GT_2, LABEL_2, '2.png')]


def test_per_class_abs_rel_by_hand():
    metric = DepthMetric(max_depth=10, class_key='gt_sem_seg', class_names=CLASSES)
    with pytest.warns(UserWarning, match=r"\['sky', 'bus'\]"):
        result = evaluate(metric, two_labelled_images())
    class_keys = [k for k in result if k.startswith('abs_rel/')]
    assert class_keys == list(EXPECTED_CLASSES)  # in id order, absent ones left out
    assert_close(result, EXPECTED_CLASSES)
    assert not any(math.isnan(v) for v in result.values())
    # The main metrics are untouched, the ignored pixel included: (1.75/5 + 1.25/5) / 2.
    plain = evaluate(DepthMetric(max_depth=10), two_labelled_images())
    assert {k: v for k, v in result.items() if k not in class_keys} == plain
    assert plain['abs_rel'] == pytest.approx(0.3)
    # Per-image results hold K sums and counts, not the maps.
    assert metric.results == []  # evaluate() cleared them
    metric.process({}, two_labelled_images())
    assert metric.results[0]['class_count'].tolist() == [2, 2, 0, 0, 0]


def test_per_class_abs_rel_combines_across_ranks():
    ranks = [DepthMetric(max_depth=10, class_key='gt_sem_seg', class_names=CLASSES)
             for _ in range(2)]
    images = two_labelled_images()
    ranks[0].process({}, images[:1])
    ranks[1].process({}, images[1:])
    with pytest.warns(UserWarning):
        merged = ranks[0].compute_metrics(ranks[0].results + ranks[1].results)
    assert_close(merged, EXPECTED_CLASSES)


def test_per_class_abs_rel_after_median_scaling():
    # Valid gt 1, 2, 3, 4, 6 (median 3), pred 1, 1, 2, 2, 4 (median 2): ratio 1.5, the
    # ignored pixel included, giving pred 1.5, 1.5, 3, 3, 6.
    # road: |1.5 - 1| / 1, |1.5 - 2| / 2 -> 0.375; car: 0, |3 - 4| / 4 -> 0.125.
    # (Unscaled, road would be 0.25.)
    gt = [[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]]
    pred = [[1.0, 1.0, 2.0], [2.0, 7.0, 4.0]]
    label = [[0, 0, 1], [1, 0, 255]]
    metric = DepthMetric(max_depth=10, median_scaling=True, class_key='gt_sem_seg',
                         class_names=['road', 'car'])
    result = evaluate(metric, [labelled(pred, gt, label)])
    assert result['median_ratio_mean'] == pytest.approx(1.5)
    assert_close(result, {'abs_rel/road': 0.375, 'abs_rel/car': 0.125})


def test_per_class_names_from_dataset_meta_or_ids():
    data_sample = DepthSemDataSample(metainfo=dict(img_path='a.png'))
    data_sample.pred_depth_map = PixelData(data=torch.tensor(PRED_1)[None])
    data_sample.gt_depth_map = PixelData(data=torch.tensor(GT_1)[None])
    data_sample.gt_pseudo_sem_seg = PixelData(data=torch.tensor(LABEL_1)[None])
    evaluator = Evaluator(DepthMetric(max_depth=10, class_key='gt_pseudo_sem_seg',
                                      prefix='depth'))
    evaluator.dataset_meta = dict(classes=CLASSES)
    evaluator.process([data_sample])
    with pytest.warns(UserWarning, match='sky'):
        result = evaluator.evaluate(1)
    assert_close(result, {'abs_rel/road': 0.5, 'abs_rel/car': 0.125}, 'depth/')
    assert 'depth/abs_rel/sky' not in result

    # Without names, ids name the keys; id 2 (only at an invalid pixel) is left out.
    metric = DepthMetric(max_depth=10, class_key='gt_sem_seg')
    with pytest.warns(UserWarning, match='class_2'):
        result = evaluate(metric, two_labelled_images())
    assert_close(result, {'abs_rel/class_0': EXPECTED_CLASSES['abs_rel/road'],
                          'abs_rel/class_1': EXPECTED_CLASSES['abs_rel/car'],
                          'abs_rel/class_3': 0.0})
    assert 'abs_rel/class_2' not in result


def test_per_class_errors_name_the_image():
    metric = DepthMetric(max_depth=10, class_key='gt_pseudo_sem_seg',
                         class_names=CLASSES)
    with pytest.raises(KeyError, match=r"gt_pseudo_sem_seg.*nolabel\.png"):
        metric.process({}, [sample(PRED_1, GT_1, 'nolabel.png')])
    with pytest.raises(ValueError, match=r'small\.png.*\(1, 2, 2\).*\(1, 2, 3\)'):
        metric.process({}, [labelled(PRED_1, GT_1, [[0, 0], [0, 0]], 'small.png',
                                     key='gt_pseudo_sem_seg')])
    with pytest.raises(ValueError, match=r'bad\.png.*class id 7'):
        metric.process({}, [labelled(PRED_1, GT_1, [[0, 7, 1], [255, 2, 1]], 'bad.png',
                                     key='gt_pseudo_sem_seg')])
    with pytest.raises(ValueError, match='distinct'):
        DepthMetric(max_depth=10, class_key='gt_sem_seg', class_names=['a', 'a'])
