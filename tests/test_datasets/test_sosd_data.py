"""SOSD-Net data: Cityscapes disparity at 256x512 and NYU at 480x640 (paper Section 4.1).

Disparity is in pixels of the current image, so a resize multiplies it by the
horizontal scale (never ÷ s like depth); crops pad it with 0 (invalid).
"""
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
from mmdepthsem.datasets.transforms.geometric import (RandomCrop, RandomFlip,
                                                      RandomResize, Resize)
from mmdepthsem.evaluation.functional import DEPTH_METRICS
from mmdepthsem.registry import DATASETS, METRICS, TRANSFORMS
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO

register_all_modules()
BASE = REPO / 'configs' / '_base_' / 'datasets'
CITYSCAPES_CONFIGS = ('cityscapes_256x512_disparity.py',
                      'synthetic_cityscapes_256x512_disparity.py')
SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)


def _sample(h=4, w=8):
    """A results dict with image, labels, depth and disparity (all distinct values)."""
    disparity = np.arange(1, h * w + 1, dtype=np.float32).reshape(h, w) / 4
    return dict(
        img=np.full((h, w, 3), 100, np.uint8),
        gt_seg_map=np.arange(h * w, dtype=np.uint8).reshape(h, w) % 19,
        gt_depth_map=10.0 / disparity,
        gt_disparity_map=disparity.copy(),
        seg_fields=['gt_seg_map'],
        img_shape=(h, w), ori_shape=(h, w))


def _upsample2(arr):
    return np.repeat(np.repeat(arr, 2, axis=0), 2, axis=1)


# --------------------------------------------------------------------------- #
# Transforms on gt_disparity_map
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize('depth_mode', ['keep_metric', 'divide'])
def test_resize_x2_doubles_disparity(depth_mode):
    results = _sample()
    disparity, depth = results['gt_disparity_map'].copy(), results['gt_depth_map'].copy()
    out = Resize(scale=(16, 8), depth_mode=depth_mode)(results)
    assert out['gt_disparity_map'].shape == (8, 16)
    assert out['gt_disparity_map'].dtype == np.float32
    # nearest neighbour: every value repeated 2x2, then x 2 (never / 2 like depth)
    np.testing.assert_allclose(out['gt_disparity_map'], _upsample2(disparity) * 2)
    divisor = 2.0 if depth_mode == 'divide' else 1.0
    np.testing.assert_allclose(out['gt_depth_map'], _upsample2(depth) / divisor,
                               rtol=1e-6)


def test_resize_half_and_anisotropic_use_the_horizontal_factor():
    results = _sample()
    disparity = results['gt_disparity_map'].copy()
    out = Resize(scale=(4, 2))(results)
    # nearest on the half-pixel grid (as cv2's bilinear): source pixels 1, 3, 5, ...
    np.testing.assert_allclose(out['gt_disparity_map'], disparity[1::2, 1::2] * 0.5)
    # x2 horizontally, x1 vertically: disparity (a horizontal offset) x 2
    results = _sample()
    out = Resize(scale=(16, 4), depth_mode='divide')(results)
    np.testing.assert_allclose(out['gt_disparity_map'],
                               np.repeat(disparity, 2, axis=1) * 2)


@pytest.mark.parametrize('ratio', SCALES)
def test_random_resize_ratios_scale_disparity_by_s(ratio):
    results = _sample(8, 16)
    disparity = results['gt_disparity_map'].copy()
    out = RandomResize(ratios=(ratio, ), depth_mode='keep_metric')(results)
    h, w = out['gt_disparity_map'].shape
    assert (h, w) == (int(8 * ratio + 0.5), int(16 * ratio + 0.5))
    # every output value is a source value times the horizontal factor
    gain = w / 16
    values = np.unique(out['gt_disparity_map'] / gain)
    assert np.isin(np.round(values * 4), np.round(disparity * 4)).all()
    assert out['scale_factor'] == pytest.approx((gain, h / 8))


