import math

import numpy as np
import pytest
import torch

from mmdepthsem.models.losses import photometric_error
from mmdepthsem.models.utils import (backproject_depth, disp_to_depth, pixel_grid,
                                     pose_vec_to_matrix, project_points, warp_frame)

H, W = 24, 32
F_PIX = 20.0


def _intrinsics(batch=1, f=F_PIX, cx=(W - 1) / 2, cy=(H - 1) / 2):
    K = torch.tensor([[f, 0., cx], [0., f, cy], [0., 0., 1.]], dtype=torch.float64)
    return K.expand(batch, 3, 3).clone()


def _rodrigues(omega):
    """Closed-form Rodrigues rotation in float64 numpy (independent reference)."""
    omega = np.asarray(omega, dtype=np.float64)
    theta = np.linalg.norm(omega)
    if theta == 0:
        return np.eye(3)
    k = omega / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(theta) * kx + (1 - math.cos(theta)) * kx @ kx


def _render_target(texture, depth_of, K):
    """Target view of a scene: pixel (u, v) sees the point at depth Z on its ray."""
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    z = depth_of(u)
    x, y = z * (u - cx) / fx, z * (v - cy) / fy
    return texture(x, y), z


def _source_rays_hit_plane(K, R, t, z_plane, u, v):
    """Target-frame point where the source ray through (u, v) meets ``Z_t = z_plane``.

    With ``X_s = R X_t + t`` and the source ray ``X_s = lam K^-1 p``:
    ``X_t = lam R^T K^-1 p - R^T t``; its z must equal ``z_plane``.
    """
    p = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(K).T
    d = p @ R  # rows are R^T K^-1 p
    rt = R.T @ t
    lam = (z_plane + rt[2]) / d[..., 2]
    pts = lam[..., None] * d - rt
    return pts, lam


def _texture(x, y):
    """Smooth RGB texture on the scene (world metres), values in [0.1, 0.9]."""
    return np.stack([0.5 + 0.3 * np.sin(0.5 * x + 0.3) * np.cos(0.4 * y),
                     0.5 + 0.3 * np.cos(0.35 * x - 0.3 * y),
                     0.5 + 0.3 * np.sin(0.5 * y + 0.15 * x)])


def _to_tensor(img):
    return torch.from_numpy(np.ascontiguousarray(img))[None].float()


def test_pixel_grid_and_backproject_hand_values():
    grid = pixel_grid(2, 3)
    assert grid.shape == (3, 6)
    # column i is pixel (v, u) = divmod(i, W)
    assert grid[:, 4].tolist() == [1.0, 1.0, 1.0]
    K = torch.tensor([[[2., 0., 1.], [0., 2., 1.], [0., 0., 1.]]])
    depth = torch.full((1, 1, 2, 3), 3.0)
    points = backproject_depth(depth, torch.linalg.inv(K))
    assert points.shape == (1, 4, 6)
    # pixel (u=2, v=0): X = 3 (2 - 1) / 2, Y = 3 (0 - 1) / 2, Z = 3
    assert torch.allclose(points[0, :, 2], torch.tensor([1.5, -1.5, 3.0, 1.0]))
    assert backproject_depth(depth, torch.linalg.inv(K), homogeneous=False).shape == (
        1, 3, 6)
    with pytest.raises(ValueError, match='depth'):
        backproject_depth(depth[:, 0], torch.linalg.inv(K))


def test_backproject_then_project_with_identity_pose_returns_the_pixel_grid():
    torch.manual_seed(0)
    K = torch.tensor([[[30., 0., 14.], [0., 25., 9.5], [0., 0., 1.]],
                      [[18., 0., 15.5], [0., 18., 11.5], [0., 0., 1.]]])
    depth = torch.rand(2, 1, H, W) * 20 + 0.5
    points = backproject_depth(depth, torch.linalg.inv(K))
    identity = torch.eye(4).expand(2, 4, 4)
    pix = project_points(points, K, identity, (H, W), normalize=False)
    grid = pixel_grid(H, W)[:2].T.reshape(H, W, 2)
    assert pix.shape == (2, H, W, 2)
    assert torch.allclose(pix, grid.expand_as(pix), atol=1e-4)
    # normalised for grid_sample(align_corners=True): centres 0 and W-1 map to -1, +1
    norm, z = project_points(points, K, identity, (H, W), return_depth=True)
    assert torch.allclose(norm[..., 0], 2 * grid[..., 0] / (W - 1) - 1, atol=1e-5)
    assert torch.allclose(norm[..., 1], 2 * grid[..., 1] / (H - 1) - 1, atol=1e-5)
    assert torch.allclose(z, depth, rtol=1e-5)


