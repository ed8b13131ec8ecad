"""Geometry-consistent resize, crop and flip for joint depth + semantics pipelines.

These transforms shadow mmcv's / mmseg's ``Resize``, ``RandomResize``, ``RandomCrop``,
``RandomFlip`` and ``CenterCrop`` in the ``mmdepthsem`` scope (and add ``KBCrop``). They
accept the arguments mmseg configs use, and move **every** present field together
(``docs/data_conventions.md``):

- ``img``, ``img_clean`` and every image of ``frames`` / ``frames_clean`` (dict id →
  image): bilinear (``interpolation``); padded with ``img_pad_val`` (0);
- ``gt_seg_map``, ``gt_pseudo_seg_map``, ``gt_fg_mask`` and any other name in
  ``seg_fields``: nearest; padded with ``seg_pad_val`` (255);
- ``gt_depth_map`` and ``est_depth_map`` (÷ ``s`` in ``depth_mode='divide'``),
  ``gt_pseudo_conf``: nearest,
  padded with 0; ``gt_disparity_map``: nearest, × the horizontal scale, padded with 0;
- ``intrinsics`` (3 × 3), ``camera`` (``fx, fy, u0, v0``), ``points`` ((N, 2) x, y):
  analytically; points a crop leaves outside the image are dropped.

Pixel-centre convention (OpenCV's, the one KITTI / NYU / Cityscapes calibrations use):
integer pixel indices ``(u, v)`` are pixel **centres**; the image covers the continuous
range ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``. Every operation here is an axis-aligned
affine map of pixel coordinates ``x' = a_x * x + b_x``, ``y' = a_y * y + b_y``:

- resize ``W -> W'``: ``a = W' / W``, ``b = (a - 1) / 2`` (the sampling grid of
  ``cv2.resize`` and ``F.interpolate(..., align_corners=False)``);
- crop (or pad) with the window's top-left pixel at ``(x0, y0)``: ``a = 1``, ``b = -x0``;
- horizontal flip: ``a = -1``, ``b = W - 1`` (vertical: the same on ``y``).

Points and the principal point follow this map. With ``M = [[a_x, 0, b_x],
[0, a_y, b_y], [0, 0, 1]]`` the new camera matrix is
``K' = M @ K @ diag(sign(a_x) / s, sign(a_y) / s, 1)``:

- resize (``'keep_metric'``, ``s = 1``): ``fx' = a_x fx``, ``cx' = a_x (cx + 0.5) - 0.5``;
  the camera zooms, depth values are unchanged;
- resize (``depth_mode='divide'``, ``s = sqrt(a_x a_y)``): depth ÷ ``s`` (the scene moves
  closer, Eigen et al. 2014), focal lengths unchanged (``fx' = fx a_x / s``, exactly
  ``fx`` for an isotropic resize), while the principal point still moves with the pixel
  grid (``cx' = a_x (cx + 0.5) - 0.5``): a point ``(X, Y, Z)`` becomes ``(X, Y, Z / s)``
  and projects with ``K'`` exactly where its pixel went. Keeping ``cx`` unchanged as
  well would misplace every projection by ``(s - 1) cx`` pixels;
- flips keep ``fx, fy > 0`` and describe the mirrored scene: after a horizontal flip the
  point ``(X, Y, Z)`` is seen at ``(-X, Y, Z)``; ``cx' = W - 1 - cx``.

Disparity ``d = fx B / Z`` is in pixels of the current image, so in both depth modes it
becomes ``d * a_x`` (keep_metric: ``fx`` grows by ``a_x``; divide: ``Z`` shrinks by
``s = a_x``); flips and crops leave it unchanged.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmdepthsem.registry import TRANSFORMS

#: Image-like keys (``(H, W, C)`` arrays), resampled with the image interpolation.
IMAGE_KEYS = ('img', 'img_clean')
#: Keys holding a dict ``frame id -> (H, W, C) image``.
FRAME_KEYS = ('frames', 'frames_clean')
#: Label-like maps resampled by nearest neighbour and padded with ``seg_pad_val``.
LABEL_KEYS = ('gt_seg_map', 'gt_pseudo_seg_map', 'gt_fg_mask')
#: Continuous-valued maps resampled by nearest neighbour and padded with 0 (invalid).
ZERO_PAD_KEYS = ('gt_depth_map', 'gt_disparity_map', 'gt_pseudo_conf', 'est_depth_map')
#: Label maps whose values are class ids (``swap_seg_labels`` applies to them).
CLASS_ID_KEYS = ('gt_seg_map', 'gt_pseudo_seg_map')
DEPTH_MODES = ('keep_metric', 'divide')
#: Flip direction -> the image axes it mirrors.
_DIRECTION_AXES = {'horizontal': frozenset('x'), 'vertical': frozenset('y'),
                   'diagonal': frozenset('xy')}

Size = Tuple[int, int]
PadVal = Union[int, float, Sequence[Union[int, float]]]


# --------------------------------------------------------------------------- #
# Pixel-coordinate operations. Each is an axis-aligned affine map plus how it
# resamples an array. ``apply_geometry`` dispatches them over every field.
# --------------------------------------------------------------------------- #
class _GeometricOp:
    """An axis-aligned affine pixel map ``x' = a_x x + b_x``, ``y' = a_y y + b_y``.

    Subclasses define how arrays are resampled. Attributes:

    - ``in_hw`` / ``out_hw``: ``(H, W)`` before / after, pixels.
    - ``a``, ``b``: ``(a_x, a_y)`` and ``(b_x, b_y)`` of the map.
    - ``depth_divisor``: depth values are divided by it (``1`` unless
      ``depth_mode='divide'``).
    """

    in_hw: Size
    out_hw: Size
    a: Tuple[float, float] = (1.0, 1.0)
    b: Tuple[float, float] = (0.0, 0.0)
    depth_divisor: float = 1.0

    def warp_image(self, img: np.ndarray, pad_val: PadVal) -> np.ndarray:
        """Resample an ``(H, W[, C])`` image (smoothly where the op interpolates)."""
        raise NotImplementedError

    def warp_map(self, arr: np.ndarray, pad_val: PadVal) -> np.ndarray:
        """Resample an ``(H, W[, C])`` map without blending values (nearest).

        Defaults to :meth:`warp_image`, for operations that only move pixels.
        """
        return self.warp_image(arr, pad_val)

    def warp_points(self, points: np.ndarray) -> np.ndarray:
        """Map ``(N, 2)`` ``(x, y)`` pixel coordinates; points outside are dropped."""
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        out = pts * np.float32(self.a) + np.float32(self.b)
        h, w = self.out_hw
        inside = ((out[:, 0] >= -0.5) & (out[:, 0] <= w - 0.5) &
                  (out[:, 1] >= -0.5) & (out[:, 1] <= h - 0.5))
        return out[inside]

    def warp_intrinsics(self, intrinsics: np.ndarray) -> np.ndarray:
        """Return ``K' = M K diag(sign(a_x)/s, sign(a_y)/s, 1)`` as float32 (3, 3)."""
        k = np.asarray(intrinsics, dtype=np.float64)
        if k.shape != (3, 3):
            raise ValueError(f'`intrinsics` must be a (3, 3) matrix, got shape {k.shape}')
        (ax, ay), (bx, by) = self.a, self.b
        m = np.array([[ax, 0., bx], [0., ay, by], [0., 0., 1.]])
        s = self.depth_divisor
        d = np.diag([math.copysign(1. / s, ax), math.copysign(1. / s, ay), 1.])
        return (m @ k @ d).astype(np.float32)

    @property
    def disparity_gain(self) -> float:
        """Factor applied to disparity values (pixels scale with ``|a_x|``)."""
        return abs(self.a[0])


