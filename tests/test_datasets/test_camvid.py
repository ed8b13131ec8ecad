"""CamVid in the SegNet layout: listing, void -> ignore, bad ids, subsets, config."""
import copy

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator

from mmdepthsem.datasets.camvid import (CAMVID_CLASSES, CAMVID_ID_TO_TRAIN_ID,
                                        CAMVID_PALETTE, CamVidDataset)
from mmdepthsem.datasets.transforms.loading import DataFileError
from mmdepthsem.registry import DATASETS
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO

register_all_modules()
CONFIG = REPO / 'configs' / '_base_' / 'datasets' / 'camvid.py'
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSemAnnotation')]
NAMES = {
    'train': ['0001TP_006690', '0006R0_f00930', 'Seq05VD_f00000'],
    'val': ['0016E5_07959'],
    'test': ['0001TP_008550', 'Seq05VD_f05100'],
}
H, W = 36, 48  # CamVid's 360x480, scaled down by 10


def _label(seed):
    """A 36x48 id map with every class 0..10 and void (11)."""
    ids = np.arange(H * W).reshape(H, W) % 12
    return np.roll(ids, seed, axis=1).astype(np.uint8)


def _write(root, split, name, label):
    for folder in (split, split + 'annot'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    image = np.full((H, W, 3), 40 + 10 * len(name), np.uint8)
    cv2.imwrite(str(root / split / f'{name}.png'), image)
    cv2.imwrite(str(root / (split + 'annot') / f'{name}.png'), label)


@pytest.fixture
def camvid(tmp_path):
    """A tiny SegNet-layout tree: 3 train, 1 val, 2 test images."""
    for split, names in NAMES.items():
        for seed, name in enumerate(names):
            _write(tmp_path, split, name, _label(seed))
    return tmp_path


def test_metainfo():
    assert CAMVID_CLASSES == ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
                              'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist')
    assert CamVidDataset.METAINFO['classes'] == CAMVID_CLASSES
    assert len(CAMVID_PALETTE) == 11
    assert len({tuple(c) for c in CAMVID_PALETTE}) == 11
    assert CAMVID_ID_TO_TRAIN_ID == {11: 255}


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_listing_per_split(camvid, split):
    dataset = CamVidDataset(data_root=str(camvid), split=split)
    assert len(dataset) == len(NAMES[split])
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [info['sample_name'] for info in infos] == sorted(NAMES[split])
    first = infos[0]
    name = sorted(NAMES[split])[0]
    assert first['img_path'] == str(camvid / split / f'{name}.png')
    assert first['seg_map_path'] == str(camvid / f'{split}annot' / f'{name}.png')
    assert first['num_classes'] == 11 and first['label_map'] == {11: 255}
    unlabelled = CamVidDataset(data_root=str(camvid), split=split, with_seg=False)
    assert 'seg_map_path' not in unlabelled.get_data_info(0)


def test_void_becomes_ignore(camvid):
    dataset = CamVidDataset(data_root=str(camvid), split='val', pipeline=PIPELINE)
    gt = dataset[0]['gt_seg_map']
    expected = _label(0).astype(np.int64)
    expected[expected == 11] = 255
    assert gt.dtype == np.uint8 and gt.shape == (H, W)
    assert np.array_equal(gt, expected)
    assert set(np.unique(gt).tolist()) == set(range(11)) | {255}


def test_unknown_id_names_the_file(camvid):
    label = _label(0)
    label[0, :3] = (12, 40, 11)
    label[1, 0] = 255  # an explicit ignore stays allowed
    _write(camvid, 'val', '0016E5_07959', label)
    dataset = CamVidDataset(data_root=str(camvid), split='val', pipeline=PIPELINE)
    with pytest.raises(DataFileError,
                       match=r'valannot/0016E5_07959\.png holds ids 12, 40 \(2 pixels\)'):
        dataset[0]


