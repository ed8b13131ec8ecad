"""Tests of the embedded synthetic data generator (renderer geometry and file formats).

Every check recomputes the expected numbers independently (analytic depth of a plane,
reprojection with the known poses, the DATA_FORMATS.md readers written out with numpy,
h5py, scipy and OpenCV) and compares them with what the generator rendered or wrote.
"""
import filecmp
import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from mmdepthsem.datasets.synthetic import (
    CITYSCAPES_CLASSES, NYU_CLASSES, NYU_RAW_ID, TINY_CONFIGS, Box, KITTIConfig, Light,
    Material, NYUConfig, Scene, Sky, camera_rotation, generate_dataset, kitti_calibration,
    kitti_drive, make_pose, nyu_intrinsics, relative_pose, render,
    render_cityscapes_snippet, render_kitti_frame, render_nyu_scene, room_sequence,
    sequence_rng)
from mmdepthsem.datasets.synthetic.classes import NYU40_TO_NYU13

from ..conftest import load_tool

NYU_CFG = TINY_CONFIGS['nyu']
KITTI_CFG = TINY_CONFIGS['kitti']
CITY_CFG = TINY_CONFIGS['cityscapes']
SKY_LABEL = 23
CLI = Path(__file__).resolve(
).parents[2] / 'tools' / 'dataset_converters' / 'generate_synthetic.py'


# --------------------------------------------------------------------------- helpers
def _flat_material() -> Material:
    return Material('plain', (0.5, 0.5, 0.5), contrast=0.0)


def _wall_scene(distance: float) -> Scene:
    """A large wall whose near face is the plane world x = ``distance``, under a sky."""
    wall = Box((distance, -100.0, -100.0), (distance + 1.0, 100.0, 100.0), 7,
               _flat_material())
    return Scene([wall], Light(0.5, 0.5, direction=(0.0, 0.0, 1.0)),
                 Sky((1, 1, 1), (0, 0, 1), SKY_LABEL))


def _intrinsics(height: int, width: int, focal: float) -> np.ndarray:
    return np.array([[focal, 0, (width - 1) / 2], [0, focal * 1.1, (height - 1) / 2],
                     [0, 0, 1]])


