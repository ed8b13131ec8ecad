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
from dataclasses import dataclass
from pathlib import Path
from typing import List, NamedTuple, Union

import numpy as np

from .gta5_format import GTA5_LOOK
from .renderer import render
from .sequences import sequence_rng
from .source_views import DomainLook, grade, styled_street
from .synthia_format import SYNTHIA_LOOK
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
    scene, vehicle_poses, cam_to_vehicle = styled_street(rng, name, look, num_frames,
                                                         speed)
    focal = focal_ratio * width
    K = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    return [grade(render(scene, K, pose @ cam_to_vehicle, height, width).rgb, look)
            for pose in vehicle_poses]


class _Drive(NamedTuple):
    """One sequence to render: its random stream, look and file names."""

    seed: int
    stream: str  # sequence_rng's dataset name
    index: int
    scene_name: str
    look: DomainLook
    focal_ratio: float
    num_frames: int
    config: Union[GTA5SequencesConfig, SynthiaSeqsConfig]
    root: str
    path: str  # relative file path with a ``{frame}`` field


def _drive_job(drive: _Drive) -> List[str]:
    """Render one drive (frame numbers from a random start) and write its frames."""
    rng = sequence_rng(drive.seed, drive.stream, drive.index)
    start = int(rng.integers(1, 50))  # real sequences do not start at frame 0
    files = []
    for k, rgb in enumerate(render_source_sequence(
            rng, drive.scene_name, drive.config.height, drive.config.width,
            drive.look, drive.focal_ratio, drive.num_frames, drive.config.speed)):
        rel = drive.path.format(frame=start + k)
        write_rgb(Path(drive.root) / rel, rgb)
        files.append(rel)
    return files


def _render_drives(root: Path, drives: List[_Drive], workers: int) -> WriteResult:
    files: List[str] = []
    for written in parallel_map(_drive_job, drives, workers):
        files += written
    return WriteResult(root, files)


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
    splits = [('train', i, config.frames_per_sequence)
              for i in range(config.num_sequences)]
    splits.append(('val', 0, max(3, config.frames_per_sequence // 2)))
    drives = [_Drive(seed, f'gta5_sequences_{split}', i, f'viper_{split}_{i + 1:03d}',
                     GTA5_LOOK, VIPER_FOCAL_RATIO, frames, config, str(root),
                     f'{split}/img/{i + 1:03d}/{i + 1:03d}_{{frame:05d}}.jpg')
              for split, i, frames in splits]
    return _render_drives(root, drives, workers)


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
    drives = [_Drive(seed, 'synthia_seqs', i, f'synthia_seqs_{i:02d}', SYNTHIA_LOOK,
                     SYNTHIA_FOCAL_RATIO, config.frames_per_sequence, config, str(root),
                     f'SYNTHIA-SEQS-{i + 1:02d}-SUMMER/RGB/Stereo_Left/Omni_F/'
                     '{frame:06d}.png')
              for i in range(config.num_sequences)]
    return _render_drives(root, drives, workers)
