"""Procedural streets labelled with Cityscapes label ids.

The street runs along world +x; y points left, z up, the road surface is ``z = 0``. Across
the street (right-hand traffic): buildings | grass strip (sometimes) | sidewalk (kerb 15
cm) | parking lane | driving lane (ego) | centre line | oncoming lane | parking lane |
sidewalk | buildings. Objects: parked cars, trucks and buses, stopped oncoming vehicles,
trees (trunk and canopy are both "vegetation", as in Cityscapes), poles with traffic signs
or lights, people, bins ("static", ignored in training), walls and fences in gaps between
buildings. A corridor around the ego lane stays free so a camera driving along it never
enters a box. The sky is at infinity.
"""
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from .classes import CITYSCAPES_ID
from .scene import Box, Light, Scene, Sky, jitter_color, new_seed, pick_color
from .textures import RGB, Material

LANE_WIDTH_RANGE = (3.0, 3.5)
PARKING_WIDTH_RANGE = (2.0, 2.5)
SIDEWALK_WIDTH_RANGE = (2.5, 4.5)
KERB_HEIGHT = 0.15
GRASS_STRIP_PROB = 0.4
GRASS_STRIP_WIDTH_RANGE = (1.5, 4.0)
SETBACK_RANGE = (0.0, 2.0)
BUILDING_LENGTH_RANGE = (8.0, 25.0)
BUILDING_DEPTH_RANGE = (8.0, 16.0)
BUILDING_HEIGHT_RANGE = (6.0, 24.0)
BUILDING_GAP_PROB = 0.2
BUILDING_GAP_RANGE = (4.0, 12.0)
STOREY_HEIGHT_RANGE = (2.8, 3.4)
WINDOW_BAY_RANGE = (2.2, 3.5)
CROSS_BUILDING_PROB = 0.5
CROSS_BUILDING_DISTANCE = (60.0, 140.0)
#: Metres of street modelled behind the first and ahead of the last camera position.
STREET_BEHIND = 30.0
BUILDINGS_AHEAD = 160.0
OBJECTS_AHEAD = 80.0
ROAD_AHEAD = 400.0
GROUND_HALF_WIDTH = 400.0
#: Half width of the free corridor around the ego lane centre, metres.
EGO_CORRIDOR_HALF_WIDTH = 1.4
PARKED_SLOT_PROB = 0.55
PARKED_GAP_RANGE = (0.8, 6.0)
TRUCK_PROB = 0.08
BUS_PROB = 0.04
TREE_ROW_PROB = 0.6
TREE_SPACING_RANGE = (8.0, 18.0)
POLE_SPACING_RANGE = (15.0, 35.0)
SIGN_PROB = 0.4
TRAFFIC_LIGHT_PROB = 0.25
PEOPLE_RANGE = (3, 11)
BINS_RANGE = (0, 4)
ONCOMING_PROB = 0.5

CAR_PALETTE: Tuple[RGB, ...] = ((0.7, 0.08, 0.08), (0.1, 0.2, 0.55), (0.75, 0.75, 0.78),
                                (0.08, 0.08, 0.09), (0.9, 0.9, 0.88), (0.15, 0.35, 0.2),
                                (0.55, 0.55, 0.6))
GLASS: RGB = (0.16, 0.2, 0.26)
BUILDING_PALETTE: Tuple[RGB, ...] = (
    (0.78, 0.72, 0.6), (0.62, 0.35, 0.27), (0.6, 0.6, 0.6), (0.85, 0.83, 0.78),
    (0.7, 0.62, 0.5), (0.5, 0.52, 0.55))
SHIRT_PALETTE: Tuple[RGB, ...] = ((0.7, 0.1, 0.15), (0.15, 0.3, 0.7), (0.9, 0.85, 0.2),
                                  (0.2, 0.6, 0.3), (0.85, 0.85, 0.85), (0.4, 0.2, 0.5))
