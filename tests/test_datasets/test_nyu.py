"""NYU-Depth-v2: the converter on a tiny .mat in MATLAB's axis order, and the datasets."""
import logging
import os.path as osp
import shutil
from unittest import mock

import cv2
import h5py
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from scipy.io import savemat

from mmdepthsem.datasets import NYUv2Dataset
from mmdepthsem.registry import DATASETS
from mmdepthsem.datasets.transforms.loading import (DataFileError, LoadDepthAnnotation,
                                                    LoadImageFromFile, LoadSemAnnotation)

from ..conftest import load_tool

N, H, W = 5, 4, 6
NUM_RAW = 6
# raw id 1..6 → 40-class value (0 = none): train id = value - 1, none → 255.
MAP40 = np.array([[3, 0, 1, 40, 2, 2]])
# 40-class value → 13-class value, chained after MAP40 (only the used entries matter).
MAP40_TO_13 = np.zeros((1, 40), np.int64)
MAP40_TO_13[0, [0, 1, 2, 39]] = [12, 5, 13, 7]  # 1→12, 2→5, 3→13, 40→7


def load_converter():
    return load_tool('tools/dataset_converters/nyu.py')


def make_inputs(tmp_path):
    """A 5-frame labelled set written as MATLAB v7.3 stores it (axes reversed)."""
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9.0, (N, H, W)).astype(np.float32)
    depth[0, 0, 0] = np.nan
    depth[0, 0, 1] = 1.2346  # → 1235 mm
    depth[0, 0, 2] = 0.0
    labels = rng.integers(0, NUM_RAW + 1, (N, H, W)).astype(np.uint16)
    labels[0, 0, :NUM_RAW + 1] = np.arange(NUM_RAW + 1)[:W]
    labels[0, 1, 0] = 6
    mat = str(tmp_path / 'nyu_depth_v2_labeled.mat')
    with h5py.File(mat, 'w') as handle:
        handle['images'] = rgb.transpose(0, 3, 2, 1)  # (N, 3, W, H)
        handle['depths'] = depth.transpose(0, 2, 1)  # (N, W, H)
        handle['labels'] = labels.transpose(0, 2, 1)
        handle['names'] = np.zeros((1, NUM_RAW))
    splits = str(tmp_path / 'splits.mat')
    savemat(splits, dict(trainNdxs=np.array([[4], [1], [3]]), testNdxs=[[2], [5]]))
    map40 = str(tmp_path / 'classMapping40.mat')
    savemat(map40, dict(mapClass=MAP40))
    map13 = str(tmp_path / 'class13.mat')
    savemat(map13, dict(classMapping13=dict(labelIdx=MAP40_TO_13)))
    return dict(
        rgb=rgb,
        depth=depth,
        labels=labels,
        mat=mat,
        splits=splits,
        map40=map40,
        map13=map13)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('nyu')
    inputs = make_inputs(tmp_path)
    out = str(tmp_path / 'nyu')
    load_converter().main([
        inputs['mat'], inputs['splits'], '--mapping', inputs['map40'], '--mapping',
        inputs['map13'], '--mapping-key', 'mapClass', '--mapping-key',
        'classMapping13.labelIdx', '-o', out
    ])
    return inputs, out


def test_converter_writes_rgb_depth_labels_and_splits(converted):
    inputs, out = converted
    # 1-based split indices → frame names, sorted.
    assert open(osp.join(out, 'train.txt')).read().split() == ['00001', '00003', '00004']
    assert open(osp.join(out, 'test.txt')).read().split() == ['00002', '00005']
    # Frame 3 (0-based 2): colour written correctly (cv2 reads BGR).
    bgr = cv2.imread(osp.join(out, 'images', '00003.png'))
    np.testing.assert_array_equal(bgr[..., ::-1], inputs['rgb'][2])
    depth = cv2.imread(osp.join(out, 'depths', '00001.png'), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (H, W)
    assert depth[0, 0] == 0 and depth[0, 1] == 1235 and depth[0, 2] == 0
    np.testing.assert_array_equal(
        depth[1:],
        np.round(inputs['depth'][0, 1:] * 1000).astype(np.uint16))
    lab40 = cv2.imread(osp.join(out, 'labels40', '00001.png'), cv2.IMREAD_UNCHANGED)
    # raw 0 (unlabelled) → 255, 1 → 3 → 2, 2 → none → 255, 3 → 1 → 0, 4 → 40 → 39,
    # 5 → 2 → 1, 6 → 2 → 1.
    np.testing.assert_array_equal(lab40[0, :6], [255, 2, 255, 0, 39, 1])
    assert lab40[1, 0] == 1
    lab13 = cv2.imread(osp.join(out, 'labels13', '00001.png'), cv2.IMREAD_UNCHANGED)
    # Chained: raw 1 → 3 → 13 → 12; raw 3 → 1 → 12 → 11; raw 4 → 40 → 7 → 6;
    # raw 5 → 2 → 5 → 4.
    np.testing.assert_array_equal(lab13[0, :6], [255, 12, 255, 11, 6, 4])


def test_converter_rejects_zero_based_split(tmp_path):
    inputs = make_inputs(tmp_path)
    savemat(inputs['splits'], dict(trainNdxs=[[0], [1]], testNdxs=[[2]]))
    with pytest.raises(ValueError, match='1-based'):
        load_converter().main(
            [inputs['mat'], inputs['splits'], '-o',
             str(tmp_path / 'out')])


def test_dataset_reads_converter_output(converted):
    inputs, out = converted
    dataset = NYUv2Dataset(data_root=out, split='train')
    assert len(dataset) == 3 and len(dataset.metainfo['classes']) == 40
    assert len(dataset.metainfo['palette']) == 40
    info = dataset.get_data_info(1)
    assert info['img_path'] == osp.join(out, 'images', '00003.png')
    assert info['depth_map_path'] == osp.join(out, 'depths', '00003.png')
    assert info['seg_map_path'] == osp.join(out, 'labels40', '00003.png')
    assert info['depth_scale'] == 1000 and info['num_classes'] == 40
    assert info['seg_fields'] == [] and info['reduce_zero_label'] is False
    np.testing.assert_allclose(
        info['intrinsics'], [[518.8579, 0, 325.5824], [0, 519.4696, 253.7362], [0, 0, 1]],
        rtol=1e-6)
    pipeline = [LoadImageFromFile(), LoadDepthAnnotation(), LoadSemAnnotation()]
    results = NYUv2Dataset(data_root=out, split='test', pipeline=pipeline)[0]
    np.testing.assert_array_equal(results['img'][..., ::-1], inputs['rgb'][1])
    np.testing.assert_allclose(
        results['gt_depth_map'], np.round(inputs['depth'][1] * 1000) / 1000, atol=1e-6)
    lut40 = np.array([255, 2, 255, 0, 39, 1, 1])  # raw id → train id (see MAP40)
    np.testing.assert_array_equal(results['gt_seg_map'], lut40[inputs['labels'][1]])


def test_config_names_resolve_to_mmdepthsem(converted):
    _, out = converted
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadDepthAnnotation'),
        dict(type='LoadSemAnnotation')
    ]
    with DefaultScope.overwrite_default_scope('mmdepthsem'):
        dataset = DATASETS.build(
            dict(type='NYUv2Dataset', data_root=out, split='test', pipeline=pipeline))
    assert type(dataset) is NYUv2Dataset
    assert [type(t) for t in dataset.pipeline.transforms] == [
        LoadImageFromFile, LoadDepthAnnotation, LoadSemAnnotation
    ]
    assert dataset[1]['gt_depth_map'].dtype == np.float32


