"""Procedural surface textures anchored in world and box coordinates.

A texture is a pure function of the surface point (and of the box it lies on), so a point
has the same albedo from every view: photometric warping between frames is exact up to
shading and sampling. Patterns are band-limited by the pixel footprint (box-filtered
stripes, octaves of value noise faded out below two pixels), which keeps far surfaces from
aliasing into noise that would differ between neighbouring frames.

Coordinates on a face: the face's normal axis is ``axis`` (0 = x, 1 = y, 2 = z of the
z-up world). On vertical faces ``u`` is the horizontal world coordinate and ``v`` the
height; on horizontal faces ``(u, v) = (x, y)``. ``lu`` / ``lv`` are the same in box-local
coordinates (metres from the box's minimum corner).
"""
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import numpy as np

RGB = Tuple[float, float, float]

_MASK32 = np.uint64(0xFFFFFFFF)
_HASH_PRIMES = (np.uint64(0x9E3779B1), np.uint64(0x85EBCA77), np.uint64(0xC2B2AE3D))
_MIX_MUL1 = np.uint64(0x7FEB352D)
_MIX_MUL2 = np.uint64(0x846CA68B)
_SHIFT15 = np.uint64(15)
_SHIFT16 = np.uint64(16)
_TWO_POW_32 = float(2**32)

#: Side of the lattice-value table of :func:`value_noise` (a power of two).
_NOISE_TABLE_SIZE = 256
#: Fixed lattice values, flattened ``(_NOISE_TABLE_SIZE ** 2,)`` float64 in [0, 1).
_NOISE_TABLE = np.random.default_rng(20240611).random(_NOISE_TABLE_SIZE**2)
#: Footprints (metres per pixel) below this are treated as this (keeps box filters
#: finite).
_MIN_FILTER_WIDTH = 1e-5
#: Albedo of paint marks, window frames and sign borders.
WHITE: RGB = (0.92, 0.92, 0.9)
#: Albedo of skin on the synthetic people.
SKIN: RGB = (0.78, 0.58, 0.47)
#: Albedo of tyres and bumpers.
RUBBER: RGB = (0.06, 0.06, 0.07)


@dataclass(frozen=True)
class Material:
    """A procedural surface material.

    Attributes:
        pattern: Name of a pattern in :data:`PATTERNS`.
        color: Main albedo, RGB in [0, 1].
        color2: Secondary albedo (grout, glass, trousers, ...), RGB in [0, 1].
        scale: Main period of the pattern in metres.
        contrast: Relative amplitude of the noise modulation.
        seed: Seed of the pattern's hash (different boxes look different).
        params: Pattern-specific numbers (see each pattern).
    """

    pattern: str
    color: RGB
    color2: RGB = (0.1, 0.1, 0.1)
    scale: float = 1.0
    contrast: float = 0.15
    seed: int = 0
    params: Tuple[float, ...] = ()


