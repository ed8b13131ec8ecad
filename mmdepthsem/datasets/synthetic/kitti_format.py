"""Synthetic drives written in KITTI's raw, annotated-depth and split-file formats.

Layout under ``root`` (see ``/work/shared/DATA_FORMATS.md``)::

    <date>/calib_cam_to_cam.txt             S/K/D/R/T, S_rect/R_rect/P_rect, cameras 0..3
    <date>/calib_velo_to_cam.txt            R (9), T (3), delta_f, delta_c, calib_time
    <date>/<date>_drive_%04d_sync/image_02/data/%010d.png   left colour (RGB PNG)
    <date>/<date>_drive_%04d_sync/image_03/data/%010d.png   right colour
    <date>/<date>_drive_%04d_sync/velodyne_points/data/%010d.bin   float32 x,y,z,r
    data_depth_annotated/<drive>/proj_depth/groundtruth/image_0{2,3}/%010d.png
                                            uint16 depth * 256, 0 = invalid (sparse)
    splits/eigen/test_files.txt             "<date>/<drive> <frame> l"
    splits/eigen_zhou/{train,val}_files.txt "<date>/<drive> <frame> l|r" (t-1, t+1 exist)
    splits/supervised/eigen_{train,test}_files_with_gt.txt
                                            "<rgb> <depth> <focal>", rgb relative to
                                            root, depth to data_depth_annotated/
    pseudo_labels/renderer/<date>/<drive>/image_0{2,3}/%010d.png
                                            uint8 Cityscapes train ids (255 ignore) of
                                            every frame (test drives too: classes of
                                            the per-class depth error, SGRE Fig. 5)
    data_semantics/training/image_2/%06d_10.png
    data_semantics/training/semantic/%06d_10.png
                                            KITTI-2015 semantic benchmark layout:
                                            test-drive frames, Cityscapes label ids

The ``pseudo_labels`` folder stands in for the output of
``tools/generate_pseudo_labels.py`` (a Cityscapes-trained teacher run over KITTI, as
FSRE/SGRE/SDE-Seg do): here the renderer's exact labels, so demos need no teacher.

``root`` is thus both the KITTI raw root and the folder of the split files.

Geometry: the rectified cameras share the intrinsics ``K`` and the orientation of
rectified camera 0; camera ``i`` sits at ``-t_i`` in that frame
(``P_rect_0i = K [I | t_i]``). The velodyne frame is x forward, y left, z up, 1.73 m above
the road.
``image_02`` is rendered from exactly the camera that ``P_rect_02 . R_rect_00 . [R|T]``
describes, so projecting the velodyne points reproduces the rendered depth. The velodyne
points inside the camera's view are back-projections of rendered depth at pixel centres
along simulated scan lines; the others come from beams cast from the sensor (no points on
sky, none beyond 120 m).
"""
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .renderer import RenderResult, cast_rays, render
from .scene import Scene
from .sequences import sequence_rng, street_sequence
from .classes import cityscapes_train_id_lut
from .trajectory import invert_pose, make_pose, rot_x, rot_y, rot_z
from .writing import (WriteResult, depth_png, parallel_map, write_gray, write_lines,
                      write_rgb)