class _ResizeOp(_GeometricOp):
    """Resize ``in_hw -> out_hw`` with the half-pixel-aligned grid of ``cv2.resize``."""

    def __init__(self, in_hw: Size, out_hw: Size, interpolation: str = 'bilinear',
                 backend: str = 'cv2', depth_divisor: float = 1.0) -> None:
        if min(out_hw) <= 0:
            raise ValueError(f'resize target {out_hw[::-1]} (w, h) is empty')
        self.in_hw, self.out_hw = tuple(in_hw), tuple(out_hw)
        self.interpolation, self.backend = interpolation, backend
        self.depth_divisor = depth_divisor
        ax, ay = out_hw[1] / in_hw[1], out_hw[0] / in_hw[0]
        self.a = (ax, ay)
        self.b = ((ax - 1) / 2, (ay - 1) / 2)

    def warp_image(self, img: np.ndarray, pad_val: PadVal) -> np.ndarray:
        if img.shape[:2] == self.out_hw:
            return img
        return mmcv.imresize(img, self.out_hw[::-1], interpolation=self.interpolation,
                             backend=self.backend)

    def warp_map(self, arr: np.ndarray, pad_val: PadVal) -> np.ndarray:
        rows = _nearest_source_index(self.in_hw[0], self.out_hw[0])
        cols = _nearest_source_index(self.in_hw[1], self.out_hw[1])
        return np.ascontiguousarray(arr[rows[:, None], cols[None, :]])


