"""The BTS-style ``<rgb> <depth> <focal>`` list datasets (NYU dense, KITTI supervised)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthsem.datasets import FileListDepthDataset, NYUv2DenseDataset
from mmdepthsem.datasets.transforms.loading import LoadDepthAnnotation, LoadImageFromFile

H, W = 6, 8


def write(path: str, array: np.ndarray) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, array)
    return path


@pytest.fixture()
def kitti_like(tmp_path):
    """Images under raw/, annotated depth under ann/ (value / 256 = metres)."""
    root = tmp_path / 'data'
    for frame in (5, 6, 7):
        write(
            str(root / 'raw' / 'day' / 'drive' / f'{frame}.png'),
            np.full((H, W, 3), frame, np.uint8))
    depth = np.zeros((H, W), np.uint16)
    depth[2, 3] = 512 + 64  # 2.25 m
    write(str(root / 'ann' / 'drive' / '5.png'), depth)
    write(str(root / 'ann' / 'drive' / '7.png'), depth)
    (root / 'list.txt').write_text('# comment\n'
                                   '/day/drive/5.png /drive/5.png 721.5377\n'
                                   '\n'
                                   'day/drive/6.png None 721.5377\n'
                                   'day/drive/7.png drive/7.png 700\n')
    return str(root)


def make(root, **kwargs):
    kwargs.setdefault('depth_scale', 256)
    return FileListDepthDataset(
        'list.txt', data_root=root, img_prefix='raw', depth_prefix='ann', **kwargs)


def test_lines_paths_and_missing_depth(kitti_like):
    root = kitti_like
    dataset = make(root)  # missing_depth='skip'
    assert len(dataset) == 2 and dataset.num_without_depth == 1
    info = dataset.get_data_info(0)
    # The leading "/" of BTS lists does not escape the prefix.
    assert info['img_path'] == osp.join(root, 'raw', 'day', 'drive', '5.png')
    assert info['depth_map_path'] == osp.join(root, 'ann', 'drive', '5.png')
    assert info['depth_scale'] == 256 and info['sample_name'] == 'day/drive/5'
    kept = make(root, missing_depth='keep')
    assert len(kept) == 3 and kept.get_data_info(1)['depth_map_path'] is None
    with pytest.raises(ValueError, match='list.txt:4'):
        make(root, missing_depth='error')


def test_intrinsics_from_focal(kitti_like):
    root = kitti_like
    # Principal point at the image centre ((W - 1) / 2, (H - 1) / 2), read from the
    # image header at fetch time.
    info = make(root).get_data_info(1)
    np.testing.assert_allclose(info['intrinsics'],
                               [[700, 0, 3.5], [0, 700, 2.5], [0, 0, 1]])
    info = make(root, image_size=(100, 50)).get_data_info(0)
    np.testing.assert_allclose(info['intrinsics'][:2, 2], [49.5, 24.5])
    info = make(root, principal_point=(1.0, 2.0), fy=600).get_data_info(0)
    np.testing.assert_allclose(
        info['intrinsics'], [[721.5377, 0, 1], [0, 600, 2], [0, 0, 1]], rtol=1e-6)


def test_pipeline_depth_scale_and_keep_mode(kitti_like):
    pipeline = [LoadImageFromFile(), LoadDepthAnnotation()]
    results = make(kitti_like, pipeline=pipeline)[0]
    assert results['gt_depth_map'][2, 3] == 2.25
    assert np.count_nonzero(results['gt_depth_map']) == 1
    kept = make(kitti_like, pipeline=pipeline, missing_depth='keep')[1]
    assert kept['gt_depth_map'].shape == (H, W) and not kept['gt_depth_map'].any()


def test_bad_lines_and_files(kitti_like, tmp_path):
    root = kitti_like
    with open(osp.join(root, 'list.txt'), 'a') as handle:
        handle.write('day/drive/9.png drive/5.png 700\n')
    with pytest.raises(FileNotFoundError, match=r'list.txt:6.*9.png'):
        make(root)
    dataset = make(root, skip_bad_samples=True)
    assert len(dataset) == 2 and dataset.num_skipped == 1
    with open(osp.join(root, 'list.txt'), 'a') as handle:
        handle.write('day/drive/5.png drive/5.png f=700\n')
    with pytest.raises(ValueError, match=r'list.txt:7.*f=700'):
        make(root, skip_bad_samples=True)
    with pytest.raises(FileNotFoundError, match='list file'):
        FileListDepthDataset('nolist.txt', data_root=root)


def test_nyu_dense_defaults(tmp_path):
    root = tmp_path / 'sync'
    write(str(root / 'kitchen_0028b' / 'rgb_00045.jpg'), np.zeros((H, W, 3), np.uint8))
    depth = np.full((H, W), 1500, np.uint16)
    write(str(root / 'kitchen_0028b' / 'sync_depth_00045.png'), depth)
    (root / 'train.txt').write_text(
        '/kitchen_0028b/rgb_00045.jpg /kitchen_0028b/sync_depth_00045.png 518.8579\n')
    dataset = NYUv2DenseDataset(
        'train.txt',
        data_root=str(root),
        pipeline=[LoadImageFromFile(), LoadDepthAnnotation()])
    info = dataset.get_data_info(0)
    np.testing.assert_allclose(
        info['intrinsics'], [[518.8579, 0, 325.5824], [0, 519.4696, 253.7362], [0, 0, 1]],
        rtol=1e-6)
    assert dataset[0]['gt_depth_map'][0, 0] == 1.5


def test_pseudo_label_paths_follow_sample_name(kitti_like):
    dataset = make(kitti_like, pseudo_label_dir='pseudo', pseudo_conf_dir='conf')
    info = dataset.get_data_info(0)
    assert info['pseudo_seg_map_path'] == osp.join(kitti_like, 'pseudo', 'day', 'drive',
                                                   '5.png')
    assert info['pseudo_conf_path'] == osp.join(kitti_like, 'conf', 'day', 'drive',
                                                '5.npy')