def test_random_crop_pads_disparity_and_depth_with_zero():
    results = _sample()
    disparity = results['gt_disparity_map'].copy()
    np.random.seed(0)
    out = RandomCrop(crop_size=(6, 12))(results)
    assert out['gt_disparity_map'].shape == (6, 12)
    np.testing.assert_array_equal(out['gt_disparity_map'][:4, :8], disparity)
    assert (out['gt_disparity_map'][4:] == 0).all()
    assert (out['gt_disparity_map'][:, 8:] == 0).all()
    assert (out['gt_depth_map'][4:] == 0).all()
    assert (out['gt_depth_map'][:, 8:] == 0).all()
    assert (out['gt_seg_map'][4:] == 255).all() and (out['img'][4:] == 0).all()


def test_flip_mirrors_disparity_without_changing_values():
    results = _sample()
    disparity = results['gt_disparity_map'].copy()
    out = RandomFlip(prob=1.0)(results)
    np.testing.assert_array_equal(out['gt_disparity_map'], disparity[:, ::-1])


def test_downscale_then_pad_back_to_the_crop():
    """The SOSD recipe at ratio 0.5: resize, then pad back to the crop size."""
    results = _sample(8, 16)
    disparity = results['gt_disparity_map'].copy()
    out = RandomResize(scale=(16, 8), ratios=(0.5, ))(results)
    out = RandomCrop(crop_size=(8, 16))(out)
    assert out['gt_disparity_map'].shape == (8, 16)
    np.testing.assert_allclose(out['gt_disparity_map'][:4, :8],
                               disparity[1::2, 1::2] * 0.5)
    assert (out['gt_disparity_map'][4:] == 0).all()
    assert (out['gt_disparity_map'][:, 8:] == 0).all()


# --------------------------------------------------------------------------- #
# Cityscapes configs on the tiny synthetic set (32x64 frames)
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def tiny_cityscapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny_sosd')
    generate_dataset('cityscapes', str(root), seed=1, config=TINY_CONFIGS['cityscapes'])
    return root / 'cityscapes'


def _dataset(config_name, phase, data_root):
    cfg = Config.fromfile(str(BASE / config_name))
    dataset_cfg = cfg[f'{phase}_dataloader'].dataset
    dataset_cfg.data_root = str(data_root)
    return cfg, DATASETS.build(dataset_cfg)


def _raw_disparity(path):
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16
    return np.where(raw > 0, (raw.astype(np.float32) - 1) / 256, 0).astype(np.float32)


@pytest.mark.parametrize('config_name', CITYSCAPES_CONFIGS)
def test_cityscapes_disparity_training_samples(tiny_cityscapes, config_name):
    cfg, dataset = _dataset(config_name, 'train', tiny_cityscapes)
    crop_h, crop_w = cfg.crop_size
    image_w, image_h = cfg.image_size
    assert (crop_h, crop_w) == (image_h, image_w)
    assert len(dataset) > 0
    np.random.seed(0)
    for i in range(4):
        sample = dataset[i % len(dataset)]
        packed = sample['data_samples']
        assert tuple(sample['inputs'].shape) == (3, crop_h, crop_w)
        disparity = packed.gt_disparity_map.data
        assert disparity.shape == (1, crop_h, crop_w) and disparity.dtype == torch.float32
        assert 'gt_depth_map' not in packed  # disparity kept, no depth conversion
        assert (disparity >= 0).all() and (disparity > 0).any()
        labels = packed.gt_sem_seg.data
        assert labels.shape == (1, crop_h, crop_w)
        assert set(np.unique(labels.numpy())) <= set(range(19)) | {255}
        # scale_factor[0] = output width / 64: image_w / 64 x one of the SOSD scales;
        # every disparity is a raw value times it (nearest resampling, no blending)
        gain = packed.metainfo['scale_factor'][0]
        assert min(abs(gain / (image_w / 64) - s) for s in SCALES) < 1e-6
        raw = _raw_disparity(dataset.get_data_info(i % len(dataset))['disparity_path'])
        values = disparity[disparity > 0].unique().numpy() / gain
        assert np.isin(np.round(values * 256), np.round(raw * 256)).all()


