"""Pinhole-camera geometry for view synthesis (Monodepth2-style self-supervision).

A target pixel ``p = (u, v, 1)`` with depth ``Z`` back-projects to the camera point
``X = Z · K⁻¹ p``; a rigid transform ``T`` (target camera → source camera, 4×4) moves it
into the source camera and ``K`` projects it to the source pixel ``p' ~ K [R | t] X``
(FSRE eq. 1, Monodepth2 / SfM-Learner). Sampling the source image at ``p'`` synthesises
the target view.

Conventions (``docs/data_conventions.md``): intrinsics are ``(B, 3, 3)`` matrices in
pixels of the current image size; integer pixel indices are pixel **centres**, so the
pixel grid is ``u = 0 .. W-1``, ``v = 0 .. H-1``. Sampling coordinates are normalised
with ``x_n = 2 u / (W - 1) - 1``. With ``grid_sample(align_corners=True)`` (the default
here, and FSRE's released code) ``-1`` and ``+1`` are the centres of the first and last
pixels, so a projected pixel centre is sampled exactly there. Monodepth2's released code
normalises the same way but samples with ``align_corners=False`` (the PyTorch >= 1.3
default), which reads pixel ``u · W / (W - 1) - 1/2`` instead of ``u``: a sub-pixel
stretch about the image centre that its published numbers include. ``warp_frame`` takes
either (``align_corners``); the Monodepth2-family configs pick the released one.
"""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'pixel_grid', 'backproject_depth', 'project_points', 'sampled_pixel', 'warp_frame',
    'pose_vec_to_matrix', 'disp_to_depth'
]


def _check_matrix(name: str, mat: Tensor, batch: int) -> Tensor:
    """Return the upper-left ``(B, 3, 3)`` block of a ``(B, 3, 3)``/``(B, 4, 4)``."""
    if mat.dim() != 3 or mat.shape[0] != batch or tuple(mat.shape[1:]) not in (
            (3, 3), (4, 4)):
        raise ValueError(f'{name} must be (B={batch}, 3, 3) or (B, 4, 4), '
                         f'got {tuple(mat.shape)}')
    return mat[:, :3, :3]


def pixel_grid(height: int, width: int, device: Union[str, torch.device] = 'cpu',
               dtype: torch.dtype = torch.float32) -> Tensor:
    """Homogeneous pixel-centre coordinates of an image, row-major.

    Args:
        height: Image height ``H``, pixels.
        width: Image width ``W``, pixels.
        device: Device of the result.
        dtype: Floating dtype of the result.

    Returns:
        ``(3, H*W)``: rows ``u`` (column index), ``v`` (row index) and ones; column
        ``i`` is pixel ``(v, u) = divmod(i, W)``.
    """
    v, u = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                          torch.arange(width, device=device, dtype=dtype),
                          indexing='ij')
    return torch.stack([u.reshape(-1), v.reshape(-1), torch.ones_like(u).reshape(-1)])


def backproject_depth(depth: Tensor, inv_K: Tensor, homogeneous: bool = True) -> Tensor:
    """Lift every pixel to a 3-D point in its camera frame: ``X = Z · K⁻¹ [u, v, 1]ᵀ``.

    Args:
        depth: ``(B, 1, H, W)`` depth ``Z`` along the optical axis, metres.
        inv_K: ``(B, 3, 3)`` inverse intrinsics (a ``(B, 4, 4)`` matrix is accepted,
            its upper-left 3×3 block is used).
        homogeneous: Append a row of ones (``(B, 4, H*W)``), ready for a 4×4 ``T``.

    Returns:
        ``(B, 4, H*W)`` (or ``(B, 3, H*W)``) camera points in metres, row-major pixel
        order as :func:`pixel_grid`.
    """
    if depth.dim() != 4 or depth.shape[1] != 1:
        raise ValueError(f'depth must be (B, 1, H, W), got {tuple(depth.shape)}')
    batch, _, height, width = depth.shape
    inv_K = _check_matrix('inv_K', inv_K, batch).to(depth.dtype)
    rays = inv_K @ pixel_grid(height, width, depth.device, depth.dtype)  # (B, 3, N)
    points = rays * depth.reshape(batch, 1, -1)
    if homogeneous:
        points = torch.cat([points, torch.ones_like(points[:, :1])], dim=1)
    return points