KITTI_DATE = '2011_09_26'
ANNOTATED_DIR = 'data_depth_annotated'
SPLITS_DIR = 'splits'
PSEUDO_LABEL_DIR = 'pseudo_labels/renderer'
SEMANTICS_DIR = 'data_semantics/training'
#: Every how many test-drive frames one goes into the semantic benchmark layout.
SEMANTICS_FRAME_STRIDE = 2
#: Normalised intrinsics (the values self-supervised methods assume): fx = 0.58 W, ...
FX_PER_WIDTH, FY_PER_HEIGHT, CX_PER_WIDTH, CY_PER_HEIGHT = 0.58, 1.92, 0.5, 0.5
#: Distance between the centres of cameras 02 and 03, metres.
STEREO_BASELINE = 0.54
#: Position offsets ``t_i`` of the rectified cameras (X_cam_i = X_rect0 + t_i), metres.
RECT_CAMERA_OFFSETS: Dict[int, Tuple[float, float, float]] = {
    0: (0.0, 0.0, 0.0),
    1: (-0.537, 0.0, 0.0),
    2: (0.0599, -0.00036, 0.0027),
    3: (0.0599 - STEREO_BASELINE, -0.00036, 0.0027),
}
#: Small rotations (x, y, z Euler angles, degrees) of the calibration.
R_RECT_00_EULER_DEG = (0.45, -0.25, 0.1)
UNRECTIFIED_EULER_DEG: Dict[int, Tuple[float, float, float]] = {
    0: (0.0, 0.0, 0.0),
    1: (0.1, 0.2, -0.1),
    2: (0.2, -0.1, 0.3),
    3: (-0.2, 0.15, 0.1)
}
VELO_TO_CAM_EULER_DEG = (0.35, -0.45, 0.25)
#: Velodyne origin in (unrectified) camera-0 coordinates, metres.
VELO_TO_CAM_T = (-0.0041, -0.0763, -0.2717)
#: Velodyne axes (x forward, y left, z up) in camera axes (x right, y down, z forward).
VELO_AXES_IN_CAM = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
#: Velodyne mounting height above the road, metres.
VELO_HEIGHT = 1.73
#: Plausible unrectified-camera lens distortion (k1, k2, p1, p2, k3).
DISTORTION = (-0.37, 0.2, 0.0011, -0.0011, -0.07)
CALIB_TIME_CAM = '09-Jan-2012 13:57:47'
CALIB_TIME_VELO = '15-Mar-2012 11:37:16'
CORNER_DIST = 0.0995
#: HDL-64E-like scanner.
LIDAR_BEAMS = 64
LIDAR_ELEVATION_DEG = (2.0, -24.9)
LIDAR_MAX_RANGE = 120.0
#: Outside the camera's view the sweep is coarse: every ``LIDAR_OUTSIDE_BEAM_STRIDE``-th
#: beam, one ray per ``LIDAR_OUTSIDE_AZIMUTH_STEP_DEG`` degrees.
LIDAR_OUTSIDE_AZIMUTH_STEP_DEG = 2.0
LIDAR_OUTSIDE_BEAM_STRIDE = 2
LIDAR_FOV_MARGIN_DEG = 5.0
#: Reflectance of points outside the image (no colour to derive it from).
LIDAR_DEFAULT_REFLECTANCE = 0.3
#: Fraction of pixels (below the scanner's top beam) with annotated depth.
ANNOTATED_DENSITY = 0.35
DEPTH_PNG_SCALE = 256.0
#: Luminance weights of R, G, B.
LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class KITTIConfig:
    """Size of the synthetic KITTI set.

    Attributes:
        height, width: Image size in pixels (real: 375 x 1242).
        num_drives: Number of drives (one street each).
        num_test_drives: Drives (the last ones) forming the Eigen-like test split.
        frames_per_drive: Frames per drive (needs >= 3 for neighbours).
        speed: Mean distance driven per frame, metres (varies +-20 % per drive).
        val_fraction: Fraction of Eigen-Zhou-like frames held out for validation.
        date: Date folder name.
    """

    height: int = 128
    width: int = 416
    num_drives: int = 6
    num_test_drives: int = 1
    frames_per_drive: int = 40
    speed: float = 1.0
    val_fraction: float = 0.1
    date: str = KITTI_DATE

    def __post_init__(self) -> None:
        if not 0 < self.num_test_drives < self.num_drives:
            raise ValueError(f'num_test_drives must be in [1, num_drives - 1], got '
                             f'{self.num_test_drives} of {self.num_drives}')
        if self.frames_per_drive < 3:
            raise ValueError(
                f'frames_per_drive must be >= 3, got {self.frames_per_drive}')


def _small_rotation(euler_deg: Sequence[float]) -> np.ndarray:
    ax, ay, az = np.deg2rad(euler_deg)
    return rot_x(ax) @ rot_y(ay) @ rot_z(az)


