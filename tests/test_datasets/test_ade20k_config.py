"""ADE20K (DSS stage 1) runs through mmseg's dataset and our packing unchanged."""
import cv2
import numpy as np
from mmengine.config import Config

from mmdepthsem.registry import DATASETS
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO

register_all_modules()


def test_ade20k_layout_through_mmseg_dataset(tmp_path):
    for split in ('training', 'validation'):
        (tmp_path / 'images' / split).mkdir(parents=True)
        (tmp_path / 'annotations' / split).mkdir(parents=True)
        image = np.full((40, 60, 3), 100, np.uint8)
        labels = np.zeros((40, 60), np.uint8)  # 0 = "other" in ADE20K
        labels[:, 30:] = 5  # class id 5 -> train id 4 after reduce_zero_label
        cv2.imwrite(str(tmp_path / 'images' / split / 'ADE_0001.jpg'), image)
        cv2.imwrite(str(tmp_path / 'annotations' / split / 'ADE_0001.png'), labels)
    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/ade20k.py'))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(tmp_path)
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset.metainfo['classes']) == 150
    packed = dataset[0]['data_samples']
    gt = packed.gt_sem_seg.data[0].numpy()
    assert gt.shape == (40, 60)  # test pipeline loads labels after the resize
    assert (gt[:, :30] == 255).all() and (gt[:, 30:] == 4).all()
