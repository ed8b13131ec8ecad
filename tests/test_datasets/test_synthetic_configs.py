"""The synthetic dataset configs read the rendered KITTI / Cityscapes / NYU layouts
through the real loaders and pipelines, end to end to packed samples."""
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
