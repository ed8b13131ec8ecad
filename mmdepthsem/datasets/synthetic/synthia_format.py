"""Synthetic street views written in the layout of SYNTHIA-RAND-CITYSCAPES.

Layout under ``root`` (``<n>`` = 0-based image number, ``{n:07d}``)::

    RGB/<n>.png          RGB
    GT/LABELS/<n>.png    uint16 x 3 PNG: Synthia class id in the red channel, instance
                         id (box number + 1 for people, riders and vehicles, else 0) in
                         the green channel, 0 in the blue channel
    GT/COLOR/<n>.png     colour rendering of the labels
    sde_depth/<n>.png    uint16 depth-estimate stand-in, value / 256 = "SDE metres"

The scenes carry Cityscapes label ids; :func:`cityscapes_to_synthia_lut` turns them into
Synthia ids (terrain, truck and train keep their own Synthia ids, which the dataset then
ignores, as for the real data). No ``Depth/`` folder is written (SDE-Seg mixes with SDE
estimates, not ground truth).

A domain of its own (see :mod:`.source_views`): a raised camera (1.8-2.6 m) pitched
down and turned sideways, a wide field of view, flat, cool, desaturated light, and an
SDE scale of 1.6. The aspect ratio follows Synthia's 1280x760.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np

from ..synthia import SYNTHIA_LABELS
from .classes import CITYSCAPES_CLASSES, cityscapes_color_lut
from .sequences import sequence_rng
from .source_views import (SDE_DEPTH_SCALE, DomainLook, render_source_view,
                           sde_depth_standin)
from .writing import WriteResult, depth_png, parallel_map, write_gray, write_rgb

#: Synthia id of Cityscapes classes without a Cityscapes train id shared with Synthia.
_BY_NAME = {'static': 0, 'terrain': 16, 'truck': 18, 'train': 20}
#: Cityscapes classes whose pixels get instance ids.
_INSTANCE_CLASSES = ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                     'bicycle')

SYNTHIA_LOOK = DomainLook(
    camera_height=(1.8, 2.6),
    pitch=(0.08, 0.25),
    yaw=(-0.5, 0.5),
    lateral=(-0.8, 0.8),
    focal_ratio=0.6,
    ambient=0.75,
    diffuse=0.3,
    horizon=(0.78, 0.8, 0.84),
    zenith=(0.55, 0.62, 0.72),
    saturation=0.75,
    contrast=0.9,
    tint=(0.93, 0.98, 1.08),
    sde_scale=1.6)


@dataclass(frozen=True)
class SynthiaConfig:
    """Size of the synthetic Synthia set.

    Attributes:
        height, width: Image size in pixels (real: 760 x 1280).
        num_images: Number of images (real: 9400).
    """

    height: int = 108
    width: int = 182
    num_images: int = 24


def cityscapes_to_synthia_lut() -> np.ndarray:
    """Cityscapes label id -> SYNTHIA-RAND-CITYSCAPES class id.

    Classes with a train id shared with Synthia map to the Synthia class of that train
    id; ``static`` to void (0); terrain, truck and train to their Synthia ids.

    Returns:
        np.ndarray: ``(256,)`` uint16; ids the street scenes do not use map to 0.
    """
    by_train_id = {t: i for i, _, t in SYNTHIA_LABELS if t != 255}
    lut = np.zeros(256, np.uint16)
    for cls in CITYSCAPES_CLASSES:
        if cls.name in _BY_NAME:
            lut[cls.label_id] = _BY_NAME[cls.name]
        else:
            lut[cls.label_id] = by_train_id[cls.train_id]
    return lut


def synthia_label_image(view_label: np.ndarray, box_index: np.ndarray) -> np.ndarray:
    """The ``GT/LABELS`` image of a view, in OpenCV's BGR channel order.

    Args:
        view_label: ``(H, W)`` Cityscapes label ids.
        box_index: ``(H, W)`` box index, -1 = none.

    Returns:
        ``(H, W, 3)`` uint16: channel 2 (red) class id, channel 1 (green) instance id.
    """
    ids = cityscapes_to_synthia_lut()[view_label]
    things = np.isin(view_label, [c.label_id for c in CITYSCAPES_CLASSES
                                  if c.name in _INSTANCE_CLASSES])
    instance = np.where(things & (box_index >= 0), box_index + 1, 0)
    out = np.zeros(view_label.shape + (3, ), np.uint16)
    out[..., 2] = ids
    out[..., 1] = np.minimum(instance, np.iinfo(np.uint16).max)
    return out


def _image_job(job: Tuple[int, int, SynthiaConfig, str]) -> List[str]:
    seed, number, config, root_str = job
    root = Path(root_str)
    name = f'{number:07d}'
    view = render_source_view(
        sequence_rng(seed, 'synthia', number), f'synthia_{name}', config.height,
        config.width, SYNTHIA_LOOK)
    files = [f'RGB/{name}.png', f'GT/LABELS/{name}.png', f'GT/COLOR/{name}.png',
             f'sde_depth/{name}.png']
    write_rgb(root / files[0], view.rgb)
    labels_path = root / files[1]
    labels_path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(labels_path), synthia_label_image(view.label,
                                                             view.box_index)):
        raise OSError(f'could not write image {labels_path}')
    write_rgb(root / files[2], cityscapes_color_lut()[view.label.astype(np.uint8)])
    write_gray(root / files[3], depth_png(sde_depth_standin(view, SYNTHIA_LOOK),
                                          SDE_DEPTH_SCALE))
    return files


def write_synthia(root: Path,
                  config: SynthiaConfig = SynthiaConfig(),
                  seed: int = 0,
                  workers: int = 1) -> WriteResult:
    """Render street views and write them in the SYNTHIA-RAND-CITYSCAPES layout.

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.

    Returns:
        WriteResult: What was written.
    """
    root = Path(root)
    jobs = [(seed, n, config, str(root)) for n in range(config.num_images)]
    files: List[str] = []
    for written in parallel_map(_image_job, jobs, workers):
        files += written
    return WriteResult(root, files)