TROUSER_PALETTE: Tuple[RGB, ...] = (
    (0.1, 0.12, 0.25), (0.08, 0.08, 0.08), (0.35, 0.33, 0.3))
FOLIAGE_DARK: RGB = (0.12, 0.26, 0.08)
FOLIAGE_LIGHT: RGB = (0.35, 0.55, 0.15)
GRASS_DARK: RGB = (0.35, 0.45, 0.18)
GRASS_LIGHT: RGB = (0.55, 0.6, 0.3)
ASPHALT: RGB = (0.27, 0.27, 0.28)
PAVING: RGB = (0.62, 0.6, 0.57)
METAL: RGB = (0.5, 0.52, 0.55)


@dataclass(frozen=True)
class StreetLayout:
    """Cross-section of a street (metres, y = 0 on the centre line, left positive).

    Attributes:
        lane_width: Width of each driving lane.
        parking_width: Width of each parking lane.
        sidewalk_width: Sidewalk widths ``(left, right)``.
        grass_width: Grass strip widths ``(left, right)`` (0 = none).
        setback: Distance from the grass strip to the building line ``(left, right)``.
    """

    lane_width: float
    parking_width: float
    sidewalk_width: Tuple[float, float]
    grass_width: Tuple[float, float]
    setback: Tuple[float, float]

    @property
    def road_half_width(self) -> float:
        """Distance from the centre line to the kerb."""
        return self.lane_width + self.parking_width

    @property
    def ego_lane_y(self) -> float:
        """Centre of the right-hand driving lane."""
        return -self.lane_width / 2

    def building_line(self, side: int) -> float:
        """|y| of the facades on ``side`` (+1 left, -1 right)."""
        k = 0 if side > 0 else 1
        return (self.road_half_width + self.sidewalk_width[k] + self.grass_width[k] +
                self.setback[k])


def sample_street_layout(rng: np.random.Generator) -> StreetLayout:
    """Draw a random street cross-section."""

    def grass() -> float:
        return float(rng.uniform(*GRASS_STRIP_WIDTH_RANGE)) if rng.uniform() < \
            GRASS_STRIP_PROB else 0.0

    return StreetLayout(
        lane_width=float(rng.uniform(*LANE_WIDTH_RANGE)),
        parking_width=float(rng.uniform(*PARKING_WIDTH_RANGE)),
        sidewalk_width=(float(rng.uniform(*SIDEWALK_WIDTH_RANGE)),
                        float(rng.uniform(*SIDEWALK_WIDTH_RANGE))),
        grass_width=(grass(), grass()),
        setback=(float(rng.uniform(*SETBACK_RANGE)), float(rng.uniform(*SETBACK_RANGE))))


def _span(side: int, near: float, far: float) -> Tuple[float, float]:
    """y range of a band between |y| = near and |y| = far on ``side``."""
    return (near, far) if side > 0 else (-far, -near)


def _box(x0: float, x1: float, y: Tuple[float, float], z0: float, z1: float, cls: str,
         mat: Material) -> Box:
    return Box((x0, y[0], z0), (x1, y[1], z1), CITYSCAPES_ID[cls], mat)


def _plain(rng: np.random.Generator,
           color: RGB,
           contrast: float = 0.08,
           scale: float = 0.6) -> Material:
    return Material('plain', color, scale=scale, contrast=contrast, seed=new_seed(rng))


