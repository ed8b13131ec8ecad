"""Numerical tests of the geometry-consistent transforms.

A synthetic scene of known 3-D points is rendered with intrinsics K: a Gaussian blob per
point in the image (and the frames), a 5 x 5 patch of its depth in ``gt_depth_map`` and of
its disparity ``fx B / Z`` in ``gt_disparity_map``. After a transform, each blob must sit
where the (correspondingly moved) 3-D point projects with the new K, and the depth /
disparity read there must be the point's new depth / ``fx' B / Z'``.
"""
import numpy as np
import pytest

from mmdepthsem.datasets.transforms import (CenterCrop, KBCrop, RandomCrop, RandomFlip,
                                            RandomResize, Resize)
from mmdepthsem.registry import TRANSFORMS

H, W = 120, 160
K0 = np.array([[100., 0., 79.3], [0., 110., 61.7], [0., 0., 1.]], dtype=np.float32)
POINTS_3D = np.array([[-0.5, -0.2, 2.0], [0.6, 0.3, 3.0], [0.1, -0.35, 4.0],
                      [-0.7, 0.4, 5.0]])
BASELINE = 0.5  # metres
SIGMA = 2.0  # blob size, pixels
CHANNEL_GAIN = np.array([1.0, 0.8, 0.6])  # distinct channels, so a BGR swap is visible