@dataclass
class KITTICalibration:
    """KITTI-style calibration of the synthetic rig.

    Attributes:
        K: ``(3, 3)`` rectified intrinsics shared by all cameras, pixels.
        R_rect_00: ``(3, 3)`` rectifying rotation of camera 0.
        velo_to_cam: ``(4, 4)`` velodyne -> unrectified camera 0 (``[R|T]``).
        width, height: Rectified image size.
    """

    K: np.ndarray
    R_rect_00: np.ndarray
    velo_to_cam: np.ndarray
    width: int
    height: int
    offsets: Dict[int, np.ndarray] = field(default_factory=lambda: {
        i: np.asarray(t)
        for i, t in RECT_CAMERA_OFFSETS.items()
    })

    def P_rect(self, cam: int) -> np.ndarray:
        """``(3, 4)`` projection ``K [I | t_cam]`` of rectified camera ``cam``."""
        return self.K @ np.hstack([np.eye(3), self.offsets[cam][:, None]])

    def velo_to_rect_cam(self, cam: int) -> np.ndarray:
        """``(4, 4)`` velodyne -> rectified camera ``cam`` (``[I|t] R_rect_00 [R|T]``)."""
        return make_pose(np.eye(3), self.offsets[cam]) @ make_pose(
            self.R_rect_00, np.zeros(3)) @ self.velo_to_cam

    def unrectified(self, cam: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``R_0x`` (cam 0 -> cam x), ``T_0x`` and ``R_rect_0x`` of unrectified ``cam``.

        Chosen so that ``R_rect_0x (R_0x X_0 + T_0x) = R_rect_00 X_0 + t_x``.
        """
        r_0x = _small_rotation(UNRECTIFIED_EULER_DEG[cam])
        r_rect = self.R_rect_00 @ r_0x.T
        t_0x = r_rect.T @ self.offsets[cam]
        return r_0x, t_0x, r_rect

    def cam_to_cam_lines(self) -> List[str]:
        """Lines of ``calib_cam_to_cam.txt``."""
        lines = [f'calib_time: {CALIB_TIME_CAM}', f'corner_dist: {_fmt([CORNER_DIST])}']
        for cam in range(4):
            r_0x, t_0x, r_rect = self.unrectified(cam)
            lines += [
                f'S_{cam:02d}: {_fmt([self.width, self.height])}',
                f'K_{cam:02d}: {_fmt(self.K.ravel())}',
                f'D_{cam:02d}: {_fmt(DISTORTION)}', f'R_{cam:02d}: {_fmt(r_0x.ravel())}',
                f'T_{cam:02d}: {_fmt(t_0x)}',
                f'S_rect_{cam:02d}: {_fmt([self.width, self.height])}',
                f'R_rect_{cam:02d}: {_fmt(r_rect.ravel())}',
                f'P_rect_{cam:02d}: {_fmt(self.P_rect(cam).ravel())}'
            ]
        return lines

    def velo_to_cam_lines(self) -> List[str]:
        """Lines of ``calib_velo_to_cam.txt``."""
        return [
            f'calib_time: {CALIB_TIME_VELO}',
            f'R: {_fmt(self.velo_to_cam[:3, :3].ravel())}',
            f'T: {_fmt(self.velo_to_cam[:3, 3])}', f'delta_f: {_fmt([0.0, 0.0])}',
            f'delta_c: {_fmt([0.0, 0.0])}'
        ]


def _fmt(values: Sequence[float]) -> str:
    return ' '.join(f'{float(v):.6e}' for v in values)


def kitti_calibration(height: int, width: int) -> KITTICalibration:
    """Calibration of the synthetic rig for ``height x width`` images."""
    K = np.array([[FX_PER_WIDTH * width, 0.0, CX_PER_WIDTH * width],
                  [0.0, FY_PER_HEIGHT * height, CY_PER_HEIGHT * height], [0.0, 0.0, 1.0]])
    velo_rot = _small_rotation(VELO_TO_CAM_EULER_DEG) @ VELO_AXES_IN_CAM
    return KITTICalibration(
        K=K,
        R_rect_00=_small_rotation(R_RECT_00_EULER_DEG),
        velo_to_cam=make_pose(velo_rot, VELO_TO_CAM_T),
        width=width,
        height=height)


def drive_name(config: KITTIConfig, index: int) -> str:
    """Folder name of drive ``index`` (0-based), e.g. ``2011_09_26_drive_0001_sync``."""
    return f'{config.date}_drive_{index + 1:04d}_sync'


@functools.lru_cache(maxsize=4)
def kitti_drive(seed: int, index: int, config: KITTIConfig) -> Tuple[Scene, np.ndarray]:
    """The street of drive ``index`` and the velodyne's path through it.

    Args:
        seed: Dataset seed.
        index: Drive index (0-based).
        config: Set size.

    Returns:
        The scene and ``(F, 4, 4)`` velodyne-to-world poses (cached per process).
    """
    speed = config.speed * sequence_rng(seed, 'kitti-speed', index).uniform(0.8, 1.2)
    scene, vehicle_poses, _ = street_sequence(
        sequence_rng(seed, 'kitti', index),
        config.frames_per_drive,
        speed,
        name=drive_name(config, index))
    velo_mount = make_pose(np.eye(3), (0.0, 0.0, VELO_HEIGHT))
    return scene, vehicle_poses @ velo_mount


@dataclass
class KITTIFrame:
    """Everything rendered for one frame of a drive.

    Attributes:
        left: Render of rectified camera 02.
        right: Render of rectified camera 03.
        velodyne: ``(N, 4)`` float32 points (x, y, z, reflectance) in the velodyne frame.
        annotated_left: ``(H, W)`` float32 sparse depth (metres, 0 invalid), camera 02.
        annotated_right: The same for camera 03.
        velo_to_world: ``(4, 4)`` velodyne pose.
    """

    left: RenderResult
    right: RenderResult
    velodyne: np.ndarray
    annotated_left: np.ndarray
    annotated_right: np.ndarray
    velo_to_world: np.ndarray


def _half_fov(calib: KITTICalibration) -> float:
    """Half the horizontal field of view of camera 02 plus a margin, radians."""
    return np.arctan2(calib.width / 2, calib.K[0, 0]) + np.deg2rad(LIDAR_FOV_MARGIN_DEG)


def _beam_directions(elevation: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """Unit velodyne-frame directions of every (elevation, azimuth) pair, ``(E * A, 3)``.

    Rows run over azimuth fastest, elevation slowest (both in radians).
    """
    el, az = np.meshgrid(elevation, azimuth, indexing='ij')
    return np.stack([np.cos(el) * np.cos(az),
                     np.cos(el) * np.sin(az),
                     np.sin(el)], -1).reshape(-1, 3)


def _beam_elevations() -> np.ndarray:
    """Elevations of the scanner's beams, top first, radians."""
    return np.deg2rad(np.linspace(*LIDAR_ELEVATION_DEG, LIDAR_BEAMS))


def _lidar_in_view(render_left: RenderResult, calib: KITTICalibration) -> np.ndarray:
    """Velodyne points inside camera 02's view, ``(N, 4)``, from rendered depth.

    Scan lines are the image traces of the beams' directions; each pixel they cross
    contributes one point at its centre, at the rendered depth.
    """
    K, height, width = calib.K, calib.height, calib.width
    half_fov = _half_fov(calib)
    azimuth = np.arange(-half_fov, half_fov, 1.0 / K[0, 0])
    velo_to_cam2 = calib.velo_to_rect_cam(2)
    cam = _beam_directions(_beam_elevations(), azimuth) @ velo_to_cam2[:3, :3].T
    cam = cam[cam[:, 2] > 0]
    u = np.rint(K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2]).astype(np.int64)
    v = np.rint(K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2]).astype(np.int64)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    flat = np.unique(v[inside] * width + u[inside])
    v, u = np.divmod(flat, width)
    depth = render_left.depth[v, u].astype(np.float64)
    pix = np.stack([u, v, np.ones_like(u)], -1).astype(np.float64)
    points_cam = (pix @ np.linalg.inv(K).T) * depth[:, None]
    cam2_to_velo = invert_pose(velo_to_cam2)
    points = points_cam @ cam2_to_velo[:3, :3].T + cam2_to_velo[:3, 3]
    keep = (depth > 0) & (np.linalg.norm(points, axis=1) <= LIDAR_MAX_RANGE)
    reflectance = render_left.rgb[v, u].astype(np.float64) @ LUMA / 255.0
    return np.concatenate([points[keep], reflectance[keep, None]], 1)