def test_bad_split_and_missing_files(camvid):
    with pytest.raises(ValueError, match='split must be one of'):
        CamVidDataset(data_root=str(camvid), split='trainval')
    (camvid / 'trainannot' / '0006R0_f00930.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'trainannot/0006R0_f00930\.png'):
        CamVidDataset(data_root=str(camvid), split='train')
    dataset = CamVidDataset(data_root=str(camvid), split='train', skip_bad_samples=True)
    assert len(dataset) == 2 and dataset.num_skipped == 1
    assert len(CamVidDataset(data_root=str(camvid), split='train', with_seg=False)) == 3
    with pytest.raises(FileNotFoundError, match="'test' label folder"):
        (camvid / 'testannot').rename(camvid / 'elsewhere')
        CamVidDataset(data_root=str(camvid), split='test')


def test_subset_file(camvid):
    (camvid / 'splits').mkdir()
    (camvid / 'splits' / 'train_2.txt').write_text(
        '# two labelled images\nSeq05VD_f00000\n\n0001TP_006690\n')
    dataset = CamVidDataset(data_root=str(camvid), split='train',
                            subset_file='splits/train_2.txt')
    # the dataset's own (sorted) order, not the file's
    assert [dataset.get_data_info(i)['sample_name'] for i in range(len(dataset))] == [
        '0001TP_006690', 'Seq05VD_f00000']
    (camvid / 'splits' / 'bad.txt').write_text('0001TP_006690\n0016E5_07959\n')
    with pytest.raises(KeyError, match=r"line 2: '0016E5_07959'"):
        CamVidDataset(data_root=str(camvid), split='train', subset_file='splits/bad.txt')


def test_config_pipelines_run_on_tiny_tree(camvid):
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.image_scale == (672, 512) and cfg.crop_size == (512, 512)
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.test_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    assert not any(t['type'] in ('PhotoMetricDistortion', 'ColorJitter',
                                 'LoadNeighbourFrames')
                   for t in cfg.labelled_pipeline + cfg.unlabelled_pipeline)
    (camvid / 'splits').mkdir()
    (camvid / 'splits' / 'train_100_seed0.txt').write_text('0006R0_f00930\n')

    train_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    for branch in ('labelled', 'unlabelled'):
        train_cfg[branch].data_root = str(camvid)
        for transform in train_cfg[branch].pipeline:
            if transform['type'] == 'RandomCrop':
                transform['crop_size'] = (64, 96)
    train = DATASETS.build(train_cfg)
    assert len(train.labelled) == 1 and len(train) == 3
    sample = train[0]
    labelled = sample['labelled']
    assert labelled['inputs'].shape == (3, 64, 96)
    gt = labelled['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 64, 96)
    assert set(np.unique(gt.numpy()).tolist()) <= set(range(11)) | {255}
    assert sample['unlabelled']['inputs'].shape == (3, 64, 96)

    test_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    test_cfg.data_root = str(camvid)
    test = DATASETS.build(test_cfg)
    assert len(test) == 2 and test.test_mode
    packed = test[0]
    assert packed['inputs'].shape == (3, 512, 672)  # upsampled for the network
    gt = packed['data_samples'].gt_sem_seg.data[0].numpy()
    assert gt.shape == (H, W)  # evaluated at the original resolution
    expected = _label(0)
    assert np.array_equal(gt == 255, expected == 11)

    # the test evaluator scores the 11 classes and ignores void: a prediction equal
    # to the labels except that void pixels are predicted as Sky gives 100 mIoU
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = test.metainfo
    label = torch.from_numpy(gt.astype(np.int64))
    pred = label.clone()
    pred[pred == 255] = 0
    evaluator.process([dict(pred_sem_seg=dict(data=pred[None]),
                            gt_sem_seg=dict(data=label[None]))])
    assert evaluator.evaluate(1)['mIoU'] == pytest.approx(100.0)
