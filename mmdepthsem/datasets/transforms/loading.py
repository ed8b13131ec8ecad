"""Loading transforms: read images, depth, disparity, velodyne scans and labels.

Every loader reads the paths that a dataset put into ``results`` (see
``docs/data_conventions.md``) and fails with an error that names the offending file when
the file is missing, empty, truncated, of the wrong kind or of the wrong size:

- a missing file raises :class:`FileNotFoundError`;
- a file that exists but cannot be used raises :class:`DataFileError`.

Datasets built with ``skip_bad_samples=True`` catch exactly these two exceptions and
skip the sample (see :class:`mmdepthsem.datasets.base_dataset.BaseDepthSemDataset`).
"""
import io
import os.path as osp
from typing import Dict, Optional, Tuple

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCV_LoadImageFromFile

from mmdepthsem.registry import TRANSFORMS

__all__ = [
    'DataFileError', 'missing_file_error', 'read_file_bytes', 'decode_image',
    'read_image', 'LoadImageFromFile', 'LoadDepthAnnotation', 'LoadVelodyneDepth',
    'LoadCityscapesDisparity', 'LoadSemAnnotation', 'LoadNeighbourFrames',
    'LoadPseudoLabel', 'LoadDepthEstimate', 'project_velodyne_to_depth'
]


class DataFileError(ValueError):
    """A data file exists but cannot be used (empty, truncated, wrong type/size).

    Args:
        message: What is wrong; it names the file(s).
        path: The offending file, kept for programmatic use (e.g. skip counters).
    """

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


def missing_file_error(message: str, path: Optional[str]) -> FileNotFoundError:
    """A ``FileNotFoundError`` with a readable message and the file in ``.path``."""
    error = FileNotFoundError(message)
    error.path = path
    return error


def read_file_bytes(path: str,
                    what: str = 'file',
                    backend_args: Optional[dict] = None) -> bytes:
    """Read a whole file through mmengine's file backends.

    Args:
        path: Local path or URI of the file.
        what: What the file holds, used in error messages (e.g. ``'depth map'``).
        backend_args: mmengine file backend arguments.

    Returns:
        The file's bytes (never empty).

    Raises:
        FileNotFoundError: The file does not exist.
        DataFileError: The file is empty (0 bytes).
    """
    if path is None:
        raise missing_file_error(f'No path given for the {what}.', None)
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise missing_file_error(f'{what} not found: {path}', path) from None
    except IsADirectoryError:
        raise DataFileError(f'{what} path is a directory, not a file: {path}',
                            path) from None
    if len(data) == 0:
        raise DataFileError(f'{what} is empty (0 bytes): {path}', path)
    return data


def decode_image(data: bytes,
                 path: str,
                 what: str = 'image',
                 flag: str = 'color',
                 backend: str = 'cv2') -> np.ndarray:
    """Decode image bytes with :func:`mmcv.imfrombytes`, failing loudly.

    mmcv's cv2 backend returns ``None`` for undecodable data and its pillow backend
    raises assorted errors; both become one :class:`DataFileError` naming ``path``.

    Args:
        data: Encoded image bytes.
        path: The file the bytes came from (for error messages).
        what: What the file holds, used in error messages.
        flag: ``mmcv.imfrombytes`` flag (``'color'``, ``'unchanged'``, ...).
        backend: ``mmcv.imfrombytes`` backend (``'cv2'``, ``'pillow'``, ...).

    Returns:
        The decoded array: ``(H, W, 3)`` BGR for ``flag='color'``, as stored
        (``(H, W)`` uint8/uint16, ...) for ``flag='unchanged'``.
    """
    try:
        img = mmcv.imfrombytes(data, flag=flag, backend=backend)
    except Exception as error:  # decoders raise many different types
        raise DataFileError(
            f'cannot decode {what} {path} ({len(data)} bytes): '
            f'{type(error).__name__}: {error}', path) from error
    if img is None or img.size == 0:
        raise DataFileError(
            f'cannot decode {what} {path} ({len(data)} bytes): the file is '
            'truncated, corrupt or not an image', path)
    return img