def project_points(points: Tensor, K: Tensor, T: Tensor, size: Tuple[int, int],
                   normalize: bool = True, eps: float = 1e-7,
                   return_depth: bool = False
                   ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """Project camera points through a rigid transform into another camera.

    ``p' = K (R X + t)``, divided by its depth ``z' = (R X + t)_z`` (clamped to at
    least ``eps`` so points behind the camera give large but finite coordinates).

    Args:
        points: ``(B, 3, H*W)`` or ``(B, 4, H*W)`` points in the first camera, metres
            (from :func:`backproject_depth`; a 4th row, if present, is ignored).
        K: ``(B, 3, 3)`` intrinsics of the second camera, pixels.
        T: ``(B, 4, 4)`` transform from the first camera's frame to the second's.
        size: ``(H, W)`` of the pixel grid the points came from.
        normalize: Return ``grid_sample`` coordinates in ``[-1, 1]``
            (``align_corners=True``: ``x_n = 2 u / (W - 1) - 1``); with ``False``,
            pixel coordinates ``(u, v)`` with centres at integers.
        eps: Smallest depth used in the perspective division, metres.
        return_depth: Also return the depth ``z'`` in the second camera.

    Returns:
        ``(B, H, W, 2)`` coordinates ``(x, y)`` in the second image, and with
        ``return_depth`` also ``(B, 1, H, W)`` depth ``z'`` in metres (not clamped).
    """
    height, width = size
    batch = points.shape[0]
    if points.dim() != 3 or points.shape[1] not in (3, 4) or \
            points.shape[2] != height * width:
        raise ValueError(f'points must be (B, 3|4, H*W={height * width}), '
                         f'got {tuple(points.shape)}')
    K = _check_matrix('K', K, batch).to(points.dtype)
    if T.dim() != 3 or T.shape[0] != batch or tuple(T.shape[1:]) != (4, 4):
        raise ValueError(f'T must be (B={batch}, 4, 4), got {tuple(T.shape)}')
    T = T.to(points.dtype)
    cam = T[:, :3, :3] @ points[:, :3] + T[:, :3, 3:]  # (B, 3, N) in camera 2
    pix = K @ cam
    z = pix[:, 2:3]
    uv = pix[:, :2] / z.clamp(min=eps)
    if normalize:
        scale = uv.new_tensor([max(width - 1, 1), max(height - 1, 1)]).view(1, 2, 1)
        uv = uv / scale * 2 - 1
    coords = uv.reshape(batch, 2, height, width).permute(0, 2, 3, 1)
    if return_depth:
        return coords, cam[:, 2:3].reshape(batch, 1, height, width)
    return coords


def sampled_pixel(coords: Tensor, size: int, align_corners: bool) -> Tensor:
    """Pixel coordinate that ``grid_sample`` reads for normalised ``coords``.

    Args:
        coords: Normalised coordinates (``x_n = 2 u / (size - 1) - 1`` from
            :func:`project_points`), any shape.
        size: Image width (for ``x``) or height (for ``y``) in pixels.
        align_corners: The ``grid_sample`` flag the coordinates are used with.

    Returns:
        Pixel coordinates (centres at integers), shaped like ``coords``:
        ``(x_n + 1)(size - 1) / 2`` with ``align_corners=True`` (that is ``u``),
        ``((x_n + 1) size - 1) / 2`` with ``False``.
    """
    if align_corners:
        return (coords + 1) * (size - 1) / 2
    return ((coords + 1) * size - 1) / 2


def warp_frame(source: Tensor, depth: Tensor, K: Tensor, T: Tensor,
               padding_mode: str = 'border', eps: float = 1e-7,
               align_corners: bool = True) -> Tuple[Tensor, Tensor]:
    """Synthesise the target view from a source frame (inverse warping).

    Every target pixel is back-projected with its depth, moved by ``T`` into the
    source camera, projected with ``K`` and the source is sampled bilinearly there
    (``grid_sample`` with ``padding_mode='border'`` as Monodepth2). Both frames share
    the intrinsics ``K``. The sampling grid is normalised by ``W - 1`` / ``H - 1``
    either way; ``align_corners`` only changes how ``grid_sample`` reads it (see the
    module docstring).

    Args:
        source: ``(B, C, H, W)`` source image (or any feature map of the same size).
        depth: ``(B, 1, H, W)`` depth of the **target** frame, metres.
        K: ``(B, 3, 3)`` intrinsics in pixels of the ``H × W`` image.
        T: ``(B, 4, 4)`` transform from the target camera to the source camera.
        padding_mode: ``grid_sample`` padding for samples outside the source.
        eps: Smallest depth used in the perspective division, metres.
        align_corners: ``True`` samples projected pixel ``u`` at ``u`` (FSRE's
            release, the paper's eq. 1); ``False`` reproduces Monodepth2's release,
            which samples ``u · W / (W - 1) - 1/2``.

    Returns:
        ``warped`` ``(B, C, H, W)`` and ``valid`` ``(B, 1, H, W)`` bool: the point
        lies in front of the source camera (``z' > eps``) and the pixel actually
        sampled lies inside the hull of the source's pixel centres
        ``[0, W-1] × [0, H-1]``, where sampling needs no padding. Monodepth2 uses no
        such mask; it is returned for callers that want one.
    """
    if source.dim() != 4 or depth.dim() != 4 or source.shape[0] != depth.shape[0] \
            or source.shape[-2:] != depth.shape[-2:]:
        raise ValueError(f'warp_frame: source {tuple(source.shape)} and depth '
                         f'{tuple(depth.shape)} must be (B, C, H, W) and (B, 1, H, W) '
                         'of the same batch and size')
    height, width = depth.shape[-2:]
    inv_K = torch.linalg.inv(_check_matrix('K', K, depth.shape[0]).float())
    points = backproject_depth(depth, inv_K.to(depth.dtype))
    grid, z = project_points(points, K, T, (height, width), eps=eps,
                             return_depth=True)
    warped = F.grid_sample(source, grid.to(source.dtype), mode='bilinear',
                           padding_mode=padding_mode, align_corners=align_corners)
    u = sampled_pixel(grid[..., 0], width, align_corners)
    v = sampled_pixel(grid[..., 1], height, align_corners)
    tol = 1e-4
    inside = (u >= -tol) & (u <= width - 1 + tol) & (v >= -tol) & \
        (v <= height - 1 + tol)
    return warped, inside.unsqueeze(1) & (z > eps)


def pose_vec_to_matrix(axis_angle: Tensor, translation: Tensor,
                       invert: bool = False) -> Tensor:
    """Rigid transform from an axis-angle rotation and a translation.

    ``R = exp([ω]ₓ)`` is Rodrigues' formula ``I + sin θ [k]ₓ + (1 - cos θ) [k]ₓ²``
    (``θ = |ω|``, ``k = ω / θ``), evaluated with :func:`torch.linalg.matrix_exp`, which
    is exact at ``θ = 0`` and has finite gradients there. Without ``invert`` the result
    is ``[[R, t], [0, 1]]``; with ``invert`` it is its inverse ``[[Rᵀ, -Rᵀ t], [0, 1]]``
    (Monodepth2 inverts the pose predicted for a frame before the target).

    Args:
        axis_angle: ``(B, 3)`` rotation vector ``ω``, radians (also ``(B, 1, 3)``).
        translation: ``(B, 3)`` translation, metres (also ``(B, 1, 3)``).
        invert: Return the inverse transform.

    Returns:
        ``(B, 4, 4)`` homogeneous transform.
    """
    omega = axis_angle.reshape(-1, 3)
    t = translation.reshape(-1, 3)
    if omega.shape[0] != t.shape[0]:
        raise ValueError(f'pose_vec_to_matrix: {tuple(axis_angle.shape)} axis-angle '
                         f'and {tuple(translation.shape)} translation differ in batch')
    zero = torch.zeros_like(omega[:, 0])
    wx, wy, wz = omega.unbind(dim=1)
    skew = torch.stack([zero, -wz, wy, wz, zero, -wx, -wy, wx, zero],
                       dim=1).view(-1, 3, 3)
    # matrix_exp has no half-precision kernels; rotate in float32 at least
    work = torch.promote_types(omega.dtype, torch.float32)
    rot = torch.linalg.matrix_exp(skew.to(work)).to(omega.dtype)
    t = t.unsqueeze(-1)
    if invert:
        rot = rot.transpose(1, 2)
        t = -rot @ t
    bottom = omega.new_tensor([0., 0., 0., 1.]).expand(omega.shape[0], 1, 4)
    return torch.cat([torch.cat([rot, t], dim=2), bottom], dim=1)


def disp_to_depth(disp: Tensor, min_depth: float = 0.1,
                  max_depth: float = 100.0) -> Tuple[Tensor, Tensor]:
    """Map a sigmoid output to depth in Monodepth2's scaled-disparity form.

    ``scaled = 1 / max_depth + (1 / min_depth - 1 / max_depth) · disp`` and
    ``depth = 1 / scaled``, so ``disp = 0`` gives ``max_depth`` and ``disp = 1`` gives
    ``min_depth``.

    Args:
        disp: Network output in ``[0, 1]``, any shape (usually ``(B, 1, H, W)``).
        min_depth: Depth at ``disp = 1``, metres (0.1 in Monodepth2 / FSRE).
        max_depth: Depth at ``disp = 0``, metres (100 in Monodepth2 / FSRE).

    Returns:
        ``(scaled_disp, depth)``, both shaped like ``disp``; ``scaled_disp`` in 1/m,
        ``depth`` in metres.
    """
    if not 0 < min_depth < max_depth:
        raise ValueError(f'disp_to_depth: need 0 < min_depth < max_depth, got '
                         f'{min_depth}, {max_depth}')
    min_disp = 1.0 / max_depth
    max_disp = 1.0 / min_depth
    scaled_disp = min_disp + (max_disp - min_disp) * disp
    return scaled_disp, 1.0 / scaled_disp
