"""Smooth camera and vehicle paths.

Conventions: - world: z up, metres; - body frames (vehicles, the "FLU" frame): x forward,
y left, z up; - cameras: OpenCV axes, x right, y down, z forward; poses are
camera-to-world ``(4, 4)``.

Yaw turns left about z (0 = looking along world +x), pitch is positive **nose down** (the
Cityscapes ``camera.json`` convention), roll turns right-side down about the forward axis.
"""
from typing import Sequence, Tuple

import numpy as np

#: Columns are the OpenCV camera axes (right, down, forward) expressed in a FLU frame.
CV_TO_FLU = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])

# Indoor hand-held motion (per frame unless stated).
ROOM_START_X_FRACTION = (0.35, 0.65)
ROOM_START_Y_RANGE = (0.45, 0.9)
ROOM_EYE_HEIGHT_RANGE = (1.2, 1.6)
ROOM_STEP_RANGE = (0.03, 0.07)
ROOM_MAX_TRAVEL = 1.2
ROOM_HEADING_SPREAD_DEG = 40.0
ROOM_YAW_SPREAD_DEG = 20.0
ROOM_PAN_AMPLITUDE_DEG = (3.0, 10.0)
ROOM_PAN_PERIOD_FRAMES = (20.0, 40.0)
ROOM_PITCH_DOWN_DEG = (8.0, 18.0)
ROOM_ROLL_DEG = 2.0

# Driving motion.
STREET_SWAY_AMPLITUDE = (0.05, 0.25)
STREET_SWAY_PERIOD_M = (40.0, 90.0)
STREET_PITCH_WOBBLE_DEG = 0.3
STREET_PITCH_PERIOD_M = (8.0, 20.0)


def rot_x(angle: float) -> np.ndarray:
    """Rotation about x by ``angle`` radians, ``(3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    """Rotation about y by ``angle`` radians, ``(3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle: float) -> np.ndarray:
    """Rotation about z by ``angle`` radians, ``(3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def body_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation of a FLU body frame into its parent: ``Rz(yaw) Ry(pitch) Rx(roll)``.

    Args:
        yaw, pitch, roll: Radians (pitch positive = nose down).

    Returns:
        np.ndarray: ``(3, 3)`` rotation, body -> parent.
    """
    return rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)


def camera_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-parent rotation (OpenCV camera axes) for the given attitude."""
    return body_rotation(yaw, pitch, roll) @ CV_TO_FLU


def make_pose(rotation: np.ndarray, translation: Sequence[float]) -> np.ndarray:
    """Homogeneous ``(4, 4)`` transform from a ``(3, 3)`` rotation and a translation."""
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = translation
    return pose


def invert_pose(pose: np.ndarray) -> np.ndarray:
    """Inverse of a rigid ``(4, 4)`` transform."""
    inv = np.eye(4)
    inv[:3, :3] = pose[:3, :3].T
    inv[:3, 3] = -pose[:3, :3].T @ pose[:3, 3]
    return inv


def relative_pose(cam_to_world_src: np.ndarray,
                  cam_to_world_dst: np.ndarray) -> np.ndarray:
    """Transform taking points from the source to the destination camera frame.

    Args:
        cam_to_world_src: ``(4, 4)`` pose of the source camera.
        cam_to_world_dst: ``(4, 4)`` pose of the destination camera.

    Returns:
        np.ndarray: ``(4, 4)`` ``T_dst<-src = inv(dst) @ src``.
    """
    return invert_pose(cam_to_world_dst) @ cam_to_world_src


def room_trajectory(room_size: Tuple[float, float, float], num_frames: int,
                    rng: np.random.Generator) -> np.ndarray:
    """A slow hand-held walk through a room: translation plus a gentle pan.

    The camera starts near the wall at ``y = 0``, looks roughly along ``+y`` slightly
    down, and moves on a straight line (at most ``ROOM_MAX_TRAVEL`` m) while its yaw
    oscillates.

    Args:
        room_size: Interior ``(width_x, depth_y, height_z)``, metres.
        num_frames: Number of poses.
        rng: Random generator (the only source of randomness).

    Returns:
        np.ndarray: ``(num_frames, 4, 4)`` camera-to-world poses.
    """
    width, depth, _ = room_size
    start = np.array([
        width * rng.uniform(*ROOM_START_X_FRACTION),
        rng.uniform(*ROOM_START_Y_RANGE),
        rng.uniform(*ROOM_EYE_HEIGHT_RANGE)
    ])
    heading = np.pi / 2 + np.deg2rad(rng.uniform(-1, 1) * ROOM_HEADING_SPREAD_DEG)
    step = rng.uniform(*ROOM_STEP_RANGE)
    step = min(step, ROOM_MAX_TRAVEL / max(num_frames - 1, 1))
    direction = np.array([np.cos(heading), np.sin(heading), 0.0])
    yaw0 = np.pi / 2 + np.deg2rad(rng.uniform(-1, 1) * ROOM_YAW_SPREAD_DEG)
    pan_amp = np.deg2rad(rng.uniform(*ROOM_PAN_AMPLITUDE_DEG))
    pan_period = rng.uniform(*ROOM_PAN_PERIOD_FRAMES)
    pan_phase = rng.uniform(0, 2 * np.pi)
    pitch = np.deg2rad(rng.uniform(*ROOM_PITCH_DOWN_DEG))
    roll = np.deg2rad(rng.uniform(-1, 1) * ROOM_ROLL_DEG)
    poses = []
    for t in range(num_frames):
        yaw = yaw0 + pan_amp * np.sin(2 * np.pi * t / pan_period + pan_phase)
        poses.append(
            make_pose(camera_rotation(yaw, pitch, roll), start + step * t * direction))
    return np.stack(poses)


def street_trajectory(num_frames: int, start_x: float, lane_y: float, speed: float,
                      rng: np.random.Generator) -> np.ndarray:
    """Forward driving along the street (world +x) with a gentle lateral sway.

    Args:
        num_frames: Number of poses.
        start_x: World x of the vehicle at frame 0, metres.
        lane_y: Lateral position of the lane centre, metres.
        speed: Distance travelled per frame, metres.
        rng: Random generator.

    Returns:
        np.ndarray: ``(num_frames, 4, 4)`` vehicle-to-world poses of the FLU vehicle
        frame,
        origin on the road surface.
    """
    sway = rng.uniform(*STREET_SWAY_AMPLITUDE)
    sway_wavenumber = 2 * np.pi / rng.uniform(*STREET_SWAY_PERIOD_M)
    sway_phase = rng.uniform(0, 2 * np.pi)
    pitch_wavenumber = 2 * np.pi / rng.uniform(*STREET_PITCH_PERIOD_M)
    pitch_phase = rng.uniform(0, 2 * np.pi)
    poses = []
    for t in range(num_frames):
        dist = speed * t
        y = lane_y + sway * np.sin(sway_wavenumber * dist + sway_phase)
        dy_dx = sway * sway_wavenumber * np.cos(sway_wavenumber * dist + sway_phase)
        pitch = np.deg2rad(STREET_PITCH_WOBBLE_DEG) * np.sin(pitch_wavenumber * dist +
                                                             pitch_phase)
        rotation = body_rotation(np.arctan(dy_dx), pitch, 0.0)
        poses.append(make_pose(rotation, (start_x + dist, y, 0.0)))
    return np.stack(poses)
