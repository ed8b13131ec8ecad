"""Vectorised numpy ray caster for :class:`~.scene.Scene`.

Camera rays are ``d = R K^-1 [u, v, 1]^T`` for pixel centres at integer ``(u, v)`` (OpenCV
convention), so the ray parameter of a hit *is* the camera-z depth: the depth map holds
camera z in metres, not the euclidean ray length. Each box is intersected with the slab
method, only inside the image rectangle its projected corners cover; the loop runs over
boxes (tens to a few hundred), never over pixels.
"""
from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

from .scene import Scene
from .textures import SurfacePoints, evaluate_albedo

#: Hits closer than this along the ray parameter (metres of camera z) are ignored: a
#: camera inside a box sees through it.
NEAR_CLIP = 1e-3
#: Direction components smaller than this are replaced by it before inversion.
_MIN_DIRECTION = 1e-12
#: Grazing angles are clamped to this cosine when estimating the pixel footprint.
_MIN_FOOTPRINT_COS = 0.05
#: Colour of rays that miss everything in a scene without sky.
_VOID_RGB = (0.0, 0.0, 0.0)
#: The 12 edges of a box as index pairs into :meth:`~.scene.Box.corners` (corner index
#: ``4 i + 2 j + k`` for the choice ``(i, j, k)`` of hi/lo per axis).
_BOX_EDGES = tuple(
    np.array(ends) for ends in zip(*[(c, c | bit) for bit in (1, 2, 4) for c in range(8)
                                     if not c & bit]))


@dataclass
class RayHits:
    """Nearest hits of a bundle of rays.

    Attributes:
        t: ``(N,)`` float64 ray parameter of the hit (``inf`` = miss). In units of the
            direction vectors: metres for unit directions, camera z for camera rays.
        index: ``(N,)`` int64 index of the box hit, ``-1`` = miss.
        axis: ``(N,)`` int64 axis (0, 1, 2) of the normal of the face hit.
    """

    t: np.ndarray
    index: np.ndarray
    axis: np.ndarray

    @property
    def hit(self) -> np.ndarray:
        """``(N,)`` bool, rays that hit a box."""
        return self.index >= 0


@dataclass
class RenderResult:
    """One rendered view.

    Attributes:
        rgb: ``(H, W, 3)`` uint8 RGB.
        depth: ``(H, W)`` float32 camera-z depth in metres, 0 where nothing was hit (sky).
        label: ``(H, W)`` uint16 class ids (the scene's vocabulary; sky gets the sky
            label).
        box_index: ``(H, W)`` int32 index of the box seen at each pixel, -1 = none.
        K: ``(3, 3)`` float64 intrinsics, pixels.
        cam_to_world: ``(4, 4)`` float64 camera-to-world pose (OpenCV camera axes).
    """

    rgb: np.ndarray
    depth: np.ndarray
    label: np.ndarray
    box_index: np.ndarray
    K: np.ndarray
    cam_to_world: np.ndarray


