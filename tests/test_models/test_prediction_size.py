"""Predictions come back at the size of the ground truth they are scored against.

mmseg's test pipelines load the targets after ``Resize``, so they stay at
``ori_shape`` and predictions are resized there. SOSD's Cityscapes protocol loads
labels and disparity first and resizes them with the image (scored at 256x512 on
1024x2048 frames); predictions resized to ``ori_shape`` then failed in ``IoUMetric``
("The shape of the mask [256, 512] ... does not match the shape of the indexed
tensor [1024, 2048]"). Here the same at a small size: 32x64 frames, a test
``Resize`` to 20x40 (not a multiple of the preprocessor's ``size_divisor=16``, so
the batch padding is cropped too).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
from mmdepthsem.evaluation.functional import DEPTH_METRICS
from mmdepthsem.evaluation.metrics import IoUMetric
from mmdepthsem.models.estimators.multitask_estimator import (DEPTH_GT_FIELDS,
                                                              SEM_GT_FIELDS,
                                                              prediction_size)
from mmdepthsem.registry import DATASETS, MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO
from .test_sosd import model_cfg

register_all_modules()
CONFIG = REPO / 'configs' / '_base_' / 'datasets' / 'cityscapes_256x512_disparity.py'
NUM_CLASSES = 19
TEST_HW = (20, 40)  # the test pipeline's Resize, (H, W)


def sosd_model():
    """A small SOSD-Net (ResNet-18 trunk, 32 channels) with Cityscapes' 19 classes."""
    cfg = model_cfg()
    cfg['sem_head']['num_classes'] = NUM_CLASSES
    cfg['depth_head']['max_depth'] = 256.0
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def cityscapes_batch(tmp_path_factory):
    """One val sample of the paper's Cityscapes test pipeline on 32x64 frames, with
    the Resize shrunk to 20x40; and the dataset's metainfo."""
    root = tmp_path_factory.mktemp('sosd_sizes')
    generate_dataset('cityscapes', str(root), seed=1, config=TINY_CONFIGS['cityscapes'])
    cfg = Config.fromfile(str(CONFIG))
    pipeline = [dict(t) for t in cfg.test_pipeline]
    resize = next(t for t in pipeline if t['type'] == 'Resize')
    resize['scale'] = TEST_HW[::-1]  # (W, H)
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(root / 'cityscapes')
    dataset_cfg.pipeline = pipeline
    dataset = DATASETS.build(dataset_cfg)
    return cfg, dataset.metainfo, pseudo_collate([dataset[0]])


def test_paper_cityscapes_protocol_is_scored_at_the_test_size(cityscapes_batch):
    if 'mae' not in DEPTH_METRICS:
        pytest.skip("DepthMetric has no 'mae' metric")
    cfg, metainfo, data = cityscapes_batch
    packed = data['data_samples'][0]
    # The precondition of the defect: targets on the resized grid, ori_shape not.
    assert tuple(packed.metainfo['ori_shape']) == (32, 64)
    assert packed.gt_sem_seg.data.shape == (1, *TEST_HW)
    assert packed.gt_disparity_map.data.shape == (1, *TEST_HW)
    model = sosd_model()
    with torch.no_grad():
        out = model.test_step(data)[0]
        batch = model.data_preprocessor(data, False)
        assert batch['inputs'].shape[-2:] == (32, 48)  # padded to multiples of 16
        depth, logits = model._predict_maps(batch['inputs'],
                                            [s.metainfo for s in batch['data_samples']])
    height, width = TEST_HW
    assert out.pred_depth_map.data.shape == (1, height, width)
    assert out.seg_logits.data.shape == (NUM_CLASSES, height, width)
    assert out.pred_sem_seg.data.shape == (1, height, width)
    # Padding cropped, no resampling: the network's own values on the input grid.
    torch.testing.assert_close(out.pred_depth_map.data, depth[0, :, :height, :width])
    torch.testing.assert_close(out.seg_logits.data, logits[0, :, :height, :width])
    assert torch.equal(out.pred_sem_seg.data, logits[0:1, :, :height, :width]
                       .argmax(dim=1))

    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.dataset_meta = metainfo
    evaluator.process([out], data)
    results = evaluator.evaluate(1)

    # The two metrics, recomputed from the maps.
    pred, gt = out.pred_sem_seg.data[0].numpy(), out.gt_sem_seg.data[0].numpy()
    labelled = gt != 255
    ious = []
    for k in range(NUM_CLASSES):
        union = ((pred == k) | (gt == k))[labelled].sum()
        if union:
            ious.append(((pred == k) & (gt == k))[labelled].sum() / union)
    assert results['mIoU'] == pytest.approx(round(100 * np.mean(ious), 2), abs=0.011)
    disparity = out.gt_disparity_map.data[0].double()
    valid = (disparity > 0) & (disparity <= 256.0)
    assert valid.any()
    error = (out.pred_depth_map.data[0].double().clamp(0.0, 256.0)
             - disparity).abs()[valid].mean().item()
    assert results['mae'] == pytest.approx(error, rel=1e-6)