def _nearest_source_index(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each output pixel for a nearest resize ``n_in -> n_out``.

    Output pixel ``i`` has its centre at ``(i + 0.5) n_in / n_out - 0.5`` in input
    coordinates; the nearest input pixel is ``floor((i + 0.5) n_in / n_out)``. This is
    the grid ``cv2.INTER_NEAREST_EXACT`` uses and the one bilinear image resizing uses,
    so labels and depth stay aligned with the image (``cv2.INTER_NEAREST`` is shifted
    by up to half an input pixel).
    """
    idx = np.floor((np.arange(n_out) + 0.5) * (n_in / n_out)).astype(np.int64)
    return np.clip(idx, 0, n_in - 1)


class _CropOp(_GeometricOp):
    """Cut the window ``[x0, x0 + w) x [y0, y0 + h)``; parts outside the image are padded.

    ``x0``/``y0`` may be negative and the window may extend past the right / bottom
    border: those pixels take each field's padding value.
    """

    def __init__(self, in_hw: Size, x0: int, y0: int, out_hw: Size) -> None:
        self.in_hw, self.out_hw = tuple(in_hw), tuple(out_hw)
        self.x0, self.y0 = int(x0), int(y0)
        self.b = (float(-self.x0), float(-self.y0))

    def warp_image(self, arr: np.ndarray, pad_val: PadVal) -> np.ndarray:
        (h_in, w_in), (h, w) = arr.shape[:2], self.out_hw
        ys, ye = max(self.y0, 0), min(self.y0 + h, h_in)
        xs, xe = max(self.x0, 0), min(self.x0 + w, w_in)
        inside = arr[ys:ye, xs:xe]
        if inside.shape[:2] == (h, w):
            return np.ascontiguousarray(inside)
        out = np.empty((h, w) + arr.shape[2:], dtype=arr.dtype)
        out[...] = np.asarray(pad_val, dtype=arr.dtype)
        if ye > ys and xe > xs:
            out[ys - self.y0:ye - self.y0, xs - self.x0:xe - self.x0] = inside
        return out


class _FlipOp(_GeometricOp):
    """Mirror along x (``'horizontal'``), y (``'vertical'``) or both (``'diagonal'``)."""

    def __init__(self, in_hw: Size, direction: str) -> None:
        if direction not in _DIRECTION_AXES:
            raise ValueError(f'flip direction must be one of {list(_DIRECTION_AXES)}, '
                             f'got {direction!r}')
        self.in_hw = self.out_hw = tuple(in_hw)
        h, w = self.in_hw
        flip_x, flip_y = ('x' in _DIRECTION_AXES[direction],
                          'y' in _DIRECTION_AXES[direction])
        self.axes = tuple(axis for axis, flip in ((0, flip_y), (1, flip_x)) if flip)
        self.a = (-1.0 if flip_x else 1.0, -1.0 if flip_y else 1.0)
        self.b = (w - 1.0 if flip_x else 0.0, h - 1.0 if flip_y else 0.0)

    def warp_image(self, img: np.ndarray, pad_val: PadVal) -> np.ndarray:
        return np.ascontiguousarray(np.flip(img, axis=self.axes))


# --------------------------------------------------------------------------- #
# The one per-field dispatcher every geometric transform uses.
# --------------------------------------------------------------------------- #
def image_hw(results: dict) -> Size:
    """``(H, W)`` of ``results['img']``, the reference all fields must match."""
    if results.get('img') is None:
        raise KeyError('geometric transforms need `img` in results (load the image '
                       'first); got keys ' + str(sorted(results)))
    return tuple(results['img'].shape[:2])


def map_field_pad_values(results: dict, seg_pad_val: PadVal) -> Dict[str, PadVal]:
    """Every per-pixel map present in ``results`` with its padding value.

    Known fields get their invalid value (labels / fg mask: ``seg_pad_val``; depth,
    disparity, confidence: ``0``); any other name listed in ``results['seg_fields']``
    is treated as a label map.
    """
    names = list(LABEL_KEYS) + list(ZERO_PAD_KEYS)
    names += [k for k in results.get('seg_fields', []) if k not in names]
    return {k: (0 if k in ZERO_PAD_KEYS else seg_pad_val)
            for k in names if results.get(k) is not None}


def apply_geometry(results: dict, op: _GeometricOp, img_pad_val: PadVal = 0,
                   seg_pad_val: PadVal = 255) -> dict:
    """Apply one pixel-coordinate operation to every field of ``results`` in place.

    Args:
        results: The pipeline dict (see ``docs/data_conventions.md``).
        op: The operation; its ``in_hw`` must equal every field's ``(H, W)``.
        img_pad_val: Fill for image pixels outside the source (crops that pad).
        seg_pad_val: Fill for label maps and the foreground mask.

    Returns:
        ``results``, with ``img_shape`` set to ``op.out_hw``.
    """
    for key in IMAGE_KEYS:
        if results.get(key) is not None:
            _check_hw(results[key], op.in_hw, key)
            results[key] = op.warp_image(results[key], img_pad_val)
    for key in FRAME_KEYS:
        if results.get(key) is not None:
            frames = {}
            for fid, frame in results[key].items():
                _check_hw(frame, op.in_hw, f'{key}[{fid!r}]')
                frames[fid] = op.warp_image(frame, img_pad_val)
            results[key] = frames
    for key, pad_val in map_field_pad_values(results, seg_pad_val).items():
        _check_hw(results[key], op.in_hw, key)
        results[key] = _rescale_values(key, op.warp_map(results[key], pad_val), op)
    if results.get('intrinsics') is not None:
        results['intrinsics'] = op.warp_intrinsics(results['intrinsics'])
    if results.get('camera') is not None:
        results['camera'] = _warp_camera(results['camera'], op)
    if results.get('points') is not None:
        results['points'] = op.warp_points(results['points'])
    results['img_shape'] = op.out_hw
    return results


def _rescale_values(key: str, arr: np.ndarray, op: _GeometricOp) -> np.ndarray:
    """Depth ÷ ``op.depth_divisor``; disparity × ``op.disparity_gain``; others as-is."""
    if key in ('gt_depth_map', 'est_depth_map') and op.depth_divisor != 1.0:
        return (arr / op.depth_divisor).astype(arr.dtype, copy=False)
    if key == 'gt_disparity_map' and op.disparity_gain != 1.0:
        return (arr * op.disparity_gain).astype(arr.dtype, copy=False)
    return arr


def _warp_camera(camera: dict, op: _GeometricOp) -> dict:
    """Update a Cityscapes-style ``camera`` dict (``fx, fy, u0, v0`` pixels)."""
    if not all(k in camera for k in ('fx', 'fy', 'u0', 'v0')):
        return camera
    k = np.array([[camera['fx'], 0., camera['u0']], [0., camera['fy'], camera['v0']],
                  [0., 0., 1.]])
    k = op.warp_intrinsics(k).astype(np.float64)
    return dict(camera, fx=float(k[0, 0]), fy=float(k[1, 1]), u0=float(k[0, 2]),
                v0=float(k[1, 2]))


def _check_hw(arr: np.ndarray, hw: Size, key: str) -> None:
    if tuple(arr.shape[:2]) != tuple(hw):
        raise ValueError(f'`{key}` has shape {tuple(arr.shape)} but `img` is {tuple(hw)} '
                         '(H, W); every per-pixel field must match the image')


def _pair(value: Union[int, float, Sequence], name: str) -> tuple:
    if isinstance(value, (int, float)):
        return (value, value)
    if len(value) != 2:
        raise ValueError(f'`{name}` must be a number or a pair, got {value!r}')
    return tuple(value)


def _check_depth_mode(depth_mode: str) -> str:
    if depth_mode not in DEPTH_MODES:
        raise ValueError(f'depth_mode must be one of {DEPTH_MODES}, got {depth_mode!r}')
    return depth_mode


# --------------------------------------------------------------------------- #
# Resizing
# --------------------------------------------------------------------------- #
@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize the image and every field with it (mmcv/mmseg ``Resize`` arguments).

    Required keys: ``img``. Modified: every field listed in the module docstring.
    Added / updated: ``img_shape``, ``scale`` ((w, h) target), ``scale_factor``
    ((w_scale, h_scale), **cumulative** over all resizes since loading),
    ``keep_ratio``.

    Args:
        scale: Target ``(w, h)`` (an int means square). With ``keep_ratio`` the image
            is rescaled as large as possible so its long edge is at most ``max(scale)``
            and its short edge at most ``min(scale)``. Takes precedence over
            ``scale_factor``.
        scale_factor: A factor or ``(w_factor, h_factor)``; the output size is
            ``int(w * f + 0.5)``.
        keep_ratio: See ``scale``.
        clip_object_border: Accepted for mmcv compatibility (no boxes here).
        backend: ``'cv2'`` or ``'pillow'``, for images.
        interpolation: Image interpolation (``'bilinear'``, ``'bicubic'``, ``'area'``,
            ...). Maps always use nearest neighbour.
        depth_mode: ``'keep_metric'``: depth unchanged, intrinsics zoom. ``'divide'``:
            depth ÷ ``sqrt(w_scale * h_scale)``, focal lengths unchanged (see module
            docstring).
    """

    def __init__(self,
                 scale: Optional[Union[int, Sequence[int]]] = None,
                 scale_factor: Optional[Union[float, Sequence[float]]] = None,
                 keep_ratio: bool = False,
                 clip_object_border: bool = True,
                 backend: str = 'cv2',
                 interpolation: str = 'bilinear',
                 depth_mode: str = 'keep_metric') -> None:
        if scale is None and scale_factor is None:
            raise ValueError('Resize needs `scale` or `scale_factor`')
        self.scale = None if scale is None else tuple(_pair(scale, 'scale'))
        self.scale_factor = (None if scale_factor is None else
                             tuple(float(f) for f in _pair(scale_factor, 'scale_factor')))
        self.keep_ratio = keep_ratio
        self.clip_object_border = clip_object_border
        self.backend = backend
        self.interpolation = interpolation
        self.depth_mode = _check_depth_mode(depth_mode)

    def target_size(self, hw: Size) -> Size:
        """Output ``(w, h)`` for an input of ``hw = (H, W)``."""
        h, w = hw
        if self.scale and all(self.scale):
            if not self.keep_ratio:
                return tuple(int(v) for v in self.scale)
            factor = min(max(self.scale) / max(h, w), min(self.scale) / min(h, w))
            return int(w * factor + 0.5), int(h * factor + 0.5)
        if self.scale_factor is None:
            raise ValueError(f'Resize has neither a usable scale ({self.scale}) nor '
                             'a scale_factor')
        fx, fy = self.scale_factor
        return int(w * fx + 0.5), int(h * fy + 0.5)

    def transform(self, results: dict) -> dict:
        """Resize every field of ``results`` to :meth:`target_size`."""
        in_hw = image_hw(results)
        out_w, out_h = self.target_size(in_hw)
        ax, ay = out_w / in_hw[1], out_h / in_hw[0]
        divisor = math.sqrt(ax * ay) if self.depth_mode == 'divide' else 1.0
        op = _ResizeOp(in_hw, (out_h, out_w), self.interpolation, self.backend, divisor)
        apply_geometry(results, op)
        old = results.get('scale_factor', (1.0, 1.0))
        old = _pair(old, 'scale_factor') if old is not None else (1.0, 1.0)
        results['scale_factor'] = (old[0] * ax, old[1] * ay)
        results['scale'] = (out_w, out_h)
        results['keep_ratio'] = self.keep_ratio
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'scale_factor={self.scale_factor}, keep_ratio={self.keep_ratio}, '
                f'clip_object_border={self.clip_object_border}, '
                f'backend={self.backend!r}, interpolation={self.interpolation!r}, '
                f'depth_mode={self.depth_mode!r})')


