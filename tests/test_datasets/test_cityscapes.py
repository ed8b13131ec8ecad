"""Cityscapes: labels, disparity + camera JSON, sequence neighbours, id conversion."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.datasets import CityscapesDataset

from mmdepthsem.datasets import CityscapesDepthSemDataset
from mmdepthsem.datasets.transforms.loading import (DataFileError,
                                                    LoadCityscapesDisparity,
                                                    LoadImageFromFile,
                                                    LoadNeighbourFrames,
                                                    LoadSemAnnotation)

from ..conftest import load_tool

H, W = 4, 8
STEM = 'aachen/aachen_000000_000019'
CAMERA = {
    'extrinsic': {
        'baseline': 0.2,
        'pitch': 0.04,
        'roll': 0.0,
        'x': 1.7,
        'y': 0.1,
        'yaw': -0.01,
        'z': 1.2
    },
    'intrinsic': {
        'fx': 2000.0,
        'fy': 2010.0,
        'u0': 3.5,
        'v0': 1.5
    }
}


def write(path: str, array: np.ndarray) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, array)
    return path


@pytest.fixture()
def cityscapes(tmp_path):
    root = str(tmp_path / 'cityscapes')
    write(
        osp.join(root, 'leftImg8bit', 'train', STEM + '_leftImg8bit.png'),
        np.full((H, W, 3), 100, np.uint8))
    label = np.full((H, W), 255, np.uint8)
    label[0, :3] = [0, 13, 18]
    write(osp.join(root, 'gtFine', 'train', STEM + '_gtFine_labelTrainIds.png'), label)
    disparity = np.zeros((H, W), np.uint16)
    disparity[1, 1], disparity[1, 2] = 2561, 1  # d = 10 px; p = 1 → d = 0 (invalid)
    write(osp.join(root, 'disparity', 'train', STEM + '_disparity.png'), disparity)
    camera_path = osp.join(root, 'camera', 'train', STEM + '_camera.json')
    os.makedirs(osp.dirname(camera_path))
    with open(camera_path, 'w') as handle:
        json.dump(CAMERA, handle)
    for frame, value in ((18, 1), (20, 2)):
        write(
            osp.join(root, 'leftImg8bit_sequence', 'train', 'aachen',
                     f'aachen_000000_{frame:06d}_leftImg8bit.png'),
            np.full((H, W, 3), value, np.uint8))
    return root


def test_paths_camera_and_neighbours(cityscapes):
    root = cityscapes
    dataset = CityscapesDepthSemDataset(data_root=root, frame_ids=(-1, 1))
    assert dataset.metainfo['classes'] == CityscapesDataset.METAINFO['classes']
    assert len(dataset) == 1
    info = dataset.get_data_info(0)
    assert info['img_path'] == osp.join(root, 'leftImg8bit', 'train',
                                        STEM + '_leftImg8bit.png')
    assert info['seg_map_path'].endswith(STEM + '_gtFine_labelTrainIds.png')
    assert info['disparity_path'].endswith(STEM + '_disparity.png')
    seq = osp.join(root, 'leftImg8bit_sequence', 'train', 'aachen')
    assert info['frame_paths'] == {
        -1: osp.join(seq, 'aachen_000000_000018_leftImg8bit.png'),
        1: osp.join(seq, 'aachen_000000_000020_leftImg8bit.png')
    }
    assert info['camera'] == dict(baseline=0.2, fx=2000.0, fy=2010.0, u0=3.5, v0=1.5)
    np.testing.assert_allclose(info['intrinsics'],
                               [[2000, 0, 3.5], [0, 2010, 1.5], [0, 0, 1]])
    assert info['sample_name'] == STEM and info['num_classes'] == 19


def test_pipeline_depth_labels_frames(cityscapes):
    pipeline = [
        LoadImageFromFile(),
        LoadCityscapesDisparity(),
        LoadSemAnnotation(),
        LoadNeighbourFrames()
    ]
    results = CityscapesDepthSemDataset(
        data_root=cityscapes, frame_ids=(-1, 1), pipeline=pipeline)[0]
    # p = 2561 → d = (2561 - 1) / 256 = 10 px → depth = 0.2 · 2000 / 10 = 40 m.
    assert results['gt_disparity_map'][1, 1] == 10
    assert results['gt_depth_map'][1, 1] == pytest.approx(40)
    assert np.count_nonzero(results['gt_depth_map']) == 1
    np.testing.assert_array_equal(results['gt_seg_map'][0, :4], [0, 13, 18, 255])
    assert results['frames'][-1][0, 0, 0] == 1 and results['frames'][1][0, 0, 0] == 2


def test_bad_inputs(cityscapes):
    root = cityscapes
    with pytest.raises(ValueError, match=r'\[-19, 10\]'):
        CityscapesDepthSemDataset(data_root=root, frame_ids=(11, ))
    with pytest.raises(FileNotFoundError, match='000017'):
        CityscapesDepthSemDataset(data_root=root, frame_ids=(-2, ))
    camera_path = osp.join(root, 'camera', 'train', STEM + '_camera.json')
    with open(camera_path, 'w') as handle:
        json.dump({'extrinsic': {}, 'intrinsic': CAMERA['intrinsic']}, handle)
    with pytest.raises(DataFileError) as info:
        CityscapesDepthSemDataset(data_root=root)
    assert '_camera.json' in str(info.value) and 'extrinsic.baseline' in str(info.value)
    dataset = CityscapesDepthSemDataset(
        data_root=root, with_camera=False, with_disparity=False)
    assert 'intrinsics' not in dataset.get_data_info(0)
    with pytest.raises(FileNotFoundError, match='image folder'):
        CityscapesDepthSemDataset(data_root=root, split='val')


def load_converter():
    return load_tool('tools/dataset_converters/cityscapes.py')


def test_label_ids_converter(tmp_path):
    converter = load_converter()
    ids = np.array([[0, 7, 8, 26, 33, 4, 24, 31]], np.uint8)
    path = write(
        str(tmp_path / 'gtFine' / 'val' / 'x' / 'x_1_2_gtFine_labelIds.png'), ids)
    assert converter.main([str(tmp_path)]) == 0
    train = cv2.imread(path.replace('labelIds', 'labelTrainIds'), cv2.IMREAD_UNCHANGED)
    # unlabeled → 255, road → 0, sidewalk → 1, car → 13, bicycle → 18, static → 255,
    # person → 11, train → 16.
    np.testing.assert_array_equal(train[0], [255, 0, 1, 13, 18, 255, 11, 16])
    write(path, np.array([[7, 40]], np.uint8))
    with pytest.raises(ValueError, match=r'x_1_2_gtFine_labelIds.png.*\[40\]'):
        converter.convert_label_file(path, overwrite=True)


def test_sequence_targets_list_every_frame_with_its_neighbours(tmp_path):
    """targets='sequence': each sequence frame whose neighbours exist is a target,
    with its snippet's camera; the snippet ends are left out."""
    from mmdepthsem.datasets import CityscapesDepthSemDataset
    from mmdepthsem.datasets.synthetic import generate_dataset
    from mmdepthsem.datasets.synthetic.cityscapes_format import CityscapesConfig

    generate_dataset('cityscapes', str(tmp_path), seed=0, config=CityscapesConfig(
        height=32, width=64, train_cities=('aachen', ), val_cities=('frankfurt', ),
        train_sequences_per_city=2, val_sequences_per_city=1,
        sequence_offsets=(-2, -1, 0, 1, 2)))
    root = str(tmp_path / 'cityscapes')
    annotated = CityscapesDepthSemDataset(data_root=root, frame_ids=(-1, 1))
    sequence = CityscapesDepthSemDataset(data_root=root, frame_ids=(-1, 1),
                                         targets='sequence', with_seg=False,
                                         with_disparity=False)
    names = [sequence.get_data_info(i)['sample_name'] for i in range(len(sequence))]
    # frames 17..21 written; with neighbours -1, +1 the targets are 18, 19, 20
    assert names == [f'aachen/aachen_{s:06d}_{f:06d}' for s in (0, 1)
                     for f in (18, 19, 20)]
    info = sequence.get_data_info(0)
    assert info['img_path'].endswith(
        'leftImg8bit_sequence/train/aachen/aachen_000000_000018_leftImg8bit.png')
    assert info['frame_paths'][1].endswith('aachen_000000_000019_leftImg8bit.png')
    ref = annotated.get_data_info(0)
    np.testing.assert_array_equal(info['intrinsics'], ref['intrinsics'])
    with pytest.raises(ValueError, match='with_seg=False'):
        CityscapesDepthSemDataset(data_root=root, targets='sequence')