@pytest.mark.parametrize('config_name', CITYSCAPES_CONFIGS)
def test_cityscapes_disparity_training_pads_small_scales(tiny_cityscapes, config_name):
    """Forced ratio 0.5: the resized frame fills the top-left quarter, the rest is
    padded with ignore labels and invalid disparity."""
    cfg, _ = _dataset(config_name, 'train', tiny_cityscapes)
    pipeline = [dict(t) for t in cfg.train_pipeline]
    resize = next(t for t in pipeline if t['type'] == 'RandomResize')
    resize['ratios'] = (0.5, )
    pipeline = [t for t in pipeline if t['type'] not in ('RandomFlip', 'ColorJitter')]
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = str(tiny_cityscapes)
    dataset_cfg.pipeline = pipeline
    dataset = DATASETS.build(dataset_cfg)
    packed = dataset[0]['data_samples']
    crop_h, crop_w = cfg.crop_size
    disparity = packed.gt_disparity_map.data[0]
    labels = packed.gt_sem_seg.data[0]
    assert (disparity[crop_h // 2:] == 0).all()
    assert (disparity[:, crop_w // 2:] == 0).all()
    assert (labels[crop_h // 2:] == 255).all() and (labels[:, crop_w // 2:] == 255).all()
    assert (disparity[:crop_h // 2, :crop_w // 2] > 0).any()
    assert packed.metainfo['scale_factor'][0] == pytest.approx(crop_w / 2 / 64)


@pytest.mark.parametrize('config_name', CITYSCAPES_CONFIGS)
def test_cityscapes_disparity_test_sample_is_at_the_evaluation_size(
        tiny_cityscapes, config_name):
    cfg, dataset = _dataset(config_name, 'test', tiny_cityscapes)
    image_w, image_h = cfg.image_size
    info = dataset.get_data_info(0)
    sample = dataset[0]
    packed = sample['data_samples']
    assert tuple(sample['inputs'].shape) == (3, image_h, image_w)
    assert packed.gt_sem_seg.data.shape == (1, image_h, image_w)
    disparity = packed.gt_disparity_map.data[0].numpy()
    # nearest upsampling of (p - 1) / 256, times the horizontal factor
    raw = _raw_disparity(info['disparity_path'])
    gain = image_w / raw.shape[1]
    rows = np.arange(image_h) * raw.shape[0] // image_h
    cols = np.arange(image_w) * raw.shape[1] // image_w
    np.testing.assert_allclose(disparity, raw[rows[:, None], cols[None, :]] * gain,
                               rtol=1e-6)


def test_cityscapes_disparity_config_sizes():
    cfg = Config.fromfile(str(BASE / 'cityscapes_256x512_disparity.py'))
    assert cfg.image_size == (512, 256) and cfg.crop_size == (256, 512)
    assert cfg.dataset_type == 'CityscapesDepthSemDataset'
    resize = [t for t in cfg.train_pipeline if t['type'] == 'RandomResize'][0]
    assert resize['ratios'] == SCALES
    loader = [t for t in cfg.test_pipeline if t['type'] == 'LoadCityscapesDisparity'][0]
    assert loader['to_depth'] is False
    depth_metric = [m for m in cfg.val_evaluator if m['type'] == 'DepthMetric'][0]
    assert depth_metric['gt_key'] == 'gt_disparity_map'
    assert depth_metric['pred_key'] == 'pred_depth_map'
    assert depth_metric['average'] == 'pixel' and depth_metric['metrics'] == ['mae']


@pytest.mark.parametrize('config_name', CITYSCAPES_CONFIGS)
def test_cityscapes_disparity_evaluators_build(config_name):
    if 'mae' not in DEPTH_METRICS:
        pytest.skip("DepthMetric has no 'mae' metric yet")
    cfg = Config.fromfile(str(BASE / config_name))
    metrics = [METRICS.build(m) for m in cfg.val_evaluator]
    assert [type(m).__name__ for m in metrics] == ['IoUMetric', 'DepthMetric']


# --------------------------------------------------------------------------- #
# NYU (SOSD)
# --------------------------------------------------------------------------- #
def test_nyu_sosd_config():
    cfg = Config.fromfile(str(BASE / 'nyu_sosd.py'))
    assert cfg.crop_size == (480, 640) and cfg.num_classes == 40
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert pipeline == cfg.train_pipeline
    resize = [t for t in pipeline if t['type'] == 'RandomResize'][0]
    assert resize['ratios'] == (1.0, 1.2, 1.5) and resize['depth_mode'] == 'divide'
    crop = [t for t in pipeline if t['type'] == 'RandomCrop'][0]
    assert crop['crop_size'] == (480, 640)
    assert {'ColorJitter', 'RandomFlip'} <= {t['type'] for t in pipeline}
    assert cfg.test_dataloader.dataset.num_classes == 40
    depth, iou = [METRICS.build(m) for m in cfg.test_evaluator]
    assert type(depth).__name__ == 'DepthMetric' and type(iou).__name__ == 'IoUMetric'
    assert depth.crop == 'nyu_eigen' and depth.max_depth == 10.0
    assert depth.average == 'pixel'
    assert iou.metrics == ['mIoU']  # mmseg reports aAcc, mIoU and mAcc


@pytest.mark.parametrize('ratio', (1.0, 1.2, 1.5))
def test_nyu_sosd_augmentation_divides_depth_and_crops_back(ratio):
    cfg = Config.fromfile(str(BASE / 'nyu_sosd.py'))
    steps = [dict(t) for t in cfg.train_pipeline if not t['type'].startswith('Load')]
    steps[0]['ratios'] = (ratio, )
    pipeline = [TRANSFORMS.build(t) for t in steps]
    depth = np.linspace(0.5, 9.5, 480 * 640, dtype=np.float32).reshape(480, 640)
    results = dict(img=np.full((480, 640, 3), 120, np.uint8), gt_depth_map=depth,
                   gt_seg_map=np.full((480, 640), 7, np.uint8),
                   seg_fields=['gt_seg_map'], img_shape=(480, 640),
                   ori_shape=(480, 640), img_path='x.png')
    np.random.seed(0)
    for transform in pipeline:
        results = transform(results)
    packed = results['data_samples']
    assert tuple(results['inputs'].shape) == (3, 480, 640)
    out = packed.gt_depth_map.data
    assert out.shape == (1, 480, 640) and (out > 0).all()  # no padding for s >= 1
    assert out.min() >= depth.min() / ratio - 1e-5
    assert out.max() <= depth.max() / ratio + 1e-5
    assert (packed.gt_sem_seg.data == 7).all()


def test_nyu_sosd_pipelines_on_synthetic_nyu(synthetic_nyu):
    cfg = Config.fromfile(str(BASE / 'nyu_sosd.py'))
    for phase in ('train', 'test'):
        dataset_cfg = cfg[f'{phase}_dataloader'].dataset
        dataset_cfg.data_root = str(synthetic_nyu)
        dataset = DATASETS.build(dataset_cfg)
        sample = dataset[0]
        packed = sample['data_samples']
        h, w = (480, 640) if phase == 'train' else packed.metainfo['ori_shape']
        assert tuple(sample['inputs'].shape[-2:]) == (h, w)
        assert packed.gt_depth_map.data.shape == (1, h, w)
        assert packed.gt_sem_seg.data.shape == (1, h, w)
        labels = set(np.unique(packed.gt_sem_seg.data.numpy()))
        assert labels <= set(range(40)) | {255} and len(labels - {255}) >= 1
