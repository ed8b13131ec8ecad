"""Procedural scene descriptions: labelled, textured axis-aligned boxes, light and sky.

World frame: metres, right-handed, z up (x east / along the street, y north / left). Every
surface is a face of an axis-aligned box (rooms are six slabs around the interior; the
street is a road slab, kerbs, facades, ...), which keeps ray casting exact and cheap.
Shading is Lambertian with one fixed light, so colours do not depend on the viewpoint.

Indoor rooms are built by :func:`mmdepthsem.datasets.synthetic.indoor.make_room_scene`,
streets by :func:`mmdepthsem.datasets.synthetic.street.make_street_scene`.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .textures import RGB, Material

Vec3 = Tuple[float, float, float]

#: ``(8, 3)`` bool, which corner takes ``hi`` (else ``lo``) per axis: corner ``4 i + 2 j +
#: k`` for the choice ``(i, j, k)``.
_CORNER_IS_HI = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)],
                         dtype=bool)


@dataclass(frozen=True)
class Box:
    """A labelled, textured axis-aligned box.

    Attributes:
        lo: Minimum corner ``(x, y, z)``, metres.
        hi: Maximum corner ``(x, y, z)``, metres (``hi > lo`` on every axis).
        label: Class id written to the label maps (dataset-specific vocabulary).
        material: Surface material.
    """

    lo: Vec3
    hi: Vec3
    label: int
    material: Material

    def __post_init__(self) -> None:
        if not all(h > lo for lo, h in zip(self.lo, self.hi)):
            raise ValueError(
                f'box needs hi > lo on every axis, got lo={self.lo} hi={self.hi}')

    def corners(self) -> np.ndarray:
        """The eight corners, ``(8, 3)`` metres."""
        return np.where(_CORNER_IS_HI, np.asarray(self.hi), np.asarray(self.lo))


@dataclass(frozen=True)
class Light:
    """A fixed light; Lambertian shading ``ambient + diffuse * max(n . l, 0) * falloff``.

    Exactly one of ``direction`` (a sun: unit vector towards the light) and ``position``
    (a point light, metres) is set.

    Attributes:
        ambient: Ambient term.
        diffuse: Diffuse gain.
        direction: Unit vector pointing to a directional light.
        position: Position of a point light.
        half_distance: Distance (m) at which a point light's intensity halves.
    """

    ambient: float
    diffuse: float
    direction: Optional[Vec3] = None
    position: Optional[Vec3] = None
    half_distance: float = 4.0

    def __post_init__(self) -> None:
        if (self.direction is None) == (self.position is None):
            raise ValueError('a Light needs exactly one of direction and position')

    def shade(self, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """Lambertian shading factor.

        Args:
            points: ``(N, 3)`` surface points, metres.
            normals: ``(N, 3)`` unit outward normals.

        Returns:
            np.ndarray: ``(N,)`` shading factors (multiply the albedo).
        """
        if self.direction is not None:
            to_light = np.broadcast_to(
                np.asarray(self.direction, dtype=np.float64), points.shape)
            falloff = 1.0
        else:
            offset = np.asarray(self.position, dtype=np.float64) - points
            dist = np.linalg.norm(offset, axis=1, keepdims=True)
            to_light = offset / np.maximum(dist, 1e-6)
            falloff = 1.0 / (1.0 + (dist[:, 0] / self.half_distance)**2)
        lambert = np.clip(np.sum(normals * to_light, axis=1), 0.0, None)
        return self.ambient + self.diffuse * lambert * falloff


@dataclass(frozen=True)
class Sky:
    """Sky at infinity: a colour gradient over elevation; its pixels get depth 0.

    Attributes:
        horizon: RGB at the horizon.
        zenith: RGB straight up.
        label: Class id of sky pixels.
    """

    horizon: RGB
    zenith: RGB
    label: int

    def color(self, directions: np.ndarray) -> np.ndarray:
        """Sky colour along world ray directions.

        Args:
            directions: ``(N, 3)`` ray directions (any length).

        Returns:
            np.ndarray: ``(N, 3)`` RGB in [0, 1].
        """
        unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
        height = np.clip(unit[:, 2], 0.0, 1.0)**0.6
        horizon, zenith = np.asarray(self.horizon), np.asarray(self.zenith)
        return horizon + (zenith - horizon) * height[:, None]


@dataclass
class Scene:
    """A scene: boxes, a light, an optional sky.

    Attributes:
        boxes: The boxes.
        light: The light.
        sky: The sky (``None`` for closed rooms).
        miss_label: Label of pixels that hit nothing (the sky's label when there is one).
        name: Human-readable name (e.g. ``bedroom_0003``).
    """

    boxes: List[Box]
    light: Light
    sky: Optional[Sky] = None
    miss_label: int = 0
    name: str = ''
    _arrays: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default=None, init=False, repr=False, compare=False)
    _corners: Optional[np.ndarray] = field(
        default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.sky is not None:
            self.miss_label = self.sky.label

    def arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes as arrays: ``lo``, ``hi`` ``(P, 3)`` metres and ``labels`` ``(P,)``."""
        if self._arrays is None or len(self._arrays[0]) != len(self.boxes):
            lo = np.array([b.lo for b in self.boxes], dtype=np.float64).reshape(-1, 3)
            hi = np.array([b.hi for b in self.boxes], dtype=np.float64).reshape(-1, 3)
            labels = np.array([b.label for b in self.boxes], dtype=np.int64)
            self._arrays = (lo, hi, labels)
            self._corners = None
        return self._arrays

    def corners(self) -> np.ndarray:
        """Corners of every box, ``(P, 8, 3)`` metres (order of :meth:`Box.corners`)."""
        lo, hi, _ = self.arrays()
        if self._corners is None:
            self._corners = np.where(_CORNER_IS_HI, hi[:, None], lo[:, None])
        return self._corners


# --------------------------------------------------------------------------- helpers
def rotate_box_z(lo: Sequence[float], hi: Sequence[float], quarter_turns: int,
                 origin: Sequence[float]) -> Tuple[Vec3, Vec3]:
    """Rotate a box by a multiple of 90 degrees about z and translate it.

    Args:
        lo, hi: Box corners in the item's local frame, metres.
        quarter_turns: Counter-clockwise rotation in units of 90 degrees.
        origin: ``(x, y, z)`` world position of the local origin, metres.

    Returns:
        The world ``(lo, hi)`` corners (still axis-aligned).
    """
    angle = np.pi / 2 * (quarter_turns % 4)
    c, s = np.round(np.cos(angle)), np.round(np.sin(angle))
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    corners = np.array([lo, hi], dtype=np.float64) @ rot.T + np.asarray(
        origin, np.float64)
    new_lo, new_hi = corners.min(axis=0), corners.max(axis=0)
    return tuple(new_lo.tolist()), tuple(new_hi.tolist())


def jitter_color(rng: np.random.Generator, color: RGB, amount: float) -> RGB:
    """Perturb an RGB colour by up to ``amount`` per channel (clipped to [0, 1])."""
    c = np.clip(np.asarray(color) + rng.uniform(-amount, amount, 3), 0.0, 1.0)
    return tuple(float(x) for x in c)


def pick_color(rng: np.random.Generator,
               palette: Sequence[RGB],
               amount: float = 0.04) -> RGB:
    """Choose a colour from ``palette`` and jitter it slightly."""
    return jitter_color(rng, palette[int(rng.integers(len(palette)))], amount)


def new_seed(rng: np.random.Generator) -> int:
    """A fresh 31-bit texture seed drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))