@TRANSFORMS.register_module()
class RandomResize(BaseTransform):
    """Resize by a random ratio, moving every field (mmcv ``RandomResize`` + more).

    Three ways to draw the size:

    - ``scale=(w, h), ratio_range=(lo, hi)``: target ``(int(w r), int(h r))``, ``r``
      uniform in ``[lo, hi]`` (mmcv / mmseg behaviour; ``keep_ratio`` applies);
    - ``scale=[(w0, h0), (w1, h1)]``: each edge uniform between the two (mmcv);
    - ``scale=None`` with ``ratio_range`` or ``ratios``: the current image is scaled by
      ``r`` uniform in ``ratio_range`` or chosen from ``ratios`` (e.g. ``(1, 1.2, 1.5)``);
      ``scale=(w, h)`` with ``ratios`` gives ``(int(w r), int(h r))``.

    Args:
        scale: Base target ``(w, h)``, a pair of ``(w, h)`` bounds, or ``None``.
        ratio_range: ``(lo, hi)`` of the uniform ratio.
        ratios: Discrete ratios to choose from uniformly.
        resize_type: Must name this package's ``Resize`` (``'Resize'``), the only one
            that moves all fields.
        depth_mode: ``'keep_metric'`` (depth unchanged, intrinsics zoom) or
            ``'divide'`` (depth ÷ the actual scale, focal lengths unchanged; see the
            module docstring).
        **resize_kwargs: Passed to :class:`Resize` (``keep_ratio``, ``interpolation``,
            ``backend``, ``clip_object_border``).
    """

    def __init__(self,
                 scale: Optional[Union[Sequence[int], Sequence[Sequence[int]]]] = None,
                 ratio_range: Optional[Sequence[float]] = None,
                 ratios: Optional[Sequence[float]] = None,
                 resize_type: str = 'Resize',
                 depth_mode: str = 'keep_metric',
                 **resize_kwargs) -> None:
        if resize_type not in ('Resize', 'mmdepthsem.Resize'):
            raise ValueError('RandomResize in mmdepthsem uses its own Resize (which '
                             'moves depth, intrinsics, frames...); got '
                             f'resize_type={resize_type!r}')
        self.scale = self._parse_scale(scale)
        self.ratio_range = None if ratio_range is None else tuple(ratio_range)
        self.ratios = None if ratios is None else tuple(float(r) for r in ratios)
        self._check_sampling()
        self.depth_mode = _check_depth_mode(depth_mode)
        self.resize_cfg = dict(type=resize_type, **resize_kwargs)
        self.resize = Resize(scale=0, scale_factor=1.0, depth_mode=depth_mode,
                             **resize_kwargs)

    @staticmethod
    def _parse_scale(scale) -> Optional[tuple]:
        if scale is None:
            return None
        if isinstance(scale, int):
            return (scale, scale)
        if all(isinstance(s, (list, tuple)) for s in scale):
            return tuple(tuple(s) for s in scale)
        return tuple(scale)

    def _is_bounds(self) -> bool:
        return self.scale is not None and isinstance(self.scale[0], tuple)

    def _check_sampling(self) -> None:
        if self._is_bounds():
            if len(self.scale) != 2 or self.ratio_range or self.ratios:
                raise ValueError('scale as bounds needs exactly two (w, h) tuples and '
                                 'no ratio_range / ratios')
            return
        if (self.ratio_range is None) == (self.ratios is None):
            raise ValueError('RandomResize needs exactly one of ratio_range / ratios '
                             f'(got {self.ratio_range}, {self.ratios}) unless scale is a '
                             'pair of (w, h) bounds')
        if self.ratio_range is not None and (len(self.ratio_range) != 2 or
                                             self.ratio_range[0] > self.ratio_range[1]):
            raise ValueError(f'ratio_range must be (lo, hi), got {self.ratio_range}')
        if self.ratios is not None and (not self.ratios or min(self.ratios) <= 0):
            raise ValueError(f'ratios must be positive numbers, got {self.ratios}')

    @cache_randomness
    def _sample(self) -> Tuple[Optional[tuple], Optional[float]]:
        """Draw ``(target (w, h) or None, ratio or None)``."""
        if self._is_bounds():
            (w0, h0), (w1, h1) = self.scale
            w = np.random.randint(min(w0, w1), max(w0, w1) + 1)
            h = np.random.randint(min(h0, h1), max(h0, h1) + 1)
            return (int(w), int(h)), None
        if self.ratio_range is not None:
            lo, hi = self.ratio_range
            ratio = float(np.random.uniform(lo, hi))
        else:
            ratio = self.ratios[np.random.randint(len(self.ratios))]
        if self.scale is None:
            return None, ratio
        return (int(self.scale[0] * ratio), int(self.scale[1] * ratio)), ratio

    def transform(self, results: dict) -> dict:
        """Draw a size and resize every field to it."""
        target, ratio = self._sample()
        if target is None:
            self.resize.scale, self.resize.scale_factor = None, (ratio, ratio)
        else:
            self.resize.scale, self.resize.scale_factor = target, None
        return self.resize(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'ratio_range={self.ratio_range}, ratios={self.ratios}, '
                f'depth_mode={self.depth_mode!r}, resize_cfg={self.resize_cfg})')


