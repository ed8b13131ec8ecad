"""Synthetic street snippets written in Cityscapes' on-disk formats.

Layout under ``root`` (``<stem>`` = ``<city>_<seq:06d>_<frame:06d>``, frame 19)::

    leftImg8bit/{train,val}/<city>/<stem>_leftImg8bit.png
    gtFine/{train,val}/<city>/<stem>_gtFine_labelIds.png       official label ids (uint8)
    gtFine/{train,val}/<city>/<stem>_gtFine_labelTrainIds.png  train ids 0..18, 255 ignore
    gtFine/{train,val}/<city>/<stem>_gtFine_color.png          official colours
    disparity/{train,val}/<city>/<stem>_disparity.png          uint16 d*256+1, 0 invalid
    camera/{train,val}/<city>/<stem>_camera.json                extrinsic + intrinsic
    leftImg8bit_sequence/{train,val}/<city>/<city>_<seq>_<frame:06d>_leftImg8bit.png
                                        the annotated frame and its neighbours (offsets)

Depth = baseline * fx / disparity with ``disparity = (p - 1) / 256``. The camera sits on
the vehicle as ``camera.json`` says (x forward, y left, z up from the vehicle origin on
the road; pitch positive looks down).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from .classes import cityscapes_color_lut, cityscapes_train_id_lut
from .renderer import RenderResult, render
from .sequences import sequence_rng, street_sequence
from .trajectory import camera_rotation, make_pose
from .writing import WriteResult, parallel_map, write_gray, write_json, write_rgb

#: Real Cityscapes image size and intrinsics (pixels) and stereo baseline (metres).
CITYSCAPES_FULL_HEIGHT, CITYSCAPES_FULL_WIDTH = 1024, 2048
CITYSCAPES_FX, CITYSCAPES_FY = 2262.52, 2265.30
CITYSCAPES_U0, CITYSCAPES_V0 = 1096.98, 513.14
CITYSCAPES_BASELINE = 0.209313
#: Camera mounting (vehicle frame, metres / radians); pitch varies per city in this range.
CAMERA_X, CAMERA_Y, CAMERA_Z = 1.7, 0.1, 1.22
CAMERA_PITCH_RANGE = (0.03, 0.05)
CAMERA_YAW_RANGE = (-0.02, 0.02)
#: Index of the annotated frame in each 30-frame snippet.
ANNOTATED_FRAME = 19
SNIPPET_LENGTH = 30
DISPARITY_SCALE = 256.0
SPLITS = ('train', 'val')


@dataclass(frozen=True)
class CityscapesConfig:
    """Size of the synthetic Cityscapes set.

    Attributes:
        height, width: Image size in pixels (real: 1024 x 2048).
        train_cities: City folder names of the train split.
        val_cities: City folder names of the val split.
        train_sequences_per_city: Snippets per train city.
        val_sequences_per_city: Snippets per val city.
        sequence_offsets: Frames written to ``leftImg8bit_sequence``, relative to frame
            19.
        speed: Distance driven per frame, metres (17 Hz at about 36 km/h).
    """

    height: int = 128
    width: int = 256
    train_cities: Tuple[str, ...] = ('aachen', 'bochum')
    val_cities: Tuple[str, ...] = ('frankfurt', )
    train_sequences_per_city: int = 20
    val_sequences_per_city: int = 10
    sequence_offsets: Tuple[int, ...] = (-2, -1, 0, 1, 2)
    speed: float = 0.6

    def __post_init__(self) -> None:
        frames = [ANNOTATED_FRAME + o for o in self.sequence_offsets]
        if min(frames) < 0 or 0 not in self.sequence_offsets:
            raise ValueError(
                f'sequence_offsets must contain 0 and stay >= -{ANNOTATED_FRAME}, '
                f'got {self.sequence_offsets}')


def cityscapes_camera(height: int, width: int, pitch: float,
                      yaw: float) -> Dict[str, dict]:
    """Contents of ``camera.json`` for ``height x width`` images.

    Returns:
        dict: ``{'extrinsic': {baseline, pitch, roll, x, y, yaw, z}, 'intrinsic': {fx, fy,
        u0, v0}}`` (metres, radians, pixels).
    """
    sx, sy = width / CITYSCAPES_FULL_WIDTH, height / CITYSCAPES_FULL_HEIGHT
    return {
        'extrinsic': {
            'baseline': CITYSCAPES_BASELINE,
            'pitch': pitch,
            'roll': 0.0,
            'x': CAMERA_X,
            'y': CAMERA_Y,
            'yaw': yaw,
            'z': CAMERA_Z
        },
        'intrinsic': {
            'fx': CITYSCAPES_FX * sx,
            'fy': CITYSCAPES_FY * sy,
            'u0': CITYSCAPES_U0 * sx,
            'v0': CITYSCAPES_V0 * sy
        },
    }


def camera_matrices(camera: Dict[str, dict]) -> Tuple[np.ndarray, np.ndarray]:
    """Intrinsics ``(3, 3)`` and camera-to-vehicle pose ``(4, 4)`` of ``camera.json``."""
    intr, ext = camera['intrinsic'], camera['extrinsic']
    K = np.array([[intr['fx'], 0.0, intr['u0']], [0.0, intr['fy'], intr['v0']],
                  [0.0, 0.0, 1.0]])
    pose = make_pose(
        camera_rotation(ext['yaw'], ext['pitch'], ext['roll']),
        (ext['x'], ext['y'], ext['z']))
    return K, pose


def _city_camera(seed: int, city: str, config: CityscapesConfig) -> Dict[str, dict]:
    rng = sequence_rng(seed, f'cityscapes-camera-{city}', 0)
    return cityscapes_camera(config.height, config.width,
                             float(rng.uniform(*CAMERA_PITCH_RANGE)),
                             float(rng.uniform(*CAMERA_YAW_RANGE)))


def render_cityscapes_snippet(seed: int, city: str, sequence: int,
                              config: CityscapesConfig) -> Dict[int, RenderResult]:
    """Render the frames ``19 + offsets`` of snippet ``sequence`` of ``city``.

    Returns:
        dict: Frame number -> render (camera-to-world poses in the street's world frame).
    """
    snippet = max(SNIPPET_LENGTH, ANNOTATED_FRAME + max(config.sequence_offsets) + 1)
    scene, vehicle_poses, _ = street_sequence(
        sequence_rng(seed, f'cityscapes-{city}', sequence),
        snippet,
        config.speed,
        name=f'{city}_{sequence:06d}')
    K, cam_to_vehicle = camera_matrices(_city_camera(seed, city, config))
    frames = sorted(ANNOTATED_FRAME + o for o in config.sequence_offsets)
    return {
        f: render(scene, K, vehicle_poses[f] @ cam_to_vehicle, config.height,
                  config.width)
        for f in frames
    }


def disparity_png(depth: np.ndarray, baseline: float, fx: float) -> np.ndarray:
    """Encode depth as a Cityscapes disparity PNG.

    Args:
        depth: ``(H, W)`` metres, 0 = invalid.
        baseline: Stereo baseline, metres.
        fx: Focal length, pixels.

    Returns:
        np.ndarray: ``(H, W)`` uint16 ``round(d * 256) + 1`` with ``d = baseline * fx /
        depth``; 0 where the depth is invalid or the disparity rounds to 0.
    """
    disparity = np.where(depth > 0, baseline * fx / np.maximum(depth, 1e-12), 0.0)
    code = np.rint(disparity * DISPARITY_SCALE)
    valid = (depth > 0) & (code >= 1) & (code < np.iinfo(np.uint16).max)
    return np.where(valid, code + 1, 0).astype(np.uint16)


def _snippet_job(job: Tuple[int, str, str, int, CityscapesConfig, str]) -> List[str]:
    seed, split, city, sequence, config, root_str = job
    root = Path(root_str)
    frames = render_cityscapes_snippet(seed, city, sequence, config)
    camera = _city_camera(seed, city, config)
    stem = f'{city}_{sequence:06d}_{ANNOTATED_FRAME:06d}'
    sub = f'{split}/{city}'
    annotated = frames[ANNOTATED_FRAME]
    label_ids = annotated.label.astype(np.uint8)
    written = {
        f'leftImg8bit/{sub}/{stem}_leftImg8bit.png': ('rgb', annotated.rgb),
        f'gtFine/{sub}/{stem}_gtFine_labelIds.png': ('gray', label_ids),
        f'gtFine/{sub}/{stem}_gtFine_labelTrainIds.png':
        ('gray', cityscapes_train_id_lut()[label_ids]),
        f'gtFine/{sub}/{stem}_gtFine_color.png':
        ('rgb', cityscapes_color_lut()[label_ids]),
        f'disparity/{sub}/{stem}_disparity.png':
        ('gray',
         disparity_png(annotated.depth, camera['extrinsic']['baseline'],
                       camera['intrinsic']['fx'])),
    }
    for f, frame in frames.items():
        seq_name = f'{city}_{sequence:06d}_{f:06d}_leftImg8bit.png'
        written[f'leftImg8bit_sequence/{sub}/{seq_name}'] = ('rgb', frame.rgb)
    for rel, (kind, image) in written.items():
        (write_rgb if kind == 'rgb' else write_gray)(root / rel, image)
    camera_rel = f'camera/{sub}/{stem}_camera.json'
    write_json(root / camera_rel, camera)
    return list(written) + [camera_rel]


def write_cityscapes(root: Path,
                     config: CityscapesConfig = CityscapesConfig(),
                     seed: int = 0,
                     workers: int = 1) -> WriteResult:
    """Render street snippets and write them in Cityscapes' formats.

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.

    Returns:
        WriteResult: What was written.
    """
    root = Path(root)
    jobs = []
    for split, cities, count in (('train', config.train_cities,
                                  config.train_sequences_per_city),
                                 ('val', config.val_cities,
                                  config.val_sequences_per_city)):
        jobs += [(seed, split, city, s, config, str(root)) for city in cities
                 for s in range(count)]
    files: List[str] = []
    for written in parallel_map(_snippet_job, jobs, workers):
        files += written
    files.append(_write_labelled_split(root, config, seed))
    return WriteResult(root, files)


def _write_labelled_split(root: Path, config: CityscapesConfig, seed: int) -> str:
    """``splits/train_1-5_seed<seed>.txt``: a seeded fifth of the training frames'
    sample names, the labelled subset of the semi-supervised demos (the datasets'
    ``subset_file``; ``tools/make_subset_split.py`` draws other ones)."""
    names = sorted(f'{city}/{city}_{s:06d}_{ANNOTATED_FRAME:06d}'
                   for city in config.train_cities
                   for s in range(config.train_sequences_per_city))
    count = max(1, len(names) // 5)
    chosen = np.random.default_rng(seed).choice(len(names), count, replace=False)
    rel = f'splits/train_1-5_seed{seed}.txt'
    (root / 'splits').mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(''.join(names[i] + '\n' for i in sorted(chosen)))
    return rel