def project(k: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(N, 3) camera points → (N, 2) pixel (x, y), pixel centres at integers."""
    uvw = pts @ np.asarray(k, dtype=np.float64).T
    return uvw[:, :2] / uvw[:, 2:]


def render_blobs(uv: np.ndarray, hw=(H, W)) -> np.ndarray:
    ys, xs = np.mgrid[:hw[0], :hw[1]]
    img = np.zeros(hw)
    for u, v in uv:
        img += 220 * np.exp(-((xs - u) ** 2 + (ys - v) ** 2) / (2 * SIGMA ** 2))
    img = img[..., None] * CHANNEL_GAIN
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make_scene(hw=(H, W), k=K0, pts=POINTS_3D) -> dict:
    uv = project(k, pts)
    depth = np.zeros(hw, np.float32)
    disparity = np.zeros(hw, np.float32)
    for (u, v), z in zip(uv, pts[:, 2]):
        r, c = int(round(v)), int(round(u))
        depth[r - 2:r + 3, c - 2:c + 3] = z
        disparity[r - 2:r + 3, c - 2:c + 3] = k[0, 0] * BASELINE / z
    img = render_blobs(uv, hw)
    rows, cols = np.mgrid[:hw[0], :hw[1]]
    return dict(
        img=img,
        frames={-1: img[..., ::-1].copy(), 1: img.copy()},
        gt_depth_map=depth,
        gt_disparity_map=disparity,
        gt_seg_map=(depth > 0).astype(np.uint8) * 3,
        gt_fg_mask=(depth > 0).astype(np.uint8),
        gt_pseudo_conf=np.where(depth > 0, 0.9, 0.4).astype(np.float32),
        x_code=cols.astype(np.int32),
        y_code=rows.astype(np.int32),
        seg_fields=['gt_seg_map', 'gt_depth_map', 'x_code', 'y_code'],
        intrinsics=np.asarray(k, np.float32).copy(),
        camera=dict(baseline=BASELINE, fx=float(k[0, 0]), fy=float(k[1, 1]),
                    u0=float(k[0, 2]), v0=float(k[1, 2])),
        points=uv.astype(np.float32),
        img_shape=hw,
        ori_shape=hw)


def blob_centroid(img: np.ndarray, guess: np.ndarray, radius: float) -> np.ndarray:
    """Intensity-weighted centroid (x, y) of channel 0 within ``radius`` of ``guess``."""
    g = img[..., 0].astype(np.float64)
    ys, xs = np.mgrid[:g.shape[0], :g.shape[1]]
    mask = (xs - guess[0]) ** 2 + (ys - guess[1]) ** 2 <= radius ** 2
    w = g * mask
    return np.array([(w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()])


def assert_consistent(out: dict, pts_new: np.ndarray, blob_scale: float = 1.0,
                      tol: float = 0.2) -> None:
    """Blobs, depth, disparity and points agree with ``pts_new`` under ``out``'s K."""
    k = out['intrinsics']
    uv = project(k, pts_new)
    radius = max(8.0, 4 * SIGMA * blob_scale)
    for (u, v), z in zip(uv, pts_new[:, 2]):
        np.testing.assert_allclose(blob_centroid(out['img'], (u, v), radius), (u, v),
                                   atol=tol)
        r, c = int(round(v)), int(round(u))
        assert out['gt_depth_map'][r, c] == pytest.approx(z, rel=1e-5)
        assert out['gt_disparity_map'][r, c] == pytest.approx(k[0, 0] * BASELINE / z,
                                                              rel=1e-4)
        assert out['gt_seg_map'][r, c] == 3 and out['gt_fg_mask'][r, c] == 1
    np.testing.assert_allclose(out['points'], uv, atol=0.02)
    cam = out['camera']
    np.testing.assert_allclose([cam['fx'], cam['fy'], cam['u0'], cam['v0']],
                               [k[0, 0], k[1, 1], k[0, 2], k[1, 2]], rtol=1e-6)
    assert out['img_shape'] == out['img'].shape[:2]


def assert_frames_follow_img(out: dict) -> None:
    np.testing.assert_array_equal(out['frames'][1], out['img'])
    np.testing.assert_array_equal(out['frames'][-1], out['img'][..., ::-1])


# ----------------------------------------------------------------------------- Resize
@pytest.mark.parametrize('scale_factor', [0.5, 2.0, (0.75, 1.5)])
def test_resize_keep_metric_projection(scale_factor):
    out = Resize(scale_factor=scale_factor)(make_scene())
    sx, sy = (scale_factor, scale_factor) if np.isscalar(scale_factor) else scale_factor
    assert out['img'].shape[:2] == (int(H * sy + .5), int(W * sx + .5))
    # fx, cx scale about the pixel-centre grid: cx' = (cx + 0.5) sx - 0.5.
    k = out['intrinsics']
    np.testing.assert_allclose([k[0, 0], k[1, 1]], [K0[0, 0] * sx, K0[1, 1] * sy])
    np.testing.assert_allclose([k[0, 2], k[1, 2]],
                               [(K0[0, 2] + .5) * sx - .5, (K0[1, 2] + .5) * sy - .5],
                               rtol=1e-6)
    assert_consistent(out, POINTS_3D, blob_scale=max(sx, sy))
    assert_frames_follow_img(out)
    assert out['scale_factor'] == pytest.approx((sx, sy))
    assert out['ori_shape'] == (H, W)


def test_resize_scale_keep_ratio_and_cumulative_scale_factor():
    results = dict(img=np.zeros((100, 300, 3), np.uint8))
    out = Resize(scale=(600, 100), keep_ratio=True)(results)
    # long edge <= 600 and short edge <= 100 -> factor 1.
    assert out['img'].shape[:2] == (100, 300)
    out = Resize(scale=(150, 1000), keep_ratio=True)(out)  # long <= 1000, short <= 150
    assert out['img'].shape[:2] == (150, 450) and out['scale'] == (450, 150)
    out = Resize(scale=(90, 30))(out)  # keep_ratio=False: exact (w, h)
    assert out['img'].shape[:2] == (30, 90)
    assert out['scale_factor'] == pytest.approx((90 / 300, 30 / 100))


def test_nearest_resize_introduces_no_new_values():
    rng = np.random.default_rng(0)
    depth = np.where(rng.random((57, 83)) < 0.05, rng.uniform(1, 80, (57, 83)), 0)
    labels = rng.integers(0, 19, (57, 83)).astype(np.uint8)
    labels[rng.random((57, 83)) < 0.2] = 255
    for factor in (0.37, 1.7):
        out = Resize(scale_factor=factor)(dict(
            img=np.zeros((57, 83, 3), np.uint8), gt_depth_map=depth.astype(np.float32),
            gt_seg_map=labels, gt_pseudo_conf=depth.astype(np.float32) / 80))
        assert set(np.unique(out['gt_depth_map'])) <= set(np.unique(depth.astype(
            np.float32)))
        assert set(np.unique(out['gt_seg_map'])) <= set(np.unique(labels))
        assert out['gt_depth_map'].dtype == np.float32
        assert out['gt_seg_map'].dtype == np.uint8
    # Upscaling by 2 repeats each value in a 2 x 2 block (centre-aligned grid).
    up = Resize(scale_factor=2.0)(dict(img=np.zeros((57, 83, 3), np.uint8),
                                       gt_seg_map=labels))
    np.testing.assert_array_equal(up['gt_seg_map'], labels.repeat(2, 0).repeat(2, 1))
    # Downscaling by 3 keeps the centre pixel of each 3 x 3 block, aligned with the
    # bilinear image grid (cv2's INTER_NEAREST would keep the top-left one).
    codes = np.arange(9 * 12, dtype=np.int32).reshape(9, 12)
    down = Resize(scale=(4, 3))(dict(img=np.zeros((9, 12, 3), np.uint8),
                                     gt_depth_map=codes.astype(np.float32)))
    np.testing.assert_array_equal(down['gt_depth_map'], codes[1::3, 1::3])


def test_disparity_scales_with_horizontal_factor():
    disp = np.full((40, 60), 10., np.float32)
    disp[:5] = 0
    base = dict(img=np.zeros((40, 60, 3), np.uint8), intrinsics=K0.copy())
    for mode in ('keep_metric', 'divide'):
        out = Resize(scale=(30, 40), depth_mode=mode)(dict(base, gt_disparity_map=disp))
        assert set(np.unique(out['gt_disparity_map'])) == {0., 5.}
    out = RandomFlip(prob=1.)(dict(base, gt_disparity_map=disp.copy()))
    assert set(np.unique(out['gt_disparity_map'])) == {0., 10.}


# ------------------------------------------------------------------------ RandomResize
def test_random_resize_divide_moves_scene_closer():
    s = 1.5
    out = RandomResize(ratios=(s, ), depth_mode='divide')(make_scene())
    assert out['img'].shape[:2] == (int(H * s + .5), int(W * s + .5))
    k = out['intrinsics']
    # Focal lengths unchanged; the principal point moves with the pixel grid.
    np.testing.assert_allclose([k[0, 0], k[1, 1]], [K0[0, 0], K0[1, 1]], rtol=1e-6)
    np.testing.assert_allclose(k[:2, 2], (K0[:2, 2] + .5) * s - .5, rtol=1e-6)
    closer = POINTS_3D * [1, 1, 1 / s]  # depth / s, lateral position kept
    assert_consistent(out, closer, blob_scale=s)
    assert_frames_follow_img(out)
    # Depth values are exactly divided by s.
    assert set(np.unique(out['gt_depth_map'])) == {0.} | set(
        np.float32(POINTS_3D[:, 2] / s))


def test_random_resize_keep_metric_zooms_camera():
    s = 1.5
    out = RandomResize(ratios=(s, ), depth_mode='keep_metric')(make_scene())
    np.testing.assert_allclose(out['intrinsics'][0, 0], K0[0, 0] * s, rtol=1e-6)
    assert_consistent(out, POINTS_3D, blob_scale=s)
    assert set(np.unique(out['gt_depth_map'])) == {0.} | set(
        np.float32(POINTS_3D[:, 2]))


def test_depth_in_seg_fields_is_processed_once():
    # mmseg's LoadDepthAnnotation appends 'gt_depth_map' to seg_fields.
    scene = make_scene()
    assert 'gt_depth_map' in scene['seg_fields']
    out = RandomResize(ratios=(2.0, ), depth_mode='divide')(scene)
    assert out['gt_depth_map'].max() == pytest.approx(POINTS_3D[:, 2].max() / 2)
    out = RandomCrop(crop_size=(300, 400))(out)  # pads with 0, not 255
    assert out['gt_depth_map'][-1, -1] == 0


def test_random_resize_sampling_modes():
    np.random.seed(0)
    img = dict(img=np.zeros((100, 200, 3), np.uint8))
    t = RandomResize(scale=(400, 100), ratio_range=(0.5, 2.0), keep_ratio=True)
    for _ in range(5):
        out = t(dict(img))
        h, w = out['img'].shape[:2]
        assert 50 <= h <= 200 and w == pytest.approx(2 * h, abs=1)
    t = RandomResize(scale=[(100, 50), (120, 60)])
    for _ in range(5):
        h, w = t(dict(img))['img'].shape[:2]
        assert 100 <= w <= 120 and 50 <= h <= 60
    t = RandomResize(ratios=(1.0, 1.2, 1.5))
    widths = {t(dict(img))['img'].shape[1] for _ in range(30)}
    assert widths == {200, 240, 300}
    with pytest.raises(ValueError):
        RandomResize(ratio_range=(0.5, 2), ratios=(1, 2))
    with pytest.raises(ValueError):
        RandomResize(ratios=(1.2, ), depth_mode='metric')


# -------------------------------------------------------------------------- Cropping
def test_random_crop_offsets_intrinsics_points():
    np.random.seed(3)
    t = RandomCrop(crop_size=(100, 140))
    for _ in range(4):
        out = t(make_scene())
        assert out['img'].shape[:2] == (100, 140)
        x0, y0 = int(out['x_code'][0, 0]), int(out['y_code'][0, 0])
        np.testing.assert_array_equal(out['x_code'][0], np.arange(x0, x0 + 140))
        np.testing.assert_allclose(out['intrinsics'][:2, 2], K0[:2, 2] - [x0, y0],
                                   atol=1e-4)
        np.testing.assert_allclose(out['intrinsics'][[0, 1], [0, 1]], K0[[0, 1], [0, 1]])
        assert_consistent(out, POINTS_3D, tol=0.02)  # crops are exact
        assert_frames_follow_img(out)


def test_crop_drops_points_outside():
    results = dict(img=np.zeros((50, 50, 3), np.uint8),
                   points=np.array([[5., 5.], [40., 45.], [20., 30.]], np.float32))
    out = CenterCrop(crop_size=(20, 30))(results)  # (w, h): window x 15..34, y 10..39
    np.testing.assert_allclose(out['points'], [[20. - 15., 30. - 10.]])


def test_random_crop_pads_with_invalid_values():
    scene = make_scene()
    out = RandomCrop(crop_size=(130, 175), img_pad_val=(1, 2, 3))(scene)
    assert out['img'].shape == (130, 175, 3)
    np.testing.assert_array_equal(out['img'][H:, :], np.broadcast_to([1, 2, 3],
                                                                     (130 - H, 175, 3)))
    np.testing.assert_array_equal(out['frames'][1][:, W:],
                                  np.broadcast_to([1, 2, 3], (130, 175 - W, 3)))
    pads = dict(gt_seg_map=255, gt_fg_mask=255, gt_depth_map=0, gt_disparity_map=0,
                gt_pseudo_conf=0, x_code=255)
    for key, val in pads.items():
        assert (out[key][H:] == val).all() and (out[key][:, W:] == val).all(), key
    # Bottom / right padding does not move anything: K and points unchanged.
    np.testing.assert_allclose(out['intrinsics'], K0)
    assert_consistent(out, POINTS_3D, tol=0.02)


def test_random_crop_cat_max_ratio():
    labels = np.zeros((20, 100), np.uint8)
    labels[:, 40:60] = 1
    labels[:, :3] = 255
    results = dict(img=np.zeros((20, 100, 3), np.uint8), gt_seg_map=labels)

    def balanced_fraction(t, trials=40):
        ok = 0
        for _ in range(trials):
            seg = t(dict(results))['gt_seg_map']
            counts = np.bincount(seg[seg != 255], minlength=2)
            ok += counts.max() / counts.sum() < 0.75
        return ok / trials

    np.random.seed(0)
    plain = balanced_fraction(RandomCrop(crop_size=(20, 10)))
    retried = balanced_fraction(RandomCrop(crop_size=(20, 10), cat_max_ratio=0.75))
    # One draw is balanced with p = 10/91; up to 10 draws give 1 - (81/91)^10 = 0.69.
    assert plain < 0.3 and retried > 0.5


def test_kb_crop():
    hw = (375, 1242)
    k = np.array([[721.5, 0., 609.6], [0., 721.5, 172.9], [0., 0., 1.]], np.float32)
    pts = np.array([[-3., 1., 12.], [4., 1.5, 20.], [0.5, -0.3, 30.]])
    out = KBCrop()(make_scene(hw, k, pts))
    assert out['img'].shape[:2] == (352, 1216) == out['img_shape']
    x0, y0 = (1242 - 1216) // 2, 375 - 352
    assert (x0, y0) == (13, 23)
    assert out['x_code'][0, 0] == x0 and out['x_code'][-1, -1] == x0 + 1215
    assert out['y_code'][0, 0] == y0 and out['y_code'][-1, -1] == 374
    np.testing.assert_allclose(out['intrinsics'][:2, 2], k[:2, 2] - [x0, y0], atol=1e-4)
    assert_consistent(out, pts, tol=0.02)
    with pytest.raises(ValueError, match='KBCrop'):
        KBCrop()(dict(img=np.zeros((300, 1242, 3), np.uint8)))


def test_center_crop_window():
    results = dict(img=np.zeros((10, 20, 3), np.uint8),
                   x_code=np.tile(np.arange(20), (10, 1)), seg_fields=['x_code'],
                   intrinsics=K0.copy())
    out = CenterCrop(crop_size=(8, 4))(dict(results))  # (w, h)
    assert out['img'].shape[:2] == (4, 8) and out['x_code'][0, 0] == 6
    np.testing.assert_allclose(out['intrinsics'][:2, 2], K0[:2, 2] - [6, 3], atol=1e-4)
    out = CenterCrop(crop_size=(30, 4))(dict(results))  # no auto_pad: width kept
    assert out['img'].shape[:2] == (4, 20)
    out = CenterCrop(crop_size=(30, 4), auto_pad=True)(dict(results))
    assert out['img'].shape[:2] == (4, 30) and (out['x_code'][:, 20:] == 255).all()


# ---------------------------------------------------------------------------- Flipping
def test_flip_projects_mirrored_scene():
    out = RandomFlip(prob=1.0)(make_scene())
    np.testing.assert_allclose(out['intrinsics'][0, 2], W - 1 - K0[0, 2], rtol=1e-6)
    assert_consistent(out, POINTS_3D * [-1, 1, 1], tol=0.02)
    assert_frames_follow_img(out)
    assert out['flip'] is True and out['flip_direction'] == 'horizontal'


def test_vertical_flip_projects_mirrored_scene():
    out = RandomFlip(prob=1.0, direction='vertical')(make_scene())
    np.testing.assert_allclose(out['intrinsics'][1, 2], H - 1 - K0[1, 2], rtol=1e-6)
    assert_consistent(out, POINTS_3D * [1, -1, 1], tol=0.02)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_twice_is_identity(direction):
    scene = make_scene()
    flip = RandomFlip(prob=1.0, direction=direction)
    out = flip(flip(make_scene()))
    for key in ('img', 'gt_depth_map', 'gt_disparity_map', 'gt_seg_map', 'gt_fg_mask',
                'gt_pseudo_conf', 'x_code', 'y_code'):
        np.testing.assert_array_equal(out[key], scene[key], err_msg=key)
    for key in ('intrinsics', 'points'):  # float arithmetic: equal up to rounding
        np.testing.assert_allclose(out[key], scene[key], rtol=1e-6, err_msg=key)
    for fid in scene['frames']:
        np.testing.assert_array_equal(out['frames'][fid], scene['frames'][fid])
    assert out['camera'] == pytest.approx(scene['camera'])
    assert out['flip'] is False and out['flip_direction'] is None


def test_flip_probability_and_swap_labels():
    np.random.seed(0)
    flip = RandomFlip(prob=0.0)
    out = flip(make_scene())
    assert out['flip'] is False and out['flip_direction'] is None
    np.testing.assert_array_equal(out['points'], make_scene()['points'])
    labels = np.array([[1, 2, 0]], np.uint8)
    out = RandomFlip(prob=1.0, swap_seg_labels=[(1, 2)])(
        dict(img=np.zeros((1, 3, 3), np.uint8), gt_seg_map=labels))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 1, 2]])
    flips = [RandomFlip(prob=0.5)(dict(img=np.zeros((2, 2, 3), np.uint8)))['flip']
             for _ in range(200)]
    assert 60 < sum(flips) < 140