def test_dataset_13_classes_and_scaled_intrinsics(converted):
    _, out = converted
    dataset = NYUv2Dataset(
        data_root=out, split='test', num_classes=13, image_size=(320, 240))
    assert len(dataset.metainfo['classes']) == 13
    info = dataset.get_data_info(0)
    assert info['seg_map_path'].endswith(osp.join('labels13', '00002.png'))
    np.testing.assert_allclose(info['intrinsics'][0], [259.42895, 0, 162.7912])
    np.testing.assert_allclose(info['intrinsics'][1], [0, 259.7348, 126.8681])
    with pytest.raises(ValueError, match='num_classes'):
        NYUv2Dataset(data_root=out, num_classes=20)


def test_missing_data_root_explains_how_to_get_data(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        NYUv2Dataset(data_root=str(tmp_path / 'no_nyu'))
    message = str(info.value)
    for part in ('no_nyu', 'docs/dataset_prepare.md', 'tools/dataset_converters/nyu.py',
                 'make demo', 'configs/multitask/resnet18_synthetic_nyu.py'):
        assert part in message
    with pytest.raises(FileNotFoundError, match='split file'):
        NYUv2Dataset(data_root=str(tmp_path), split='train')


def test_split_naming_missing_frame(converted, tmp_path):
    _, out = converted
    (tmp_path / 'bad.txt').write_text('00001\n00099\n')
    with pytest.raises(FileNotFoundError, match='00099'):
        NYUv2Dataset(data_root=out, ann_file=str(tmp_path / 'bad.txt'))
    dataset = NYUv2Dataset(
        data_root=out, ann_file=str(tmp_path / 'bad.txt'), skip_bad_samples=True)
    assert len(dataset) == 1 and dataset.num_skipped == 1
    assert dataset.skipped_files[0].endswith('00099.png')


def test_skip_bad_samples_in_pipeline(converted, tmp_path):
    _, out = converted
    # A copy of the layout whose frame 00003 image is a zero-byte file.
    root = tmp_path / 'nyu'
    shutil.copytree(out, root)
    (root / 'images' / '00003.png').write_bytes(b'')
    pipeline = [LoadImageFromFile(), LoadDepthAnnotation(), LoadSemAnnotation()]
    strict = NYUv2Dataset(data_root=str(root), pipeline=pipeline)
    with pytest.raises(DataFileError, match='00003.png'):
        strict[1]
    lenient = NYUv2Dataset(data_root=str(root), pipeline=pipeline, skip_bad_samples=True)
    lenient._rand_another = lambda: 0  # refetch frame 00001 (mmengine: random)
    with mock.patch('mmdepthsem.datasets.base_dataset.print_log') as log:
        for _ in range(4):
            results = lenient[1]
            assert results['img_path'].endswith('00001.png')
    assert lenient.num_skipped == 4
    message = log.call_args_list[-1].args[0]
    assert '00003.png' in message and '4 sample(s) skipped' in message
    assert log.call_args_list[-1].kwargs['level'] == logging.WARNING
    assert lenient.skipped_files == [str(root / 'images' / '00003.png')] * 4
    # In test mode a bad sample is never skipped silently.
    evaluation = NYUv2Dataset(
        data_root=str(root), pipeline=pipeline, skip_bad_samples=True, test_mode=True)
    with pytest.raises(DataFileError, match='00003.png'):
        evaluation[1]