def test_pose_vec_to_matrix_rodrigues_and_inverse():
    # 90 degrees about z maps x to y
    T = pose_vec_to_matrix(torch.tensor([[0., 0., math.pi / 2]]),
                           torch.tensor([[1., 2., 3.]]))
    expected = torch.tensor([[0., -1., 0., 1.], [1., 0., 0., 2.], [0., 0., 1., 3.],
                             [0., 0., 0., 1.]])
    assert torch.allclose(T[0], expected, atol=1e-6)
    omega = torch.tensor([[0.3, -0.2, 0.5], [1e-9, 0., 0.], [-1.2, 0.4, 2.0]])
    trans = torch.tensor([[0.1, 0.2, -0.3], [1., 0., 0.], [0., -2., 0.5]])
    T = pose_vec_to_matrix(omega, trans)
    for i in range(3):
        assert np.allclose(T[i, :3, :3].numpy(), _rodrigues(omega[i].numpy()),
                           atol=1e-6)
    assert torch.equal(T[:, :3, 3], trans)
    T_inv = pose_vec_to_matrix(omega, trans, invert=True)
    eye = torch.eye(4).expand(3, 4, 4)
    assert torch.allclose(T_inv @ T, eye, atol=1e-5)
    assert torch.allclose(T @ T_inv, eye, atol=1e-5)
    assert torch.allclose(T_inv, torch.linalg.inv(T), atol=1e-5)
    # (B, 1, 3) inputs as a pose decoder with one frame pair gives them
    assert pose_vec_to_matrix(omega[:, None], trans[:, None]).shape == (3, 4, 4)


def test_pose_vec_to_matrix_is_exact_and_differentiable_at_zero_rotation():
    omega = torch.zeros(2, 3, requires_grad=True)
    trans = torch.zeros(2, 3, requires_grad=True)
    T = pose_vec_to_matrix(omega, trans)
    assert torch.equal(T, torch.eye(4).expand(2, 4, 4))
    (T * torch.randn(2, 4, 4)).sum().backward()
    assert torch.isfinite(omega.grad).all() and omega.grad.abs().sum() > 0
    assert torch.isfinite(trans.grad).all()


def test_disp_to_depth_hand_values():
    disp = torch.tensor([0.0, 1.0, 0.5])
    scaled, depth = disp_to_depth(disp, 0.1, 100.0)
    assert torch.allclose(depth, torch.tensor([100.0, 0.1, 1 / (0.01 + 0.5 * 9.99)]))
    assert torch.allclose(scaled, 1 / depth)
    with pytest.raises(ValueError):
        disp_to_depth(disp, 1.0, 0.5)


def test_warp_with_identity_pose_reproduces_the_source():
    torch.manual_seed(0)
    source = torch.rand(2, 3, H, W)
    depth = torch.rand(2, 1, H, W) * 10 + 1
    warped, valid = warp_frame(source, depth, _intrinsics(2).float(),
                               torch.eye(4).expand(2, 4, 4))
    assert torch.allclose(warped, source, atol=1e-5)
    assert valid.shape == (2, 1, H, W) and valid.dtype == torch.bool and valid.all()


def test_warp_translated_plane_is_exact_for_an_affine_texture():
    """Fronto-parallel plane, pure translation: source pixel -> scene is affine, so
    bilinear sampling of an affine texture reproduces the target to float precision."""
    K = _intrinsics()[0].numpy()
    z0 = 5.0
    t = np.array([0.4, -0.2, 0.5])

    def texture(x, y):
        return np.stack([0.5 + 0.08 * x + 0.05 * y, 0.4 - 0.06 * x, 0.3 + 0.1 * y])

    target, depth = _render_target(texture, lambda u: np.full_like(u, z0), K)
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    pts, _ = _source_rays_hit_plane(K, np.eye(3), t, z0, u, v)
    source = texture(pts[..., 0], pts[..., 1])

    T = torch.eye(4)[None].clone()
    T[0, :3, 3] = torch.from_numpy(t).float()
    warped, valid = warp_frame(_to_tensor(source), _to_tensor(depth[None]),
                               _intrinsics().float(), T)
    # expected validity: the exact source coordinate of every target pixel
    xs = np.stack([(z0 * (u - K[0, 2]) / K[0, 0]), z0 * (v - K[1, 2]) / K[1, 1],
                   np.full_like(u, z0)], -1) + t
    proj = xs @ K.T
    us, vs = proj[..., 0] / proj[..., 2], proj[..., 1] / proj[..., 2]
    inside = (us >= -1e-6) & (us <= W - 1 + 1e-6) & (vs >= -1e-6) & (vs <= H - 1 + 1e-6)
    assert np.array_equal(valid[0, 0].numpy(), inside)
    assert 0.3 < inside.mean() < 1.0  # the motion moves part of the view out
    target_t = _to_tensor(target)
    err = (warped - target_t).abs().amax(dim=1)[0]
    assert err[valid[0, 0]].max() < 1e-5
    # the source itself (zero motion assumed) is far from the target
    assert (_to_tensor(source) - target_t).abs().mean() > 0.02