def _projects_into_image(points: np.ndarray, calib: KITTICalibration) -> np.ndarray:
    """``(N,)`` bool: velodyne points that land inside image 02 in front of the camera."""
    velo_to_cam2 = calib.velo_to_rect_cam(2)
    proj = (points @ velo_to_cam2[:3, :3].T + velo_to_cam2[:3, 3]) @ calib.K.T
    front = proj[:, 2] > 0
    z = np.where(front, proj[:, 2], 1.0)
    u, v = np.rint(proj[:, 0] / z), np.rint(proj[:, 1] / z)
    return front & (u >= 0) & (u < calib.width) & (v >= 0) & (v < calib.height)


def _lidar_outside_view(scene: Scene, velo_to_world: np.ndarray,
                        calib: KITTICalibration) -> np.ndarray:
    """Velodyne points outside camera 02's view by casting beams, ``(N, 4)``."""
    half_fov = _half_fov(calib)
    azimuth = np.arange(half_fov, 2 * np.pi - half_fov,
                        np.deg2rad(LIDAR_OUTSIDE_AZIMUTH_STEP_DEG))
    dirs = _beam_directions(_beam_elevations()[::LIDAR_OUTSIDE_BEAM_STRIDE], azimuth)
    hits = cast_rays(
        scene,
        velo_to_world[:3, 3],
        dirs @ velo_to_world[:3, :3].T,
        max_distance=LIDAR_MAX_RANGE)
    keep = hits.hit & (hits.t <= LIDAR_MAX_RANGE)
    points = dirs[keep] * hits.t[keep, None]
    keep_out = ~_projects_into_image(points, calib)
    reflect = np.full(int(keep_out.sum()), LIDAR_DEFAULT_REFLECTANCE)
    return np.concatenate([points[keep_out], reflect[:, None]], 1)