# --------------------------------------------------------------------------- ground
def _ground(rng: np.random.Generator, lay: StreetLayout, x_lo: float,
            x_hi: float) -> List[Box]:
    """Terrain plane, road, sidewalks and grass strips."""
    x_end = x_hi + ROAD_AHEAD
    hw = lay.road_half_width
    grass_mat = Material(
        'foliage', GRASS_DARK, GRASS_LIGHT, scale=1.2, seed=new_seed(rng))
    road_mat = Material(
        'asphalt',
        jitter_color(rng, ASPHALT, 0.03),
        # patches of worn and patched asphalt a metre or two wide, visible at low
        # resolution too: self-supervised depth needs texture on the road
        scale=2.0,
        contrast=0.7,
        seed=new_seed(rng),
        params=(0.0, lay.lane_width, -lay.lane_width, 9.0, 0.35, 0.15))
    paving = Material(
        'tiles',
        jitter_color(rng, PAVING, 0.04), (0.45, 0.44, 0.42),
        scale=0.5,
        contrast=0.06,
        seed=new_seed(rng),
        params=(0.04, ))
    boxes = [
        _box(x_lo - GROUND_HALF_WIDTH, x_end + GROUND_HALF_WIDTH,
             (-GROUND_HALF_WIDTH, GROUND_HALF_WIDTH), -0.3, -0.02, 'terrain', grass_mat),
        _box(x_lo, x_end, (-hw, hw), -0.2, 0.0, 'road', road_mat),
    ]
    for side in (1, -1):
        k = 0 if side > 0 else 1
        walk_far = hw + lay.sidewalk_width[k]
        boxes.append(
            _box(x_lo, x_end, _span(side, hw, walk_far), -0.2, KERB_HEIGHT, 'sidewalk',
                 paving))
        if lay.grass_width[k] > 0:
            boxes.append(
                _box(x_lo, x_end, _span(side, walk_far, walk_far + lay.grass_width[k]),
                     -0.2, 0.05, 'terrain', grass_mat))
    return boxes


# --------------------------------------------------------------------------- structures
def _building(rng: np.random.Generator, x0: float, x1: float, y: Tuple[float,
                                                                       float]) -> Box:
    mat = Material(
        'facade',
        pick_color(rng, BUILDING_PALETTE),
        jitter_color(rng, (0.18, 0.22, 0.28), 0.04),
        scale=float(rng.uniform(*STOREY_HEIGHT_RANGE)),
        contrast=0.08,
        seed=new_seed(rng),
        params=(float(rng.uniform(*WINDOW_BAY_RANGE)), ))
    return _box(x0, x1, y, 0.0, float(rng.uniform(*BUILDING_HEIGHT_RANGE)), 'building',
                mat)


def _gap_filler(rng: np.random.Generator, x0: float, x1: float, side: int,
                line: float) -> List[Box]:
    """A wall or fence along the building line in a gap between buildings (or nothing)."""
    choice = rng.uniform()
    if choice < 0.35:
        mat = Material(
            'concrete',
            jitter_color(rng, (0.62, 0.6, 0.56), 0.05),
            scale=0.5,
            contrast=0.1,
            seed=new_seed(rng))
        return [
            _box(x0, x1, _span(side, line, line + 0.3), 0.0, float(rng.uniform(1.0, 2.5)),
                 'wall', mat)
        ]
    if choice < 0.7:
        mat = Material(
            'fence',
            jitter_color(rng, (0.55, 0.5, 0.42), 0.05), (0.2, 0.2, 0.18),
            scale=0.15,
            seed=new_seed(rng))
        return [
            _box(x0, x1, _span(side, line, line + 0.05), 0.0,
                 float(rng.uniform(1.0, 1.8)), 'fence', mat)
        ]
    return []


def _buildings(rng: np.random.Generator, lay: StreetLayout, x_lo: float,
               x_hi: float) -> List[Box]:
    boxes: List[Box] = []
    for side in (1, -1):
        line = lay.building_line(side)
        x = x_lo
        while x < x_hi + BUILDINGS_AHEAD:
            if rng.uniform() < BUILDING_GAP_PROB:
                length = float(rng.uniform(*BUILDING_GAP_RANGE))
                boxes += _gap_filler(rng, x, x + length, side, line)
            else:
                length = float(rng.uniform(*BUILDING_LENGTH_RANGE))
                depth = float(rng.uniform(*BUILDING_DEPTH_RANGE))
                boxes.append(
                    _building(rng, x, x + length, _span(side, line, line + depth)))
            x += length
    if rng.uniform() < CROSS_BUILDING_PROB:
        x0 = x_hi + float(rng.uniform(*CROSS_BUILDING_DISTANCE))
        boxes.append(_building(rng, x0, x0 + 15.0, (-80.0, 80.0)))
    return boxes


