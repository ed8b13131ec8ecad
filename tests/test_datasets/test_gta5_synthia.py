"""GTA5 / Synthia source datasets, their synthetic layouts, the 13/16-class evaluation."""
import filecmp
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmseg.datasets import CityscapesDataset

from mmdepthsem.datasets.gta5 import GTA5_ID_TO_TRAIN_ID, GTA5DepthSemDataset
from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
from mmdepthsem.datasets.synthetic.classes import CITYSCAPES_CLASSES
from mmdepthsem.datasets.synthetic.generate import DATASETS, GENERATOR_VERSION
from mmdepthsem.datasets.synthetic.gta5_format import write_palette_png
from mmdepthsem.datasets.synthetic.synthia_format import cityscapes_to_synthia_lut
from mmdepthsem.datasets.synthia import (CITYSCAPES_NOT_IN_SYNTHIA_TO_IGNORE,
                                         SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES,
                                         SYNTHIA_ID_TO_TRAIN_ID, SynthiaDepthSemDataset)
from mmdepthsem.datasets.transforms.loading import DataFileError
from mmdepthsem.utils import register_all_modules

register_all_modules()
CONFIGS = Path(__file__).parents[2] / 'configs' / '_base_' / 'datasets'
CLASSES = tuple(CityscapesDataset.METAINFO['classes'])
GTA_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSemAnnotation')]
SYNTHIA_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSynthiaAnnotation')]


def _write_gta5(root, name, ids, estimate=False):
    ids = np.asarray(ids, np.uint8)
    image = np.full(ids.shape + (3, ), 90, np.uint8)
    (root / 'images').mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / 'images' / f'{name}.png'), image)
    write_palette_png(root / 'labels' / f'{name}.png', ids,
                      np.zeros((256, 3), np.uint8))
    if estimate:
        (root / 'sde').mkdir(exist_ok=True)
        cv2.imwrite(str(root / 'sde' / f'{name}.png'),
                    np.full(ids.shape, 512, np.uint16))


def _write_synthia(root, name, ids, channels=3):
    ids = np.asarray(ids, np.uint16)
    (root / 'RGB').mkdir(parents=True, exist_ok=True)
    (root / 'GT' / 'LABELS').mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / 'RGB' / f'{name}.png'), np.zeros(ids.shape + (3, ), np.uint8))
    if channels == 3:
        label = np.zeros(ids.shape + (3, ), np.uint16)
        label[..., 2] = ids  # red (OpenCV writes BGR)
        label[..., 1] = 7  # an instance id, ignored
        label[..., 0] = 3
    else:
        label = ids
    cv2.imwrite(str(root / 'GT' / 'LABELS' / f'{name}.png'), label)


# --------------------------------------------------------------------------- GTA5
def test_gta5_table_maps_every_cityscapes_id():
    assert sorted(GTA5_ID_TO_TRAIN_ID) == list(range(34))
    assert {i: GTA5_ID_TO_TRAIN_ID[i]
            for i in (0, 6, 7, 8, 9, 11, 23, 24, 26, 27, 31, 33)} == {
                0: 255, 6: 255, 7: 0, 8: 1, 9: 255, 11: 2, 23: 10, 24: 11, 26: 13,
                27: 14, 31: 16, 33: 18}
    assert sorted(t for t in GTA5_ID_TO_TRAIN_ID.values() if t != 255) == list(range(19))


def test_gta5_palette_labels_become_train_ids(tmp_path):
    _write_gta5(tmp_path, '00002', [[7, 26], [9, 33]], estimate=True)
    _write_gta5(tmp_path, '00001', [[23, 255], [0, 11]], estimate=True)
    dataset = GTA5DepthSemDataset(
        data_root=str(tmp_path), depth_estimate_dir='sde', pipeline=GTA_PIPELINE)
    assert len(dataset) == 2 and dataset.metainfo['classes'] == CLASSES
    assert dataset[0]['gt_seg_map'].tolist() == [[10, 255], [255, 2]]
    assert dataset[1]['gt_seg_map'].tolist() == [[0, 13], [255, 18]]
    info = dataset.get_data_info(1)
    assert info['sample_name'] == '00002' and info['num_classes'] == 19
    assert info['depth_estimate_path'] == str(tmp_path / 'sde' / '00002.png')


