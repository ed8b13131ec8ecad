"""Synthetic rooms written in NYU Depth V2's on-disk formats.

Layout under ``root`` (see ``/work/shared/DATA_FORMATS.md``)::

    nyu_depth_v2_labeled.mat      MATLAB 7.3 (HDF5): images (N,3,W,H) uint8,
                                  depths/rawDepths (N,W,H) float32 metres,
                                  labels (N,W,H) uint16 raw ids, instances (N,W,H) uint8
    splits.mat                    MATLAB 5: trainNdxs, testNdxs (n, 1) uint16, 1-based
    classMapping40.mat            MATLAB 5: mapClass (1, 894) uint8 raw id -> NYU-40,
                                  className (1, 40) cell
    classMapping13.mat            same with NYU-13 ids / names
    class13Mapping.mat            MATLAB 5 struct classMapping13 with labelIdx (1, 40)
                                  NYU-40 -> NYU-13 and labelName (1, 13) cell
    sync/<scene>/rgb_%05d.jpg     dense training layout, one folder per scene
    sync/<scene>/sync_depth_%05d.png   uint16 millimetres, 0 = invalid
    nyudepthv2_train_files_with_gt.txt / nyudepthv2_test_files_with_gt.txt
                                  "<rgb> <depth> <focal>", paths relative to sync/

Frame ``i`` of the ``.mat`` (0-based) is frame ``i % F`` of scene ``i // F`` (``F`` frames
per scene), which is ``sync/<scene>/rgb_<i % F>.jpg``. The split is by scene.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import h5py
import numpy as np

from ..nyu import NYU_CAMERA, NYU_IMAGE_SIZE
from .classes import (NYU13_CLASS_NAMES, NYU40_CLASS_NAMES, NYU40_TO_NYU13, NYU_RAW_ID,
                      nyu_class_mapping13, nyu_class_mapping40)
from .renderer import RenderResult, render
from .sequences import room_sequence, sequence_rng
from .textures import value_noise
from .writing import (MAT_HEADER_TEXT_BYTES, WriteResult, depth_png, parallel_map,
                      write_gray, write_lines, write_mat_v5, write_rgb)

LABELED_MAT = 'nyu_depth_v2_labeled.mat'
SPLITS_MAT = 'splits.mat'
MAPPING40_MAT = 'classMapping40.mat'
MAPPING13_MAT = 'classMapping13.mat'
#: 40 -> 13 mapping as a MATLAB struct (the layout of the widely used
#: ``class13Mapping.mat``).
MAPPING40_TO_13_MAT = 'class13Mapping.mat'
DENSE_DIR = 'sync'
TRAIN_LIST = 'nyudepthv2_train_files_with_gt.txt'
TEST_LIST = 'nyudepthv2_test_files_with_gt.txt'
#: sync_depth PNG value per metre.
DEPTH_PNG_SCALE = 1000.0
#: Fraction of pixels that are holes (0) in ``rawDepths`` besides windows.
RAW_DEPTH_HOLE_FRACTION = 0.08
#: Size of the raw-depth holes, as a fraction of the image width.
RAW_DEPTH_HOLE_SCALE = 0.08
#: Kinect range limit for ``rawDepths``, metres.
RAW_DEPTH_MAX = 10.0

_MAT73_HEADER = (b'MATLAB 7.3 MAT-file, Platform: GLNXA64, '
                 b'written by the mmdepthsem synthetic data generator HDF5 schema 1.00 .')
_MAT73_USERBLOCK = 512
_MAT73_VERSION_ENDIAN = b'\x00\x02IM'


@dataclass(frozen=True)
class NYUConfig:
    """Size of the synthetic NYU set.

    Attributes:
        height, width: Image size in pixels (real NYU: 480 x 640).
        num_scenes: Number of rooms (one camera sequence each).
        frames_per_scene: Frames rendered per room.
        num_test_scenes: Rooms whose frames form the test split.
        jpeg_quality: Quality of the dense-layout JPEGs.
    """

    height: int = 120
    width: int = 160
    num_scenes: int = 25
    frames_per_scene: int = 10
    num_test_scenes: int = 5
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        if not 0 < self.num_test_scenes < self.num_scenes:
            raise ValueError(f'num_test_scenes must be in [1, num_scenes - 1], got '
                             f'{self.num_test_scenes} of {self.num_scenes}')
        if min(self.height, self.width, self.frames_per_scene) < 1:
            raise ValueError(
                f'height, width and frames_per_scene must be positive: {self}')


@dataclass
class NYUScene:
    """The rendered frames of one room."""

    name: str
    frames: List[RenderResult]


@dataclass
class NYUWriteResult(WriteResult):
    """What :func:`write_nyu` wrote: :class:`~.writing.WriteResult` plus the split.

    Attributes:
        scene_names: Room names in ``.mat`` order.
        train_indices: 0-based ``.mat`` indices of the train split (the file holds them
            +1).
        test_indices: 0-based ``.mat`` indices of the test split.
    """

    scene_names: List[str]
    train_indices: List[int]
    test_indices: List[int]


def nyu_intrinsics(height: int, width: int) -> np.ndarray:
    """NYU's colour camera (:data:`~mmdepthsem.datasets.nyu.NYU_CAMERA`) scaled to
    ``height x width``.

    Returns:
        np.ndarray: ``(3, 3)`` float64 intrinsics in pixels.
    """
    fx, fy, cx, cy = NYU_CAMERA
    sx, sy = width / NYU_IMAGE_SIZE[0], height / NYU_IMAGE_SIZE[1]
    return np.array([[fx * sx, 0.0, cx * sx], [0.0, fy * sy, cy * sy], [0.0, 0.0, 1.0]])


def render_nyu_scene(seed: int, index: int, config: NYUConfig) -> NYUScene:
    """Render all frames of room ``index``.

    Args:
        seed: Dataset seed.
        index: Room index.
        config: Set size.

    Returns:
        NYUScene: The room name and its rendered frames.
    """
    scene, poses = room_sequence(
        sequence_rng(seed, 'nyu', index), config.frames_per_scene, index)
    K = nyu_intrinsics(config.height, config.width)
    return NYUScene(
        scene.name,
        [render(scene, K, pose, config.height, config.width) for pose in poses])


def raw_depth(depth: np.ndarray, label: np.ndarray, seed: int) -> np.ndarray:
    """Kinect-like raw depth: holes (0) on windows, in random blobs and beyond range.

    Args:
        depth: ``(H, W)`` float32 metres.
        label: ``(H, W)`` raw NYU ids.
        seed: Seed of the hole pattern.

    Returns:
        np.ndarray: ``(H, W)`` float32 metres, 0 = no measurement.
    """
    height, width = depth.shape
    v, u = np.mgrid[0:height, 0:width].astype(np.float64) / (RAW_DEPTH_HOLE_SCALE * width)
    blobs = value_noise(u.ravel(), v.ravel(), seed).reshape(height, width)
    holes = (blobs < RAW_DEPTH_HOLE_FRACTION) | (label == NYU_RAW_ID['window']) | (
        depth > RAW_DEPTH_MAX)
    return np.where(holes, 0.0, depth).astype(np.float32)


def instance_map(frame: RenderResult) -> np.ndarray:
    """Instance ids: per pixel, the 1-based rank of its box among the boxes of its class.

    Returns:
        np.ndarray: ``(H, W)`` uint8, 0 where unlabelled.
    """
    boxes = frame.box_index
    instances = np.zeros(boxes.shape, dtype=np.uint8)
    seen: Dict[int, List[int]] = {}
    for k in np.unique(boxes[boxes >= 0]):
        label = int(frame.label[boxes == k][0])
        if label == NYU_RAW_ID['unlabelled']:
            continue
        seen.setdefault(label, []).append(int(k))
        instances[boxes == k] = min(len(seen[label]), 255)
    return instances


def _write_labeled_mat(path: Path, frames: Sequence[RenderResult],
                       raw: Sequence[np.ndarray]) -> None:
    """Write ``nyu_depth_v2_labeled.mat`` as MATLAB 7.3 (HDF5, MATLAB's axis order)."""
    rgb = np.stack([f.rgb for f in frames]).transpose(0, 3, 2, 1)
    depths = np.stack([f.depth for f in frames]).transpose(0, 2, 1)
    raw_depths = np.stack(raw).transpose(0, 2, 1)
    labels = np.stack([f.label for f in frames]).astype(np.uint16).transpose(0, 2, 1)
    instances = np.stack([instance_map(f) for f in frames]).transpose(0, 2, 1)
    arrays = {
        'images': (rgb, 'uint8'),
        'depths': (depths, 'single'),
        'rawDepths': (raw_depths, 'single'),
        'labels': (labels, 'uint16'),
        'instances': (instances, 'uint8')
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, 'w', userblock_size=_MAT73_USERBLOCK) as mat:
        for name, (data, matlab_class) in arrays.items():
            dset = mat.create_dataset(
                name,
                data=np.ascontiguousarray(data),
                chunks=(1, ) + data.shape[1:],
                compression='gzip',
                compression_opts=1,
                shuffle=True,
                track_times=False)
            dset.attrs['MATLAB_class'] = np.bytes_(matlab_class)
    header = _MAT73_HEADER.ljust(MAT_HEADER_TEXT_BYTES) + b' ' * 8 + _MAT73_VERSION_ENDIAN
    with open(path, 'r+b') as fh:
        fh.write(header)


def _class_names_cell(names: Sequence[str]) -> np.ndarray:
    cell = np.empty((1, len(names)), dtype=object)
    for i, name in enumerate(names):
        cell[0, i] = name
    return cell


def _split_frames(seed: int, config: NYUConfig) -> Tuple[List[int], List[int]]:
    """0-based ``.mat`` indices of the train and test frames.

    The split is by room, like the official one: all frames of a room share its split.
    """
    order = sequence_rng(seed, 'nyu-split', 0).permutation(config.num_scenes)
    frames = config.frames_per_scene

    def frame_indices(scenes: np.ndarray) -> List[int]:
        return [int(s) * frames + f for s in sorted(scenes) for f in range(frames)]

    return (frame_indices(order[config.num_test_scenes:]),
            frame_indices(order[:config.num_test_scenes]))


def _render_job(job: Tuple[int, int, NYUConfig]) -> NYUScene:
    seed, index, config = job
    return render_nyu_scene(seed, index, config)


def write_nyu(root: Path,
              config: NYUConfig = NYUConfig(),
              seed: int = 0,
              workers: int = 1) -> NYUWriteResult:
    """Render rooms and write them in NYU Depth V2's formats.

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.

    Returns:
        NYUWriteResult: What was written.
    """
    root = Path(root)
    scenes = parallel_map(_render_job,
                          [(seed, i, config) for i in range(config.num_scenes)], workers)
    frames = [f for s in scenes for f in s.frames]
    raws = [raw_depth(f.depth, f.label, seed * 7919 + i) for i, f in enumerate(frames)]
    files: List[str] = []

    _write_labeled_mat(root / LABELED_MAT, frames, raws)
    train_idx, test_idx = _split_frames(seed, config)
    write_mat_v5(
        root / SPLITS_MAT, {
            'trainNdxs': np.asarray(train_idx, dtype=np.uint16).reshape(-1, 1) + 1,
            'testNdxs': np.asarray(test_idx, dtype=np.uint16).reshape(-1, 1) + 1
        })
    write_mat_v5(
        root / MAPPING40_MAT, {
            'mapClass': nyu_class_mapping40().reshape(1, -1),
            'className': _class_names_cell(NYU40_CLASS_NAMES)
        })
    write_mat_v5(
        root / MAPPING13_MAT, {
            'mapClass': nyu_class_mapping13().reshape(1, -1),
            'className': _class_names_cell(NYU13_CLASS_NAMES)
        })
    write_mat_v5(
        root / MAPPING40_TO_13_MAT, {
            'classMapping13': {
                'labelIdx': np.asarray(NYU40_TO_NYU13[1:], dtype=np.uint8).reshape(1, -1),
                'labelName': _class_names_cell(NYU13_CLASS_NAMES)
            }
        })
    files += [LABELED_MAT, SPLITS_MAT, MAPPING40_MAT, MAPPING13_MAT, MAPPING40_TO_13_MAT]

    focal = nyu_intrinsics(config.height, config.width)[0, 0]
    lines: List[str] = []  # in .mat order
    for scene in scenes:
        for f, frame in enumerate(scene.frames):
            rgb_rel = f'{scene.name}/rgb_{f:05d}.jpg'
            depth_rel = f'{scene.name}/sync_depth_{f:05d}.png'
            write_rgb(root / DENSE_DIR / rgb_rel, frame.rgb, config.jpeg_quality)
            depth_mm = depth_png(frame.depth, DEPTH_PNG_SCALE)
            write_gray(root / DENSE_DIR / depth_rel, depth_mm)
            files += [f'{DENSE_DIR}/{rgb_rel}', f'{DENSE_DIR}/{depth_rel}']
            lines.append(f'{rgb_rel} {depth_rel} {focal:.4f}')
    write_lines(root / TRAIN_LIST, [lines[i] for i in train_idx])
    write_lines(root / TEST_LIST, [lines[i] for i in test_idx])
    files += [TRAIN_LIST, TEST_LIST]
    return NYUWriteResult(
        root=root,
        files=files,
        scene_names=[s.name for s in scenes],
        train_indices=train_idx,
        test_indices=test_idx)