# --------------------------------------------------------------------------- #
# Cropping
# --------------------------------------------------------------------------- #
class _CropBase(BaseTransform):
    """Shared by the crops: apply a window, pad with each field's invalid value."""

    def __init__(self, img_pad_val: PadVal = 0, seg_pad_val: PadVal = 255) -> None:
        self.img_pad_val = img_pad_val
        self.seg_pad_val = seg_pad_val

    def window(self, results: dict) -> Tuple[int, int, int, int]:
        """Return ``(x0, y0, w, h)`` of the crop window in input pixels."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Crop every field to :meth:`window` (padding where it leaves the image)."""
        in_hw = image_hw(results)
        x0, y0, w, h = self.window(results)
        op = _CropOp(in_hw, x0, y0, (h, w))
        return apply_geometry(results, op, self.img_pad_val, self.seg_pad_val)


@TRANSFORMS.register_module()
class RandomCrop(_CropBase):
    """Random crop of every field (mmseg ``RandomCrop`` arguments, plus padding).

    When the image is smaller than ``crop_size`` along an axis, the crop starts at 0 on
    that axis and the missing bottom / right part is padded (image ``img_pad_val``,
    labels and fg mask ``seg_pad_val``, depth / disparity / confidence 0); intrinsics and
    points are unaffected by bottom/right padding. Points cropped out are dropped.

    Args:
        crop_size: ``(h, w)`` (mmseg order) or an int.
        cat_max_ratio: Re-draw the window (up to 10 times) while one class covers at
            least this fraction of the labelled pixels of ``gt_seg_map`` (or
            ``gt_pseudo_seg_map``); ``1.`` disables it.
        ignore_index: Label ignored by ``cat_max_ratio``.
        img_pad_val: Image padding value (number or per-channel sequence).
        seg_pad_val: Label / fg-mask padding value.
    """

    def __init__(self,
                 crop_size: Union[int, Sequence[int]],
                 cat_max_ratio: float = 1.,
                 ignore_index: int = 255,
                 img_pad_val: PadVal = 0,
                 seg_pad_val: PadVal = 255) -> None:
        super().__init__(img_pad_val, seg_pad_val)
        self.crop_size = tuple(int(v) for v in _pair(crop_size, 'crop_size'))
        if min(self.crop_size) <= 0:
            raise ValueError(f'crop_size must be positive, got {self.crop_size}')
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def _random_window(self, hw: Size) -> Tuple[int, int, int, int]:
        (h, w), (ch, cw) = hw, self.crop_size
        y0 = np.random.randint(0, max(h - ch, 0) + 1)
        x0 = np.random.randint(0, max(w - cw, 0) + 1)
        return int(x0), int(y0), cw, ch

    def _too_uniform(self, labels: np.ndarray, window: tuple) -> bool:
        x0, y0, w, h = window
        values, counts = np.unique(labels[y0:y0 + h, x0:x0 + w], return_counts=True)
        counts = counts[values != self.ignore_index]
        return len(counts) <= 1 or counts.max() / counts.sum() >= self.cat_max_ratio

    @cache_randomness
    def window(self, results: dict) -> Tuple[int, int, int, int]:
        hw = image_hw(results)
        win = self._random_window(hw)
        labels = results.get('gt_seg_map', results.get('gt_pseudo_seg_map'))
        if self.cat_max_ratio < 1. and labels is not None:
            for _ in range(10):
                if not self._too_uniform(labels, win):
                    break
                win = self._random_window(hw)
        return win

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'cat_max_ratio={self.cat_max_ratio}, ignore_index={self.ignore_index}, '
                f'img_pad_val={self.img_pad_val}, seg_pad_val={self.seg_pad_val})')


