"""Supervised depth datasets listed as ``<rgb> <depth> <focal>`` lines (BTS style)."""
import io
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import mmengine.fileio as fileio
import numpy as np
from PIL import Image

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset
from .transforms.loading import (DataFileError, missing_file_error, read_file_bytes)

MISSING_DEPTH_MODES = ('skip', 'keep', 'error')


def pinhole_intrinsics(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """The ``(3, 3)`` float32 camera matrix ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``."""
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float32)


def image_centre(width: int, height: int) -> Tuple[float, float]:
    """``(cx, cy)`` = ``((W - 1) / 2, (H - 1) / 2)``, the centre of an image.

    Pixel centres lie at integers, so this is the flip-consistent centre.
    """
    return (width - 1) / 2, (height - 1) / 2


def read_image_size(path: str, backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """``(width, height)`` of an image from its header (the pixels are not decoded).

    Raises:
        FileNotFoundError: The file is missing.
        DataFileError: The file is empty or not an image.
    """
    backend = fileio.get_file_backend(path, backend_args=backend_args)
    if isinstance(backend, fileio.LocalBackend):
        if not osp.isfile(path):
            raise missing_file_error(f'image not found: {path}', path)
        if osp.getsize(path) == 0:
            raise DataFileError(f'image is empty (0 bytes): {path}', path)
        source = path
    else:
        source = io.BytesIO(read_file_bytes(path, 'image', backend_args))
    try:
        with Image.open(source) as img:
            return img.size
    except Exception as error:  # PIL raises several types
        raise DataFileError(f'cannot read the size of image {path}: {error}',
                            path) from error


@DATASETS.register_module()
class FileListDepthDataset(BaseDepthSemDataset):
    """A depth dataset listed in a text file, one ``<rgb> <depth> <focal>`` per line.

    The format of the BTS lists used for NYU-Depth-v2's dense ("sync") set and
    KITTI's supervised (annotated-depth) training, e.g.::

        /kitchen_0028b/rgb_00045.jpg /kitchen_0028b/sync_depth_00045.png 518.8579
        <date>/<drive>/image_02/data/0000000069.png <drive>/proj_depth/...png 721.5377
        <date>/<drive>/image_02/data/0000000386.png None 721.5377

    Paths are relative to ``img_prefix`` / ``depth_prefix`` (a leading ``/`` is
    dropped), which are relative to ``data_root``. Blank lines and lines starting
    with ``#`` are ignored. The focal may be omitted when ``focal`` is given.

    **Lines without depth** (the depth is ``None`` or the line has only the rgb
    path — KITTI frames without annotated ground truth) follow ``missing_depth``:
    ``'skip'`` drops them (BTS training and evaluation do the same) and counts
    them in ``num_without_depth``; ``'keep'`` keeps them with
    ``depth_map_path=None``, for which :class:`LoadDepthAnnotation` produces an
    all-invalid map; ``'error'`` raises naming the line.

    **Intrinsics**: ``fx`` = the line's focal, ``fy`` = ``fy`` or the focal,
    ``(cx, cy)`` = ``principal_point`` or the image centre
    ``((W - 1) / 2, (H - 1) / 2)`` (the flip-consistent centre). The image size is
    ``image_size`` when given, else read from each image's header when the
    sample is fetched (KITTI images differ in size between recording days).

    Fills: ``img_path``, ``depth_map_path``, ``depth_scale``, ``focal``,
    ``intrinsics``, ``sample_name``, ``seg_fields``, ``reduce_zero_label``.

    Args:
        ann_file: The list file, relative to ``data_root``.
        data_root: Dataset root.
        img_prefix: Folder the rgb paths are relative to (relative to
            ``data_root``).
        depth_prefix: Folder the depth paths are relative to.
        depth_scale: Stored depth value per metre (NYU 1000, KITTI 256).
        focal: Focal length (pixels) for lines that have none.
        fy: Vertical focal length (pixels); ``None`` = the line's focal.
        principal_point: ``(cx, cy)`` pixels; ``None`` = the image centre.
        image_size: ``(W, H)`` of every image, when known, to avoid reading headers.
        missing_depth: ``'skip'``, ``'keep'`` or ``'error'`` (see above).
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    PREPARE_HINT = ('download the images and the list file (e.g. the BTS lists), '
                    'then set data_root, ann_file, img_prefix and depth_prefix')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 img_prefix: str = '',
                 depth_prefix: str = '',
                 depth_scale: float = 1000.0,
                 focal: Optional[float] = None,
                 fy: Optional[float] = None,
                 principal_point: Optional[Sequence[float]] = None,
                 image_size: Optional[Sequence[int]] = None,
                 missing_depth: str = 'skip',
                 **kwargs) -> None:
        if missing_depth not in MISSING_DEPTH_MODES:
            raise ValueError(f'missing_depth must be one of {MISSING_DEPTH_MODES}, '
                             f'got {missing_depth!r}')
        if not depth_scale > 0:
            raise ValueError(f'depth_scale must be > 0, got {depth_scale}')
        self.depth_scale = float(depth_scale)
        self.focal = focal
        self.fy = fy
        self.principal_point = (None if principal_point is None else tuple(
            float(v) for v in principal_point))
        self.image_size = (None if image_size is None else tuple(
            int(v) for v in image_size))
        self.missing_depth = missing_depth
        self.num_without_depth = 0
        kwargs.setdefault('data_prefix',
                          dict(img_path=img_prefix, depth_map_path=depth_prefix))
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _parse_line(self, line: str, where: str) -> dict:
        parts = line.split()
        rgb = parts[0].lstrip('/')
        depth = parts[1] if len(parts) > 1 else None
        if depth is not None and depth.lower() == 'none':
            depth = None
        if len(parts) > 2:
            try:
                focal = float(parts[2])
            except ValueError:
                raise ValueError(f'{where}: the focal {parts[2]!r} is not a '
                                 'number') from None
        elif self.focal is not None:
            focal = float(self.focal)
        else:
            raise ValueError(f'{where}: no focal length on the line; add it or '
                             'set focal=... in the dataset')
        if len(parts) > 3:
            raise ValueError(f'{where}: expected `<rgb> <depth> <focal>`, got '
                             f'{len(parts)} fields')
        return dict(
            rgb=rgb, depth=None if depth is None else depth.lstrip('/'), focal=focal)

    def load_data_list(self) -> List[dict]:
        """Parse the list file into data-list entries."""
        img_dir = self.data_prefix.get('img_path', '')
        depth_dir = self.data_prefix.get('depth_map_path', '')
        centre = self.principal_point
        if centre is None and self.image_size is not None:
            centre = image_centre(*self.image_size)
        data_list = []
        for where, line in self.read_list_file('the list file'):
            parsed = self._parse_line(line, where)
            img_path = fileio.join_path(img_dir, parsed['rgb'])
            if parsed['depth'] is None:
                if self.missing_depth == 'error':
                    raise ValueError(f'{where}: the line has no depth ({line!r}); '
                                     "set missing_depth='skip' or 'keep'")
                if self.missing_depth == 'skip':
                    self.num_without_depth += 1
                    continue
                depth_path = None
            else:
                depth_path = fileio.join_path(depth_dir, parsed['depth'])
            if not self.check_sample_files(f'line {where}', {
                    'image': img_path,
                    'depth map': depth_path
            }):
                continue
            fy = parsed['focal'] if self.fy is None else float(self.fy)
            info = self.common_info(parsed['rgb'].rsplit('.', 1)[0])
            info.update(
                img_path=img_path,
                depth_map_path=depth_path,
                depth_scale=self.depth_scale,
                focal=parsed['focal'],
                focal_y=fy)
            if centre is not None:
                info['intrinsics'] = pinhole_intrinsics(parsed['focal'], fy, *centre)
            data_list.append(info)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The entry, with intrinsics centred on the image when not known yet."""
        info = super().get_data_info(idx)
        if 'intrinsics' not in info:
            centre = image_centre(*read_image_size(info['img_path'], self.backend_args))
            info['intrinsics'] = pinhole_intrinsics(info['focal'], info['focal_y'],
                                                    *centre)
        return info