def _safe_inverse(directions: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Component-wise ``1 / d`` (zeros nudged to ``+-_MIN_DIRECTION``), split by axis.

    Args:
        directions: ``(..., 3)`` ray directions.

    Returns:
        Three arrays of shape ``(...)``: ``1 / d_x``, ``1 / d_y``, ``1 / d_z``.
    """
    d = np.where(
        np.abs(directions) < _MIN_DIRECTION,
        np.where(directions < 0, -_MIN_DIRECTION, _MIN_DIRECTION), directions)
    inv = 1.0 / d
    return inv[..., 0], inv[..., 1], inv[..., 2]


def _slab(origin: np.ndarray, inv_dir: Sequence[np.ndarray], lo: np.ndarray,
          hi: np.ndarray) -> Tuple[np.ndarray, Tuple[np.ndarray, ...]]:
    """Ray/box entry distance by the slab method.

    Args:
        origin: ``(3,)`` ray origin.
        inv_dir: Per-axis inverse ray directions, three arrays of one shape ``S``.
        lo, hi: ``(3,)`` box corners.

    Returns:
        ``t`` (shape ``S``), the entry parameter (``inf`` = miss or entry closer than
        ``NEAR_CLIP``), and the per-axis entry parameters (three arrays of shape ``S``)
        from which :func:`_entry_axis` finds the face hit.
    """
    t_entry = []
    t_near = t_far = None
    for axis in range(3):
        t0 = (lo[axis] - origin[axis]) * inv_dir[axis]
        t1 = (hi[axis] - origin[axis]) * inv_dir[axis]
        enter, leave = np.minimum(t0, t1), np.maximum(t0, t1)
        t_entry.append(enter)
        t_near = enter if t_near is None else np.maximum(t_near, enter)
        t_far = leave if t_far is None else np.minimum(t_far, leave)
    valid = (t_near <= t_far) & (t_near > NEAR_CLIP)
    return np.where(valid, t_near, np.inf), tuple(t_entry)


def _entry_axis(t_entry: Sequence[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Axis (0, 1, 2) of the face through which each ray in ``mask`` enters its box."""
    tx, ty, tz = (t[mask] for t in t_entry)
    return np.where((tx >= ty) & (tx >= tz), 0, np.where(ty >= tz, 1, 2))


def cast_rays(scene: Scene,
              origin: np.ndarray,
              directions: np.ndarray,
              max_distance: float = np.inf) -> RayHits:
    """Intersect rays sharing one origin with every box of the scene.

    Args:
        scene: The scene.
        origin: ``(3,)`` world origin, metres.
        directions: ``(N, 3)`` world directions (unit for metric ``t``).
        max_distance: Boxes farther than this from the origin (metres) are skipped; only
            meaningful with unit directions.

    Returns:
        RayHits: The nearest hit of each ray.
    """
    origin = np.asarray(origin, dtype=np.float64)
    inv_dir = _safe_inverse(np.asarray(directions, dtype=np.float64))
    n = len(directions)
    best_t = np.full(n, np.inf)
    best_idx = np.full(n, -1, dtype=np.int64)
    best_axis = np.zeros(n, dtype=np.int64)
    lo, hi, _ = scene.arrays()
    gap = np.maximum(np.maximum(lo - origin, origin - hi), 0.0)
    in_range = np.linalg.norm(gap, axis=1) <= max_distance
    for k in np.flatnonzero(in_range):
        t, t_entry = _slab(origin, inv_dir, lo[k], hi[k])
        closer = t < best_t
        best_t[closer] = t[closer]
        best_idx[closer] = k
        best_axis[closer] = _entry_axis(t_entry, closer)
    return RayHits(best_t, best_idx, best_axis)


def pixel_rays(K: np.ndarray, height: int, width: int) -> np.ndarray:
    """Camera-frame ray directions through pixel centres, scaled to unit camera z.

    Args:
        K: ``(3, 3)`` intrinsics, pixels.
        height, width: Image size.

    Returns:
        np.ndarray: ``(H, W, 3)`` float64 directions ``K^-1 [u, v, 1]`` (z = 1).
    """
    u, v = np.meshgrid(
        np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    pix = np.stack([u, v, np.ones_like(u)], axis=-1)
    return pix @ np.linalg.inv(K).T


def _clipped_bounds(cam: np.ndarray, in_front: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Image bounds of a box that crosses the near plane.

    The box is clipped to ``z_cam >= NEAR_CLIP``; the projection of the clipped (convex)
    box is the convex hull of its projected vertices.

    Args:
        cam: ``(8, 3)`` box corners in camera coordinates.
        in_front: ``(8,)`` bool, corners with ``z > NEAR_CLIP`` (some but not all).
        K: ``(3, 3)`` intrinsics.

    Returns:
        np.ndarray: ``(4,)`` ``u_min, v_min, u_max, v_max`` in pixels.
    """
    start, end = _BOX_EDGES
    crossing = in_front[start] != in_front[end]
    a, b = cam[start[crossing]], cam[end[crossing]]
    frac = (NEAR_CLIP - a[:, 2]) / (b[:, 2] - a[:, 2])
    vertices = np.concatenate([cam[in_front], a + frac[:, None] * (b - a)])
    vertices[:, 2] = np.maximum(vertices[:, 2], NEAR_CLIP)
    uv = (vertices @ K.T)[:, :2] / vertices[:, 2:3]
    return np.concatenate([uv.min(axis=0), uv.max(axis=0)])


def screen_windows(corners_world: np.ndarray, K: np.ndarray, world_to_cam: np.ndarray,
                   height: int, width: int) -> np.ndarray:
    """Pixel rectangles outside which a box cannot be seen.

    Args:
        corners_world: ``(P, 8, 3)`` box corners, metres.
        K: ``(3, 3)`` intrinsics.
        world_to_cam: ``(4, 4)`` world-to-camera transform.
        height, width: Image size.

    Returns:
        np.ndarray: ``(P, 4)`` int64 ``v0, v1, u0, u1`` half-open ranges; empty ranges
        (``v0 >= v1`` or ``u0 >= u1``) for boxes that are surely invisible.
    """
    cam = corners_world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    in_front = cam[..., 2] > NEAR_CLIP
    all_front = in_front.all(axis=1)
    bounds = np.zeros((len(cam), 4))
    bounds[:, :2] = np.inf
    bounds[:, 2:] = -np.inf
    if all_front.any():
        proj = cam[all_front] @ K.T
        uv = proj[..., :2] / proj[..., 2:3]
        bounds[all_front, :2] = uv.min(axis=1)
        bounds[all_front, 2:] = uv.max(axis=1)
    for k in np.flatnonzero(in_front.any(axis=1) & ~all_front):
        bounds[k] = _clipped_bounds(cam[k], in_front[k], K)
    lower = np.clip(np.floor(bounds[:, :2]) - 1, 0, [width, height])
    upper = np.clip(np.ceil(bounds[:, 2:]) + 2, 0, [width, height])
    return np.stack([lower[:, 1], upper[:, 1], lower[:, 0], upper[:, 0]],
                    1).astype(np.int64)


def _trace_image(scene: Scene, K: np.ndarray, cam_to_world: np.ndarray,
                 dirs_world: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest hit per pixel; returns ``t``, box index and face axis, each ``(H, W)``."""
    height, width = dirs_world.shape[:2]
    origin = cam_to_world[:3, 3]
    inv_dir = _safe_inverse(dirs_world)
    best_t = np.full((height, width), np.inf)
    best_idx = np.full((height, width), -1, dtype=np.int64)
    best_axis = np.zeros((height, width), dtype=np.int64)
    lo, hi, _ = scene.arrays()
    windows = screen_windows(scene.corners(), K, np.linalg.inv(cam_to_world), height,
                             width)
    visible = (windows[:, 0] < windows[:, 1]) & (windows[:, 2] < windows[:, 3])
    for k in np.flatnonzero(visible):
        v0, v1, u0, u1 = windows[k]
        sub_inv = [inv[v0:v1, u0:u1] for inv in inv_dir]
        t, t_entry = _slab(origin, sub_inv, lo[k], hi[k])
        view_t = best_t[v0:v1, u0:u1]
        closer = t < view_t
        if not closer.any():
            continue
        view_t[closer] = t[closer]
        best_idx[v0:v1, u0:u1][closer] = k
        best_axis[v0:v1, u0:u1][closer] = _entry_axis(t_entry, closer)
    return best_t, best_idx, best_axis


def shade_hits(scene: Scene, origin: np.ndarray, directions: np.ndarray, hits: RayHits,
               focal: float) -> np.ndarray:
    """Colour of the hit surfaces (albedo times Lambertian shading) or of the sky.

    Args:
        scene: The scene.
        origin: ``(3,)`` ray origin.
        directions: ``(N, 3)`` ray directions, scaled so that ``t`` is camera z.
        hits: The hits of these rays.
        focal: Focal length in pixels (for texture band-limiting).

    Returns:
        np.ndarray: ``(N, 3)`` float64 RGB in [0, 1].
    """
    rgb = np.empty((len(directions), 3))
    miss = ~hits.hit
    if miss.any():
        rgb[miss] = scene.sky.color(directions[miss]) if scene.sky else _VOID_RGB
    hit_rows = np.flatnonzero(hits.hit)
    if hit_rows.size == 0:
        return rgb
    order = hit_rows[np.argsort(hits.index[hit_rows], kind='stable')]
    d = directions[order]
    t = hits.t[order]
    axis = hits.axis[order]
    points = origin + t[:, None] * d
    normals = np.zeros_like(d)
    normals[np.arange(len(order)), axis] = -np.sign(d[np.arange(len(order)), axis])
    cos_incidence = np.abs(np.sum(normals * d, axis=1)) / np.linalg.norm(d, axis=1)
    footprint = t / focal / np.sqrt(np.maximum(cos_incidence, _MIN_FOOTPRINT_COS))
    shading = scene.light.shade(points, normals)
    albedo = np.empty_like(points)
    boxes, starts = np.unique(hits.index[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    lo, hi, _ = scene.arrays()
    for k, a, b in zip(boxes, starts, ends):
        surface = SurfacePoints(
            world=points[a:b],
            local=points[a:b] - lo[k],
            extent=hi[k] - lo[k],
            axis=axis[a:b],
            footprint=footprint[a:b])
        albedo[a:b] = evaluate_albedo(scene.boxes[k].material, surface)
    rgb[order] = albedo * shading[:, None]
    return rgb


def render(scene: Scene, K: np.ndarray, cam_to_world: np.ndarray, height: int,
           width: int) -> RenderResult:
    """Render colour, exact camera-z depth and labels of a pinhole view.

    Args:
        scene: The scene.
        K: ``(3, 3)`` intrinsics in pixels (pixel centres at integer coordinates).
        cam_to_world: ``(4, 4)`` camera-to-world pose (OpenCV axes: x right, y down, z
            forward).
        height, width: Image size in pixels.

    Returns:
        RenderResult: The rendered view.
    """
    K = np.asarray(K, dtype=np.float64)
    cam_to_world = np.asarray(cam_to_world, dtype=np.float64)
    dirs_world = pixel_rays(K, height, width) @ cam_to_world[:3, :3].T
    t, index, axis = _trace_image(scene, K, cam_to_world, dirs_world)
    hits = RayHits(t.ravel(), index.ravel(), axis.ravel())
    focal = float(np.sqrt(K[0, 0] * K[1, 1]))
    rgb = shade_hits(scene, cam_to_world[:3, 3], dirs_world.reshape(-1, 3), hits, focal)
    rgb8 = np.clip(np.rint(rgb * 255.0), 0,
                   255).astype(np.uint8).reshape(height, width, 3)
    _, _, labels = scene.arrays()
    label = np.where(index >= 0, labels[np.maximum(index, 0)], scene.miss_label)
    depth = np.where(np.isfinite(t), t, 0.0).astype(np.float32)
    return RenderResult(
        rgb=rgb8,
        depth=depth,
        label=label.astype(np.uint16),
        box_index=index.astype(np.int32),
        K=K,
        cam_to_world=cam_to_world)