@TRANSFORMS.register_module()
class KBCrop(_CropBase):
    """KITTI depth-benchmark crop: the bottom ``height`` rows, centred ``width`` columns.

    On a 375 x 1242 KITTI image this keeps rows 23..374 and columns 13..1228
    (``x0 = (W - width) // 2``), giving 352 x 1216; ``cx -= x0``, ``cy -= y0``.

    Args:
        height: Rows kept (from the bottom). Defaults to 352.
        width: Columns kept (centred). Defaults to 1216.

    Raises:
        ValueError: If the image is smaller than ``height x width``.
    """

    def __init__(self, height: int = 352, width: int = 1216) -> None:
        super().__init__()
        self.height, self.width = int(height), int(width)

    def window(self, results: dict) -> Tuple[int, int, int, int]:
        h, w = image_hw(results)
        if h < self.height or w < self.width:
            raise ValueError(f'KBCrop needs an image of at least {self.height} x '
                             f'{self.width}, got {h} x {w} '
                             f'({results.get("img_path", "unknown image")})')
        return (w - self.width) // 2, h - self.height, self.width, self.height

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(height={self.height}, width={self.width})'


@TRANSFORMS.register_module()
class CenterCrop(_CropBase):
    """Centred crop of every field, with mmcv ``CenterCrop``'s argument order.

    The window starts at ``((W - w) // 2, (H - h) // 2)``. Along an axis where the image
    is smaller than the crop it starts at 0 and: with ``auto_pad`` the bottom / right is
    padded to the crop size (as mmcv does); without it the output keeps the image's
    extent on that axis.

    Args:
        crop_size: ``(w, h)`` (mmcv order — note mmseg's ``RandomCrop`` is ``(h, w)``)
            or an int.
        auto_pad: Pad images smaller than the crop.
        pad_cfg: mmcv compatibility; a ``pad_val`` in it (number or
            ``dict(img=..., seg=...)``) sets the padding values.
        clip_object_border: Accepted for mmcv compatibility (no boxes here).
        img_pad_val: Image padding value.
        seg_pad_val: Label / fg-mask padding value.
    """

    def __init__(self,
                 crop_size: Union[int, Sequence[int]],
                 auto_pad: bool = False,
                 pad_cfg: Optional[dict] = None,
                 clip_object_border: bool = True,
                 img_pad_val: PadVal = 0,
                 seg_pad_val: PadVal = 255) -> None:
        pad_val = (pad_cfg or {}).get('pad_val')
        if isinstance(pad_val, dict):
            img_pad_val = pad_val.get('img', img_pad_val)
            seg_pad_val = pad_val.get('seg', seg_pad_val)
        elif pad_val is not None:
            img_pad_val = pad_val
        super().__init__(img_pad_val, seg_pad_val)
        self.crop_size = tuple(int(v) for v in _pair(crop_size, 'crop_size'))
        self.auto_pad = auto_pad
        self.pad_cfg = pad_cfg
        self.clip_object_border = clip_object_border

    def window(self, results: dict) -> Tuple[int, int, int, int]:
        (h, w), (cw, ch) = image_hw(results), self.crop_size
        if not self.auto_pad:
            cw, ch = min(cw, w), min(ch, h)
        return max((w - cw) // 2, 0), max((h - ch) // 2, 0), cw, ch

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'auto_pad={self.auto_pad}, img_pad_val={self.img_pad_val}, '
                f'seg_pad_val={self.seg_pad_val})')


