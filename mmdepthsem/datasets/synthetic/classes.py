"""Class vocabularies of the synthetic scenes and their mappings to real dataset ids.

Indoor scenes are labelled with ids of NYU Depth V2's raw 894-class vocabulary (the
``labels`` array of ``nyu_depth_v2_labeled.mat``); the raw ids used here were chosen for
this generator and are mapped to the real NYU-40 and NYU-13 class ids through the
``classMapping40.mat`` / ``classMapping13.mat`` files the NYU writer produces. Street
scenes are labelled with the official Cityscapes label ids (``*_gtFine_labelIds.png``),
mapped to the 19 Cityscapes train ids (255 = ignore).
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from ..cityscapes import LABEL_ID_TO_TRAIN_ID, LABEL_ID_TO_TRAIN_ID_LUT

#: Raw NYU id of unlabelled pixels.
NYU_UNLABELLED = 0
#: Size of NYU's raw class vocabulary (``mapClass`` is ``1 x NYU_NUM_RAW_CLASSES``).
NYU_NUM_RAW_CLASSES = 894
#: NYU-40 id that raw classes outside the synthetic vocabulary map to (otherprop).
NYU40_FALLBACK_ID = 40

NYU40_CLASS_NAMES: Tuple[str, ...] = ('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa',
                                      'table', 'door', 'window', 'bookshelf', 'picture',
                                      'counter', 'blinds', 'desk', 'shelves', 'curtain',
                                      'dresser', 'pillow', 'mirror', 'floor mat',
                                      'clothes', 'ceiling', 'books', 'refridgerator',
                                      'television', 'paper', 'towel', 'shower curtain',
                                      'box', 'whiteboard', 'person', 'night stand',
                                      'toilet', 'sink', 'lamp', 'bathtub', 'bag',
                                      'otherstructure', 'otherfurniture', 'otherprop')

NYU13_CLASS_NAMES: Tuple[str, ...] = ('bed', 'books', 'ceiling', 'chair', 'floor',
                                      'furniture', 'objects', 'picture', 'sofa', 'table',
                                      'tv', 'wall', 'window')

#: NYU-40 id (1..40) -> NYU-13 id (1..13); index 0 is "none".
NYU40_TO_NYU13: Tuple[int, ...] = (0, 12, 5, 6, 1, 4, 9, 10, 12, 13, 6, 8, 6, 13, 10, 6,
                                   13, 6, 7, 7, 5, 7, 3, 2, 6, 11, 7, 7, 7, 7, 7, 7, 6, 7,
                                   7, 7, 7, 7, 7, 6, 7)


@dataclass(frozen=True)
class NYUClass:
    """One indoor class of the synthetic rooms.

    Attributes:
        name: Class name.
        raw_id: Id in NYU's raw vocabulary (1..894), the value stored in ``labels``.
        nyu40_id: Real NYU-40 id (1..40) the raw id maps to.
    """

    name: str
    raw_id: int
    nyu40_id: int

    @property
    def nyu13_id(self) -> int:
        """Real NYU-13 id (1..13) of the class."""
        return NYU40_TO_NYU13[self.nyu40_id]


NYU_CLASSES: Tuple[NYUClass, ...] = (
    NYUClass('wall', 21, 1),
    NYUClass('floor', 11, 2),
    NYUClass('cabinet', 3, 3),
    NYUClass('bed', 157, 4),
    NYUClass('chair', 5, 5),
    NYUClass('sofa', 83, 6),
    NYUClass('table', 19, 7),
    NYUClass('door', 28, 8),
    NYUClass('window', 59, 9),
    NYUClass('bookshelf', 88, 10),
    NYUClass('picture', 64, 11),
    NYUClass('desk', 36, 14),
    NYUClass('pillow', 119, 18),
    NYUClass('ceiling', 4, 22),
    NYUClass('television', 172, 25),
    NYUClass('box', 26, 29),
    NYUClass('night stand', 158, 32),
    NYUClass('lamp', 144, 35),
    NYUClass('stool', 150, 39),
    NYUClass('bottle', 2, 40),
)
#: Raw id of each synthetic indoor class, by name (plus ``'unlabelled'`` -> 0).
NYU_RAW_ID: Dict[str, int] = {c.name: c.raw_id for c in NYU_CLASSES}
NYU_RAW_ID['unlabelled'] = NYU_UNLABELLED


def nyu_class_mapping40() -> np.ndarray:
    """Raw NYU id -> NYU-40 id, as stored in ``classMapping40.mat``.

    Returns:
        np.ndarray: ``(894,)`` uint8; entry ``r - 1`` is the NYU-40 id (1..40) of raw id
        ``r``.
        Raw ids outside the synthetic vocabulary map to 40 (otherprop).
    """
    mapping = np.full(NYU_NUM_RAW_CLASSES, NYU40_FALLBACK_ID, dtype=np.uint8)
    for cls in NYU_CLASSES:
        mapping[cls.raw_id - 1] = cls.nyu40_id
    return mapping


def nyu_class_mapping13() -> np.ndarray:
    """Raw NYU id -> NYU-13 id, as stored in ``classMapping13.mat``.

    Returns:
        np.ndarray: ``(894,)`` uint8 with values in 1..13 (entry ``r - 1`` for raw id
        ``r``).
    """
    return np.asarray(NYU40_TO_NYU13, dtype=np.uint8)[nyu_class_mapping40()]


@dataclass(frozen=True)
class CityscapesClass:
    """One Cityscapes class.

    Attributes:
        name: Official class name.
        label_id: Official label id (``*_gtFine_labelIds.png``).
        color: Official RGB colour (``*_gtFine_color.png``).
    """

    name: str
    label_id: int
    color: Tuple[int, int, int]

    @property
    def train_id(self) -> int:
        """Train id 0..18, or 255 when the class is ignored in training (from the
        official table, :data:`mmdepthsem.datasets.cityscapes.CITYSCAPES_LABELS`)."""
        return LABEL_ID_TO_TRAIN_ID[self.label_id]

#: The Cityscapes classes the street scenes use (official ids and colours).
CITYSCAPES_CLASSES: Tuple[CityscapesClass, ...] = (
    CityscapesClass('static', 4, (0, 0, 0)),
    CityscapesClass('road', 7, (128, 64, 128)),
    CityscapesClass('sidewalk', 8, (244, 35, 232)),
    CityscapesClass('building', 11, (70, 70, 70)),
    CityscapesClass('wall', 12, (102, 102, 156)),
    CityscapesClass('fence', 13, (190, 153, 153)),
    CityscapesClass('pole', 17, (153, 153, 153)),
    CityscapesClass('traffic light', 19, (250, 170, 30)),
    CityscapesClass('traffic sign', 20, (220, 220, 0)),
    CityscapesClass('vegetation', 21, (107, 142, 35)),
    CityscapesClass('terrain', 22, (152, 251, 152)),
    CityscapesClass('sky', 23, (70, 130, 180)),
    CityscapesClass('person', 24, (220, 20, 60)),
    CityscapesClass('rider', 25, (255, 0, 0)),
    CityscapesClass('car', 26, (0, 0, 142)),
    CityscapesClass('truck', 27, (0, 0, 70)),
    CityscapesClass('bus', 28, (0, 60, 100)),
    CityscapesClass('train', 31, (0, 80, 100)),
    CityscapesClass('motorcycle', 32, (0, 0, 230)),
    CityscapesClass('bicycle', 33, (119, 11, 32)),
)
#: Cityscapes label id of each class, by name.
CITYSCAPES_ID: Dict[str, int] = {c.name: c.label_id for c in CITYSCAPES_CLASSES}


def cityscapes_train_id_lut() -> np.ndarray:
    """Cityscapes label id -> train id lookup table.

    Returns:
        np.ndarray: ``(256,)`` uint8, read-only; ids without a train id map to 255.
    """
    return LABEL_ID_TO_TRAIN_ID_LUT


def cityscapes_color_lut() -> np.ndarray:
    """Cityscapes label id -> official RGB colour.

    Returns:
        np.ndarray: ``(256, 3)`` uint8 (black for ids the street scenes do not use).
    """
    lut = np.zeros((256, 3), dtype=np.uint8)
    for cls in CITYSCAPES_CLASSES:
        lut[cls.label_id] = cls.color
    return lut