def _annotate(depth: np.ndarray, top_row: int, rng: np.random.Generator) -> np.ndarray:
    """Sparse ground truth: a random subset of in-range pixels below the top beam."""
    mask = rng.random(depth.shape) < ANNOTATED_DENSITY
    mask[:max(top_row, 0)] = False
    mask &= (depth > 0) & (depth <= LIDAR_MAX_RANGE)
    return np.where(mask, depth, 0.0).astype(np.float32)


def _top_beam_row(calib: KITTICalibration) -> int:
    """Image row of the highest beam straight ahead."""
    el = np.deg2rad(LIDAR_ELEVATION_DEG[0])
    cam = calib.velo_to_rect_cam(2)[:3, :3] @ np.array([np.cos(el), 0.0, np.sin(el)])
    return int(np.floor(calib.K[1, 1] * cam[1] / cam[2] + calib.K[1, 2]))


def render_kitti_frame(seed: int, drive: int, frame: int,
                       config: KITTIConfig) -> KITTIFrame:
    """Render both cameras, the velodyne sweep and the annotated depth of one frame.

    Args:
        seed: Dataset seed.
        drive: Drive index (0-based).
        frame: Frame index within the drive.
        config: Set size.

    Returns:
        KITTIFrame: The rendered frame.
    """
    calib = kitti_calibration(config.height, config.width)
    scene, velo_poses = kitti_drive(seed, drive, config)
    velo_to_world = velo_poses[frame]
    views = [
        render(scene, calib.K, velo_to_world @ invert_pose(calib.velo_to_rect_cam(cam)),
               config.height, config.width) for cam in (2, 3)
    ]
    points = np.concatenate([
        _lidar_in_view(views[0], calib),
        _lidar_outside_view(scene, velo_to_world, calib)
    ]).astype(np.float32)
    rng = sequence_rng(seed, 'kitti-annotated', drive * 100003 + frame)
    top = _top_beam_row(calib)
    return KITTIFrame(views[0], views[1], points, _annotate(views[0].depth, top, rng),
                      _annotate(views[1].depth, top, rng), velo_to_world)


def _frame_job(job: Tuple[int, int, int, KITTIConfig, str]) -> List[str]:
    seed, drive, frame, config, root_str = job
    root = Path(root_str)
    out = render_kitti_frame(seed, drive, frame, config)
    name = drive_name(config, drive)
    seq = f'{config.date}/{name}'
    ann = f'{ANNOTATED_DIR}/{name}/proj_depth/groundtruth'
    files = {
        f'{seq}/image_02/data/{frame:010d}.png': out.left.rgb,
        f'{seq}/image_03/data/{frame:010d}.png': out.right.rgb
    }
    for rel, rgb in files.items():
        write_rgb(root / rel, rgb)
    velo_rel = f'{seq}/velodyne_points/data/{frame:010d}.bin'
    (root / velo_rel).parent.mkdir(parents=True, exist_ok=True)
    out.velodyne.astype('<f4').tofile(root / velo_rel)
    ann_files = {
        f'{ann}/image_02/{frame:010d}.png': out.annotated_left,
        f'{ann}/image_03/{frame:010d}.png': out.annotated_right
    }
    for rel, depth in ann_files.items():
        write_gray(root / rel, depth_png(depth, DEPTH_PNG_SCALE))
    written = list(files) + [velo_rel] + list(ann_files)
    label_ids = {cam: view.label.astype(np.uint8)
                 for cam, view in (('02', out.left), ('03', out.right))}
    for cam, ids in label_ids.items():
        rel = f'{PSEUDO_LABEL_DIR}/{seq}/image_{cam}/{frame:010d}.png'
        write_gray(root / rel, cityscapes_train_id_lut()[ids])
        written.append(rel)
    if drive >= config.num_drives - config.num_test_drives and \
            frame % SEMANTICS_FRAME_STRIDE == 0:
        index = semantics_index(config, drive, frame)
        rel_img = f'{SEMANTICS_DIR}/image_2/{index:06d}_10.png'
        rel_sem = f'{SEMANTICS_DIR}/semantic/{index:06d}_10.png'
        write_rgb(root / rel_img, out.left.rgb)
        write_gray(root / rel_sem, label_ids['02'])
        written += [rel_img, rel_sem]
    return written