def _tree(rng: np.random.Generator, x: float, y: float, base_z: float) -> List[Box]:
    trunk_h = float(rng.uniform(1.8, 2.6))
    crown = float(rng.uniform(2.5, 4.0))
    bark = _plain(rng, jitter_color(rng, (0.3, 0.22, 0.15), 0.04), 0.2, 0.3)
    leaves = Material(
        'foliage',
        jitter_color(rng, FOLIAGE_DARK, 0.03),
        jitter_color(rng, FOLIAGE_LIGHT, 0.05),
        scale=0.5,
        seed=new_seed(rng))
    top = base_z + trunk_h
    return [
        _box(x - 0.15, x + 0.15, (y - 0.15, y + 0.15), base_z, top + 0.3, 'vegetation',
             bark),
        _box(x - crown / 2, x + crown / 2, (y - crown / 2, y + crown / 2), top,
             top + crown * float(rng.uniform(0.8, 1.2)), 'vegetation', leaves),
    ]


def _pole(rng: np.random.Generator, x: float, y: float, side: int) -> List[Box]:
    metal = _plain(rng, jitter_color(rng, METAL, 0.05), 0.1, 0.5)
    choice = rng.uniform()
    if choice < TRAFFIC_LIGHT_PROB:
        height = float(rng.uniform(3.5, 4.5))
        housing = Material('traffic_light', (0.08, 0.08, 0.08), seed=new_seed(rng))
        return [
            _box(x - 0.07, x + 0.07, (y - 0.07, y + 0.07), KERB_HEIGHT, height, 'pole',
                 metal),
            _box(x - 0.15, x + 0.15, (y - 0.15, y + 0.15), height, height + 0.9,
                 'traffic light', housing)
        ]
    height = float(rng.uniform(4.0, 8.0))
    boxes = [
        _box(x - 0.07, x + 0.07, (y - 0.07, y + 0.07), KERB_HEIGHT, height, 'pole', metal)
    ]
    if choice < TRAFFIC_LIGHT_PROB + SIGN_PROB:
        z0 = float(rng.uniform(2.0, 2.6))
        size = float(rng.uniform(0.5, 0.8))
        face = pick_color(rng, ((0.1, 0.25, 0.7), (0.8, 0.1, 0.1), (0.95, 0.8, 0.1)))
        panel = Material('sign', face, METAL, seed=new_seed(rng), params=(0.0, ))
        y_in = y - side * 0.1
        boxes.append(
            _box(x - 0.1, x - 0.07,
                 (min(y_in, y_in - side * size), max(y_in, y_in - side * size)), z0,
                 z0 + size, 'traffic sign', panel))
    return boxes


