"""DepthMetric's Monodepth2 protocol (rows G and H of docs/selfsup.md's table).

Monodepth2's ``evaluate_depth.py`` (also FSRE's and SGRE's) resizes the predicted
*disparity* to the ground truth's size with ``cv2.resize`` before inverting it, and
keeps ``gt < 80`` m. Both are DepthMetric options, checked here by hand and against a
NumPy/OpenCV re-statement of that evaluation.
"""
import cv2
import numpy as np
import pytest
import torch

from mmdepthsem.evaluation.functional import (depth_eval_mask, prepare_depth_pair,
                                              resize_depth)
from mmdepthsem.evaluation.metrics import DepthMetric
from mmdepthsem.utils import register_all_modules

from .test_depth_metric import evaluate, sample

register_all_modules()


def test_resize_as_depth_and_as_disparity_by_hand():
    # 1 x 2 -> 1 x 4, half-pixel centres: source x = 0.5 x' - 0.25, clamped at the ends
    depth = torch.tensor([[1.0, 2.0]])
    as_depth = resize_depth(depth, (1, 4))
    assert torch.allclose(as_depth, torch.tensor([[1.0, 1.25, 1.75, 2.0]]))
    # disparity [1, 0.5] -> [1, 0.875, 0.625, 0.5] -> depth 1 / that
    as_disp = resize_depth(depth, (1, 4), resize_as='disparity')
    assert torch.allclose(as_disp, torch.tensor([[1.0, 1 / 0.875, 1.6, 2.0]]))
    with pytest.raises(ValueError, match='resize_as'):
        resize_depth(depth, (1, 4), resize_as='log')


def test_disparity_resize_equals_cv2_resize_of_the_disparity():
    rng = np.random.default_rng(0)
    disp = rng.uniform(0.01, 10.0, (12, 40)).astype(np.float32)
    reference = 1.0 / cv2.resize(disp, (123, 37))  # (W, H), bilinear
    ours = resize_depth(torch.from_numpy(1.0 / disp), (37, 123), 'disparity')
    np.testing.assert_allclose(ours.numpy(), reference, rtol=2e-5)


def test_strict_upper_bound_drops_gt_equal_to_max_depth():
    gt = torch.tensor([[0.0, 0.001, 40.0], [79.9, 80.0, 80.5]])
    assert depth_eval_mask(gt, 1e-3, 80.0).tolist() == [[False, False, True],
                                                        [True, True, False]]
    assert depth_eval_mask(gt, 1e-3, 80.0, strict_max_depth=True).tolist() == \
        [[False, False, True], [True, False, False]]


def test_metric_by_hand_with_a_gt_of_exactly_max_depth():
    # pairs (pred, gt): (10, 20), (40, 80), (60, 40); the 80 m pixel counts only
    # with the inclusive bound
    pred = [[10.0, 40.0, 60.0]]
    gt = [[20.0, 80.0, 40.0]]
    inclusive = DepthMetric(max_depth=80.0, metrics=['abs_rel'])
    strict = DepthMetric(max_depth=80.0, metrics=['abs_rel'], strict_max_depth=True)
    assert evaluate(inclusive, [sample(pred, gt)])['abs_rel'] == \
        pytest.approx((0.5 + 0.5 + 0.5) / 3)
    assert evaluate(strict, [sample(pred, gt)])['abs_rel'] == \
        pytest.approx((0.5 + 0.5) / 2)


def monodepth2_evaluation(pred_depth: np.ndarray, gt_depth: np.ndarray) -> dict:
    """The KITTI Eigen evaluation as Monodepth2's ``evaluate_depth.py`` states it,
    rewritten from its description: disparity resized with cv2, Garg crop, gt in
    (1e-3, 80), median scaling, clamp, metrics of one image."""
    height, width = gt_depth.shape
    disp = cv2.resize((1.0 / pred_depth).astype(np.float32), (width, height))
    depth = 1.0 / disp
    mask = (gt_depth > 1e-3) & (gt_depth < 80)
    top, bottom = int(0.40810811 * height), int(0.99189189 * height)
    left, right = int(0.03594771 * width), int(0.96405229 * width)
    crop = np.zeros_like(mask)
    crop[top:bottom, left:right] = True
    mask &= crop
    depth, gt = depth[mask].astype(np.float64), gt_depth[mask].astype(np.float64)
    depth *= np.median(gt) / np.median(depth)
    depth = np.clip(depth, 1e-3, 80)
    ratio = np.maximum(gt / depth, depth / gt)
    return dict(abs_rel=np.mean(np.abs(gt - depth) / gt),
                sq_rel=np.mean((gt - depth)**2 / gt),
                rmse=np.sqrt(np.mean((gt - depth)**2)),
                rmse_log=np.sqrt(np.mean((np.log(gt) - np.log(depth))**2)),
                delta1=np.mean(ratio < 1.25), delta2=np.mean(ratio < 1.25**2),
                delta3=np.mean(ratio < 1.25**3))


def _kitti_like_pair(seed: int):
    rng = np.random.default_rng(seed)
    gt = rng.uniform(2.0, 90.0, (75, 248)).astype(np.float32)
    gt[rng.random(gt.shape) < 0.7] = 0.0          # sparse like projected LiDAR
    gt[rng.random(gt.shape) < 0.05] = 80.0        # exactly the cap
    pred = rng.uniform(1.0, 60.0, (24, 80)).astype(np.float32)
    return pred, gt


def test_kitti_config_protocol_equals_the_monodepth2_evaluation():
    metric = DepthMetric(crop='kitti_garg', min_depth=1e-3, max_depth=80.0,
                         median_scaling=True, resize_as='disparity',
                         strict_max_depth=True)
    pairs = [_kitti_like_pair(seed) for seed in range(3)]
    result = evaluate(metric, [sample(p, g) for p, g in pairs])
    reference = [monodepth2_evaluation(p, g) for p, g in pairs]
    for key in reference[0]:
        expected = float(np.mean([r[key] for r in reference]))
        assert result[key] == pytest.approx(expected, rel=1e-5), key


def test_default_protocol_differs_from_monodepth2_on_the_same_data():
    pred, gt = _kitti_like_pair(0)
    ours, _, _ = prepare_depth_pair(torch.from_numpy(pred), torch.from_numpy(gt), 1e-3,
                                    80.0, 'kitti_garg', True)
    theirs, _, _ = prepare_depth_pair(torch.from_numpy(pred), torch.from_numpy(gt),
                                      1e-3, 80.0, 'kitti_garg', True, 'disparity',
                                      True)
    assert ours.numel() > theirs.numel()  # the 80 m pixels


def test_bad_resize_as_is_refused():
    with pytest.raises(ValueError, match='resize_as'):
        DepthMetric(max_depth=80.0, resize_as='inverse')