def semantics_index(config: KITTIConfig, drive: int, frame: int) -> int:
    """Index of a test-drive frame in the semantic benchmark layout."""
    first_test = config.num_drives - config.num_test_drives
    per_drive = -(-config.frames_per_drive // SEMANTICS_FRAME_STRIDE)
    return (drive - first_test) * per_drive + frame // SEMANTICS_FRAME_STRIDE


def _split_lines(seed: int, config: KITTIConfig) -> Dict[str, List[str]]:
    """Contents of the split files, by path relative to the output root."""
    rng = sequence_rng(seed, 'kitti-split', 0)
    n_train_drives = config.num_drives - config.num_test_drives
    focal = kitti_calibration(config.height, config.width).K[0, 0]
    frames = range(config.frames_per_drive)
    interior = range(1, config.frames_per_drive - 1)
    zhou = [(d, f, 'l' if rng.uniform() < 0.5 else 'r') for d in range(n_train_drives)
            for f in interior]
    val_mask = np.zeros(len(zhou), dtype=bool)
    val_mask[rng.permutation(len(zhou))[:int(round(config.val_fraction *
                                                   len(zhou)))]] = True

    def folder(d: int) -> str:
        return f'{config.date}/{drive_name(config, d)}'

    def supervised(d: int, f: int) -> str:
        return (
            f'{folder(d)}/image_02/data/{f:010d}.png {drive_name(config, d)}/proj_depth/'
            f'groundtruth/image_02/{f:010d}.png {focal:.4f}')

    test_drives = range(n_train_drives, config.num_drives)
    return {
        f'{SPLITS_DIR}/eigen/test_files.txt':
        [f'{folder(d)} {f} l' for d in test_drives for f in frames],
        f'{SPLITS_DIR}/eigen_zhou/train_files.txt':
        [f'{folder(d)} {f} {s}' for (d, f, s), v in zip(zhou, val_mask) if not v],
        f'{SPLITS_DIR}/eigen_zhou/val_files.txt':
        [f'{folder(d)} {f} {s}' for (d, f, s), v in zip(zhou, val_mask) if v],
        f'{SPLITS_DIR}/supervised/eigen_train_files_with_gt.txt':
        [supervised(d, f) for d in range(n_train_drives) for f in frames],
        f'{SPLITS_DIR}/supervised/eigen_test_files_with_gt.txt':
        [supervised(d, f) for d in test_drives for f in frames],
    }


def write_kitti(root: Path,
                config: KITTIConfig = KITTIConfig(),
                seed: int = 0,
                workers: int = 1) -> WriteResult:
    """Render drives and write them in KITTI's formats.

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.

    Returns:
        WriteResult: What was written.
    """
    root = Path(root)
    calib = kitti_calibration(config.height, config.width)
    date_dir = config.date
    write_lines(root / date_dir / 'calib_cam_to_cam.txt', calib.cam_to_cam_lines())
    write_lines(root / date_dir / 'calib_velo_to_cam.txt', calib.velo_to_cam_lines())
    files = [f'{date_dir}/calib_cam_to_cam.txt', f'{date_dir}/calib_velo_to_cam.txt']
    jobs = [(seed, d, f, config, str(root)) for d in range(config.num_drives)
            for f in range(config.frames_per_drive)]
    for written in parallel_map(_frame_job, jobs, workers):
        files += written
    for rel, lines in _split_lines(seed, config).items():
        write_lines(root / rel, lines)
        files.append(rel)
    return WriteResult(root, files)