def test_warp_two_planes_with_rotation_reproduces_the_target():
    """Two fronto-parallel half-planes (left nearer) seen from a rotated, translated
    source camera; the source is ray-cast against both planes with occlusion."""
    K = _intrinsics()[0].numpy()
    z_left, z_right = 4.0, 7.0
    omega = np.array([0.02, -0.04, 0.015])
    R = _rodrigues(omega)
    t = np.array([0.3, 0.05, 0.4])
    cx = K[0, 2]
    target, depth = _render_target(
        _texture, lambda u: np.where(u < cx, z_left, z_right), K)

    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    hit_l, lam_l = _source_rays_hit_plane(K, R, t, z_left, u, v)
    hit_r, lam_r = _source_rays_hit_plane(K, R, t, z_right, u, v)
    ok_l = (hit_l[..., 0] < 0) & (lam_l > 0)
    ok_r = (hit_r[..., 0] >= 0) & (lam_r > 0)
    use_left = ok_l & (~ok_r | (lam_l < lam_r))
    assert (ok_l | ok_r).all()
    hit = np.where(use_left[..., None], hit_l, hit_r)
    source = _texture(hit[..., 0], hit[..., 1])

    T = torch.from_numpy(np.block([[R, t[:, None]], [np.zeros((1, 3)), np.ones((1, 1))]]))
    warped, valid = warp_frame(_to_tensor(source), _to_tensor(depth[None]),
                               _intrinsics().float(), T[None].float())

    # pixels to score: visible in the source and with all four bilinear neighbours on
    # the same plane as the target point
    xt = np.stack([depth * (u - cx) / K[0, 0], depth * (v - K[1, 2]) / K[1, 1], depth],
                  -1)
    xs = xt @ R.T + t
    proj = xs @ K.T
    us, vs = proj[..., 0] / proj[..., 2], proj[..., 1] / proj[..., 2]
    target_left = u < cx
    score = valid[0, 0].numpy().copy()
    for dy in (0, 1):
        for dx in (0, 1):
            iu = np.clip(np.floor(us).astype(int) + dx, 0, W - 1)
            iv = np.clip(np.floor(vs).astype(int) + dy, 0, H - 1)
            score &= use_left[iv, iu] == target_left
    assert score.mean() > 0.5
    score = torch.from_numpy(score)
    target_t = _to_tensor(target)
    # smooth texture: only bilinear interpolation error remains
    l1 = (warped - target_t).abs().mean(dim=1)[0]
    assert l1[score].max() < 3e-3
    # SSIM looks at 3x3 windows: score pixels whose whole window is scored
    interior = -torch.nn.functional.max_pool2d(-score[None].float(), 3, 1, 1)[0] > 0
    assert interior.sum() > 0.3 * H * W
    err = photometric_error(warped, target_t)[0, 0]
    assert err[interior].max() < 1e-3
    # a wrong pose (no rotation) is much worse on the same pixels
    T_wrong = T.clone()
    T_wrong[:3, :3] = torch.eye(3, dtype=T.dtype)
    wrong, _ = warp_frame(_to_tensor(source), _to_tensor(depth[None]),
                          _intrinsics().float(), T_wrong[None].float())
    l1_wrong = (wrong - target_t).abs().mean(dim=1)[0]
    assert l1_wrong[score].mean() > 10 * l1[score].mean()


def test_points_behind_the_source_camera_are_invalid_and_border_padded():
    source = torch.rand(1, 3, H, W)
    depth = torch.full((1, 1, H, W), 2.0)
    T = torch.eye(4)[None].clone()
    T[0, 2, 3] = -3.0  # the source camera sits 3 m in front: the plane is behind it
    warped, valid = warp_frame(source, depth, _intrinsics().float(), T)
    assert not valid.any()
    assert torch.isfinite(warped).all()
    # border padding: every sample lies within the source's value range
    assert warped.min() >= source.min() - 1e-6 and warped.max() <= source.max() + 1e-6


def test_warp_gradients_reach_depth_and_pose():
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 3, H), torch.linspace(0, 4, W),
                            indexing='ij')
    source = torch.stack([xx.sin(), yy.cos(), (xx + yy).sin()])[None] * 0.4 + 0.5
    depth = torch.full((1, 1, H, W), 5.0, requires_grad=True)
    omega = torch.tensor([[0.01, -0.02, 0.005]], requires_grad=True)
    trans = torch.tensor([[0.2, 0.0, 0.1]], requires_grad=True)
    warped, _ = warp_frame(source, depth, _intrinsics().float(),
                           pose_vec_to_matrix(omega, trans))
    photometric_error(warped, torch.rand(1, 3, H, W)).mean().backward()
    for p in (depth, omega, trans):
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='source'):
        warp_frame(torch.rand(1, 3, H, W), torch.rand(1, 1, H + 1, W),
                   _intrinsics().float(), torch.eye(4)[None])
    with pytest.raises(ValueError, match='K'):
        warp_frame(torch.rand(1, 3, H, W), torch.rand(1, 1, H, W),
                   torch.eye(3)[None, :2], torch.eye(4)[None])
    with pytest.raises(ValueError, match='T'):
        project_points(torch.rand(1, 4, H * W), _intrinsics().float(),
                       torch.eye(3)[None], (H, W))
