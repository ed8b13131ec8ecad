"""KITTI raw sequences (Eigen / Eigen–Zhou splits) with calibration and depth sources."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine.fileio as fileio
import numpy as np

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset
from .file_list import pinhole_intrinsics
from .transforms.loading import DataFileError

#: Split-file side letter → KITTI camera number.
SIDE_TO_CAMERA = {'l': '02', 'r': '03'}
DEPTH_SOURCES = ('velodyne', 'annotated', None)
INTRINSICS_MODES = ('calib', 'monodepth2')


def read_kitti_calib(path: str, backend_args: Optional[dict] = None) -> Dict[str, object]:
    """Parse a KITTI calibration file of ``KEY: v1 v2 ...`` lines.

    Args:
        path: ``calib_cam_to_cam.txt``, ``calib_velo_to_cam.txt`` or similar.
        backend_args: mmengine file backend arguments.

    Returns:
        ``{key: value}``: float64 1-D arrays for numeric values, the raw string
        otherwise (e.g. ``calib_time``).
    """
    calib: Dict[str, object] = {}
    text = fileio.get_text(path, backend_args=backend_args)
    for line in text.splitlines():
        if ':' not in line:
            continue
        key, value = line.split(':', 1)
        try:
            calib[key.strip()] = np.array([float(v) for v in value.split()],
                                          dtype=np.float64)
        except ValueError:
            calib[key.strip()] = value.strip()
    return calib


def calib_value(calib: Dict[str, object], key: str, path: str, count: int) -> np.ndarray:
    """Fetch ``count`` numbers stored under ``key``, with an error naming file and key.

    Raises:
        DataFileError: The key is missing, not numeric, not finite or has a
            different count.
    """
    if key not in calib:
        raise DataFileError(
            f'calibration file {path} has no key {key!r} (found: '
            f'{", ".join(sorted(calib))})', path)
    value = calib[key]
    if not isinstance(value, np.ndarray) or value.size != count:
        raise DataFileError(
            f'calibration file {path}: {key!r} must hold {count} numbers, got '
            f'{value!r}', path)
    if not np.isfinite(value).all():
        raise DataFileError(
            f'calibration file {path}: {key!r} holds non-finite values {value}', path)
    return value


@DATASETS.register_module()
class KITTIRawDataset(BaseDepthSemDataset):
    """KITTI raw frames listed by a split file, with calibration and ground truth.

    Layout under ``data_root`` (the KITTI raw download)::

        2011_09_26/calib_cam_to_cam.txt
        2011_09_26/calib_velo_to_cam.txt
        2011_09_26/2011_09_26_drive_0022_sync/image_02/data/0000000473.png
        2011_09_26/2011_09_26_drive_0022_sync/image_03/data/...
        2011_09_26/2011_09_26_drive_0022_sync/velodyne_points/data/0000000473.bin

    Split lines are ``<date>/<drive folder> <frame> <side>``, side ``l`` →
    ``image_02``, ``r`` → ``image_03``.

    Per sample the calibration of its date (read once per date) gives:

    - ``cam_to_img`` = ``P_rect_0x · R_rect_00`` (3×4, float64) and
      ``velo_to_cam`` = ``[R|T]`` (4×4, float64), for :class:`LoadVelodyneDepth`;
    - ``intrinsics`` (3×3 float32, pixels of the raw image): ``P_rect_0x[:, :3]``
      (``intrinsics_mode='calib'``), or Monodepth2's fixed normalised camera
      fx = 0.58·W, fy = 1.92·H, cx = 0.5·W, cy = 0.5·H with ``(W, H)`` =
      ``S_rect_0x`` (``intrinsics_mode='monodepth2'``).

    Ground truth (``depth_source``):

    - ``'velodyne'``: ``velodyne_path`` (project with :class:`LoadVelodyneDepth`);
    - ``'annotated'``: ``depth_map_path`` =
      ``<ann_root>/<drive folder>/proj_depth/groundtruth/image_0x/<frame>.png``
      with ``depth_scale=256`` (load with :class:`LoadDepthAnnotation`).
      ``ann_root`` may be a list (the benchmark's ``train`` and ``val`` folders);
      each drive is looked up in the first root that has it;
    - ``None``: no ground truth (self-supervised training).

    Neighbouring frames (``frame_ids``, e.g. ``(-1, 1)``) are the same camera's
    frames ``frame + id``, in ``frame_paths`` (dict id → path) for
    :class:`LoadNeighbourFrames`. A frame, neighbour or ground-truth file that does
    not exist raises an error naming the split line and the file (or, with
    ``skip_bad_samples=True``, drops the sample with a warning).

    Fills: ``img_path``, ``intrinsics``, ``cam_to_img``, ``velo_to_cam``,
    ``frame_ids``, ``frame_paths``, ``velodyne_path`` or ``depth_map_path`` +
    ``depth_scale``, ``sample_name`` (``<drive folder>/image_0x/<frame>``),
    ``frame_index``, ``side``, ``seg_fields``, ``reduce_zero_label``.

    Args:
        ann_file: The split file, relative to ``data_root``.
        data_root: KITTI raw root.
        frame_ids: Relative indices of the neighbouring frames to list.
        depth_source: ``'velodyne'``, ``'annotated'`` or ``None``.
        ann_root: Root(s) of the annotated depth (relative to ``data_root``
            unless absolute); needed for ``depth_source='annotated'``.
        intrinsics_mode: ``'calib'`` or ``'monodepth2'``.
        img_suffix: ``'.png'`` (the download) or ``'.jpg'`` (a converted copy).
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    PREPARE_HINT = ('download KITTI raw (all dates with their calibration files) '
                    'into data/kitti_raw and the split files into '
                    'data/kitti_raw/splits (see docs/dataset_prepare.md)')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 frame_ids: Sequence[int] = (),
                 depth_source: Optional[str] = 'velodyne',
                 ann_root: Optional[Union[str, Sequence[str]]] = None,
                 intrinsics_mode: str = 'calib',
                 img_suffix: str = '.png',
                 **kwargs) -> None:
        if depth_source not in DEPTH_SOURCES:
            raise ValueError(f'depth_source must be one of {DEPTH_SOURCES}, got '
                             f'{depth_source!r}')
        if intrinsics_mode not in INTRINSICS_MODES:
            raise ValueError(f'intrinsics_mode must be one of {INTRINSICS_MODES}, '
                             f'got {intrinsics_mode!r}')
        frame_ids = tuple(int(i) for i in frame_ids)
        if 0 in frame_ids:
            raise ValueError('frame_ids lists the neighbours of the target frame; '
                             '0 (the target itself) must not be in it')
        if depth_source == 'annotated' and not ann_root:
            raise ValueError("depth_source='annotated' needs ann_root, the folder "
                             'holding <drive>/proj_depth/groundtruth')
        self.frame_ids = frame_ids
        self.depth_source = depth_source
        roots = [ann_root] if isinstance(ann_root, str) else list(ann_root or [])
        self.ann_roots = [self._under_root(data_root, r) for r in roots]
        self.intrinsics_mode = intrinsics_mode
        self.img_suffix = img_suffix
        self._calib_cache: Dict[Tuple[str, str], dict] = {}
        self._drive_roots: Dict[str, str] = {}
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    # ------------------------------------------------------------ calibration
    def camera_calib(self, date: str, camera: str) -> dict:
        """Calibration of one date and camera (cached).

        Args:
            date: Recording date folder, e.g. ``'2011_09_26'``.
            camera: ``'02'`` or ``'03'``.

        Returns:
            dict with ``cam_to_img`` (3×4), ``velo_to_cam`` (4×4) and
            ``intrinsics`` (3×3 float32).
        """
        key = (date, camera)
        if key in self._calib_cache:
            return self._calib_cache[key]
        date_dir = fileio.join_path(self.data_root, date)
        cam_path = self.require(
            fileio.join_path(date_dir, 'calib_cam_to_cam.txt'),
            f'the camera calibration of {date}')
        velo_path = self.require(
            fileio.join_path(date_dir, 'calib_velo_to_cam.txt'),
            f'the velodyne calibration of {date}')
        cam = read_kitti_calib(cam_path, self.backend_args)
        velo = read_kitti_calib(velo_path, self.backend_args)
        p_rect = calib_value(cam, f'P_rect_{camera}', cam_path, 12).reshape(3, 4)
        r_rect = np.eye(4)
        r_rect[:3, :3] = calib_value(cam, 'R_rect_00', cam_path, 9).reshape(3, 3)
        width, height = calib_value(cam, f'S_rect_{camera}', cam_path, 2)
        velo_to_cam = np.eye(4)
        velo_to_cam[:3, :3] = calib_value(velo, 'R', velo_path, 9).reshape(3, 3)
        velo_to_cam[:3, 3] = calib_value(velo, 'T', velo_path, 3)
        if self.intrinsics_mode == 'calib':
            intrinsics = p_rect[:, :3].astype(np.float32)
        else:
            intrinsics = pinhole_intrinsics(0.58 * width, 1.92 * height, 0.5 * width,
                                            0.5 * height)
        calib = dict(
            cam_to_img=p_rect @ r_rect,
            velo_to_cam=velo_to_cam,
            intrinsics=intrinsics)
        self._calib_cache[key] = calib
        return calib

    def _ann_drive_root(self, drive: str) -> str:
        if drive not in self._drive_roots:
            found = self.ann_roots[0]
            if len(self.ann_roots) > 1:
                for root in self.ann_roots:
                    if self.exists(fileio.join_path(root, drive)):
                        found = root
                        break
            self._drive_roots[drive] = fileio.join_path(found, drive)
        return self._drive_roots[drive]

    # ------------------------------------------------------------- data list
    def _parse_line(self, line: str, where: str) -> Tuple[str, int, str]:
        parts = line.split()
        if len(parts) != 3 or parts[2] not in SIDE_TO_CAMERA:
            raise ValueError(f'{where}: expected `<date>/<drive> <frame> <l|r>`, '
                             f'got {line!r}')
        try:
            frame = int(parts[1])
        except ValueError:
            raise ValueError(f'{where}: the frame index {parts[1]!r} is not an '
                             'integer') from None
        return parts[0].strip('/'), frame, parts[2]

    def _image_path(self, folder: str, camera: str, frame: int) -> str:
        return fileio.join_path(self.data_root, folder, f'image_{camera}', 'data',
                                f'{frame:010d}{self.img_suffix}')

    def load_data_list(self) -> List[dict]:
        """Read the split file into data-list entries."""
        data_list = []
        for where, line in self.read_list_file('the split file'):
            folder, frame, side = self._parse_line(line, where)
            date, drive = folder.split('/')[0], folder.split('/')[-1]
            camera = SIDE_TO_CAMERA[side]
            calib = self.camera_calib(date, camera)
            info = self.common_info(f'{folder}/image_{camera}/{frame:010d}')
            info.update(
                img_path=self._image_path(folder, camera, frame),
                frame_index=frame,
                side=side,
                intrinsics=calib['intrinsics'].copy(),
                cam_to_img=calib['cam_to_img'].copy(),
                velo_to_cam=calib['velo_to_cam'].copy(),
                frame_ids=self.frame_ids,
                frame_paths={
                    i: self._image_path(folder, camera, frame + i)
                    for i in self.frame_ids
                })
            files = {'image': info['img_path']}
            files.update({
                f'neighbour frame {i:+d}': p
                for i, p in info['frame_paths'].items()
            })
            if self.depth_source == 'velodyne':
                info['velodyne_path'] = fileio.join_path(self.data_root, folder,
                                                         'velodyne_points', 'data',
                                                         f'{frame:010d}.bin')
                files['velodyne scan'] = info['velodyne_path']
            elif self.depth_source == 'annotated':
                info['depth_map_path'] = fileio.join_path(
                    self._ann_drive_root(drive), 'proj_depth', 'groundtruth',
                    f'image_{camera}', f'{frame:010d}.png')
                info['depth_scale'] = 256.0
                files['annotated depth map'] = info['depth_map_path']
            if self.check_sample_files(f'line {where} ({line!r})', files):
                data_list.append(info)
        return data_list