# --------------------------------------------------------------------------- #
# Flipping
# --------------------------------------------------------------------------- #


def _flip_pose_views(results: dict, direction: str) -> None:
    """Flip ``pose_img`` / ``pose_frames`` like the image (they keep their size,
    the one they had when :class:`KeepUncroppedPoseViews` copied them)."""
    if results.get('pose_img') is None:
        return
    op = _FlipOp(tuple(results['pose_img'].shape[:2]), direction)
    results['pose_img'] = op.warp_image(results['pose_img'], 0)
    if results.get('pose_frames') is not None:
        results['pose_frames'] = {fid: op.warp_image(f, 0)
                                  for fid, f in results['pose_frames'].items()}


@TRANSFORMS.register_module()
class KeepUncroppedPoseViews(BaseTransform):
    """Keep the current ``img`` and ``frames`` as the pose net's inputs.

    SDE-Seg's released source-domain SDE recipe (``provide_uncropped_for_pose``)
    feeds the pose net the whole resized frames while depth and the photometric
    loss work on the crop. Place this after ``Resize`` and before ``RandomCrop``:
    crops and resizes leave ``pose_img`` / ``pose_frames`` alone, flips and the
    photometric transforms (:class:`ColorJitter`, :class:`RandomGrayscale`) treat
    them as the image, so they stay the same view of the same frames. Packed as
    ``pose_img`` ``(3, H, W)`` and ``pose_frames`` ``(T, 3, H, W)`` (the order of
    ``frames``); :class:`SelfSupervisedDepthEstimator` then predicts the poses from
    them. Camera motion does not depend on the crop, so the crop's intrinsics still
    warp the crop.

    Required keys: ``img``, ``frames``. Added keys: ``pose_img``, ``pose_frames``.
    """

    def transform(self, results: dict) -> dict:
        """Copy ``img`` and ``frames``."""
        if results.get('img') is None or not results.get('frames'):
            raise KeyError('KeepUncroppedPoseViews needs `img` and `frames`: place '
                           'it after LoadImageFromFile and LoadNeighbourFrames of '
                           f'{results.get("img_path", "this sample")}')
        results['pose_img'] = results['img'].copy()
        results['pose_frames'] = {k: v.copy() for k, v in results['frames'].items()}
        return results


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Randomly mirror every field (mmcv / mmseg ``RandomFlip`` arguments).

    ``prob`` / ``direction`` follow mmcv: a float ``prob`` with one direction flips with
    that probability; with a list of directions each gets ``prob / len``; a list of
    ``prob`` pairs with the list of directions. Intrinsics keep positive focal lengths
    and describe the mirrored scene (``cx' = W - 1 - cx`` for a horizontal flip).

    ``flip`` / ``flip_direction`` record the **net** flip since loading (two horizontal
    flips give ``flip=False``, ``flip_direction=None``), so test-time augmentation can
    undo it.

    Args:
        prob: Flip probability (float or one per direction).
        direction: ``'horizontal'`` (default), ``'vertical'``, ``'diagonal'`` or a list.
        swap_seg_labels: Pairs of class ids swapped in ``gt_seg_map`` /
            ``gt_pseudo_seg_map`` when flipping (e.g. left / right arm).
    """

    def __init__(self,
                 prob: Optional[Union[float, Sequence[float]]] = None,
                 direction: Union[str, Sequence[Optional[str]]] = 'horizontal',
                 swap_seg_labels: Optional[Sequence[Sequence[int]]] = None) -> None:
        if prob is None:
            raise ValueError('RandomFlip needs `prob`')
        self.prob = prob
        self.direction = direction
        self.swap_seg_labels = swap_seg_labels
        self._directions, self._probs = self._choices(prob, direction)

    @staticmethod
    def _choices(prob, direction) -> Tuple[List[Optional[str]], List[float]]:
        directions = [direction] if isinstance(direction, str) else list(direction)
        for d in directions:
            if d is not None and d not in _DIRECTION_AXES:
                raise ValueError(f'unknown flip direction {d!r}; use one of '
                                 f'{list(_DIRECTION_AXES)}')
        if isinstance(prob, (int, float)):
            probs = [float(prob) / len(directions)] * len(directions)
        else:
            probs = [float(p) for p in prob]
            if len(probs) != len(directions):
                raise ValueError(f'prob {prob} and direction {direction} differ in '
                                 'length')
        if min(probs) < 0 or sum(probs) > 1 + 1e-9:
            raise ValueError('flip probabilities must be >= 0 and sum to <= 1, got '
                             f'{prob}')
        return directions, probs

    @cache_randomness
    def _choose_direction(self) -> Optional[str]:
        options = self._directions + [None]
        weights = self._probs + [max(0.0, 1.0 - sum(self._probs))]
        return options[np.random.choice(len(options), p=np.array(weights) / sum(weights))]

    def transform(self, results: dict) -> dict:
        """Flip every field with the drawn direction (or none) and record the net flip."""
        direction = self._choose_direction()
        if direction is None:
            results.setdefault('flip', False)
            results.setdefault('flip_direction', None)
            return results
        apply_geometry(results, _FlipOp(image_hw(results), direction))
        _flip_pose_views(results, direction)
        if self.swap_seg_labels:
            self._swap_labels(results)
        self._record(results, direction)
        return results

    def _swap_labels(self, results: dict) -> None:
        for key in CLASS_ID_KEYS:
            if results.get(key) is None:
                continue
            labels, out = results[key], results[key].copy()
            for a, b in self.swap_seg_labels:
                out[labels == a], out[labels == b] = b, a
            results[key] = out

    @staticmethod
    def _record(results: dict, direction: str) -> None:
        previous = frozenset()
        if results.get('flip'):
            previous = _DIRECTION_AXES.get(results.get('flip_direction'), frozenset())
        net = previous ^ _DIRECTION_AXES[direction]
        names = {axes: name for name, axes in _DIRECTION_AXES.items()}
        results['flip'] = bool(net)
        results['flip_direction'] = names.get(net)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'direction={self.direction!r}, swap_seg_labels={self.swap_seg_labels})')