def test_gta5_unknown_id_names_the_file(tmp_path):
    _write_gta5(tmp_path, '00001', [[7, 40]])
    dataset = GTA5DepthSemDataset(data_root=str(tmp_path), pipeline=GTA_PIPELINE)
    with pytest.raises(DataFileError, match=r'labels/00001\.png.*ids 40'):
        dataset[0]


def test_gta5_list_file_and_missing_files(tmp_path):
    for name in ('00001', '00002', '00003'):
        _write_gta5(tmp_path, name, [[7]])
    (tmp_path / 'subset.txt').write_text('00003\n# a comment\n00001.png\n')
    dataset = GTA5DepthSemDataset(data_root=str(tmp_path), ann_file='subset.txt')
    assert [dataset.get_data_info(i)['sample_name'] for i in range(2)] == ['00003',
                                                                           '00001']
    (tmp_path / 'sde').mkdir()
    with pytest.raises(FileNotFoundError, match=r'sde/00001\.png'):
        GTA5DepthSemDataset(data_root=str(tmp_path), depth_estimate_dir='sde')
    (tmp_path / 'labels' / '00002.png').unlink()
    dataset = GTA5DepthSemDataset(data_root=str(tmp_path), skip_bad_samples=True)
    assert len(dataset) == 2 and dataset.num_skipped == 1
    with pytest.raises(FileNotFoundError, match='image folder'):
        GTA5DepthSemDataset(data_root=str(tmp_path / 'labels'))


# --------------------------------------------------------------------------- Synthia
def test_synthia_table_and_class_lists():
    assert sorted(SYNTHIA_ID_TO_TRAIN_ID) == list(range(23))
    trained = {t for t in SYNTHIA_ID_TO_TRAIN_ID.values() if t != 255}
    assert sorted(CLASSES[t] for t in trained) == sorted(SYNTHIA_16_CLASSES)
    assert len(SYNTHIA_16_CLASSES) == 16 and len(SYNTHIA_13_CLASSES) == 13
    assert set(SYNTHIA_16_CLASSES) - set(SYNTHIA_13_CLASSES) == {'wall', 'fence', 'pole'}
    assert SYNTHIA_13_CLASSES == ('road', 'sidewalk', 'building', 'traffic light',
                                  'traffic sign', 'vegetation', 'sky', 'person', 'rider',
                                  'car', 'bus', 'motorcycle', 'bicycle')
    assert {CLASSES[t] for t in CITYSCAPES_NOT_IN_SYNTHIA_TO_IGNORE} == {
        'terrain', 'truck', 'train'}


def test_synthia_labels_red_channel_to_train_ids(tmp_path):
    # sky 1 -> 10, road 3 -> 0, pedestrian 10 -> 11, wall 21 -> 3, terrain 16 -> 255,
    # lanemarking 22 -> 255, void 0 -> 255, bicycle 11 -> 18
    _write_synthia(tmp_path, '0000000', [[1, 3, 10, 21], [16, 22, 0, 11]])
    _write_synthia(tmp_path, '0000001', [[8, 19]], channels=1)  # car, bus
    dataset = SynthiaDepthSemDataset(data_root=str(tmp_path), pipeline=SYNTHIA_PIPELINE)
    assert len(dataset) == 2
    assert dataset[0]['gt_seg_map'].tolist() == [[10, 0, 11, 3], [255, 255, 255, 18]]
    assert dataset[1]['gt_seg_map'].tolist() == [[13, 15]]
    assert dataset.get_data_info(0)['sample_name'] == '0000000'


def test_synthia_unknown_id_names_the_file(tmp_path):
    _write_synthia(tmp_path, '0000000', [[3, 30]])
    dataset = SynthiaDepthSemDataset(data_root=str(tmp_path), pipeline=SYNTHIA_PIPELINE)
    with pytest.raises(DataFileError, match=r'LABELS/0000000\.png.*ids 30'):
        dataset[0]
    # LoadSemAnnotation refuses the 3-channel files instead of misreading them
    dataset = SynthiaDepthSemDataset(data_root=str(tmp_path), pipeline=GTA_PIPELINE)
    with pytest.raises(DataFileError, match='single-channel'):
        dataset[0]


def test_synthetic_cityscapes_ids_map_to_the_same_train_ids_via_synthia():
    lut = cityscapes_to_synthia_lut()
    for cls in CITYSCAPES_CLASSES:
        shared = cls.train_id != 255 and CLASSES[cls.train_id] in SYNTHIA_16_CLASSES
        expected = cls.train_id if shared else 255
        assert SYNTHIA_ID_TO_TRAIN_ID[int(lut[cls.label_id])] == expected, cls.name