def _sample(ori_hw, input_hw, depth_hw=None, sem_hw=None):
    sample = DepthSemDataSample(metainfo=dict(ori_shape=ori_hw, img_shape=input_hw))
    if depth_hw is not None:
        sample.gt_depth_map = PixelData(data=torch.rand(1, *depth_hw) + 1)
    if sem_hw is not None:
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, *sem_hw)))
    return sample


@pytest.mark.parametrize('depth_hw, sem_hw, depth_out, sem_out', [
    (None, None, (40, 80), (40, 80)),  # inference without targets: ori_shape
    ((40, 80), (40, 80), (40, 80), (40, 80)),  # mmseg's order: targets at ori_shape
    ((20, 40), (20, 40), (20, 40), (20, 40)),  # targets resized with the image
    ((20, 40), (40, 80), (20, 40), (40, 80)),  # per task
    ((40, 80), None, (40, 80), (40, 80)),
])
def test_each_task_follows_its_own_ground_truth(depth_hw, sem_hw, depth_out, sem_out):
    model = sosd_model()
    sample = _sample((40, 80), (20, 40), depth_hw, sem_hw)
    data = dict(inputs=[torch.randint(0, 256, (3, 20, 40), dtype=torch.uint8)],
                data_samples=[sample])
    with torch.no_grad():
        out = model.test_step(data)[0]
        batch = model.data_preprocessor(data, False)
        depth, logits = model._predict_maps(batch['inputs'],
                                            [s.metainfo for s in batch['data_samples']])
    assert out.pred_depth_map.data.shape == (1, *depth_out)
    assert out.seg_logits.data.shape == (NUM_CLASSES, *sem_out)
    assert out.pred_sem_seg.data.shape == (1, *sem_out)
    # ori_shape: the unpadded map resized bilinearly, as mmseg does.
    expected = depth[:, :, :20, :40]
    if depth_out != (20, 40):
        expected = F.interpolate(expected, size=depth_out, mode='bilinear',
                                 align_corners=False)
    torch.testing.assert_close(out.pred_depth_map.data, expected[0])


def test_prediction_size_rules():
    grid, ori = (20, 40), (40, 80)
    assert prediction_size(_sample(ori, grid), DEPTH_GT_FIELDS, grid) == ori
    on_grid = _sample(ori, grid, depth_hw=grid, sem_hw=grid)
    assert prediction_size(on_grid, DEPTH_GT_FIELDS, grid) == grid
    assert prediction_size(on_grid, SEM_GT_FIELDS, grid) == grid
    # Targets of one task on two grids: mmseg's ori_shape.
    mixed = _sample(ori, grid, sem_hw=grid)
    mixed.gt_pseudo_sem_seg = PixelData(data=torch.zeros(1, *ori, dtype=torch.long))
    assert prediction_size(mixed, SEM_GT_FIELDS, grid) == ori
    # Disparity counts as depth ground truth.
    disparity = _sample(ori, grid)
    disparity.gt_disparity_map = PixelData(data=torch.ones(1, *grid))
    assert prediction_size(disparity, DEPTH_GT_FIELDS, grid) == grid
    # Neither grid (e.g. a hand-made sample): ori_shape, left to the metric.
    assert prediction_size(_sample(ori, grid, depth_hw=(7, 9)), DEPTH_GT_FIELDS,
                           grid) == ori
    # No ori_shape: the input grid.
    bare = DepthSemDataSample()
    assert prediction_size(bare, DEPTH_GT_FIELDS, grid) == grid


def test_iou_metric_names_a_size_mismatch():
    metric = IoUMetric()
    metric.dataset_meta = dict(classes=('a', 'b'))
    sample = {'pred_sem_seg': {'data': torch.zeros(1, 4, 8, dtype=torch.long)},
              'gt_sem_seg': {'data': torch.zeros(1, 2, 4, dtype=torch.long)},
              'img_path': 'frame.png', 'ori_shape': (4, 8), 'img_shape': (2, 4)}
    with pytest.raises(ValueError, match=r'frame.png: the prediction is 4x8 but the '
                                         r'labels are 2x4'):
        metric.process({}, [sample])
