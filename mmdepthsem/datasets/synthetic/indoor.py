"""Procedural indoor rooms labelled with NYU raw class ids.

A room is its interior ``[0, W] x [0, D] x [0, H]`` (metres, z up) enclosed by six slabs
(floor, ceiling, four walls), furnished according to its type (bedroom, living room,
office, dining room) with multi-box furniture placed against walls or free-standing, plus
doors, windows and pictures on the walls. Furniture never enters the ``keep_out``
rectangle that contains the camera path, so cameras never start inside or right behind an
object.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .classes import NYU_RAW_ID
from .scene import Box, Light, Scene, new_seed, pick_color, rotate_box_z
from .textures import RGB, Material

ROOM_TYPES: Tuple[str, ...] = ('bedroom', 'living_room', 'office', 'dining_room')
ROOM_WIDTH_RANGE = (3.6, 6.0)
ROOM_DEPTH_RANGE = (4.5, 7.5)
ROOM_HEIGHT_RANGE = (2.5, 3.0)
#: Thickness of the floor, ceiling and wall slabs, metres.
SLAB_THICKNESS = 0.1
#: How far doors, windows and pictures stand out of their wall, metres.
WALL_ITEM_DEPTH = 0.03
#: Clearance kept between furniture footprints, metres.
FURNITURE_GAP = 0.08
#: Attempts to place one item before giving up on it.
PLACEMENT_ATTEMPTS = 30
#: Height of the ceiling light below the ceiling, metres.
LIGHT_DROP = 0.25

WALL_PALETTE: Tuple[RGB, ...] = (
    (0.86, 0.83, 0.76), (0.78, 0.84, 0.86), (0.87, 0.78, 0.72), (0.8, 0.86, 0.77),
    (0.9, 0.89, 0.85), (0.85, 0.8, 0.86))
WOOD_PALETTE: Tuple[RGB, ...] = (
    (0.72, 0.55, 0.36), (0.58, 0.4, 0.24), (0.42, 0.27, 0.15))
FABRIC_PALETTE: Tuple[RGB, ...] = (
    (0.65, 0.15, 0.15), (0.15, 0.3, 0.6), (0.2, 0.45, 0.25), (0.45, 0.45, 0.48),
    (0.55, 0.4, 0.2), (0.4, 0.2, 0.45))
CARPET_PALETTE: Tuple[RGB, ...] = (
    (0.45, 0.36, 0.34), (0.35, 0.38, 0.45), (0.5, 0.47, 0.4))
TILE_PALETTE: Tuple[RGB, ...] = (
    (0.75, 0.74, 0.7), (0.62, 0.6, 0.58), (0.8, 0.76, 0.66))
WHITE_FURNITURE: RGB = (0.88, 0.88, 0.86)
DARK_PLASTIC: RGB = (0.12, 0.12, 0.13)

# (label name, material) of one box in an item's local frame.
_LocalBox = Tuple[Tuple[float, float, float], Tuple[float, float, float], str, Material]


@dataclass
class Item:
    """A piece of furniture in its local frame.

    The local frame has the item's back on the wall plane ``y = 0`` and its front towards
    ``+y``; the item spans ``[0, width]`` along ``x`` and ``[0, depth]`` along ``y``.

    Attributes:
        width: Size along local x, metres.
        depth: Size along local y, metres.
        boxes: ``(lo, hi, label name, material)`` per box, local coordinates.
    """

    width: float
    depth: float
    boxes: List[_LocalBox] = field(default_factory=list)

    def add(self, lo: Sequence[float], hi: Sequence[float], label: str,
            mat: Material) -> None:
        """Append a box given by its local corners."""
        self.boxes.append((tuple(lo), tuple(hi), label, mat))


@dataclass
class FloorPlan:
    """Occupied floor rectangles ``(x0, y0, x1, y1)`` of a room of ``width x depth`` m."""

    width: float
    depth: float
    occupied: List[Tuple[float, float, float, float]] = field(default_factory=list)

    def is_free(self, rect: Tuple[float, float, float, float]) -> bool:
        """Whether ``rect`` lies in the room and clears every occupied rectangle."""
        x0, y0, x1, y1 = rect
        if x0 < -1e-9 or y0 < -1e-9 or x1 > self.width + 1e-9 or y1 > self.depth + 1e-9:
            return False
        for ox0, oy0, ox1, oy1 in self.occupied:
            if (x0 < ox1 + FURNITURE_GAP and ox0 < x1 + FURNITURE_GAP
                    and y0 < oy1 + FURNITURE_GAP and oy0 < y1 + FURNITURE_GAP):
                return False
        return True


# --------------------------------------------------------------------------- materials
def _wood(rng: np.random.Generator, plank: float = 0.12) -> Material:
    base = pick_color(rng, WOOD_PALETTE)
    return Material(
        'planks',
        base,
        tuple(0.8 * c for c in base),
        scale=plank,
        contrast=0.12,
        seed=new_seed(rng))


def _fabric(rng: np.random.Generator,
            color: Optional[RGB] = None,
            quilt: float = 0.4) -> Material:
    return Material(
        'fabric',
        color or pick_color(rng, FABRIC_PALETTE),
        scale=quilt,
        contrast=0.15,
        seed=new_seed(rng))


def _plain(rng: np.random.Generator,
           color: RGB,
           contrast: float = 0.06,
           scale: float = 0.5) -> Material:
    return Material('plain', color, scale=scale, contrast=contrast, seed=new_seed(rng))


def _floor_material(rng: np.random.Generator) -> Material:
    kind = int(rng.integers(3))
    if kind == 0:
        return _wood(rng, plank=float(rng.uniform(0.12, 0.2)))
    if kind == 1:
        return Material(
            'tiles',
            pick_color(rng, TILE_PALETTE), (0.35, 0.34, 0.32),
            scale=float(rng.uniform(0.4, 0.6)),
            contrast=0.08,
            seed=new_seed(rng))
    return _plain(rng, pick_color(rng, CARPET_PALETTE), contrast=0.25, scale=0.3)


# --------------------------------------------------------------------------- items
def _legs(item: Item, width: float, depth: float, top: float, leg: float, label: str,
          mat: Material) -> None:
    for x in (0.0, width - leg):
        for y in (0.0, depth - leg):
            item.add((x, y, 0.0), (x + leg, y + leg, top), label, mat)


def make_bed(rng: np.random.Generator) -> Item:
    """A bed: wooden frame and headboard, mattress/blanket, two pillows."""
    width, length = rng.uniform(1.4, 1.8), rng.uniform(1.9, 2.1)
    item = Item(width, length)
    frame = _wood(rng)
    item.add((0, 0, 0), (width, length, 0.32), 'bed', frame)
    item.add((0, 0, 0.32), (width, 0.06, rng.uniform(0.9, 1.1)), 'bed', frame)
    item.add((0.02, 0.06, 0.32), (width - 0.02, length, 0.55), 'bed', _fabric(rng))
    pillow = _fabric(rng, color=WHITE_FURNITURE, quilt=0.25)
    for x0 in (0.1, width / 2 + 0.05):
        item.add((x0, 0.12, 0.55), (x0 + width / 2 - 0.15, 0.5, 0.68), 'pillow', pillow)
    return item


def make_sofa(rng: np.random.Generator) -> Item:
    """A sofa: seat base, back rest, two arm rests."""
    width, depth = rng.uniform(1.6, 2.3), rng.uniform(0.85, 0.95)
    item = Item(width, depth)
    mat = _fabric(rng)
    arm = 0.2
    item.add((0, 0, 0), (width, depth, 0.42), 'sofa', mat)
    item.add((0, 0, 0.42), (width, 0.22, 0.85), 'sofa', mat)
    item.add((0, 0.22, 0.42), (arm, depth, 0.62), 'sofa', mat)
    item.add((width - arm, 0.22, 0.42), (width, depth, 0.62), 'sofa', mat)
    return item


def make_cabinet(rng: np.random.Generator) -> Item:
    """A cabinet / wardrobe with panel doors."""
    width, depth, height = rng.uniform(0.8, 1.6), rng.uniform(0.45,
                                                              0.6), rng.uniform(0.8, 2.1)
    color = WHITE_FURNITURE if rng.uniform() < 0.5 else pick_color(rng, WOOD_PALETTE)
    mat = Material(
        'tiles',
        color,
        tuple(0.55 * c for c in color),
        scale=width / 2,
        contrast=0.03,
        seed=new_seed(rng),
        params=(0.02, ))
    item = Item(width, depth)
    item.add((0, 0, 0), (width, depth, height), 'cabinet', mat)
    return item


def make_bookshelf(rng: np.random.Generator, front_axis: int) -> Item:
    """A bookshelf whose front (world axis ``front_axis``) shows book spines."""
    width, depth, height = rng.uniform(0.8,
                                       1.2), rng.uniform(0.3,
                                                         0.36), rng.uniform(1.6, 2.2)
    mat = Material(
        'bookshelf',
        pick_color(rng, WOOD_PALETTE),
        scale=rng.uniform(0.32, 0.4),
        contrast=0.05,
        seed=new_seed(rng),
        params=(float(front_axis), ))
    item = Item(width, depth)
    item.add((0, 0, 0), (width, depth, height), 'bookshelf', mat)
    return item


def make_desk(rng: np.random.Generator) -> Item:
    """A desk: top, two legs on one side, a drawer block on the other."""
    width, depth = rng.uniform(1.2, 1.6), rng.uniform(0.6, 0.8)
    item = Item(width, depth)
    mat = _wood(rng)
    top = 0.74
    item.add((0, 0, top - 0.04), (width, depth, top), 'desk', mat)
    item.add((0, 0, 0), (0.05, depth, top - 0.04), 'desk', mat)
    item.add((width - 0.45, 0, 0), (width, depth, top - 0.04), 'desk', mat)
    if rng.uniform() < 0.6:
        tv_w = rng.uniform(0.45, 0.6)
        item.add((0.3, 0.05, top), (0.3 + tv_w, 0.1, top + tv_w * 0.6), 'television',
                 _plain(rng, DARK_PLASTIC))
    return item


def make_night_stand(rng: np.random.Generator) -> Item:
    """A night stand with a lamp on top."""
    item = Item(0.45, 0.4)
    item.add((0, 0, 0), (0.45, 0.4, 0.55), 'night stand', _wood(rng))
    shade = _fabric(rng, color=(0.95, 0.88, 0.65), quilt=0.5)
    item.add((0.2, 0.17, 0.55), (0.25, 0.22, 0.8), 'lamp', _plain(rng, (0.6, 0.6, 0.6)))
    item.add((0.1, 0.07, 0.8), (0.35, 0.32, 1.0), 'lamp', shade)
    return item


def make_tv_stand(rng: np.random.Generator) -> Item:
    """A low cabinet with a television on it."""
    width = rng.uniform(1.0, 1.6)
    item = Item(width, 0.45)
    item.add((0, 0, 0), (width, 0.45, 0.5), 'cabinet', _wood(rng))
    tv_w = min(rng.uniform(0.8, 1.3), width)
    x0 = (width - tv_w) / 2
    item.add((x0, 0.15, 0.5), (x0 + tv_w, 0.23, 0.5 + tv_w * 0.58), 'television',
             _plain(rng, DARK_PLASTIC))
    return item


def make_table(rng: np.random.Generator, height: float) -> Item:
    """A four-legged table of the given height (with bottles/boxes on dining tables)."""
    width, depth = rng.uniform(0.9, 1.6), rng.uniform(0.7, 1.0)
    item = Item(width, depth)
    mat = _wood(rng)
    item.add((0, 0, height - 0.04), (width, depth, height), 'table', mat)
    _legs(item, width, depth, height - 0.04, 0.06, 'table', mat)
    for _ in range(int(rng.integers(0, 3))):
        x, y = rng.uniform(0.1, width - 0.2), rng.uniform(0.1, depth - 0.2)
        item.add((x, y, height), (x + 0.07, y + 0.07, height + 0.25), 'bottle',
                 _plain(rng, pick_color(rng, ((0.1, 0.45, 0.2), (0.5, 0.3, 0.1)))))
    return item


def make_chair(rng: np.random.Generator) -> Item:
    """A chair with its back rest on the local ``y = 0`` side."""
    item = Item(0.45, 0.45)
    mat = _wood(rng) if rng.uniform() < 0.6 else _plain(rng, DARK_PLASTIC)
    item.add((0, 0, 0.42), (0.45, 0.45, 0.46), 'chair', mat)
    item.add((0, 0, 0.46), (0.45, 0.05, 0.9), 'chair', mat)
    _legs(item, 0.45, 0.45, 0.42, 0.04, 'chair', mat)
    return item


def make_floor_lamp(rng: np.random.Generator) -> Item:
    """A floor lamp: base, pole and shade."""
    item = Item(0.36, 0.36)
    metal = _plain(rng, (0.55, 0.55, 0.58))
    item.add((0.03, 0.03, 0), (0.33, 0.33, 0.03), 'lamp', metal)
    item.add((0.16, 0.16, 0.03), (0.2, 0.2, 1.45), 'lamp', metal)
    item.add((0.0, 0.0, 1.45), (0.36, 0.36, 1.75), 'lamp',
             _fabric(rng, color=(0.95, 0.9, 0.7), quilt=0.5))
    return item


def make_small_object(rng: np.random.Generator) -> Item:
    """A stool, a cardboard box or unlabelled clutter."""
    kind = int(rng.integers(3))
    size = rng.uniform(0.3, 0.55)
    item = Item(size, size)
    if kind == 0:
        item.add((0, 0, 0), (size, size, 0.45), 'stool',
                 _plain(rng, pick_color(rng, FABRIC_PALETTE)))
    elif kind == 1:
        item.add((0, 0, 0), (size, size, size * 0.8), 'box',
                 _plain(rng, (0.6, 0.45, 0.3), 0.1))
    else:
        item.add((0, 0, 0), (size, size, size * 0.6), 'unlabelled',
                 _plain(rng, tuple(rng.uniform(0.2, 0.8, 3).tolist()), 0.2, 0.1))
    return item


# --------------------------------------------------------------------------- placement
#: Wall name -> (quarter turns of the local frame, axis along which the wall runs).
_WALLS: Dict[str, Tuple[int, int]] = {
    'near': (0, 0),
    'far': (2, 0),
    'left': (3, 1),
    'right': (1, 1)
}


def _wall_origin(wall: str, along: float, width: float,
                 room: Tuple[float, float]) -> Tuple[float, float, float]:
    """World position of an item's local origin so its back lies on ``wall``.

    ``along`` is the world coordinate (x for near/far, y for left/right) where the item's
    extent along the wall starts.
    """
    room_w, room_d = room
    if wall == 'near':
        return along, 0.0, 0.0
    if wall == 'far':
        return along + width, room_d, 0.0
    if wall == 'left':
        return 0.0, along + width, 0.0
    return room_w, along, 0.0


def _to_world(item: Item, origin: Tuple[float, float, float], turns: int) -> List[Box]:
    boxes = []
    for lo, hi, label, mat in item.boxes:
        wlo, whi = rotate_box_z(lo, hi, turns, origin)
        boxes.append(Box(wlo, whi, NYU_RAW_ID[label], mat))
    return boxes


def _footprint(boxes: List[Box]) -> Tuple[float, float, float, float]:
    return (min(b.lo[0] for b in boxes), min(b.lo[1] for b in boxes),
            max(b.hi[0] for b in boxes), max(b.hi[1] for b in boxes))


def place_against_wall(rng: np.random.Generator, plan: FloorPlan,
                       factory: Callable[[int], Item], walls: Sequence[str]) -> List[Box]:
    """Place an item with its back on one of ``walls``; returns ``[]`` if it did not fit.

    Args:
        rng: Random generator.
        plan: Floor plan; updated with the item's footprint on success.
        factory: Builds the item given the world axis its front faces along.
        walls: Candidate walls (``near``, ``far``, ``left``, ``right``).
    """
    for _ in range(PLACEMENT_ATTEMPTS):
        wall = walls[int(rng.integers(len(walls)))]
        turns, run_axis = _WALLS[wall]
        item = factory(1 - run_axis)
        run_length = plan.width if run_axis == 0 else plan.depth
        if item.width >= run_length:
            continue
        along = rng.uniform(0, run_length - item.width)
        boxes = _to_world(item,
                          _wall_origin(wall, along, item.width, (plan.width, plan.depth)),
                          turns)
        rect = _footprint(boxes)
        if plan.is_free(rect):
            plan.occupied.append(rect)
            return boxes
    return []


def place_free(rng: np.random.Generator,
               plan: FloorPlan,
               item: Item,
               margin: float = 0.3) -> Tuple[List[Box], Optional[Tuple[float, float]]]:
    """Place an item anywhere on the floor, rotated by 0/90 degrees.

    Returns:
        The world boxes (``[]`` if it did not fit) and the item's centre ``(x, y)``.
    """
    for _ in range(PLACEMENT_ATTEMPTS):
        turns = int(rng.integers(2))
        size_x, size_y = item.width, item.depth
        if turns == 1:
            size_x, size_y = size_y, size_x
        if size_x + 2 * margin >= plan.width or size_y + 2 * margin >= plan.depth:
            return [], None
        x = rng.uniform(margin, plan.width - margin - size_x)
        y = rng.uniform(margin, plan.depth - margin - size_y)
        origin = (x, y, 0.0) if turns == 0 else (x + size_x, y, 0.0)
        boxes = _to_world(item, origin, turns)
        rect = _footprint(boxes)
        if plan.is_free(rect):
            plan.occupied.append(rect)
            return boxes, ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2)
    return [], None


def _chairs_around(rng: np.random.Generator, plan: FloorPlan,
                   table_rect: Tuple[float, float, float,
                                     float], count: int) -> List[Box]:
    """Chairs facing a table from its four sides (back rests away from the table)."""
    x0, y0, x1, y1 = table_rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # side -> (origin of the chair's local frame, quarter turns); back rest at local y=0.
    sides = [((cx - 0.225, y0 - 0.55, 0.0), 0), ((cx + 0.225, y1 + 0.55, 0.0), 2),
             ((x0 - 0.55, cy + 0.225, 0.0), 3), ((x1 + 0.55, cy - 0.225, 0.0), 1)]
    boxes: List[Box] = []
    for side in rng.permutation(len(sides))[:count]:
        origin, turns = sides[int(side)]
        chair = _to_world(make_chair(rng), origin, turns)
        rect = _footprint(chair)
        if plan.is_free(rect):
            plan.occupied.append(rect)
            boxes += chair
    return boxes


def _wall_decor(rng: np.random.Generator, room: Tuple[float, float, float],
                kinds: Sequence[str]) -> List[Box]:
    """Doors, windows and pictures on the walls, not overlapping each other."""
    room_w, room_d, room_h = room
    used: Dict[str, List[Tuple[float, float]]] = {w: [] for w in _WALLS}
    boxes: List[Box] = []
    for kind in kinds:
        if kind == 'door':
            width, height, z0 = 0.9, min(2.05, room_h - 0.2), 0.0
            mat = Material(
                'planks',
                pick_color(rng, WOOD_PALETTE + (WHITE_FURNITURE, )), (0.5, 0.4, 0.3),
                scale=0.3,
                contrast=0.05,
                seed=new_seed(rng))
        elif kind == 'window':
            width, height, z0 = rng.uniform(1.0, 1.6), rng.uniform(1.1, 1.4), 0.9
            mat = Material(
                'glass_window', (0.78, 0.88, 0.97),
                WHITE_FURNITURE,
                scale=rng.uniform(0.5, 0.8),
                seed=new_seed(rng))
        else:
            width, height = rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.7)
            z0 = rng.uniform(1.3, 1.7) - height / 2
            mat = Material(
                'picture', (0.5, 0.5, 0.5),
                pick_color(rng, WOOD_PALETTE),
                scale=rng.uniform(0.06, 0.15),
                seed=new_seed(rng))
        for _ in range(PLACEMENT_ATTEMPTS):
            wall = ('far', 'left', 'right', 'near')[int(rng.integers(4))]
            turns, run_axis = _WALLS[wall]
            run = room_w if run_axis == 0 else room_d
            if width + 0.4 >= run:
                continue
            along = rng.uniform(0.2, run - width - 0.2)
            if any(along < b + 0.15 and a < along + width + 0.15 for a, b in used[wall]):
                continue
            used[wall].append((along, along + width))
            item = Item(width, WALL_ITEM_DEPTH)
            item.add((0, 0, z0), (width, WALL_ITEM_DEPTH, z0 + height), kind, mat)
            boxes += _to_world(item, _wall_origin(wall, along, width, (room_w, room_d)),
                               turns)
            break
    return boxes


def _shell(rng: np.random.Generator, room: Tuple[float, float, float]) -> List[Box]:
    """Floor, ceiling and four walls around the interior ``[0, W] x [0, D] x [0, H]``."""
    room_w, room_d, room_h = room
    s = SLAB_THICKNESS
    wall_mat = _plain(rng, pick_color(rng, WALL_PALETTE, 0.03), contrast=0.05, scale=1.5)
    ceiling = Material(
        'tiles', (0.93, 0.93, 0.92), (0.8, 0.8, 0.8),
        scale=0.6,
        contrast=0.02,
        seed=new_seed(rng),
        params=(0.03, ))
    wall, floor, ceil = NYU_RAW_ID['wall'], NYU_RAW_ID['floor'], NYU_RAW_ID['ceiling']
    return [
        Box((-s, -s, -s), (room_w + s, room_d + s, 0.0), floor, _floor_material(rng)),
        Box((-s, -s, room_h), (room_w + s, room_d + s, room_h + s), ceil, ceiling),
        Box((-s, -s, 0.0), (0.0, room_d + s, room_h), wall, wall_mat),
        Box((room_w, -s, 0.0), (room_w + s, room_d + s, room_h), wall, wall_mat),
        Box((0.0, -s, 0.0), (room_w, 0.0, room_h), wall, wall_mat),
        Box((0.0, room_d, 0.0), (room_w, room_d + s, room_h), wall, wall_mat),
    ]


def sample_room_size(rng: np.random.Generator) -> Tuple[float, float, float]:
    """Interior ``(width, depth, height)`` of a random room, metres."""
    return (float(rng.uniform(*ROOM_WIDTH_RANGE)), float(rng.uniform(*ROOM_DEPTH_RANGE)),
            float(rng.uniform(*ROOM_HEIGHT_RANGE)))


def _furnish(rng: np.random.Generator, room_type: str, plan: FloorPlan) -> List[Box]:
    """Furniture typical of ``room_type``."""
    back_walls = ('far', 'left', 'right')
    boxes: List[Box] = []

    def wall_item(factory: Callable[[int], Item]) -> None:
        boxes.extend(place_against_wall(rng, plan, factory, back_walls))

    def free_item(item: Item, chairs: int = 0) -> None:
        placed, _ = place_free(rng, plan, item)
        boxes.extend(placed)
        if placed and chairs:
            boxes.extend(_chairs_around(rng, plan, _footprint(placed), chairs))

    if room_type == 'bedroom':
        wall_item(lambda axis: make_bed(rng))
        for _ in range(int(rng.integers(1, 3))):
            wall_item(lambda axis: make_night_stand(rng))
        wall_item(lambda axis: make_cabinet(rng))
    elif room_type == 'living_room':
        wall_item(lambda axis: make_sofa(rng))
        wall_item(lambda axis: make_tv_stand(rng))
        wall_item(lambda axis: make_bookshelf(rng, axis))
        free_item(make_table(rng, height=0.45))
        free_item(make_floor_lamp(rng))
    elif room_type == 'office':
        for _ in range(int(rng.integers(1, 3))):
            desk = place_against_wall(rng, plan, lambda axis: make_desk(rng), back_walls)
            boxes.extend(desk)
            if desk:
                boxes.extend(_chairs_around(rng, plan, _footprint(desk), 1))
        for _ in range(int(rng.integers(1, 3))):
            wall_item(lambda axis: make_bookshelf(rng, axis))
        wall_item(lambda axis: make_cabinet(rng))
    else:
        free_item(make_table(rng, height=0.74), chairs=int(rng.integers(2, 5)))
        wall_item(lambda axis: make_cabinet(rng))
        wall_item(lambda axis: make_bookshelf(rng, axis))
        free_item(make_floor_lamp(rng))
    for _ in range(int(rng.integers(1, 4))):
        free_item(make_small_object(rng))
    return boxes


def make_room_scene(rng: np.random.Generator,
                    room_type: str,
                    room_size: Tuple[float, float, float],
                    keep_out: Tuple[float, float, float, float],
                    name: str = '') -> Scene:
    """Build a furnished room.

    Args:
        rng: Random generator (the only source of randomness).
        room_type: One of :data:`ROOM_TYPES`.
        room_size: Interior ``(width_x, depth_y, height_z)``, metres.
        keep_out: Floor rectangle ``(x0, y0, x1, y1)`` kept free of furniture (the camera
            path with a margin), metres.
        name: Scene name.

    Returns:
        Scene: Boxes labelled with NYU raw ids and a ceiling point light.
    """
    if room_type not in ROOM_TYPES:
        raise ValueError(f'unknown room type {room_type!r}; choose from {ROOM_TYPES}')
    room_w, room_d, room_h = room_size
    plan = FloorPlan(room_w, room_d, occupied=[keep_out])
    doors = ['door'] if rng.uniform() < 0.8 else []
    windows = ['window'] * int(rng.integers(0, 3))
    pictures = ['picture'] * int(rng.integers(1, 4))
    boxes = _shell(rng, room_size)
    boxes += _furnish(rng, room_type, plan)
    boxes += _wall_decor(rng, room_size, doors + windows + pictures)
    light = Light(
        ambient=0.42,
        diffuse=0.75,
        position=(room_w / 2, room_d / 2, room_h - LIGHT_DROP),
        half_distance=3.5)
    return Scene(boxes=boxes, light=light, sky=None, miss_label=0, name=name)