@dataclass
class SurfacePoints:
    """Points where rays hit one box.

    Attributes:
        world: ``(N, 3)`` hit points in world coordinates, metres.
        local: ``(N, 3)`` hit points relative to the box's minimum corner, metres.
        extent: ``(3,)`` box size, metres.
        axis: ``(N,)`` int, axis of the face normal (0, 1, 2).
        footprint: ``(N,)`` size of a pixel on the surface, metres.
    """

    world: np.ndarray
    local: np.ndarray
    extent: np.ndarray
    axis: np.ndarray
    footprint: np.ndarray

    def face_uv(self, local: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """In-face coordinates ``(u, v)``, each ``(N,)`` metres (see module docstring)."""
        p = self.local if local else self.world
        u = np.where(self.axis == 0, p[:, 1], p[:, 0])
        v = np.where(self.axis == 2, p[:, 1], p[:, 2])
        return u, v

    def face_width(self) -> np.ndarray:
        """``(N,)`` horizontal size of the hit face (its ``lu`` range), metres."""
        return np.where(self.axis == 0, self.extent[1], self.extent[0])

    def face_height(self) -> np.ndarray:
        """``(N,)`` vertical size of the hit face (its ``lv`` range), metres."""
        return np.where(self.axis == 2, self.extent[1], self.extent[2])


# --------------------------------------------------------------------------- primitives
def _mix32(h: np.ndarray) -> np.ndarray:
    """Avalanche a uint64 array holding 32-bit values (xor-shift-multiply mixer)."""
    h = h ^ (h >> _SHIFT16)
    h = (h * _MIX_MUL1) & _MASK32
    h = h ^ (h >> _SHIFT15)
    h = (h * _MIX_MUL2) & _MASK32
    return h ^ (h >> _SHIFT16)


def hash_uniform(seed: int, *coords: np.ndarray) -> np.ndarray:
    """Deterministic hash of integer lattice coordinates to uniform numbers.

    Args:
        seed: Seed of the hash.
        *coords: One to three integer arrays of the same shape.

    Returns:
        np.ndarray: float64 values in [0, 1), the shape of the coordinates.
    """
    h = np.full(np.shape(coords[0]), np.uint64(seed & 0xFFFFFFFF), dtype=np.uint64)
    for prime, c in zip(_HASH_PRIMES, coords):
        c64 = np.asarray(c, dtype=np.int64).astype(np.uint64)
        h = _mix32((h ^ ((c64 * prime) & _MASK32)) & _MASK32)
    return h.astype(np.float64) / _TWO_POW_32


def band_fade(wavelength: float, footprint: np.ndarray) -> np.ndarray:
    """Weight of a detail of ``wavelength`` metres seen at ``footprint`` metres per pixel.

    1 while the detail spans at least four pixels, 0 once it spans two or fewer.
    """
    return np.clip(2.0 - 4.0 * footprint / wavelength, 0.0, 1.0)


def _lattice_offsets(seed: int) -> Tuple[int, int]:
    """Per-seed shift of the noise lattice (decorrelates noise with different seeds)."""
    h = hash_uniform(seed, np.array([0, 1]))
    return int(h[0] * _NOISE_TABLE_SIZE), int(h[1] * _NOISE_TABLE_SIZE)


def value_noise(u: np.ndarray, v: np.ndarray, seed: int) -> np.ndarray:
    """Smooth 2-D value noise with unit lattice spacing, values in [0, 1].

    Lattice values come from a fixed random table (period ``_NOISE_TABLE_SIZE`` lattice
    cells), shifted per seed.
    """
    off_u, off_v = _lattice_offsets(seed)
    iu, iv = np.floor(u), np.floor(v)
    fu, fv = u - iu, v - iv
    su, sv = fu * fu * (3 - 2 * fu), fv * fv * (3 - 2 * fv)
    mask = _NOISE_TABLE_SIZE - 1
    iu0 = (iu.astype(np.int64) + off_u) & mask
    iv0 = (iv.astype(np.int64) + off_v) & mask
    iu1, iv1 = (iu0 + 1) & mask, (iv0 + 1) & mask
    row0, row1 = iv0 * _NOISE_TABLE_SIZE, iv1 * _NOISE_TABLE_SIZE
    n00, n10 = _NOISE_TABLE[row0 + iu0], _NOISE_TABLE[row0 + iu1]
    n01, n11 = _NOISE_TABLE[row1 + iu0], _NOISE_TABLE[row1 + iu1]
    return (n00 * (1 - su) + n10 * su) * (1 - sv) + (n01 * (1 - su) + n11 * su) * sv


def fbm(u: np.ndarray,
        v: np.ndarray,
        seed: int,
        wavelength: float,
        footprint: np.ndarray,
        octaves: int = 3,
        stretch: float = 1.0) -> np.ndarray:
    """Band-limited fractal noise.

    Args:
        u, v: ``(N,)`` surface coordinates, metres.
        seed: Seed of the noise.
        wavelength: Wavelength of the coarsest octave along ``u``, metres.
        footprint: ``(N,)`` pixel size on the surface, metres.
        octaves: Number of octaves (each halves the wavelength and the amplitude).
        stretch: Wavelength along ``v`` divided by the wavelength along ``u``.

    Returns:
        np.ndarray: ``(N,)`` zero-mean noise in about [-0.5, 0.5].
    """
    total = np.zeros_like(u)
    norm = sum(0.5**octave for octave in range(octaves))
    for octave in range(octaves):
        lam = wavelength / 2**octave
        amp = 0.5**octave
        fade = band_fade(lam * min(stretch, 1.0), footprint)
        visible = fade > 0
        if not visible.any():
            break
        if visible.all():
            noise = value_noise(u / lam, v / (lam * stretch), seed + 7919 * octave)
            total += amp * fade * (noise - 0.5)
        else:
            noise = value_noise(u[visible] / lam, v[visible] / (lam * stretch),
                                seed + 7919 * octave)
            total[visible] += amp * fade[visible] * (noise - 0.5)
    return total / norm


def _pulse_integral(x: np.ndarray, period: float, duty: float) -> np.ndarray:
    """Integral from 0 to ``x`` of a pulse train that is 1 on ``[k P, k P + duty P)``."""
    cycles = np.floor(x / period)
    return cycles * duty * period + np.minimum(x - cycles * period, duty * period)


def pulse(x: np.ndarray, period: float, duty: float, footprint: np.ndarray) -> np.ndarray:
    """Box-filtered periodic pulse train (anti-aliased stripes).

    Args:
        x: ``(N,)`` coordinate, metres.
        period: Stripe period, metres.
        duty: Fraction of the period that is "on", in [0, 1].
        footprint: ``(N,)`` filter width, metres.

    Returns:
        np.ndarray: ``(N,)`` coverage in [0, 1]; tends to ``duty`` for wide footprints.
    """
    w = np.maximum(footprint, _MIN_FILTER_WIDTH)
    upper = _pulse_integral(x + w / 2, period, duty)
    lower = _pulse_integral(x - w / 2, period, duty)
    return np.clip((upper - lower) / w, 0.0, 1.0)


def band(x: np.ndarray, lo: np.ndarray, hi: np.ndarray,
         footprint: np.ndarray) -> np.ndarray:
    """Box-filtered indicator of ``lo <= x < hi`` (values in [0, 1])."""
    w = np.maximum(footprint, _MIN_FILTER_WIDTH)
    rise = np.clip((x - lo) / w + 0.5, 0.0, 1.0)
    fall = np.clip((x - hi) / w + 0.5, 0.0, 1.0)
    return np.clip(rise - fall, 0.0, 1.0)


def lerp(a, b, t: np.ndarray) -> np.ndarray:
    """Blend colours ``a`` and ``b`` (RGB or ``(N, 3)``) with weights ``t`` ``(N,)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a + (b - a) * t[:, None]


def _modulate(color, factor: np.ndarray) -> np.ndarray:
    """Scale an RGB colour per point: ``(N,)`` factors -> ``(N, 3)`` albedo."""
    return np.asarray(color, dtype=np.float64)[None, :] * factor[:, None]


# --------------------------------------------------------------------------- patterns
def plain(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Uniform colour with gentle noise (``scale`` = noise wavelength)."""
    u, v = s.face_uv()
    n = fbm(u, v + 31.0 * s.axis, mat.seed, mat.scale, s.footprint)
    return _modulate(mat.color, 1 + 2 * mat.contrast * n)


def planks(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Wooden planks ``scale`` m wide along ``u``, tinted between color and color2."""
    u, v = s.face_uv()
    plank = np.floor(v / mat.scale)
    tint = hash_uniform(mat.seed, plank.astype(np.int64), s.axis)
    tint = 0.5 + (tint - 0.5) * band_fade(mat.scale, s.footprint)
    base = lerp(mat.color, mat.color2, tint)
    grain = fbm(
        u + 17.0 * plank, v, mat.seed + 1, 4 * mat.scale, s.footprint, stretch=0.08)
    seam = pulse(v, mat.scale, 0.05, s.footprint)
    return base * ((1 + 2 * mat.contrast * grain) * (1 - 0.45 * seam))[:, None]


def tiles(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Square tiles of ``scale`` m with grout of colour ``color2`` and per-tile tints."""
    u, v = s.face_uv()
    iu = np.floor(u / mat.scale).astype(np.int64)
    iv = np.floor(v / mat.scale).astype(np.int64)
    tint = hash_uniform(mat.seed, iu, iv, s.axis) - 0.5
    tint *= band_fade(mat.scale, s.footprint)
    grout_duty = float(mat.params[0]) if mat.params else 0.06
    grout = 1 - (1 - pulse(u, mat.scale, grout_duty, s.footprint)) * (
        1 - pulse(v, mat.scale, grout_duty, s.footprint))
    n = fbm(u, v, mat.seed + 3, mat.scale / 2, s.footprint, octaves=2)
    tile = _modulate(mat.color, 1 + 2 * mat.contrast * (tint + n))
    return lerp(tile, mat.color2, grout)


def facade(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Building facade with a grid of windows (``color2``); flat dark roof.

    ``scale`` is the storey height; ``params = (bay_width,)``.
    """
    u, v = s.face_uv()
    lu, lv = s.face_uv(local=True)
    bay = float(mat.params[0]) if mat.params else 3.0
    width = s.face_width()
    offset = np.mod(width, bay) / 2 + bay * 0.25
    win_u = pulse(lu - offset, bay, 0.5, s.footprint) * band(lu, offset, width - offset,
                                                             s.footprint)
    win_v = pulse(lv - 0.9, mat.scale, 0.5, s.footprint) * band(
        lv, 0.8,
        s.face_height() - 0.6, s.footprint)
    window = win_u * win_v * (s.axis != 2)
    n = fbm(u, v, mat.seed, 2.0, s.footprint)
    wall = _modulate(mat.color, 1 + 2 * mat.contrast * n)
    glass_gradient = 0.8 + 0.4 * np.mod(lv, mat.scale) / mat.scale
    glass = _modulate(mat.color2, glass_gradient)
    roof = _modulate((0.25, 0.24, 0.23), 1 + 2 * mat.contrast * n)
    albedo = lerp(wall, glass, window)
    return np.where((s.axis == 2)[:, None], roof, albedo)


def bookshelf(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Shelf boards every ``scale`` m, coloured book spines on the ``params[0]`` face."""
    front_axis = int(mat.params[0]) if mat.params else 1
    lu, lv = s.face_uv(local=True)
    shelf_row = np.floor(lv / mat.scale).astype(np.int64)
    spine = np.floor(lu / 0.045).astype(np.int64)
    book_rgb = np.stack([hash_uniform(mat.seed + k, spine, shelf_row) for k in range(3)],
                        1)
    book_rgb = 0.15 + 0.7 * book_rgb
    book_height = 0.55 + 0.4 * hash_uniform(mat.seed + 5, spine, shelf_row)
    in_book = band(
        np.mod(lv, mat.scale) / mat.scale, 0.08, book_height, s.footprint / mat.scale)
    fade = band_fade(0.09, s.footprint)
    book_rgb = lerp(0.45, book_rgb, fade)
    back = np.asarray(mat.color) * 0.45
    front = lerp(
        lerp(back, book_rgb, in_book), mat.color, pulse(lv, mat.scale, 0.08, s.footprint))
    return np.where((s.axis == front_axis)[:, None], front, plain(mat, s))


def fabric(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Upholstery: ``color`` with quilting seams every ``scale`` m and fine noise."""
    u, v = s.face_uv()
    seams = 1 - (1 - pulse(u, mat.scale, 0.05, s.footprint)) * (
        1 - pulse(v, mat.scale, 0.05, s.footprint))
    n = fbm(u, v, mat.seed, mat.scale / 2, s.footprint)
    return _modulate(mat.color, (1 + 2 * mat.contrast * n) * (1 - 0.35 * seams))


def foliage(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Leaves: strong noise between ``color`` and ``color2`` (``scale``: cluster size)."""
    u, v = s.face_uv()
    n = fbm(u + 13.0 * s.axis, v, mat.seed, mat.scale, s.footprint, octaves=4)
    return lerp(mat.color, mat.color2, np.clip(0.5 + 2.2 * n, 0, 1))


def asphalt(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Road surface with lane markings.

    ``params = (centre_y, left_edge_y, right_edge_y, dash_period, dash_duty, line_width)``
    in world metres; markings are painted on the top face only.
    """
    centre, left, right, dash_period, dash_duty, line_w = mat.params
    x, y = s.world[:, 0], s.world[:, 1]
    n = fbm(x, y, mat.seed, mat.scale, s.footprint, octaves=4)
    road = _modulate(mat.color, 1 + 2 * mat.contrast * n)
    dashed = band(y, centre - line_w / 2, centre + line_w / 2, s.footprint) * pulse(
        x, dash_period, dash_duty, s.footprint)
    edges = (
        band(y, left - line_w / 2, left + line_w / 2, s.footprint) +
        band(y, right - line_w / 2, right + line_w / 2, s.footprint))
    paint = np.clip(dashed + edges, 0, 1) * (s.axis == 2)
    return lerp(road, WHITE, paint)


def car_body(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Car/truck/bus body: paint ``color``, dark bumper/wheel band at the bottom."""
    lu, lv = s.face_uv(local=True)
    n = fbm(*s.face_uv(), mat.seed, 1.0, s.footprint, octaves=2)
    paint = _modulate(mat.color, 1 + 2 * mat.contrast * n)
    rubber = band(lv, -1.0, 0.3 * s.face_height(), s.footprint) * (s.axis != 2)
    return lerp(paint, RUBBER, rubber)


def car_cabin(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Car cabin: glass ``color2`` between pillars of paint ``color``; painted roof."""
    lu, lv = s.face_uv(local=True)
    pillar = float(mat.params[0]) if mat.params else 0.12
    glass = band(lu, pillar,
                 s.face_width() - pillar, s.footprint) * band(lv, 0.05,
                                                              s.face_height() - 0.06,
                                                              s.footprint) * (
                                                                  s.axis != 2)
    reflection = 0.8 + 0.4 * lv / np.maximum(s.face_height(), 1e-6)
    return lerp(mat.color, _modulate(mat.color2, reflection), glass)


def person(mat: Material, s: SurfacePoints) -> np.ndarray:
    """A standing person: trousers ``color2``, shirt ``color``, skin/hair on top."""
    _, lv = s.face_uv(local=True)
    rel = lv / np.maximum(s.extent[2], 1e-6)
    rel = np.where(s.axis == 2, 1.0, rel)
    shirt = band(rel, 0.47, 2.0, s.footprint / s.extent[2])
    head = band(rel, 0.86, 2.0, s.footprint / s.extent[2])
    albedo = lerp(lerp(mat.color2, mat.color, shirt), SKIN, head)
    n = fbm(*s.face_uv(), mat.seed, 0.2, s.footprint, octaves=2)
    return albedo * (1 + 2 * mat.contrast * n)[:, None]


def glass_window(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Window: bright glass ``color`` with a frame and mullions of colour ``color2``."""
    lu, lv = s.face_uv(local=True)
    frame_w = 0.06
    inner = band(lu, frame_w,
                 s.face_width() - frame_w, s.footprint) * band(lv, frame_w,
                                                               s.face_height() - frame_w,
                                                               s.footprint)
    mullion = np.maximum(
        pulse(lu - s.face_width() / 2 + 0.02, mat.scale, 0.04 / mat.scale, s.footprint),
        pulse(lv - s.face_height() / 2 + 0.02, mat.scale, 0.04 / mat.scale, s.footprint))
    glass = inner * (1 - mullion)
    sky = _modulate(mat.color, 0.9 + 0.2 * lv / np.maximum(s.face_height(), 1e-6))
    return lerp(mat.color2, sky, glass)


def picture(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Framed picture: frame ``color2`` around colourful blocks of ``scale`` m."""
    lu, lv = s.face_uv(local=True)
    frame_w = 0.04
    inner = band(lu, frame_w,
                 s.face_width() - frame_w, s.footprint) * band(lv, frame_w,
                                                               s.face_height() - frame_w,
                                                               s.footprint)
    iu = np.floor(lu / mat.scale).astype(np.int64)
    iv = np.floor(lv / mat.scale).astype(np.int64)
    art = np.stack([hash_uniform(mat.seed + k, iu, iv) for k in range(3)], 1)
    art = lerp(mat.color, art, band_fade(mat.scale, s.footprint))
    return lerp(mat.color2, art, inner * (s.axis != 2))


def sign(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Traffic sign: ``color`` panel, white border, on the faces along ``params[0]``."""
    front_axis = int(mat.params[0]) if mat.params else 0
    lu, lv = s.face_uv(local=True)
    border = 0.06
    inner = band(lu, border,
                 s.face_width() - border, s.footprint) * band(lv, border,
                                                              s.face_height() - border,
                                                              s.footprint)
    panel = lerp(WHITE, mat.color, inner)
    back = np.asarray(mat.color2)
    return np.where((s.axis == front_axis)[:, None], panel, back)


def traffic_light(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Traffic-light housing ``color`` with red/amber/green lamps on vertical faces."""
    lu, lv = s.face_uv(local=True)
    rel_v = lv / np.maximum(s.extent[2], 1e-6)
    rel_u = lu / np.maximum(s.face_width(), 1e-6)
    rel_fp = s.footprint / s.extent[2]
    albedo = np.asarray(mat.color, dtype=np.float64)
    lamp_u = band(rel_u, 0.25, 0.75, rel_fp) * (s.axis != 2)
    for k, lamp_rgb in enumerate(((0.9, 0.1, 0.1), (0.95, 0.7, 0.1), (0.1, 0.85, 0.3))):
        centre = 0.8 - 0.3 * k
        lamp = lamp_u * band(rel_v, centre - 0.1, centre + 0.1, rel_fp)
        albedo = lerp(albedo, lamp_rgb, lamp)
    return albedo


def fence(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Fence: vertical bars ``color`` every ``scale`` m on a darker ``color2`` backing."""
    lu, lv = s.face_uv(local=True)
    bars = pulse(lu, mat.scale, 0.4, s.footprint)
    rail = pulse(lv - 0.15, max(s.extent[2] - 0.3, 0.2), 0.08, s.footprint)
    return lerp(mat.color2, mat.color, np.maximum(bars, rail))


def concrete(mat: Material, s: SurfacePoints) -> np.ndarray:
    """Concrete: grey noise with horizontal joints every ``scale`` m."""
    u, v = s.face_uv()
    _, lv = s.face_uv(local=True)
    n = fbm(u, v, mat.seed, 0.8, s.footprint)
    joints = pulse(lv, mat.scale, 0.03, s.footprint) * (s.axis != 2)
    return _modulate(mat.color, (1 + 2 * mat.contrast * n) * (1 - 0.35 * joints))


PatternFn = Callable[[Material, SurfacePoints], np.ndarray]

#: All patterns by name.
PATTERNS: Dict[str, PatternFn] = {
    'plain': plain,
    'planks': planks,
    'tiles': tiles,
    'facade': facade,
    'bookshelf': bookshelf,
    'fabric': fabric,
    'foliage': foliage,
    'asphalt': asphalt,
    'car_body': car_body,
    'car_cabin': car_cabin,
    'person': person,
    'glass_window': glass_window,
    'picture': picture,
    'sign': sign,
    'traffic_light': traffic_light,
    'fence': fence,
    'concrete': concrete,
}


def evaluate_albedo(mat: Material, points: SurfacePoints) -> np.ndarray:
    """Albedo of ``mat`` at the given surface points.

    Args:
        mat: The material.
        points: Hit points on one box.

    Returns:
        np.ndarray: ``(N, 3)`` float64 albedo in [0, 1].

    Raises:
        KeyError: If the material names an unknown pattern.
    """
    try:
        fn = PATTERNS[mat.pattern]
    except KeyError as err:
        raise KeyError(f'unknown texture pattern {mat.pattern!r}; '
                       f'known: {sorted(PATTERNS)}') from err
    return np.clip(fn(mat, points), 0.0, 1.0)
