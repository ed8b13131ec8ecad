"""Scenes together with the camera/vehicle paths that move through them.

Every random choice of a sequence comes from one generator made by :func:`sequence_rng`
from ``(seed, dataset, index)``, so sequences are reproducible and independent of each
other (changing the number of sequences does not change the earlier ones).
"""
import zlib
from typing import Optional, Tuple

import numpy as np

from .indoor import ROOM_TYPES, make_room_scene, sample_room_size
from .scene import Scene
from .street import StreetLayout, make_street_scene, sample_street_layout
from .trajectory import room_trajectory, street_trajectory

#: Furniture stays this far (metres) from every camera position of a room sequence.
CAMERA_CLEARANCE = 0.9


def sequence_rng(seed: int, dataset: str, index: int) -> np.random.Generator:
    """Independent random generator of sequence ``index`` of ``dataset`` for ``seed``."""
    return np.random.default_rng([seed, zlib.crc32(dataset.encode()), index])


def room_sequence(rng: np.random.Generator,
                  num_frames: int,
                  index: int,
                  room_type: Optional[str] = None) -> Tuple[Scene, np.ndarray]:
    """A furnished room and a hand-held camera path through it.

    Args:
        rng: Random generator.
        num_frames: Number of camera poses.
        index: Sequence number, used in the scene name (``<room type>_<index:04d>``).
        room_type: One of :data:`~.indoor.ROOM_TYPES`; random if ``None``.

    Returns:
        The scene (its ``name`` set) and ``(num_frames, 4, 4)`` camera-to-world poses.
    """
    if room_type is None:
        room_type = ROOM_TYPES[int(rng.integers(len(ROOM_TYPES)))]
    size = sample_room_size(rng)
    poses = room_trajectory(size, num_frames, rng)
    xy = poses[:, :2, 3]
    keep_out = (float(xy[:, 0].min() - CAMERA_CLEARANCE),
                float(xy[:, 1].min() - CAMERA_CLEARANCE),
                float(xy[:, 0].max() + CAMERA_CLEARANCE),
                float(xy[:, 1].max() + CAMERA_CLEARANCE))
    scene = make_room_scene(
        rng, room_type, size, keep_out, name=f'{room_type}_{index:04d}')
    return scene, poses


def street_sequence(rng: np.random.Generator,
                    num_frames: int,
                    speed: float,
                    name: str = '') -> Tuple[Scene, np.ndarray, StreetLayout]:
    """A street and a vehicle driving along its right-hand lane.

    Args:
        rng: Random generator.
        num_frames: Number of vehicle poses.
        speed: Distance driven per frame, metres.
        name: Scene name.

    Returns:
        The scene, ``(num_frames, 4, 4)`` vehicle-to-world poses (FLU vehicle frame,
        origin on the road), and the street layout.
    """
    layout = sample_street_layout(rng)
    poses = street_trajectory(num_frames, 0.0, layout.ego_lane_y, speed, rng)
    scene = make_street_scene(
        rng, layout, (0.0, speed * max(num_frames - 1, 0)), name=name)
    return scene, poses, layout