def _bilinear(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample ``(H, W, C)`` at float pixel coordinates (inside the image)."""
    h, w = image.shape[:2]
    u0 = np.clip(np.floor(u).astype(int), 0, w - 1)
    v0 = np.clip(np.floor(v).astype(int), 0, h - 1)
    u1, v1 = np.minimum(u0 + 1, w - 1), np.minimum(v0 + 1, h - 1)
    fu, fv = (u - u0)[:, None], (v - v0)[:, None]
    img = image.astype(np.float64)
    top = img[v0, u0] * (1 - fu) + img[v0, u1] * fu
    bottom = img[v1, u0] * (1 - fu) + img[v1, u1] * fu
    return top * (1 - fv) + bottom * fv


def _warp_errors(src, dst):
    """Per-pixel colour error of warping ``src`` into ``dst`` with exact depth and pose.

    Returns the errors on pixels that land inside ``dst`` unoccluded, the errors of the
    same pixels without motion compensation, and the fraction of pixels used.
    """
    h, w = src.depth.shape
    v, u = np.mgrid[0:h, 0:w]
    z = src.depth.ravel().astype(np.float64)
    pix = np.stack([u.ravel(), v.ravel(), np.ones(h * w)])
    points = np.linalg.inv(src.K) @ pix * z
    rel = relative_pose(src.cam_to_world, dst.cam_to_world)
    cam = rel[:3, :3] @ points + rel[:3, 3:]
    proj = dst.K @ cam
    zs = np.where(proj[2] > 0, proj[2], 1.0)
    ud, vd = proj[0] / zs, proj[1] / zs
    ok = (z > 0) & (proj[2] > 0) & (ud >= 0) & (ud <= w - 1) & (vd >= 0) & (vd <= h - 1)
    ui, vi = np.rint(ud[ok]).astype(int), np.rint(vd[ok]).astype(int)
    unoccluded = np.abs(dst.depth[vi, ui] - cam[2, ok]) < 0.03 * cam[2, ok]
    idx = np.flatnonzero(ok)[unoccluded]
    src_rgb = src.rgb.reshape(-1, 3)[idx].astype(np.float64)
    warped = np.abs(src_rgb - _bilinear(dst.rgb, ud[idx], vd[idx])).mean(axis=1)
    static = np.abs(src_rgb - dst.rgb.reshape(-1, 3)[idx]).mean(axis=1)
    return warped, static, idx.size / (h * w)


def _read_kitti_calib(path) -> dict:
    lines = path.read_text().splitlines() if isinstance(path, Path) else path
    values = {}
    for line in lines:
        key, rest = line.split(':', 1)
        try:
            values[key] = np.array([float(x) for x in rest.split()])
        except ValueError:
            values[key] = rest.strip()
    return values


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    """Tiny NYU, KITTI and Cityscapes sets written once (seed 0)."""
    root = tmp_path_factory.mktemp('synthetic')
    for name in ('nyu', 'kitti', 'cityscapes'):
        generate_dataset(name, root, seed=0, config=TINY_CONFIGS[name])
    return root


# --------------------------------------------------------------------------- renderer
def test_plane_depth_is_camera_z_not_ray_length():
    height, width, distance = 24, 40, 5.0
    K = _intrinsics(height, width, 30.0)
    pose = make_pose(camera_rotation(0.0, 0.0, 0.0), (0.0, 0.0, 0.0))  # looks along +x
    out = render(_wall_scene(distance), K, pose, height, width)
    assert out.depth.dtype == np.float32
    np.testing.assert_allclose(out.depth, distance, atol=1e-5)
    # the corner ray is long: its euclidean length differs from the camera z by > 10 %
    corner = np.linalg.inv(K) @ np.array([0.0, 0.0, 1.0])
    assert np.linalg.norm(corner) * distance > 1.1 * out.depth[0, 0]


def test_rotated_camera_depth_matches_analytic_intersection():
    height, width, distance = 24, 40, 4.0
    K = _intrinsics(height, width, 25.0)
    rotation = camera_rotation(np.deg2rad(25.0), np.deg2rad(-10.0), np.deg2rad(5.0))
    origin = np.array([0.5, -0.3, 0.2])
    out = render(_wall_scene(distance), K, make_pose(rotation, origin), height, width)
    v, u = np.mgrid[0:height, 0:width]
    rays_cam = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(K).T  # camera z = 1
    rays_world = rays_cam @ rotation.T
    expected = (distance - origin[0]) / rays_world[..., 0]  # camera z at the plane
    assert expected.min() > 0
    np.testing.assert_allclose(out.depth, expected, rtol=1e-5)
    assert out.depth.std() > 0.2  # off-centre pixels really differ


def test_labels_and_box_index_follow_the_primitive_hit():
    height, width = 20, 40
    K = _intrinsics(height, width, 20.0)
    left = Box((6.0, 0.0, -1.0), (7.0, 10.0, 1.0), 7,
               _flat_material())  # world y > 0: left
    right = Box((3.0, -10.0, -1.0), (4.0, 0.0, 1.0), 9, _flat_material())
    scene = Scene([left, right], Light(0.5, 0.5, direction=(0, 0, 1)),
                  Sky((1, 1, 1), (0, 0, 1), SKY_LABEL))
    out = render(scene, K, make_pose(camera_rotation(0, 0, 0), (0, 0, 0)), height, width)
    row = height // 2
    assert out.label[row, 2] == 7 and out.box_index[row, 2] == 0
    assert out.label[row, width - 3] == 9 and out.box_index[row, width - 3] == 1
    assert out.depth[row, 2] == pytest.approx(6.0, abs=1e-5)
    assert out.depth[row, width - 3] == pytest.approx(3.0, abs=1e-5)
    assert out.label[0, 2] == SKY_LABEL and out.box_index[0, 2] == -1
    assert out.depth[0, 2] == 0
    # every pixel's label is the label of the box it reports
    labels = np.array([7, 9])
    hit = out.box_index >= 0
    np.testing.assert_array_equal(out.label[hit], labels[out.box_index[hit]])


def test_rendering_is_deterministic_and_seed_dependent():
    K = nyu_intrinsics(30, 40)
    scene_a, poses_a = room_sequence(sequence_rng(3, 'nyu', 0), 2, 0)
    scene_b, poses_b = room_sequence(sequence_rng(3, 'nyu', 0), 2, 0)
    scene_c, poses_c = room_sequence(sequence_rng(4, 'nyu', 0), 2, 0)
    a = render(scene_a, K, poses_a[1], 30, 40)
    b = render(scene_b, K, poses_b[1], 30, 40)
    c = render(scene_c, K, poses_c[1], 30, 40)
    np.testing.assert_array_equal(a.rgb, b.rgb)
    np.testing.assert_array_equal(a.depth, b.depth)
    assert np.abs(a.depth - c.depth).max() > 0.1


@pytest.mark.parametrize('kind', ['room', 'street'])
def test_neighbouring_frames_are_view_consistent(kind):
    if kind == 'room':
        cfg = NYUConfig(
            height=60, width=80, num_scenes=2, frames_per_scene=2, num_test_scenes=1)
        src, dst = render_nyu_scene(0, 0, cfg).frames
    else:
        cfg = KITTIConfig(height=64, width=208, num_drives=2, frames_per_drive=4)
        src, dst = render_kitti_frame(0, 0, 1,
                                      cfg).left, render_kitti_frame(0, 0, 2, cfg).left
    warped, static, used = _warp_errors(src, dst)
    assert used > 0.5  # strong overlap between neighbours
    assert np.median(warped) < 1.5  # grey levels out of 255
    assert warped.mean() < 0.35 * static.mean()  # the warp explains the motion


# --------------------------------------------------------------------------- NYU
def test_nyu_labeled_mat_reads_back_with_the_documented_transposes(generated):
    root = generated / 'nyu'
    scenes = [render_nyu_scene(0, i, NYU_CFG) for i in range(NYU_CFG.num_scenes)]
    frames = [f for s in scenes for f in s.frames]
    with h5py.File(root / 'nyu_depth_v2_labeled.mat', 'r') as mat:
        n = len(frames)
        assert mat['images'].shape == (n, 3, NYU_CFG.width, NYU_CFG.height)
        assert mat['images'].dtype == np.uint8 and mat['labels'].dtype == np.uint16
        images = mat['images'][:].transpose(0, 3, 2, 1)
        depths = mat['depths'][:].transpose(0, 2, 1)
        labels = mat['labels'][:].transpose(0, 2, 1)
        raw = mat['rawDepths'][:].transpose(0, 2, 1)
    np.testing.assert_array_equal(images, np.stack([f.rgb for f in frames]))
    np.testing.assert_array_equal(depths, np.stack([f.depth for f in frames]))
    np.testing.assert_array_equal(labels, np.stack([f.label for f in frames]))
    holes = raw == 0
    np.testing.assert_array_equal(raw[~holes], depths[~holes])
    assert np.all(holes[labels == NYU_RAW_ID['window']])
    assert 0 < labels.max() <= 894 and depths.max() < 10.0
    with open(root / 'nyu_depth_v2_labeled.mat', 'rb') as fh:
        assert fh.read(10) == b'MATLAB 7.3'


def test_nyu_splits_are_one_based_disjoint_and_match_the_lists(generated):
    root = generated / 'nyu'
    splits = scipy.io.loadmat(root / 'splits.mat')
    train, test = splits['trainNdxs'], splits['testNdxs']
    assert train.shape[1] == 1 and test.shape[1] == 1
    n = NYU_CFG.num_scenes * NYU_CFG.frames_per_scene
    everything = np.sort(np.concatenate([train.ravel(), test.ravel()]))
    np.testing.assert_array_equal(everything, np.arange(1, n + 1))  # 1-based, no overlap
    scene_names = [
        render_nyu_scene(0, i, NYU_CFG).name for i in range(NYU_CFG.num_scenes)
    ]
    lines = (root / 'nyudepthv2_test_files_with_gt.txt').read_text().splitlines()
    assert len(lines) == test.size
    focal = nyu_intrinsics(NYU_CFG.height, NYU_CFG.width)[0, 0]
    for index, line in zip(test.ravel() - 1, lines):
        rgb, depth, f = line.split()
        scene, frame = divmod(int(index), NYU_CFG.frames_per_scene)
        assert rgb == f'{scene_names[scene]}/rgb_{frame:05d}.jpg'
        assert depth == f'{scene_names[scene]}/sync_depth_{frame:05d}.png'
        assert float(f) == pytest.approx(focal, abs=1e-3)


def test_nyu_dense_layout_and_class_mappings(generated):
    root = generated / 'nyu'
    scene = render_nyu_scene(0, 1, NYU_CFG)
    frame = scene.frames[2]
    depth_png = cv2.imread(
        str(root / 'sync' / scene.name / 'sync_depth_00002.png'), cv2.IMREAD_UNCHANGED)
    assert depth_png.dtype == np.uint16
    np.testing.assert_allclose(depth_png / 1000.0, frame.depth, atol=0.5e-3 + 1e-6)
    jpg = cv2.imread(str(root / 'sync' / scene.name / 'rgb_00002.jpg'))[..., ::-1]
    assert np.abs(jpg.astype(int) - frame.rgb).mean() < 4.0
    map40 = scipy.io.loadmat(root / 'classMapping40.mat')['mapClass']
    map13 = scipy.io.loadmat(root / 'classMapping13.mat')['mapClass']
    assert map40.shape == (1, 894) and map13.shape == (1, 894)
    assert 1 <= map40.min() and map40.max() <= 40 and 1 <= map13.min() and map13.max(
    ) <= 13
    for cls in NYU_CLASSES:
        assert map40[0, cls.raw_id - 1] == cls.nyu40_id
        assert map13[0, cls.raw_id - 1] == NYU40_TO_NYU13[cls.nyu40_id]
    assert map40[0, NYU_RAW_ID['wall'] - 1] == 1 and map13[0,
                                                           NYU_RAW_ID['wall'] - 1] == 12
    struct = scipy.io.loadmat(root / 'class13Mapping.mat')['classMapping13'][0, 0]
    np.testing.assert_array_equal(struct['labelIdx'].ravel(), NYU40_TO_NYU13[1:])


# --------------------------------------------------------------------------- KITTI
def test_kitti_velodyne_projection_reproduces_rendered_depth(generated):
    root = generated / 'kitti' / KITTI_CFG.date
    cam = _read_kitti_calib(root / 'calib_cam_to_cam.txt')
    velo = _read_kitti_calib(root / 'calib_velo_to_cam.txt')
    P = cam['P_rect_02'].reshape(3, 4)
    assert abs(P[0, 3]) > 1.0  # camera 02 is offset from the reference camera
    R_rect = np.eye(4)
    R_rect[:3, :3] = cam['R_rect_00'].reshape(3, 3)
    velo_to_cam = np.eye(4)
    velo_to_cam[:3, :3] = velo['R'].reshape(3, 3)
    velo_to_cam[:3, 3] = velo['T']
    width, height = cam['S_rect_02'].astype(int)
    assert (height, width) == (KITTI_CFG.height, KITTI_CFG.width)
    drive, frame = '2011_09_26_drive_0001_sync', 2
    points = np.fromfile(
        root / drive / 'velodyne_points' / 'data' / f'{frame:010d}.bin',
        dtype=np.float32).reshape(-1, 4)
    assert (points[:, 0] < 0).sum() > 100  # a full sweep, also behind the car
    points = points[points[:, 0] >= 0]  # in front of the sensor
    hom = np.hstack([points[:, :3], np.ones((len(points), 1))]).astype(np.float64)
    proj = hom @ (P @ R_rect @ velo_to_cam).T
    proj = proj[proj[:, 2] > 0]
    u = np.round(proj[:, 0] / proj[:, 2]).astype(int)
    v = np.round(proj[:, 1] / proj[:, 2]).astype(int)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    gt = np.zeros((height, width))
    order = np.argsort(-proj[inside, 2])  # nearest written last wins
    gt[v[inside][order], u[inside][order]] = proj[inside, 2][order]
    rendered = render_kitti_frame(0, 0, frame, KITTI_CFG).left.depth
    hit = gt > 0
    assert hit.sum() > 0.1 * height * width
    np.testing.assert_allclose(gt[hit], rendered[hit], atol=1e-3)
    assert np.all(rendered[hit] > 0)  # no points on the sky


def test_kitti_image_02_is_rendered_from_the_calibrated_camera():
    cfg = KITTIConfig(height=96, width=320, num_drives=2, frames_per_drive=3)
    calib = kitti_calibration(cfg.height, cfg.width)
    cam = _read_kitti_calib(calib.cam_to_cam_lines())
    velo = _read_kitti_calib(calib.velo_to_cam_lines())
    P = cam['P_rect_02'].reshape(3, 4)
    K = P[:, :3]
    to_cam2 = np.eye(4)  # [I | K^-1 p4] . R_rect_00 . [R | T]
    to_cam2[:3, 3] = np.linalg.solve(K, P[:, 3])
    r_rect = np.eye(4)
    r_rect[:3, :3] = cam['R_rect_00'].reshape(3, 3)
    velo_to_cam = np.eye(4)
    velo_to_cam[:3, :3] = velo['R'].reshape(3, 3)
    velo_to_cam[:3, 3] = velo['T']
    to_cam2 = to_cam2 @ r_rect @ velo_to_cam
    scene, velo_poses = kitti_drive(0, 1, cfg)
    ours = render(scene, K, velo_poses[1] @ np.linalg.inv(to_cam2), cfg.height, cfg.width)
    theirs = render_kitti_frame(0, 1, 1, cfg).left
    both = (ours.depth > 0) & (theirs.depth > 0)
    assert both.mean() > 0.5
    close = np.abs(ours.depth - theirs.depth) <= 1e-3 * theirs.depth
    assert close[both].mean() > 0.995  # a 6 cm camera offset would break ~30 % of pixels
    np.testing.assert_array_equal(ours.depth == 0, theirs.depth == 0)


def test_kitti_stereo_pair_matches_baseline(generated):
    root = generated / 'kitti' / KITTI_CFG.date
    cam = _read_kitti_calib(root / 'calib_cam_to_cam.txt')
    P2, P3 = cam['P_rect_02'].reshape(3, 4), cam['P_rect_03'].reshape(3, 4)
    baseline = (P2[0, 3] - P3[0, 3]) / P2[0, 0]
    assert baseline == pytest.approx(0.54, abs=1e-3)
    drive = root / '2011_09_26_drive_0001_sync'
    left = cv2.imread(str(drive / 'image_02' / 'data' / '0000000001.png'))[..., ::-1]
    right = cv2.imread(str(drive / 'image_03' / 'data' / '0000000001.png'))[..., ::-1]
    depth = render_kitti_frame(0, 0, 1, KITTI_CFG).left.depth
    v, u = np.nonzero(depth > 0)
    u_right = u - P2[0, 0] * baseline / depth[v, u]
    keep = u_right >= 0
    shifted = np.abs(
        _bilinear(right, u_right[keep], v[keep].astype(float)) -
        left[v[keep], u[keep]]).mean(axis=1)
    unshifted = np.abs(right[v[keep], u[keep]].astype(float) -
                       left[v[keep], u[keep]]).mean(1)
    assert np.median(shifted) < 2.0
    assert shifted.mean() < 0.5 * unshifted.mean()


def test_kitti_annotated_depth_and_split_files(generated):
    kitti = generated / 'kitti'
    drive = '2011_09_26_drive_0001_sync'
    png = cv2.imread(
        str(kitti / 'data_depth_annotated' / drive / 'proj_depth' / 'groundtruth' /
            'image_02' / '0000000003.png'), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16
    rendered = render_kitti_frame(0, 0, 3, KITTI_CFG).left.depth
    valid = png > 0
    assert 0.05 < valid.mean() < 0.6  # sparse
    np.testing.assert_allclose(png[valid] / 256.0, rendered[valid], atol=0.5 / 256 + 1e-6)
    zhou = (kitti / 'splits' / 'eigen_zhou' / 'train_files.txt').read_text().splitlines()
    zhou += (kitti / 'splits' / 'eigen_zhou' / 'val_files.txt').read_text().splitlines()
    test = (kitti / 'splits' / 'eigen' / 'test_files.txt').read_text().splitlines()
    for line in zhou + test:
        folder, index, side = line.split()
        assert folder.startswith('2011_09_26/2011_09_26_drive_') and side in 'lr'
        frames = kitti / folder / 'image_02' / 'data'
        assert (frames / f'{int(index):010d}.png').is_file()
    for line in zhou:  # self-supervised training needs both neighbours
        folder, index, _ = line.split()
        for neighbour in (int(index) - 1, int(index) + 1):
            frames = kitti / folder / 'image_02' / 'data'
            assert (frames / f'{neighbour:010d}.png').is_file()
    assert not {x.split()[0] for x in zhou} & {x.split()[0] for x in test}
    rgb, depth, focal = (
        kitti / 'splits' / 'supervised' /
        'eigen_train_files_with_gt.txt').read_text().splitlines()[0].split()
    assert (kitti / rgb).is_file() and (kitti / 'data_depth_annotated' /
                                                depth).is_file()
    assert float(focal) == pytest.approx(0.58 * KITTI_CFG.width, abs=1e-3)


# --------------------------------------------------------------------------- Cityscapes
def test_cityscapes_disparity_decodes_to_rendered_depth(generated):
    city = generated / 'cityscapes'
    stem = 'aachen_000001_000019'
    disparity = cv2.imread(
        str(city / 'disparity' / 'train' / 'aachen' / f'{stem}_disparity.png'),
        cv2.IMREAD_UNCHANGED)
    camera = json.loads(
        (city / 'camera' / 'train' / 'aachen' / f'{stem}_camera.json').read_text())
    assert set(camera['extrinsic']) >= {'baseline', 'pitch', 'roll', 'yaw', 'x', 'y', 'z'}
    assert set(camera['intrinsic']) == {'fx', 'fy', 'u0', 'v0'}
    baseline, fx = camera['extrinsic']['baseline'], camera['intrinsic']['fx']
    rendered = render_cityscapes_snippet(0, 'aachen', 1, CITY_CFG)[19]
    valid = disparity > 0
    assert valid.mean() > 0.3
    assert np.all(~valid[rendered.depth == 0])  # sky has no disparity
    disp = (disparity[valid].astype(np.float64) - 1) / 256.0
    true_disp = baseline * fx / rendered.depth[valid]
    np.testing.assert_array_less(np.abs(disp - true_disp), 0.5 / 256 + 1e-6)
    depth = baseline * fx / disp
    np.testing.assert_allclose(
        depth, rendered.depth[valid], rtol=0.5 / 256 / disp.min() + 1e-4)


def test_cityscapes_labels_and_sequence_frames(generated):
    city = generated / 'cityscapes'
    stem = 'frankfurt_000000_000019'
    label_ids = cv2.imread(
        str(city / 'gtFine' / 'val' / 'frankfurt' / f'{stem}_gtFine_labelIds.png'),
        cv2.IMREAD_UNCHANGED)
    train_ids = cv2.imread(
        str(city / 'gtFine' / 'val' / 'frankfurt' / f'{stem}_gtFine_labelTrainIds.png'),
        cv2.IMREAD_UNCHANGED)
    rendered = render_cityscapes_snippet(0, 'frankfurt', 0, CITY_CFG)
    np.testing.assert_array_equal(label_ids, rendered[19].label)
    table = {c.label_id: c.train_id for c in CITYSCAPES_CLASSES}
    expected = np.vectorize(lambda i: table.get(int(i), 255))(label_ids)
    np.testing.assert_array_equal(train_ids, expected)
    assert {7, 23} <= set(np.unique(label_ids).tolist())  # road and sky are visible
    annotated = city / 'leftImg8bit' / 'val' / 'frankfurt' / f'{stem}_leftImg8bit.png'
    for offset in CITY_CFG.sequence_offsets:
        seq = (
            city / 'leftImg8bit_sequence' / 'val' / 'frankfurt' /
            f'frankfurt_000000_{19 + offset:06d}_leftImg8bit.png')
        image = cv2.imread(str(seq))[..., ::-1]
        np.testing.assert_array_equal(image, rendered[19 + offset].rgb)
        if offset == 0:
            assert filecmp.cmp(seq, annotated, shallow=False)


# --------------------------------------------------------------------------- generation
def test_same_seed_gives_identical_files_and_other_seed_differs(generated, tmp_path):
    for name in ('nyu', 'kitti', 'cityscapes'):
        generate_dataset(name, tmp_path / 'again', seed=0, config=TINY_CONFIGS[name])
        files = json.loads(
            (generated / name / 'synthetic_manifest.json').read_text())['files']
        assert files
        match, mismatch, errors = filecmp.cmpfiles(
            generated / name, tmp_path / 'again' / name, files, shallow=False)
        assert not mismatch and not errors, (name, mismatch[:3], errors[:3])
    generate_dataset('nyu', tmp_path / 'other', seed=1, config=NYU_CFG)
    assert not filecmp.cmp(
        generated / 'nyu' / 'nyu_depth_v2_labeled.mat',
        tmp_path / 'other' / 'nyu' / 'nyu_depth_v2_labeled.mat',
        shallow=False)


def test_generation_skips_up_to_date_output_and_protects_foreign_folders(
        tmp_path, capsys):
    main = load_tool(CLI).main
    args = ['cityscapes', '--preset', 'tiny', '--out', str(tmp_path), '--workers', '1']
    assert main(args) == 0
    assert 'wrote 28 files' in capsys.readouterr().out  # 27 + the labelled split
    split = (tmp_path / 'cityscapes' / 'splits' / 'train_1-5_seed0.txt').read_text()
    frames = sorted(p.relative_to(tmp_path / 'cityscapes' / 'leftImg8bit' / 'train')
                    for p in (tmp_path / 'cityscapes' / 'leftImg8bit' / 'train').rglob(
                        '*_leftImg8bit.png'))
    names = split.split()
    assert len(names) == max(1, len(frames) // 5) == len(set(names))
    assert {f'{n}_leftImg8bit.png' for n in names} <= {str(f) for f in frames}
    assert main(args) == 0
    assert 'up to date' in capsys.readouterr().out
    assert main(args + ['--seed', '5']) == 0  # other arguments: regenerated
    assert 'wrote' in capsys.readouterr().out
    foreign = tmp_path / 'elsewhere'
    (foreign / 'nyu').mkdir(parents=True)
    (foreign / 'nyu' / 'precious.txt').write_text('not ours')
    with pytest.raises(FileExistsError, match='not written by the synthetic generator'):
        generate_dataset('nyu', foreign, config=NYU_CFG)
    assert (foreign / 'nyu' / 'precious.txt').is_file()