def read_image(path: str,
               what: str = 'image',
               flag: str = 'color',
               backend: str = 'cv2',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read and decode an image file (:func:`read_file_bytes` + :func:`decode_image`).

    Args:
        path: Local path or URI of the file.
        what: What the file holds, used in error messages.
        flag: ``mmcv.imfrombytes`` flag.
        backend: ``mmcv.imfrombytes`` backend.
        backend_args: mmengine file backend arguments.

    Returns:
        The decoded array (see :func:`decode_image`).
    """
    data = read_file_bytes(path, what, backend_args)
    return decode_image(data, path, what, flag, backend)


def _single_channel(arr: np.ndarray, path: str, what: str, note: str = '') -> np.ndarray:
    """``arr`` as an ``(H, W)`` map (a trailing channel axis of size 1 is dropped).

    Raises:
        DataFileError: ``arr`` has several channels or is not 2-D.
    """
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise DataFileError(
            f'{what} {path} has shape {arr.shape}; a single-channel (H, W) map is '
            f'required{note}', path)
    return arr


def _read_map(path: str, what: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a ``.npy`` array or an image (values as stored) as an ``(H, W)`` map."""
    if path.endswith('.npy'):
        data = read_file_bytes(path, what, backend_args)
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as error:
            raise DataFileError(
                f'cannot read {what} {path}: {type(error).__name__}: {error}',
                path) from error
    else:
        arr = read_image(path, what, 'unchanged', 'cv2', backend_args)
    return _single_channel(arr, path, what)


def _check_same_size(shape: Tuple[int, int], results: dict, path: str, what: str) -> None:
    """Raise when ``shape`` differs from the loaded image's original size."""
    ori_shape = results.get('ori_shape')
    if ori_shape is None:
        return
    if tuple(shape[:2]) != tuple(ori_shape[:2]):
        raise DataFileError(
            f'{what} {path} is {shape[0]}x{shape[1]} (HxW) but the image '
            f'{results.get("img_path")} is {ori_shape[0]}x{ori_shape[1]}; '
            'both must have the same size', path)


def _append_seg_field(results: dict, key: str) -> None:
    seg_fields = results.setdefault('seg_fields', [])
    if key not in seg_fields:
        seg_fields.append(key)


def _check_label_ids(label: np.ndarray, path: str, num_classes: Optional[int],
                     ignore_index: int) -> None:
    """Raise when a label map holds ids outside ``[0, num_classes)`` other than ignore."""
    if num_classes is not None:
        bad = (label >= num_classes) & (label != ignore_index)
        limit = f'{num_classes} classes (ids 0..{num_classes - 1}, ' \
                f'{ignore_index} = ignore)'
    else:
        bad = (label > 255)
        limit = 'uint8 labels (ids 0..255)'
    if not bad.any():
        return
    ids = np.unique(label[bad])
    shown = ', '.join(str(int(i)) for i in ids[:10])
    more = f' and {len(ids) - 10} more' if len(ids) > 10 else ''
    raise DataFileError(
        f'label map {path} holds ids {shown}{more} ({int(bad.sum())} pixels) '
        f'outside {limit}. Convert the labels to train ids (see '
        'docs/dataset_prepare.md) or set a label_map.', path)


def _apply_label_map(label: np.ndarray, label_map: Dict[int, int]) -> np.ndarray:
    """Map old ids to new ids with one lookup table (each pixel mapped once); ids
    not in ``label_map`` keep their value."""
    size = max(int(label.max(initial=0)), max(label_map)) + 1
    lut = np.arange(size, dtype=label.dtype)
    lut[list(label_map)] = list(label_map.values())
    return lut[label]


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCV_LoadImageFromFile):
    """Load an image, with an error naming the file when it cannot be read.

    Shadows mmcv's ``LoadImageFromFile`` in the ``mmdepthsem`` scope (same
    arguments). mmcv's version lets ``None`` through for undecodable files (an
    assertion or a confusing ``AttributeError`` later); this one raises
    :class:`FileNotFoundError` for a missing file and :class:`DataFileError` for an
    empty, truncated or undecodable one, both naming the file.

    Required keys: ``img_path``.
    Added keys: ``img`` (``(H, W, 3)`` uint8 BGR, or float32 with ``to_float32``),
    ``img_shape``, ``ori_shape`` (``(H, W)``).

    Args:
        to_float32: Convert the image to float32.
        color_type: ``mmcv.imfrombytes`` flag.
        imdecode_backend: ``mmcv.imfrombytes`` backend.
        ignore_empty: Return ``None`` instead of raising for a missing or bad file
            (mmcv's behaviour; datasets then refetch another sample).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 ignore_empty: bool = False,
                 *,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            to_float32=to_float32,
            color_type=color_type,
            imdecode_backend=imdecode_backend,
            ignore_empty=ignore_empty,
            backend_args=backend_args)

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` into ``results['img']``."""
        path = results['img_path']
        try:
            img = read_image(path, 'image', self.color_type, self.imdecode_backend,
                             self.backend_args)
        except (FileNotFoundError, DataFileError):
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadDepthAnnotation(BaseTransform):
    """Load a ground-truth depth map in metres.

    Reads a 16-bit PNG (or an 8-bit one with ``allow_8bit=True``) or a ``.npy``
    array and divides the stored values by the depth scale:
    ``metres = value / depth_scale`` (NYU: 1000, millimetres; KITTI: 256).
    NaN, ±inf and negative values become ``0`` (invalid).

    When the dataset gives ``depth_map_path=None`` (a file-list line without
    depth kept with ``missing_depth='keep'``), an all-invalid map of the image's
    size is produced.

    Required keys: ``depth_map_path``; ``depth_scale`` unless given here;
    ``ori_shape``/``img_path`` (optional, for the size check).
    Added keys: ``gt_depth_map`` (``(H, W)`` float32 metres, ``0`` invalid).

    Args:
        depth_scale: Stored value per metre. ``None`` uses
            ``results['depth_scale']``; a value here overrides the dataset's.
            Float ``.npy`` files default to ``1.0`` (already metres).
        allow_8bit: Accept 8-bit PNGs (coarse; normally a sign of a wrongly
            saved file, hence an error by default).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 depth_scale: Optional[float] = None,
                 allow_8bit: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if depth_scale is not None and not depth_scale > 0:
            raise ValueError(f'depth_scale must be > 0, got {depth_scale}')
        self.depth_scale = depth_scale
        self.allow_8bit = allow_8bit
        self.backend_args = backend_args

    def _read_raw(self, path: str) -> np.ndarray:
        raw = _read_map(path, 'depth map', self.backend_args)
        if raw.dtype == np.uint8 and not self.allow_8bit:
            raise DataFileError(
                f'depth map {path} is an 8-bit image; depth must be stored as a '
                '16-bit PNG (value / depth_scale = metres) or a float .npy. Set '
                'allow_8bit=True in LoadDepthAnnotation if this is intended.', path)
        if not (np.issubdtype(raw.dtype, np.integer)
                or np.issubdtype(raw.dtype, np.floating)):
            raise DataFileError(f'depth map {path} has unsupported dtype {raw.dtype}',
                                path)
        return raw

    def transform(self, results: dict) -> dict:
        """Load ``results['depth_map_path']`` into ``results['gt_depth_map']``."""
        path = results.get('depth_map_path')
        if path is None:
            if 'ori_shape' not in results:
                raise KeyError('LoadDepthAnnotation: the sample has no depth file '
                               '(depth_map_path=None) and no loaded image to '
                               'take the size from; load the image first.')
            results['gt_depth_map'] = np.zeros(results['ori_shape'][:2], np.float32)
            return results
        raw = self._read_raw(path)
        scale = self.depth_scale
        if scale is None:
            scale = results.get('depth_scale')
        if scale is None:
            if not np.issubdtype(raw.dtype, np.floating):
                raise KeyError(
                    f'no depth_scale for the integer depth map {path}: set it in '
                    'the dataset or in LoadDepthAnnotation(depth_scale=...)')
            scale = 1.0
        if not scale > 0:
            raise ValueError(f'depth_scale must be > 0, got {scale} for {path}')
        _check_same_size(raw.shape, results, path, 'depth map')
        depth = raw.astype(np.float32) / np.float32(scale)
        depth[~np.isfinite(depth)] = 0
        depth[depth < 0] = 0
        results['gt_depth_map'] = depth
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(depth_scale={self.depth_scale}, '
                f'allow_8bit={self.allow_8bit}, '
                f'backend_args={self.backend_args})')


def project_velodyne_to_depth(points: np.ndarray,
                              velo_to_cam: np.ndarray,
                              cam_to_img: np.ndarray,
                              shape: Tuple[int, int],
                              pixel_offset: int = 0) -> np.ndarray:
    """Project a velodyne scan into a sparse depth map (KITTI / Eigen convention).

    ``P = cam_to_img @ velo_to_cam`` maps homogeneous velodyne points to
    ``(u·z, v·z, z)``, where ``z`` is the depth along the camera's optical axis.
    Points behind the scanner (``x_velo <= 0``) or the camera (``z <= 0``) are
    dropped; ``(u, v)`` is rounded to the nearest pixel (plus ``pixel_offset``);
    points outside the image are dropped; when several points land on one pixel
    the nearest one is kept.

    Args:
        points: ``(N, >=3)`` velodyne points, metres (x forward, y left, z up);
            extra columns (reflectance) are ignored.
        velo_to_cam: ``(4, 4)`` rigid transform velodyne → reference camera.
        cam_to_img: ``(3, 4)`` projection reference camera → image
            (``P_rect_0x @ R_rect_00``).
        shape: ``(H, W)`` of the output map, pixels.
        pixel_offset: Added to the rounded pixel coordinates. ``0`` is the
            geometric convention; the widely used Eigen-split evaluation code
            (a port of 1-based MATLAB code) subtracts one, i.e. ``-1``.

    Returns:
        ``(H, W)`` float32 depth in metres, ``0`` where no point projects.
    """
    height, width = int(shape[0]), int(shape[1])
    points = np.asarray(points, dtype=np.float64)
    points = points[points[:, 0] > 0, :3]
    homogeneous = np.concatenate(
        [points, np.ones((points.shape[0], 1), dtype=np.float64)], axis=1)
    projection = np.asarray(cam_to_img, np.float64) @ np.asarray(velo_to_cam, np.float64)
    uvz = homogeneous @ projection.T  # (N, 3)
    z = uvz[:, 2]
    front = z > 0
    uvz, z = uvz[front], z[front]
    u = np.round(uvz[:, 0] / z).astype(np.int64) + pixel_offset
    v = np.round(uvz[:, 1] / z).astype(np.int64) + pixel_offset
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    u, v, z = u[inside], v[inside], z[inside]
    depth = np.zeros((height, width), dtype=np.float32)
    if z.size == 0:
        return depth
    linear = v * width + u
    order = np.argsort(z, kind='stable')  # nearest first
    linear, z = linear[order], z[order]
    _, first = np.unique(linear, return_index=True)  # first = nearest per pixel
    depth.flat[linear[first]] = z[first]
    return depth


@TRANSFORMS.register_module()
class LoadVelodyneDepth(BaseTransform):
    """Project a KITTI velodyne scan (``.bin``) into a sparse depth map.

    The ``.bin`` file holds float32 ``(x, y, z, reflectance)`` records. See
    :func:`project_velodyne_to_depth` for the projection rule. The map has the
    loaded image's original size (``ori_shape``), so the image must be loaded first.

    Required keys: ``velodyne_path``, ``velo_to_cam`` (4×4), ``cam_to_img`` (3×4),
    ``ori_shape``.
    Added keys: ``gt_depth_map`` (``(H, W)`` float32 metres, ``0`` invalid).

    Args:
        pixel_offset: See :func:`project_velodyne_to_depth` (``-1`` reproduces the
            Eigen-split evaluation code exactly).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 pixel_offset: int = 0,
                 backend_args: Optional[dict] = None) -> None:
        self.pixel_offset = int(pixel_offset)
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Load ``results['velodyne_path']`` into ``results['gt_depth_map']``."""
        path = results['velodyne_path']
        for key in ('velo_to_cam', 'cam_to_img', 'ori_shape'):
            if key not in results:
                hint = ('load the image first (LoadImageFromFile)'
                        if key == 'ori_shape' else 'use a KITTI raw dataset')
                raise KeyError(f'LoadVelodyneDepth needs results[{key!r}] for '
                               f'{path}: {hint}')
        data = read_file_bytes(path, 'velodyne scan', self.backend_args)
        if len(data) % 16 != 0:
            raise DataFileError(
                f'velodyne scan {path} has {len(data)} bytes, not a multiple of '
                '16 (4 float32 per point): the file is truncated or not a '
                'velodyne .bin', path)
        points = np.frombuffer(data, dtype=np.float32).reshape(-1, 4)
        points = points[np.isfinite(points[:, :3]).all(axis=1)]
        results['gt_depth_map'] = project_velodyne_to_depth(points,
                                                            results['velo_to_cam'],
                                                            results['cam_to_img'],
                                                            results['ori_shape'][:2],
                                                            self.pixel_offset)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(pixel_offset={self.pixel_offset}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadCityscapesDisparity(BaseTransform):
    """Load a Cityscapes disparity PNG, and optionally convert it to depth.

    The 16-bit PNG stores ``p``; disparity ``d = (p - 1) / 256`` pixels for
    ``p > 0`` and ``p = 0`` is invalid. Depth is ``baseline · fx / d`` metres
    (``camera`` from the dataset's ``*_camera.json``), ``0`` where ``d <= 0``.

    Required keys: ``disparity_path``; ``camera`` (dict with ``baseline``, ``fx``)
    when ``to_depth``.
    Added keys: ``gt_disparity_map`` (``(H, W)`` float32 pixels, ``0`` invalid) and,
    with ``to_depth``, ``gt_depth_map`` (``(H, W)`` float32 metres, ``0`` invalid).

    Args:
        to_depth: Also write ``gt_depth_map``.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 to_depth: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        self.to_depth = to_depth
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Load ``results['disparity_path']``."""
        path = results['disparity_path']
        raw = read_image(path, 'disparity map', 'unchanged', 'cv2', self.backend_args)
        if raw.ndim != 2 or raw.dtype != np.uint16:
            raise DataFileError(
                f'disparity map {path} is {raw.dtype} with shape {raw.shape}; '
                'Cityscapes disparity is a single-channel 16-bit PNG', path)
        _check_same_size(raw.shape, results, path, 'disparity map')
        raw = raw.astype(np.float32)
        disparity = np.where(raw > 0, (raw - 1) / 256, 0).astype(np.float32)
        results['gt_disparity_map'] = disparity
        if self.to_depth:
            camera = results.get('camera')
            if camera is None:
                raise KeyError(f'LoadCityscapesDisparity(to_depth=True) needs '
                               f"results['camera'] for {path}")
            focal_baseline = float(camera['baseline']) * float(camera['fx'])
            valid = disparity > 0
            depth = np.zeros_like(disparity)
            depth[valid] = focal_baseline / disparity[valid]
            results['gt_depth_map'] = depth
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_depth={self.to_depth}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadSemAnnotation(BaseTransform):
    """Load a semantic label PNG with checked class ids.

    Order of operations: read (8- or 16-bit, palette PNGs keep their indices) →
    ``reduce_zero_label`` (0 → 255, others − 1) → ``label_map`` → id check → size
    check. Any id ``>= num_classes`` other than ``ignore_index`` is an error naming
    the file and the ids (mmseg would silently train on them or crash in CUDA).

    Required keys: ``seg_map_path``; optional ``reduce_zero_label``,
    ``label_map``, ``num_classes`` (datasets provide them), ``ori_shape``.
    Added keys: ``gt_seg_map`` (``(H, W)`` uint8, ``255`` ignore); ``seg_fields``.

    Args:
        reduce_zero_label: ``None`` takes the dataset's value.
        label_map: ``{old_id: new_id}``; ``None`` takes ``results['label_map']``.
        num_classes: Number of classes; ``None`` takes ``results['num_classes']``
            (if absent only ids above 255 are rejected).
        ignore_index: The ignore id.
        imdecode_backend: ``mmcv.imfrombytes`` backend (pillow keeps palette
            indices).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 reduce_zero_label: Optional[bool] = None,
                 label_map: Optional[Dict[int, int]] = None,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 imdecode_backend: str = 'pillow',
                 backend_args: Optional[dict] = None) -> None:
        self.reduce_zero_label = reduce_zero_label
        self.label_map = label_map
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def load_label(self, path: str, results: dict, what: str) -> np.ndarray:
        """Read, remap and check one label file; returns ``(H, W)`` uint8."""
        label = read_image(path, what, 'unchanged', self.imdecode_backend,
                           self.backend_args)
        label = _single_channel(label, path, what,
                                ' (an id map, not a colour rendering)').astype(np.int64)
        reduce_zero_label = self.reduce_zero_label
        if reduce_zero_label is None:
            reduce_zero_label = results.get('reduce_zero_label', False)
        if reduce_zero_label:
            zero = label == 0
            label = label - 1
            label[zero | (label == self.ignore_index - 1)] = self.ignore_index
        label_map = self.label_map
        if label_map is None:
            label_map = results.get('label_map')
        if label_map:
            label = _apply_label_map(label, label_map)
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = results.get('num_classes')
        _check_label_ids(label, path, num_classes, self.ignore_index)
        _check_same_size(label.shape, results, path, what)
        return label.astype(np.uint8)

    def transform(self, results: dict) -> dict:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``."""
        results['gt_seg_map'] = self.load_label(results['seg_map_path'], results,
                                                'label map')
        _append_seg_field(results, 'gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'reduce_zero_label={self.reduce_zero_label}, '
                f'label_map={self.label_map}, num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadNeighbourFrames(BaseTransform):
    """Load the neighbouring frames of a sequence (for self-supervised training).

    Required keys: ``frame_paths`` (dict frame id → path, e.g. ``{-1: ..., 1: ...}``),
    ``ori_shape`` (optional, for the size check).
    Added keys: ``frames`` (dict frame id → ``(H, W, 3)`` uint8 BGR image).

    Args:
        imdecode_backend: ``mmcv.imfrombytes`` backend.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Load every ``results['frame_paths']`` entry into ``results['frames']``."""
        frames = {}
        for frame_id, path in results.get('frame_paths', {}).items():
            what = f'neighbour frame {frame_id}'
            img = read_image(path, what, 'color', self.imdecode_backend,
                             self.backend_args)
            _check_same_size(img.shape, results, path, what)
            frames[frame_id] = img
        results['frames'] = frames
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadPseudoLabel(LoadSemAnnotation):
    """Load offline teacher pseudo-labels and, optionally, their confidence.

    Pseudo-labels are label PNGs like ground truth (``255`` = no label).
    Confidence in ``[0, 1]`` is a float ``.npy``, a 16-bit PNG (value / 65535) or
    an 8-bit PNG (value / 255); NaN becomes ``0``, values outside ``[0, 1]`` are
    an error naming the file.

    Required keys: ``pseudo_seg_map_path``; ``pseudo_conf_path`` when
    ``with_conf``.
    Added keys: ``gt_pseudo_seg_map`` (``(H, W)`` uint8, added to ``seg_fields``),
    ``gt_pseudo_conf`` (``(H, W)`` float32; not a seg field, so padding must use 0).

    Args:
        with_conf: Load the confidence map too.
        num_classes: As in :class:`LoadSemAnnotation`.
        ignore_index: The ignore id.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 with_conf: bool = False,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            reduce_zero_label=False,
            label_map={},
            num_classes=num_classes,
            ignore_index=ignore_index,
            backend_args=backend_args)
        self.with_conf = with_conf

    def _load_conf(self, path: str, results: dict) -> np.ndarray:
        what = 'pseudo-label confidence'
        raw = _read_map(path, what, self.backend_args)
        if path.endswith('.npy'):
            if not np.issubdtype(raw.dtype, np.floating):
                raise DataFileError(
                    f'{what} {path} is {raw.dtype}; a float array in [0, 1] is '
                    'required', path)
            conf = raw.astype(np.float32)
        elif raw.dtype == np.uint16:
            conf = raw.astype(np.float32) / 65535
        elif raw.dtype == np.uint8:
            conf = raw.astype(np.float32) / 255
        else:
            raise DataFileError(f'{what} {path} has dtype {raw.dtype}', path)
        conf[~np.isfinite(conf)] = 0
        if conf.size and (conf.min() < 0 or conf.max() > 1):
            raise DataFileError(
                f'{what} {path} has values in [{conf.min()}, {conf.max()}], '
                'outside [0, 1]', path)
        _check_same_size(conf.shape, results, path, what)
        return conf

    def transform(self, results: dict) -> dict:
        """Load the pseudo-label (and confidence) of ``results``."""
        results['gt_pseudo_seg_map'] = self.load_label(results['pseudo_seg_map_path'],
                                                       results, 'pseudo-label map')
        _append_seg_field(results, 'gt_pseudo_seg_map')
        if self.with_conf:
            path = results.get('pseudo_conf_path')
            if path is None:
                raise KeyError(
                    'LoadPseudoLabel(with_conf=True) needs '
                    f"results['pseudo_conf_path'] for "
                    f"{results['pseudo_seg_map_path']}; set pseudo_conf_dir in "
                    'the dataset')
            results['gt_pseudo_conf'] = self._load_conf(path, results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_conf={self.with_conf}, '
                f'num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'backend_args={self.backend_args})')


