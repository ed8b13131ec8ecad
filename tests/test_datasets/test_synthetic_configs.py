"""The synthetic dataset configs read the rendered KITTI / Cityscapes / NYU layouts
through the real loaders and pipelines, end to end to packed samples."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
from mmdepthsem.registry import DATASETS
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO

register_all_modules()
BASE = REPO / 'configs' / '_base_' / 'datasets'


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny')
    for name in ('kitti', 'cityscapes'):
        generate_dataset(name, str(root), seed=1, config=TINY_CONFIGS[name])
    return root


def _dataset(config_name, phase, data_root):
    cfg = Config.fromfile(str(BASE / config_name))
    dataset_cfg = cfg[f'{phase}_dataloader'].dataset
    dataset_cfg.data_root = str(data_root)
    return DATASETS.build(dataset_cfg)


def test_synthetic_kitti_training_sample(tiny_root):
    dataset = _dataset('synthetic_kitti.py', 'train', tiny_root / 'kitti')
    assert len(dataset) > 0
    sample = dataset[0]
    packed = sample['data_samples']
    height, width = sample['inputs'].shape[-2:]
    assert packed.frames.shape == (2, 3, height, width)
    assert tuple(packed.metainfo['frame_ids']) == (-1, 1)
    assert packed.frames_clean.shape == packed.frames.shape
    depth = packed.gt_depth_map.data
    valid = depth > 0
    assert 0.01 < valid.float().mean() < 1.0  # sparse LiDAR ground truth
    assert torch.isfinite(depth).all() and depth[valid].max() < 130
    K = packed.intrinsics
    assert K[0, 0] == pytest.approx(0.58 * width, rel=1e-3)  # synthetic calib = MD2's K


def test_synthetic_kitti_test_depth_is_velodyne_projection(tiny_root):
    dataset = _dataset('synthetic_kitti.py', 'test', tiny_root / 'kitti')
    packed = dataset[0]['data_samples']
    assert packed.gt_depth_map.data.shape[-2:] == packed.metainfo['ori_shape']


def test_synthetic_cityscapes_training_sample(tiny_root):
    dataset = _dataset('synthetic_cityscapes.py', 'train', tiny_root / 'cityscapes')
    sample = dataset[0]
    packed = sample['data_samples']
    # the tiny 32x64 frames are scaled by at most 1.5, then padded to the 128x256 crop
    assert tuple(sample['inputs'].shape[-2:]) == (128, 256)
    assert packed.frames.shape == (2, 3, 128, 256)
    labels = packed.gt_sem_seg.data
    assert set(np.unique(labels.numpy())) <= set(range(19)) | {255}
    depth = packed.gt_depth_map.data
    assert (depth > 0).any() and torch.isfinite(depth).all()
    assert (labels[0, 100:, 200:] == 255).all() and (depth[0, 100:, 200:] == 0).all()
    assert packed.metainfo['camera']['baseline'] == pytest.approx(0.209313)


def test_synthetic_kitti_selfsup_sample_carries_stand_in_pseudo_labels(tiny_root):
    dataset = _dataset('synthetic_kitti_selfsup.py', 'train', tiny_root / 'kitti')
    packed = dataset[0]['data_samples']
    labels = packed.gt_pseudo_sem_seg.data
    assert labels.shape[-2:] == (64, 224)  # resized with the image
    ids = set(np.unique(labels.numpy()))
    assert ids <= set(range(19)) | {255} and len(ids - {255}) >= 3
    assert packed.frames.shape == (2, 3, 64, 224)


def test_synthetic_kitti_semantics_layout_reads_as_the_benchmark(tiny_root):
    from mmdepthsem.datasets.synthetic import cityscapes_train_id_lut
    cfg = Config.fromfile(
        str(REPO / 'configs/fsre/resnet18_synthetic_kitti_semantics.py'))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.data_root = str(tiny_root / 'kitti' / 'data_semantics')
    dataset = DATASETS.build(dataset_cfg)
    # the tiny set has one test drive of 4 frames; every second one is written
    assert [dataset.get_data_info(i)['sample_name'] for i in range(len(dataset))] == [
        '000000_10', '000001_10']
    packed = dataset[1]['data_samples']
    raw = cv2.imread(dataset.get_data_info(1)['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert np.array_equal(packed.gt_sem_seg.data[0].numpy(),
                          cityscapes_train_id_lut()[raw])
    assert tuple(packed.gt_sem_seg.data.shape[-2:]) == raw.shape  # labels not resized