def _street_furniture(rng: np.random.Generator, lay: StreetLayout, x_lo: float,
                      x_hi: float) -> List[Box]:
    """Trees, poles, people and bins along both sidewalks."""
    boxes: List[Box] = []
    hw = lay.road_half_width
    for side in (1, -1):
        k = 0 if side > 0 else 1
        if rng.uniform() < TREE_ROW_PROB:
            x = x_lo + float(rng.uniform(0, TREE_SPACING_RANGE[1]))
            while x < x_hi:
                boxes += _tree(rng, x, side * (hw + 0.9), KERB_HEIGHT)
                x += float(rng.uniform(*TREE_SPACING_RANGE))
        x = x_lo + float(rng.uniform(0, POLE_SPACING_RANGE[1]))
        while x < x_hi:
            boxes += _pole(rng, x, side * (hw + 0.35), side)
            x += float(rng.uniform(*POLE_SPACING_RANGE))
        if lay.grass_width[k] > 0 and rng.uniform() < 0.5:
            far = hw + lay.sidewalk_width[k]
            x = x_lo + float(rng.uniform(0, 10))
            while x < x_hi:
                boxes += _tree(rng, x, side * (far + lay.grass_width[k] / 2), 0.05)
                x += float(rng.uniform(*TREE_SPACING_RANGE))
    for _ in range(int(rng.integers(*PEOPLE_RANGE))):
        side = 1 if rng.uniform() < 0.5 else -1
        k = 0 if side > 0 else 1
        x = float(rng.uniform(x_lo, x_hi))
        y = side * (hw + float(rng.uniform(0.8, lay.sidewalk_width[k] - 0.4)))
        height = float(rng.uniform(1.55, 1.9))
        mat = Material(
            'person',
            pick_color(rng, SHIRT_PALETTE),
            pick_color(rng, TROUSER_PALETTE),
            contrast=0.05,
            seed=new_seed(rng))
        boxes.append(
            _box(x - 0.25, x + 0.25, (y - 0.18, y + 0.18), KERB_HEIGHT,
                 KERB_HEIGHT + height, 'person', mat))
    for _ in range(int(rng.integers(*BINS_RANGE))):
        side = 1 if rng.uniform() < 0.5 else -1
        x = float(rng.uniform(x_lo, x_hi))
        y = side * (hw + 0.5)
        boxes.append(
            _box(x - 0.3, x + 0.3, (y - 0.3, y + 0.3), KERB_HEIGHT, KERB_HEIGHT + 1.0,
                 'static',
                 _plain(rng, pick_color(rng, ((0.2, 0.4, 0.25), (0.3, 0.3, 0.32))))))
    return boxes


# --------------------------------------------------------------------------- vehicles
def _car(rng: np.random.Generator, x0: float, length: float, y: float) -> List[Box]:
    width = float(rng.uniform(1.7, 1.9))
    paint = pick_color(rng, CAR_PALETTE)
    body = Material('car_body', paint, contrast=0.04, seed=new_seed(rng))
    cabin = Material('car_cabin', paint, GLASS, seed=new_seed(rng), params=(0.12, ))
    bonnet, boot = float(rng.uniform(0.9, 1.1)), float(rng.uniform(0.4, 0.6))
    top = float(rng.uniform(1.4, 1.55))
    ys = (y - width / 2, y + width / 2)
    return [
        _box(x0, x0 + length, ys, 0.0, 0.95, 'car', body),
        _box(x0 + boot, x0 + length - bonnet, (ys[0] + 0.08, ys[1] - 0.08), 0.95, top,
             'car', cabin)
    ]


def _truck(rng: np.random.Generator, x0: float, length: float, y: float) -> List[Box]:
    paint = pick_color(rng, CAR_PALETTE)
    ys = (y - 1.25, y + 1.25)
    cab = Material('car_cabin', paint, GLASS, seed=new_seed(rng), params=(0.15, ))
    cargo = _plain(rng,
                   pick_color(rng, ((0.9, 0.9, 0.9), (0.7, 0.15, 0.1), (0.2, 0.3, 0.5))))
    chassis = Material('car_body', (0.15, 0.15, 0.15), contrast=0.03, seed=new_seed(rng))
    return [
        _box(x0, x0 + length, ys, 0.0, 1.1, 'truck', chassis),
        _box(x0 + length - 2.0, x0 + length, ys, 1.1, 2.9, 'truck', cab),
        _box(x0, x0 + length - 2.2, ys, 1.1, 3.5, 'truck', cargo)
    ]


def _bus(rng: np.random.Generator, x0: float, length: float, y: float) -> List[Box]:
    paint = pick_color(rng, ((0.85, 0.75, 0.1), (0.1, 0.3, 0.6), (0.8, 0.15, 0.1)))
    ys = (y - 1.27, y + 1.27)
    return [
        _box(x0, x0 + length, ys, 0.0, 1.0, 'bus',
             Material('car_body', paint, contrast=0.04, seed=new_seed(rng))),
        _box(x0, x0 + length, ys, 1.0, 3.0, 'bus',
             Material('car_cabin', paint, GLASS, seed=new_seed(rng), params=(0.3, )))
    ]