#: disparity floor of stored disparities (the farthest pixel is 0)
MIN_STORED_DISPARITY = 1e-6


def inverse_of_stored_disparity(raw: np.ndarray, path: str) -> np.ndarray:
    """``1 / n`` of a disparity stored in ``[0, 1]`` as an unsigned integer map
    (``n`` = value / the dtype's maximum, floored at 1e-6): SDE-Seg's released
    estimates, 8-bit min–max normalised or 16-bit network outputs.

    Returns:
        ``(H, W)`` float32, a depth up to an unknown scale and shift (not metres).
    """
    if not np.issubdtype(raw.dtype, np.unsignedinteger):
        raise DataFileError(f'{path}: a stored-disparity estimate is an 8- or '
                            f'16-bit PNG, got {raw.dtype}', path)
    disp = raw.astype(np.float32) / np.float32(np.iinfo(raw.dtype).max)
    return (1.0 / np.maximum(disp, MIN_STORED_DISPARITY)).astype(np.float32)


@TRANSFORMS.register_module()
class LoadDepthEstimate(LoadDepthAnnotation):
    """Load a precomputed depth *estimate* (not ground truth) for depth-based mixing.

    DepthMix mixes with self-supervised depth predictions; written once as files,
    they are read here into ``est_depth_map`` and follow every geometric transform
    like ground-truth depth. The file of a sample is
    ``<estimate_dir>/<sample_name><suffix>`` (``sample_name`` is set by every
    mmdepthsem dataset), with ``encoding``:

    - ``'depth'``: a 16-bit PNG (value / ``depth_scale`` = metres) or a float
      ``.npy`` in metres;
    - ``'normalised_disparity'``: SDE-Seg's released forms, a disparity in
      ``[0, 1]`` (1 = nearest) stored as an unsigned PNG, value / dtype maximum:
      the full image's disparity min–max normalised, 8 bits
      (``generate_depth_estimates.py --format disparity8``, the target domain), or
      the network's sigmoid disparity, 16 bits (``--format sigmoid_disparity16``,
      the released SSDA source domains). It is kept as ``1 / n``
      (:func:`inverse_of_stored_disparity`), a depth up to an unknown scale and
      shift, not metres: for masks that compare disparity without re-normalising
      it (``DepthMix(disparity_norm='none')``).

    Required keys: ``sample_name``. Added keys: ``est_depth_map`` (``(H, W)`` float32
    metres, ``0`` invalid; ``1 / n`` for ``'normalised_disparity'``).

    Args:
        estimate_dir: Folder of the estimates (absolute, or relative to the working
            directory).
        suffix: File suffix, ``.png`` or ``.npy``.
        depth_scale: Stored value per metre for depth PNGs.
        encoding: ``'depth'`` or ``'normalised_disparity'`` (see above).
        backend_args: mmengine file backend arguments.
    """

    ENCODINGS = ('depth', 'normalised_disparity')

    def __init__(self, estimate_dir: str, suffix: str = '.png',
                 depth_scale: Optional[float] = 256.0,
                 encoding: str = 'depth',
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(depth_scale=depth_scale, backend_args=backend_args,
                         allow_8bit=encoding == 'normalised_disparity')
        if encoding not in self.ENCODINGS:
            raise ValueError(f'LoadDepthEstimate: encoding must be one of '
                             f'{self.ENCODINGS}, got {encoding!r}')
        if encoding == 'normalised_disparity' and suffix != '.png':
            raise ValueError("LoadDepthEstimate: encoding='normalised_disparity' "
                             f'reads integer PNGs, got suffix {suffix!r}')
        self.estimate_dir = estimate_dir
        self.suffix = suffix
        self.encoding = encoding

    def transform(self, results: dict) -> dict:
        """Read the sample's estimate into ``results['est_depth_map']``."""
        name = results.get('sample_name')
        if name is None:
            raise KeyError('LoadDepthEstimate needs results["sample_name"] (set by '
                           'mmdepthsem datasets) to find the estimate file')
        path = osp.join(self.estimate_dir, f'{name}{self.suffix}')
        raw = self._read_raw(path)
        _check_same_size(raw.shape, results, path, 'depth estimate')
        if self.encoding == 'normalised_disparity':
            results['est_depth_map'] = inverse_of_stored_disparity(raw, path)
            return results
        scale = 1.0 if np.issubdtype(raw.dtype, np.floating) else self.depth_scale
        depth = raw.astype(np.float32) / np.float32(scale)
        depth[~np.isfinite(depth) | (depth < 0)] = 0
        results['est_depth_map'] = depth
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(estimate_dir={self.estimate_dir!r}, '
                f'suffix={self.suffix!r}, depth_scale={self.depth_scale}, '
                f'encoding={self.encoding!r})')