# --------------------------------------------------------------------------- synthetic
@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp('source_domains')
    for name in ('gta5', 'synthia'):
        generate_dataset(name, root, seed=0, config=TINY_CONFIGS[name])
    return root


def test_generator_lists_the_source_sets_and_is_deterministic(synthetic, tmp_path):
    assert {'gta5', 'synthia'} <= set(DATASETS) and GENERATOR_VERSION >= '1.3.0'
    for name in ('gta5', 'synthia'):
        generate_dataset(name, tmp_path, seed=0, config=TINY_CONFIGS[name])
        files = json.loads((synthetic / name / 'synthetic_manifest.json').read_text())
        _, mismatch, errors = filecmp.cmpfiles(synthetic / name, tmp_path / name,
                                               files['files'], shallow=False)
        assert files['files'] and not mismatch and not errors


def test_synthetic_layouts_load(synthetic):
    gta = GTA5DepthSemDataset(
        data_root=str(synthetic / 'gta5'),
        depth_estimate_dir='sde_depth',
        pipeline=GTA_PIPELINE + [
            dict(type='LoadDepthEstimate', estimate_dir=str(synthetic / 'gta5/sde_depth'))
        ])
    synthia = SynthiaDepthSemDataset(
        data_root=str(synthetic / 'synthia'), pipeline=SYNTHIA_PIPELINE)
    assert len(gta) == 4 and len(synthia) == 4
    assert gta.get_data_info(0)['sample_name'] == '00001'
    assert synthia.get_data_info(0)['sample_name'] == '0000000'
    sample = gta[0]
    assert sample['gt_seg_map'].shape == (32, 58) == sample['est_depth_map'].shape
    assert (sample['est_depth_map'] > 0).all()
    seen = set()
    for i in range(4):
        seen |= set(np.unique(synthia[i]['gt_seg_map']).tolist())
    assert seen <= {SYNTHIA_ID_TO_TRAIN_ID[i] for i in range(23)}
    assert not seen & {9, 14, 16}  # terrain, truck, train are ignored
    assert {0, 2, 10} <= seen  # road, building, sky


def test_synthetic_source_configs_build(synthetic):
    for name, key in (('gta5', 'gta5_dataset'), ('synthia', 'synthia_dataset')):
        cfg = Config.fromfile(str(CONFIGS / f'synthetic_{name}.py'))
        dataset_cfg = dict(cfg[key], data_root=str(synthetic / name))
        dataset_cfg['pipeline'][2]['estimate_dir'] = str(synthetic / name / 'sde_depth')
        from mmdepthsem.registry import DATASETS as REGISTRY
        dataset = REGISTRY.build(dataset_cfg)
        packed = dataset[0]
        assert packed['inputs'].shape[1:] == (128, 128)
        assert packed['data_samples'].est_depth_map.data.shape[1:] == (128, 128)


# --------------------------------------------------------------------------- evaluation
def test_13_and_16_class_miou_from_the_evaluator_config():
    cfg = Config.fromfile(str(CONFIGS / 'synthia_to_cityscapes.py'))
    assert tuple(cfg.synthia_13_classes) == SYNTHIA_13_CLASSES
    assert tuple(cfg.synthia_16_classes) == SYNTHIA_16_CLASSES
    assert dict(cfg.synthia_ignored_label_map) == CITYSCAPES_NOT_IN_SYNTHIA_TO_IGNORE
    evaluator = Evaluator(list(cfg.synthia_evaluator))
    evaluator.dataset_meta = dict(classes=CLASSES, palette=[[0, 0, 0]] * 19)
    # one 2-pixel column per class; terrain (9) is predicted as vegetation (8):
    # IoU(vegetation) = 2 / 4, IoU(terrain) = 0, every other class 1.
    gt = torch.arange(19).repeat(2, 1)
    pred = gt.clone()
    pred[:, 9] = 8
    evaluator.process([
        dict(pred_sem_seg=dict(data=pred[None]), gt_sem_seg=dict(data=gt[None]))
    ])
    metrics = evaluator.evaluate(1)
    assert metrics['mIoU'] == pytest.approx(round(100 * 12.5 / 13, 2))
    assert metrics['synthia16/mIoU'] == pytest.approx(round(100 * 15.5 / 16, 2))
    assert metrics['mIoU_all'] == pytest.approx(round(100 * 17.5 / 19, 2))