def _vehicle(rng: np.random.Generator, x0: float, y: float) -> Tuple[List[Box], float]:
    """A random vehicle starting at ``x0`` centred on ``y``; returns boxes and length."""
    choice = rng.uniform()
    if choice < BUS_PROB:
        length = float(rng.uniform(10.0, 12.0))
        return _bus(rng, x0, length, y), length
    if choice < BUS_PROB + TRUCK_PROB:
        length = float(rng.uniform(6.0, 8.0))
        return _truck(rng, x0, length, y), length
    length = float(rng.uniform(3.8, 4.8))
    return _car(rng, x0, length, y), length


def _vehicles(rng: np.random.Generator, lay: StreetLayout, x_lo: float,
              x_hi: float) -> List[Box]:
    """Parked vehicles in both parking lanes and stopped ones in the oncoming lane."""
    boxes: List[Box] = []
    parking_centre = lay.lane_width + lay.parking_width / 2
    for side in (1, -1):
        x = x_lo + float(rng.uniform(0, 5))
        while x < x_hi:
            if rng.uniform() < PARKED_SLOT_PROB:
                placed, length = _vehicle(rng, x, side * parking_centre)
                boxes += placed
                x += length
            x += float(rng.uniform(*PARKED_GAP_RANGE))
    if rng.uniform() < ONCOMING_PROB:
        for _ in range(int(rng.integers(1, 4))):
            y = lay.lane_width / 2 + float(rng.uniform(0.0, 0.25))
            placed, _ = _vehicle(rng, float(rng.uniform(x_lo + 15, x_hi)), y)
            boxes += placed
    return boxes


def _clear_of_corridor(box: Box, ego_y: float) -> bool:
    """Whether a box stays out of the ego corridor (ground-level slabs always do)."""
    if box.hi[2] <= KERB_HEIGHT + 1e-6 or box.lo[2] >= 2.5:
        return True
    return (box.lo[1] >= ego_y + EGO_CORRIDOR_HALF_WIDTH
            or box.hi[1] <= ego_y - EGO_CORRIDOR_HALF_WIDTH)


def make_street_scene(rng: np.random.Generator,
                      layout: StreetLayout,
                      x_range: Tuple[float, float],
                      name: str = '') -> Scene:
    """Build a street scene around a stretch driven by the ego vehicle.

    Args:
        rng: Random generator (the only source of randomness).
        layout: The street's cross-section.
        x_range: ``(first, last)`` world x of the camera positions, metres.
        name: Scene name.

    Returns:
        Scene: Boxes labelled with Cityscapes label ids, a sun and a sky.
    """
    x_start, x_end = x_range
    x_lo = x_start - STREET_BEHIND
    objects_hi = x_end + OBJECTS_AHEAD
    boxes = _ground(rng, layout, x_lo, x_end)
    boxes += _buildings(rng, layout, x_lo, x_end)
    boxes += _street_furniture(rng, layout, x_lo, objects_hi)
    boxes += _vehicles(rng, layout, x_lo, objects_hi)
    boxes = [b for b in boxes if _clear_of_corridor(b, layout.ego_lane_y)]
    elevation = np.deg2rad(rng.uniform(35, 65))
    azimuth = rng.uniform(0, 2 * np.pi)
    sun = (float(np.cos(elevation) * np.cos(azimuth)),
           float(np.cos(elevation) * np.sin(azimuth)), float(np.sin(elevation)))
    sky = Sky(
        horizon=jitter_color(rng, (0.8, 0.86, 0.93), 0.03),
        zenith=jitter_color(rng, (0.35, 0.52, 0.8), 0.05),
        label=CITYSCAPES_ID['sky'])
    return Scene(
        boxes=boxes,
        light=Light(ambient=0.5, diffuse=0.6, direction=sun),
        sky=sky,
        name=name)
