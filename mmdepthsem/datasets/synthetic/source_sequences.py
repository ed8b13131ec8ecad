"""Synthetic source-domain video sequences in the VIPER and SYNTHIA-SEQS layouts.

SDE-Seg trains its source-domain depth networks on the GTA sequences of "Playing for
Benchmarks" (VIPER) and on SYNTHIA-SEQS (:mod:`mmdepthsem.datasets.frame_sequences`).
These writers render procedural street drives with the GTA5 / Synthia domain looks
(:mod:`.source_views`: camera height, pitch and yaw, light, sky and colour grade) and
store them as those datasets store theirs, images only::

    gta5_sequences/{train,val}/img/<seq:03d>/<seq:03d>_<frame:05d>.jpg
    synthia_seqs/SYNTHIA-SEQS-<seq:02d>-SUMMER/RGB/Stereo_Left/Omni_F/<frame:06d>.png

The camera is rendered with the intrinsics the dataset classes assume (VIPER:
``fx = 1.206285 W``; SYNTHIA: ``f = 532.740352 / 1280 W``; principal point at
``(W / 2, H / 2)``), so the frames are consistent with what the SDE loss projects
with. Frame numbers start at a per-sequence offset, as the real files do not start
at 0.
"""
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Tuple

import numpy as np

from .classes import CITYSCAPES_ID
from .gta5_format import GTA5_LOOK
from .renderer import render
from .scene import Sky
from .sequences import sequence_rng, street_sequence
from .source_views import DomainLook, grade
from .synthia_format import SYNTHIA_LOOK
from .trajectory import camera_rotation, make_pose
from .writing import WriteResult, parallel_map, write_rgb

#: Focal length / image width of the dataset classes' intrinsics.
VIPER_FOCAL_RATIO = 1.206285
SYNTHIA_FOCAL_RATIO = 532.740352 / 1280


@dataclass(frozen=True)
class GTA5SequencesConfig:
    """Size of the synthetic VIPER set.

    Attributes:
        height, width: Frame size in pixels (real: 1080 x 1920).
        num_sequences: Training sequences (one more, shorter, for ``val``).
        frames_per_sequence: Frames of each training sequence.
        speed: Distance driven per frame, metres.
    """

    height: int = 72
    width: int = 128
    num_sequences: int = 2
    frames_per_sequence: int = 6
    speed: float = 0.8


@dataclass(frozen=True)
class SynthiaSeqsConfig:
    """Size of the synthetic SYNTHIA-SEQS set (attributes as
    :class:`GTA5SequencesConfig`; real frames: 760 x 1280)."""

    height: int = 76
    width: int = 128
    num_sequences: int = 2
    frames_per_sequence: int = 6
    speed: float = 0.6


def render_source_sequence(rng: np.random.Generator, name: str, height: int,
                           width: int, look: DomainLook, focal_ratio: float,
                           num_frames: int, speed: float) -> List[np.ndarray]:
    """Frames of one drive down a fresh street with the domain's camera and look.

    Args:
        rng: Random generator (the only source of randomness).
        name: Scene name.
        height, width: Frame size, pixels.
        look: Camera mounting and appearance (its ``focal_ratio`` is replaced).
        focal_ratio: Focal length / width (the dataset's intrinsics).
        num_frames: Frames to render.
        speed: Metres per frame.

    Returns:
        ``num_frames`` graded ``(H, W, 3)`` uint8 RGB frames.
    """
    scene, vehicle_poses, _ = street_sequence(rng, num_frames, speed, name=name)
    scene.light = replace(scene.light, ambient=look.ambient, diffuse=look.diffuse)
    scene.sky = Sky(horizon=look.horizon, zenith=look.zenith, label=CITYSCAPES_ID['sky'])
    cam_to_vehicle = make_pose(
        camera_rotation(float(rng.uniform(*look.yaw)), float(rng.uniform(*look.pitch)),
                        0.0),
        (0.0, float(rng.uniform(*look.lateral)), float(rng.uniform(*look.camera_height))))
    focal = focal_ratio * width
    K = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    return [grade(render(scene, K, pose @ cam_to_vehicle, height, width).rgb, look)
            for pose in vehicle_poses]


def _first_frame(rng: np.random.Generator) -> int:
    return int(rng.integers(1, 50))


def _gta5_job(job: Tuple[int, int, str, int, GTA5SequencesConfig, str]) -> List[str]:
    seed, index, split, frames, config, root = job
    rng = sequence_rng(seed, f'gta5_sequences_{split}', index)
    start = _first_frame(rng)
    seq = f'{index + 1:03d}'
    files = []
    for k, rgb in enumerate(render_source_sequence(
            rng, f'viper_{split}_{seq}', config.height, config.width, GTA5_LOOK,
            VIPER_FOCAL_RATIO, frames, config.speed)):
        rel = f'{split}/img/{seq}/{seq}_{start + k:05d}.jpg'
        write_rgb(Path(root) / rel, rgb)
        files.append(rel)
    return files


def write_gta5_sequences(root: Path,
                         config: GTA5SequencesConfig = GTA5SequencesConfig(),
                         seed: int = 0,
                         workers: int = 1) -> WriteResult:
    """Render drives and write them in the VIPER layout (``train`` and ``val``).

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.
    """
    root = Path(root)
    jobs = [(seed, i, 'train', config.frames_per_sequence, config, str(root))
            for i in range(config.num_sequences)]
    jobs.append((seed, 0, 'val', max(3, config.frames_per_sequence // 2), config,
                 str(root)))
    return _run(root, _gta5_job, jobs, workers)


def _run(root: Path, job_fn, jobs: list, workers: int) -> WriteResult:
    """Render ``jobs`` with ``job_fn`` (each returns its written files)."""
    files: List[str] = []
    for written in parallel_map(job_fn, jobs, workers):
        files += written
    return WriteResult(root, files)


def _synthia_job(job: Tuple[int, int, SynthiaSeqsConfig, str]) -> List[str]:
    seed, index, config, root = job
    rng = sequence_rng(seed, 'synthia_seqs', index)
    start = _first_frame(rng)
    folder = f'SYNTHIA-SEQS-{index + 1:02d}-SUMMER/RGB/Stereo_Left/Omni_F'
    files = []
    for k, rgb in enumerate(render_source_sequence(
            rng, f'synthia_seqs_{index:02d}', config.height, config.width,
            SYNTHIA_LOOK, SYNTHIA_FOCAL_RATIO, config.frames_per_sequence,
            config.speed)):
        rel = f'{folder}/{start + k:06d}.png'
        write_rgb(Path(root) / rel, rgb)
        files.append(rel)
    return files


def write_synthia_seqs(root: Path,
                       config: SynthiaSeqsConfig = SynthiaSeqsConfig(),
                       seed: int = 0,
                       workers: int = 1) -> WriteResult:
    """Render drives and write them in the SYNTHIA-SEQS layout (one view each).

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.
    """
    root = Path(root)
    jobs = [(seed, i, config, str(root)) for i in range(config.num_sequences)]
    return _run(root, _synthia_job, jobs, workers)
