"""SDE-Seg's Cityscapes validation scores labels at the working size (1024x512).

The released code nearest-resizes the validation labels with the image
(``val_downsample_gt``, docs/sdeseg.md row 20); the other form keeps them at full
size. Checked on a tiny synthetic Cityscapes set (64x128 frames), the test pipeline
of ``configs/_base_/datasets/cityscapes_ssl.py`` as the SSL and SSDA configs inherit it.
"""
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.config import Config

from mmdepthsem.datasets.synthetic import generate_dataset
from mmdepthsem.datasets.synthetic.cityscapes_format import CityscapesConfig
from mmdepthsem.registry import DATASETS
from mmdepthsem.utils import register_all_modules

register_all_modules()
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 64, 128


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('sdeseg_val')
    generate_dataset('cityscapes', str(out), seed=3, config=CityscapesConfig(
        height=H, width=W, train_cities=('aachen', ), val_cities=('frankfurt', ),
        train_sequences_per_city=1, val_sequences_per_city=1,
        sequence_offsets=(0, )))
    return out / 'cityscapes'


def val_sample(root, cfg, pipeline=None):
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(root)
    if pipeline is not None:
        dataset_cfg.pipeline = pipeline
    dataset = DATASETS.build(dataset_cfg)
    return dataset, dataset[0]['data_samples']


@pytest.mark.parametrize('name', ['ssl_ours_resnet101_cityscapes.py',
                                  'ssl_baseline_resnet101_cityscapes.py',
                                  'ssda_gta5_to_cityscapes_resnet101.py',
                                  'ssda_synthia_to_cityscapes_resnet101.py'])
def test_validation_labels_are_nearest_resized_to_1024x512(root, name):
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name))
    dataset, sample = val_sample(root, cfg)
    labels = sample.gt_sem_seg.data[0].numpy()
    assert labels.shape == (512, 1024)
    # nearest: every scored label is an original one, every 8th row/column repeats
    # the original pixel (64x128 -> 512x1024 is x8)
    info = dataset.get_data_info(0)
    full = val_sample(root, cfg, cfg.test_pipeline_full_size_labels)[1]
    original = full.gt_sem_seg.data[0].numpy()
    assert original.shape == (H, W)
    assert set(np.unique(labels)) <= set(np.unique(original))
    assert np.array_equal(labels[::8, ::8], original)
    # the depth metric's ground truth stays at full size
    assert sample.gt_depth_map.data.shape[-2:] == (H, W)
    assert osp.isfile(info['seg_map_path'])
    assert mmcv.imread(info['seg_map_path'], 'unchanged').shape[:2] == (H, W)


def test_predictions_are_scored_on_the_grid_of_their_ground_truth(root):
    """Segmentation at 1024x512 like its labels, depth at the disparity's full size."""
    import torch

    from tests.test_models.test_mean_teacher_estimator import build
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg/ssl_ours_resnet101_cityscapes.py'))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(root)
    item = DATASETS.build(dataset_cfg)[0]
    model = build(unlabelled_loss=None).eval()
    data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                        data_samples=[item['data_samples']]), False)
    with torch.no_grad():
        out, = model.predict(data['inputs'], data['data_samples'])
    assert out.pred_sem_seg.data.shape == (1, 512, 1024)
    assert out.pred_depth_map.data.shape == (1, H, W)