# ------------------------------------------------------------------ pipeline + errors
def test_random_pipeline_keeps_everything_consistent():
    np.random.seed(7)
    pipeline = [RandomResize(ratio_range=(1.0, 1.5), depth_mode='divide'),
                RandomCrop(crop_size=(110, 150)), RandomFlip(prob=0.5)]
    for _ in range(3):
        out = make_scene()
        for t in pipeline:
            out = t(out)
        s = out['scale_factor'][0]
        pts = POINTS_3D * [-1 if out['flip'] else 1, 1, 1 / np.sqrt(np.prod(
            out['scale_factor']))]
        assert_consistent(out, pts, blob_scale=s, tol=0.25)
        assert_frames_follow_img(out)


def test_shape_mismatch_names_the_field():
    results = dict(img=np.zeros((10, 10, 3), np.uint8),
                   gt_depth_map=np.zeros((9, 10), np.float32))
    with pytest.raises(ValueError, match='gt_depth_map'):
        RandomFlip(prob=1.)(results)
    with pytest.raises(ValueError, match=r'\(3, 3\)'):
        Resize(scale_factor=2.)(dict(img=np.zeros((4, 4, 3), np.uint8),
                                     intrinsics=np.eye(4)))


def test_registry_builds_mmdepthsem_versions_with_mmseg_arguments():
    from mmengine.registry import DefaultScope
    cfgs = [dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
            dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
                 keep_ratio=True),
            dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
            dict(type='RandomFlip', prob=0.5), dict(type='KBCrop'),
            dict(type='CenterCrop', crop_size=(32, 16))]
    with DefaultScope.overwrite_default_scope('mmdepthsem'):
        for cfg in cfgs:
            t = TRANSFORMS.build(cfg)
            assert type(t).__module__ == 'mmdepthsem.datasets.transforms.geometric'


def test_repr_shows_parameters():
    assert repr(Resize(scale=(64, 32), depth_mode='divide')) == (
        "Resize(scale=(64, 32), scale_factor=None, keep_ratio=False, "
        "clip_object_border=True, backend='cv2', interpolation='bilinear', "
        "depth_mode='divide')")
    assert 'ratios=(1.0, 1.2)' in repr(RandomResize(ratios=(1, 1.2)))
    assert "depth_mode='divide'" in repr(RandomResize(ratios=(1, ), depth_mode='divide'))
    assert 'cat_max_ratio=0.75' in repr(RandomCrop(8, cat_max_ratio=0.75))
    assert repr(KBCrop()) == 'KBCrop(height=352, width=1216)'
    assert "direction='horizontal'" in repr(RandomFlip(prob=0.5))
    assert 'auto_pad=True' in repr(CenterCrop(8, auto_pad=True))
