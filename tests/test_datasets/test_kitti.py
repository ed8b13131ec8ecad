"""KITTI raw: a tiny raw tree with real calibration files, scans and annotated depth."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthsem.datasets import KITTIRawDataset
from mmdepthsem.datasets.transforms.loading import (DataFileError, LoadDepthAnnotation,
                                                    LoadImageFromFile,
                                                    LoadNeighbourFrames,
                                                    LoadVelodyneDepth)

H, W = 20, 30
DATE = '2011_09_26'
DRIVE = '2011_09_26_drive_0001_sync'
FOLDER = f'{DATE}/{DRIVE}'
P2 = [100., 0., 20., 5., 0., 100., 10., 0., 0., 0., 1., 0.01]
P3 = [100., 0., 20., -50., 0., 100., 10., 0., 0., 0., 1., 0.01]
R_RECT = [0., 1., 0., -1., 0., 0., 0., 0., 1.]  # 90° about the optical axis
VELO_R = [0., -1., 0., 0., 0., -1., 1., 0., 0.]  # camera = (-y, -z, x) of velodyne
VELO_T = [0.1, 0., -0.5]


def fmt(values) -> str:
    return ' '.join(f'{v:.6e}' for v in values)


def write_calib(date_dir: str, skip_key: str = None) -> None:
    cam = {
        'calib_time': '09-Jan-2012 13:57:47',
        'corner_dist': fmt([9.95e-02]),
        'R_rect_00': fmt(R_RECT),
        'S_rect_02': fmt([W, H]),
        'P_rect_02': fmt(P2),
        'S_rect_03': fmt([W, H]),
        'P_rect_03': fmt(P3),
    }
    velo = {'calib_time': '15-Mar-2012 11:37:16', 'R': fmt(VELO_R), 'T': fmt(VELO_T)}
    os.makedirs(date_dir, exist_ok=True)
    for name, entries in (('calib_cam_to_cam.txt', cam), ('calib_velo_to_cam.txt', velo)):
        with open(osp.join(date_dir, name), 'w') as handle:
            for key, value in entries.items():
                if key != skip_key:
                    handle.write(f'{key}: {value}\n')


def write_frame(root: str, folder: str, camera: str, frame: int, value: int) -> str:
    path = osp.join(root, folder, f'image_{camera}', 'data', f'{frame:010d}.png')
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, np.full((H, W, 3), value, np.uint8))
    return path


@pytest.fixture()
def kitti(tmp_path):
    root = str(tmp_path / 'kitti_raw')
    write_calib(osp.join(root, DATE))
    for frame in range(3):
        write_frame(root, FOLDER, '02', frame, 10 * frame)
        write_frame(root, FOLDER, '03', frame, 10 * frame + 5)
        scan = osp.join(root, FOLDER, 'velodyne_points', 'data', f'{frame:010d}.bin')
        os.makedirs(osp.dirname(scan), exist_ok=True)
        # One point: velodyne (5, 0.5, 0.2) → camera (-0.4, -0.2, 4.5) →
        # rectified (90° about z) (-0.2, 0.4, 4.5) → u = (-20 + 90 + 5) / 4.51 =
        # 16.6, v = (40 + 45) / 4.51 = 18.8, depth 4.51 (P_rect_02's z offset 0.01).
        np.array([[5.0, 0.5, 0.2, 0.3]], np.float32).tofile(scan)
    # Annotated depth: the drive lives in the second (val) root.
    for split in ('train', 'val'):
        os.makedirs(osp.join(root, 'annotated', split), exist_ok=True)
    ann = osp.join(root, 'annotated', 'val', DRIVE, 'proj_depth', 'groundtruth',
                   'image_02', f'{1:010d}.png')
    os.makedirs(osp.dirname(ann), exist_ok=True)
    depth = np.zeros((H, W), np.uint16)
    depth[3, 4] = 5 * 256 + 128  # 5.5 m
    assert cv2.imwrite(ann, depth)
    split = tmp_path / 'split.txt'
    split.write_text(f'{FOLDER} 1 l\n{FOLDER} 1 r\n')
    return root, str(split)


def test_paths_calibration_and_intrinsics(kitti):
    root, split = kitti
    dataset = KITTIRawDataset(split, data_root=root, frame_ids=(-1, 1))
    assert len(dataset) == 2
    left, right = dataset.get_data_info(0), dataset.get_data_info(1)
    assert left['img_path'] == osp.join(root, FOLDER, 'image_02', 'data',
                                        '0000000001.png')
    assert right['img_path'] == osp.join(root, FOLDER, 'image_03', 'data',
                                         '0000000001.png')
    assert left['frame_paths'] == {
        -1: osp.join(root, FOLDER, 'image_02', 'data', '0000000000.png'),
        1: osp.join(root, FOLDER, 'image_02', 'data', '0000000002.png')
    }
    assert right['frame_paths'][1].endswith('image_03/data/0000000002.png')
    assert left['frame_ids'] == (-1, 1)
    assert left['velodyne_path'] == osp.join(root, FOLDER, 'velodyne_points', 'data',
                                             '0000000001.bin')
    assert left['sample_name'] == f'{FOLDER}/image_02/0000000001'
    np.testing.assert_allclose(left['intrinsics'],
                               [[100, 0, 20], [0, 100, 10], [0, 0, 1]])
    assert left['intrinsics'].dtype == np.float32
    # velo_to_cam = [R|T]; cam_to_img = P_rect_02 · R_rect_00 (by hand).
    np.testing.assert_allclose(
        left['velo_to_cam'],
        [[0, -1, 0, 0.1], [0, 0, -1, 0], [1, 0, 0, -0.5], [0, 0, 0, 1]])
    np.testing.assert_allclose(left['cam_to_img'],
                               [[0, 100, 20, 5], [-100, 0, 10, 0], [0, 0, 1, 0.01]])
    np.testing.assert_allclose(right['cam_to_img'][:, 3], [-50, 0, 0.01])


def test_monodepth2_intrinsics(kitti):
    root, split = kitti
    dataset = KITTIRawDataset(split, data_root=root, intrinsics_mode='monodepth2')
    # fx = 0.58·30, fy = 1.92·20, cx = 0.5·30, cy = 0.5·20.
    np.testing.assert_allclose(
        dataset.get_data_info(0)['intrinsics'], [[17.4, 0, 15], [0, 38.4, 10], [0, 0, 1]],
        rtol=1e-6)


def test_velodyne_ground_truth_through_pipeline(kitti):
    root, split = kitti
    pipeline = [LoadImageFromFile(), LoadVelodyneDepth(), LoadNeighbourFrames()]
    dataset = KITTIRawDataset(split, data_root=root, frame_ids=(-1, 1), pipeline=pipeline)
    results = dataset[0]
    depth = results['gt_depth_map']
    assert depth.shape == (H, W)
    assert depth[19, 17] == pytest.approx(4.51) and np.count_nonzero(depth) == 1
    assert results['frames'][-1][0, 0, 0] == 0 and results['frames'][1][0, 0, 0] == 20
    assert results['img'][0, 0, 0] == 10


def test_annotated_depth(kitti):
    root, split = kitti
    with open(split, 'w') as handle:
        handle.write(f'{FOLDER} 1 l\n')
    dataset = KITTIRawDataset(
        split,
        data_root=root,
        depth_source='annotated',
        ann_root=['annotated/train', 'annotated/val'],
        pipeline=[LoadImageFromFile(), LoadDepthAnnotation()])
    info = dataset.get_data_info(0)
    assert info['depth_map_path'] == osp.join(root, 'annotated', 'val', DRIVE,
                                              'proj_depth', 'groundtruth', 'image_02',
                                              '0000000001.png')
    assert info['depth_scale'] == 256 and 'velodyne_path' not in info
    depth = dataset[0]['gt_depth_map']
    assert depth[3, 4] == 5.5 and np.count_nonzero(depth) == 1
    with pytest.raises(ValueError, match='ann_root'):
        KITTIRawDataset(split, data_root=root, depth_source='annotated')


def test_missing_neighbour_or_frame(kitti, tmp_path):
    root, _ = kitti
    split = tmp_path / 'edge.txt'
    split.write_text(f'{FOLDER} 0 l\n{FOLDER} 1 l\n')
    with pytest.raises(FileNotFoundError) as info:
        KITTIRawDataset(str(split), data_root=root, frame_ids=(-1, 1))
    assert 'edge.txt:1' in str(info.value) and '-000000001.png' in str(info.value)
    dataset = KITTIRawDataset(
        str(split), data_root=root, frame_ids=(-1, 1), skip_bad_samples=True)
    assert len(dataset) == 1 and dataset.num_skipped == 1
    split.write_text(f'{FOLDER} 7 l\n')
    with pytest.raises(FileNotFoundError, match='0000000007.png'):
        KITTIRawDataset(str(split), data_root=root, depth_source=None)
    with pytest.raises(ValueError, match='must not be in it'):
        KITTIRawDataset(str(split), data_root=root, frame_ids=(0, 1))


def test_calibration_missing_key_or_file(kitti, tmp_path):
    root, _ = kitti
    write_calib(osp.join(root, '2011_09_28'), skip_key='P_rect_03')
    split = tmp_path / 'other_day.txt'
    split.write_text('2011_09_28/2011_09_28_drive_0002_sync 1 r\n')
    with pytest.raises(DataFileError) as info:
        KITTIRawDataset(str(split), data_root=root, check_files=False)
    assert 'calib_cam_to_cam.txt' in str(info.value) and 'P_rect_03' in str(info.value)
    split.write_text('2011_09_30/2011_09_30_drive_0003_sync 1 l\n')
    with pytest.raises(FileNotFoundError, match='2011_09_30.*calib_cam_to_cam.txt'):
        KITTIRawDataset(str(split), data_root=root, check_files=False)
    split.write_text(f'{FOLDER} 1 x\n')
    with pytest.raises(ValueError, match='other_day.txt:1'):
        KITTIRawDataset(str(split), data_root=root)
