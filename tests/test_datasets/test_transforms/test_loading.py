"""Loading transforms on small files written here in the real on-disk formats."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthsem.datasets.transforms.loading import (
    DataFileError, LoadCityscapesDisparity, LoadDepthAnnotation, LoadImageFromFile,
    LoadNeighbourFrames, LoadPseudoLabel, LoadSemAnnotation, LoadVelodyneDepth,
    project_velodyne_to_depth)
from mmdepthsem.registry import TRANSFORMS

H, W = 20, 30

# A KITTI-like velodyne → camera transform: camera x = -y_velo, y = -z_velo,
# z = x_velo, then translated by T.
VELO_TO_CAM = np.array([[0., -1., 0., 0.1], [0., 0., -1., 0.], [1., 0., 0., -0.5],
                        [0., 0., 0., 1.]])
CAM_TO_IMG = np.array([[100., 0., 20., 5.], [0., 100., 10., 0.], [0., 0., 1., 0.01]])


def write_png(path: str, array: np.ndarray) -> str:
    assert cv2.imwrite(path, array)
    return path


def make_image(tmp_path, name='img.png', shape=(H, W)) -> tuple:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    return write_png(str(tmp_path / name), img), img


def loaded_image(tmp_path, shape=(H, W)) -> dict:
    path, _ = make_image(tmp_path, shape=shape)
    return LoadImageFromFile()(dict(img_path=path))


# --------------------------------------------------------------------- image
def test_load_image_is_bgr_and_shadows_mmcv(tmp_path):
    path, img = make_image(tmp_path)
    results = TRANSFORMS.get('LoadImageFromFile')()(dict(img_path=path))
    assert TRANSFORMS.get('LoadImageFromFile') is LoadImageFromFile
    np.testing.assert_array_equal(results['img'], img)  # cv2 wrote BGR, read BGR
    assert results['img'].dtype == np.uint8
    assert results['img_shape'] == (H, W) and results['ori_shape'] == (H, W)


def test_load_image_bad_files_name_the_file(tmp_path):
    path, _ = make_image(tmp_path)
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        LoadImageFromFile()(dict(img_path=missing))
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(DataFileError, match=r'empty \(0 bytes\).*empty.png'):
        LoadImageFromFile()(dict(img_path=str(empty)))
    truncated = tmp_path / 'truncated.png'
    data = open(path, 'rb').read()
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(DataFileError, match='truncated.png'):
        LoadImageFromFile()(dict(img_path=str(truncated)))
    garbage = tmp_path / 'garbage.png'
    garbage.write_bytes(b'this is not an image at all' * 10)
    with pytest.raises(DataFileError, match='garbage.png'):
        LoadImageFromFile()(dict(img_path=str(garbage)))
    # mmcv's ignore_empty semantics are kept: None lets the dataset refetch.
    assert LoadImageFromFile(ignore_empty=True)(dict(img_path=missing)) is None


# --------------------------------------------------------------------- depth
def test_depth_png_scale_from_results_and_arg(tmp_path):
    results = loaded_image(tmp_path)
    raw = np.zeros((H, W), np.uint16)
    raw[0, 0], raw[1, 2], raw[3, 4] = 1000, 2500, 65535
    results['depth_map_path'] = write_png(str(tmp_path / 'd.png'), raw)
    results['depth_scale'] = 1000.0
    depth = LoadDepthAnnotation()(dict(results))['gt_depth_map']
    assert depth.dtype == np.float32 and depth.shape == (H, W)
    assert depth[0, 0] == 1.0 and depth[1, 2] == 2.5
    assert depth[3, 4] == pytest.approx(65.535)
    assert (depth > 0).sum() == 3
    # The transform's argument overrides the dataset's scale (KITTI: 256).
    depth = LoadDepthAnnotation(depth_scale=256)(dict(results))['gt_depth_map']
    assert depth[1, 2] == pytest.approx(2500 / 256)


def test_depth_npy_non_finite_and_negative_become_zero(tmp_path):
    results = loaded_image(tmp_path)
    raw = np.full((H, W), 2.0, np.float32)
    raw[0, 0], raw[0, 1], raw[0, 2], raw[0, 3] = np.nan, np.inf, -np.inf, -1.0
    np.save(tmp_path / 'd.npy', raw)
    results['depth_map_path'] = str(tmp_path / 'd.npy')
    depth = LoadDepthAnnotation()(results)['gt_depth_map']  # no scale: metres
    np.testing.assert_array_equal(depth[0, :4], 0)
    assert depth[1, 1] == 2.0 and np.isfinite(depth).all()


def test_depth_bad_files(tmp_path):
    results = loaded_image(tmp_path)
    eight_bit = write_png(str(tmp_path / 'd8.png'), np.full((H, W), 7, np.uint8))
    with pytest.raises(DataFileError, match='d8.png.*8-bit'):
        LoadDepthAnnotation(depth_scale=1)(dict(results, depth_map_path=eight_bit))
    allowed = LoadDepthAnnotation(
        depth_scale=1, allow_8bit=True)(
            dict(results, depth_map_path=eight_bit))
    assert allowed['gt_depth_map'][0, 0] == 7
    small = write_png(str(tmp_path / 'small.png'), np.ones((H - 1, W), np.uint16))
    with pytest.raises(DataFileError) as info:
        LoadDepthAnnotation(depth_scale=1)(dict(results, depth_map_path=small))
    assert 'small.png' in str(info.value) and 'img.png' in str(info.value)
    with pytest.raises(FileNotFoundError, match='nope.png'):
        LoadDepthAnnotation(depth_scale=1)(
            dict(results, depth_map_path=str(tmp_path / 'nope.png')))
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(DataFileError, match='empty.png'):
        LoadDepthAnnotation(depth_scale=1)(dict(results, depth_map_path=str(empty)))
    # An integer map without any scale is ambiguous.
    with pytest.raises(KeyError, match='depth_scale'):
        LoadDepthAnnotation()(dict(results, depth_map_path=small))


def test_depth_none_path_gives_invalid_map(tmp_path):
    results = loaded_image(tmp_path)
    depth = LoadDepthAnnotation()(dict(results, depth_map_path=None))['gt_depth_map']
    assert depth.shape == (H, W) and not depth.any()


# ------------------------------------------------------------------ velodyne
# Velodyne points and where they land, computed by hand with VELO_TO_CAM and
# CAM_TO_IMG (cam = (-y, -z, x) + (0.1, 0, -0.5); u = (100 cx + 20 cz + 5) / w,
# v = (100 cy + 10 cz) / w, w = cz + 0.01):
NEAR = (5.0, 0.5, 0.2)  # cam (-0.4, -0.2, 4.5): u = 55/4.51 = 12.2, v = 25/4.51 = 5.5
FAR = (9.5, 0.9, 0.4)  # cam (-0.8, -0.4, 9.0): u = 105/9.01 = 11.7, v = 50/9.01 = 5.5
OTHER = (3.0, 0.2, 0.1)  # cam (-0.1, -0.1, 2.5): u = 45/2.51 = 17.9, v = 15/2.51 = 6.0
BEHIND = (-5.0, 0.5, 0.2)  # x_velo < 0: dropped
OUTSIDE = (5.0, -3.0, 0.2)  # cam (3.1, -0.2, 4.5): u = 405/4.51 = 89.8 > W: dropped


@pytest.mark.parametrize('order', [(FAR, NEAR), (NEAR, FAR)])
def test_velodyne_projection_keeps_nearest(tmp_path, order):
    points = np.array([(*p, 0.5) for p in (*order, OTHER, BEHIND, OUTSIDE)], np.float32)
    points.tofile(tmp_path / 'scan.bin')
    results = loaded_image(tmp_path)
    results.update(
        velodyne_path=str(tmp_path / 'scan.bin'),
        velo_to_cam=VELO_TO_CAM,
        cam_to_img=CAM_TO_IMG)
    depth = LoadVelodyneDepth()(results)['gt_depth_map']
    assert depth.shape == (H, W) and depth.dtype == np.float32
    assert depth[6, 12] == pytest.approx(4.51)  # NEAR wins over FAR on (12, 6)
    assert depth[6, 18] == pytest.approx(2.51)
    assert np.count_nonzero(depth) == 2


def test_velodyne_pixel_offset_and_bad_scan(tmp_path):
    points = np.array([NEAR, OTHER], np.float64)
    depth = project_velodyne_to_depth(
        points, VELO_TO_CAM, CAM_TO_IMG, (H, W), pixel_offset=-1)
    assert depth[5, 11] == pytest.approx(4.51) and depth[5, 17] == pytest.approx(2.51)
    results = loaded_image(tmp_path)
    (tmp_path / 'bad.bin').write_bytes(b'\0' * 20)  # not a multiple of 16 bytes
    results.update(
        velodyne_path=str(tmp_path / 'bad.bin'),
        velo_to_cam=VELO_TO_CAM,
        cam_to_img=CAM_TO_IMG)
    with pytest.raises(DataFileError, match='bad.bin'):
        LoadVelodyneDepth()(results)
    with pytest.raises(KeyError, match='ori_shape'):
        LoadVelodyneDepth()(
            dict(velodyne_path='x.bin', velo_to_cam=VELO_TO_CAM, cam_to_img=CAM_TO_IMG))


# ----------------------------------------------------------------- disparity
def test_cityscapes_disparity_to_depth(tmp_path):
    results = loaded_image(tmp_path)
    raw = np.zeros((H, W), np.uint16)
    raw[0, 0], raw[0, 1], raw[0, 2], raw[0, 3] = 0, 1, 257, 2561
    results.update(
        disparity_path=write_png(str(tmp_path / 'disp.png'), raw),
        camera=dict(baseline=0.2, fx=2000.0, fy=2000.0, u0=15.0, v0=10.0))
    out = LoadCityscapesDisparity()(results)
    # d = (p - 1) / 256 → 0 (invalid), 0, 1, 10; depth = 0.2 * 2000 / d.
    np.testing.assert_allclose(out['gt_disparity_map'][0, :4], [0, 0, 1, 10])
    np.testing.assert_allclose(out['gt_depth_map'][0, :4], [0, 0, 400, 40])
    assert np.count_nonzero(out['gt_depth_map']) == 2
    eight = write_png(str(tmp_path / 'disp8.png'), np.zeros((H, W), np.uint8))
    with pytest.raises(DataFileError, match='disp8.png'):
        LoadCityscapesDisparity()(dict(results, disparity_path=eight))


# -------------------------------------------------------------------- labels
def test_sem_annotation_checks_and_maps(tmp_path):
    results = loaded_image(tmp_path)
    label = np.zeros((H, W), np.uint8)
    label[0, :4] = [0, 5, 39, 255]
    results.update(
        seg_map_path=write_png(str(tmp_path / 'lab.png'), label), seg_fields=[])
    out = LoadSemAnnotation(num_classes=40)(dict(results, seg_fields=[]))
    np.testing.assert_array_equal(out['gt_seg_map'][0, :4], [0, 5, 39, 255])
    assert out['seg_fields'] == ['gt_seg_map']
    reduced = LoadSemAnnotation(num_classes=40)(dict(
        results, seg_fields=[], reduce_zero_label=True))['gt_seg_map']
    np.testing.assert_array_equal(reduced[0, :4], [255, 4, 38, 255])
    mapped = LoadSemAnnotation(
        label_map={
            5: 1,
            39: 255
        }, num_classes=2)(dict(results, seg_fields=[]))['gt_seg_map']
    np.testing.assert_array_equal(mapped[0, :4], [0, 1, 255, 255])
    with pytest.raises(DataFileError) as info:
        LoadSemAnnotation(num_classes=13)(dict(results, seg_fields=[]))
    assert 'lab.png' in str(info.value) and '39' in str(info.value)
    # num_classes can come from the dataset (results).
    with pytest.raises(DataFileError, match='lab.png'):
        LoadSemAnnotation()(dict(results, seg_fields=[], num_classes=39))
    small = write_png(str(tmp_path / 'small.png'), label[:-1])
    with pytest.raises(DataFileError) as info:
        LoadSemAnnotation()(dict(results, seg_fields=[], seg_map_path=small))
    assert 'small.png' in str(info.value) and 'img.png' in str(info.value)


def test_neighbour_frames(tmp_path):
    results = loaded_image(tmp_path)
    prev_path, prev = make_image(tmp_path, 'prev.png')
    next_img = np.full((H, W, 3), (10, 20, 30), np.uint8)
    next_path = write_png(str(tmp_path / 'next.png'), next_img)
    out = LoadNeighbourFrames()(dict(results, frame_paths={-1: prev_path, 1: next_path}))
    assert sorted(out['frames']) == [-1, 1]
    np.testing.assert_array_equal(out['frames'][1][0, 0], (10, 20, 30))  # BGR kept
    np.testing.assert_array_equal(out['frames'][-1], prev)
    with pytest.raises(FileNotFoundError, match='gone.png'):
        LoadNeighbourFrames()(dict(results, frame_paths={1: str(tmp_path / 'gone.png')}))
    big, _ = make_image(tmp_path, 'big.png', shape=(H + 2, W))
    with pytest.raises(DataFileError, match='big.png'):
        LoadNeighbourFrames()(dict(results, frame_paths={1: big}))


def test_pseudo_label_and_confidence(tmp_path):
    results = loaded_image(tmp_path)
    label = np.full((H, W), 255, np.uint8)
    label[0, 0] = 3
    conf = np.zeros((H, W), np.uint16)
    conf[0, 0], conf[0, 1] = 65535, 32768
    results.update(
        seg_fields=[],
        pseudo_seg_map_path=write_png(str(tmp_path / 'pl.png'), label),
        pseudo_conf_path=write_png(str(tmp_path / 'conf.png'), conf))
    out = LoadPseudoLabel(with_conf=True, num_classes=19)(dict(results, seg_fields=[]))
    assert out['gt_pseudo_seg_map'][0, 0] == 3 and out['gt_pseudo_seg_map'][1, 1] == 255
    assert out['seg_fields'] == ['gt_pseudo_seg_map']
    assert out['gt_pseudo_conf'][0, 0] == 1.0
    assert out['gt_pseudo_conf'][0, 1] == pytest.approx(32768 / 65535)
    bad = np.full((H, W), 1.5, np.float32)
    np.save(tmp_path / 'conf.npy', bad)
    with pytest.raises(DataFileError, match='conf.npy'):
        LoadPseudoLabel(with_conf=True)(
            dict(results, seg_fields=[], pseudo_conf_path=str(tmp_path / 'conf.npy')))
    with pytest.raises(DataFileError, match='pl.png'):
        LoadPseudoLabel(num_classes=3)(dict(results, seg_fields=[]))
    assert osp.basename(results['pseudo_seg_map_path']) == 'pl.png'


def test_reprs_name_parameters():
    assert 'depth_scale=256' in repr(LoadDepthAnnotation(depth_scale=256))
    assert 'pixel_offset=-1' in repr(LoadVelodyneDepth(pixel_offset=-1))
    assert 'num_classes=40' in repr(LoadSemAnnotation(num_classes=40))
    assert 'with_conf=True' in repr(LoadPseudoLabel(with_conf=True))
