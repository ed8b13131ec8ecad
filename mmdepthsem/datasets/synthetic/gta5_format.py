"""Synthetic street views written in the layout of the GTA5 (Playing for Data) release.

Layout under ``root`` (``<n>`` = 1-based image number, ``{n:05d}``)::

    images/<n>.png       RGB
    labels/<n>.png       8-bit palette PNG: palette indices are Cityscapes label ids
                         (0..33), the palette the official Cityscapes colours
    sde_depth/<n>.png    uint16 depth-estimate stand-in, value / 256 = "SDE metres"

A domain of its own (see :mod:`.source_views`): a camera at car or pedestrian height
with more pitch and yaw than the synthetic Cityscapes car, a wider field of view, a
warm, saturated game-like grade, and an SDE scale of 0.6 (the stand-in depth is 0.6
times the true depth; a real SDE network's scale is as arbitrary). The aspect ratio
follows GTA5's 1914×1052.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import numpy as np
from PIL import Image

from .classes import cityscapes_color_lut
from .sequences import sequence_rng
from .source_views import (SDE_DEPTH_SCALE, DomainLook, render_source_view,
                           sde_depth_standin)
from .writing import WriteResult, depth_png, parallel_map, write_gray, write_rgb


GTA5_LOOK = DomainLook(
    camera_height=(1.0, 1.9),
    pitch=(-0.02, 0.12),
    yaw=(-0.35, 0.35),
    lateral=(-0.6, 0.6),
    focal_ratio=0.8,
    ambient=0.55,
    diffuse=0.75,
    horizon=(0.95, 0.78, 0.6),
    zenith=(0.3, 0.45, 0.8),
    saturation=1.4,
    contrast=1.15,
    tint=(1.06, 1.0, 0.9),
    sde_scale=0.6)


@dataclass(frozen=True)
class GTA5Config:
    """Size of the synthetic GTA5 set.

    Attributes:
        height, width: Image size in pixels (real: 1052 x 1914).
        num_images: Number of images (real: 24966).
    """

    height: int = 110
    width: int = 200
    num_images: int = 24


def write_palette_png(path: Path, ids: np.ndarray, palette: np.ndarray) -> None:
    """Write an 8-bit palette PNG whose indices are ``ids`` (as GTA5's labels).

    Args:
        path: Output file (parents are created).
        ids: ``(H, W)`` uint8 indices.
        palette: ``(256, 3)`` uint8 RGB palette.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.ascontiguousarray(ids, dtype=np.uint8), mode='P')
    image.putpalette(np.asarray(palette, np.uint8).ravel().tolist())
    image.save(str(path), format='PNG')


def _image_job(job: Tuple[int, int, GTA5Config, str]) -> List[str]:
    seed, number, config, root_str = job
    root = Path(root_str)
    name = f'{number:05d}'
    view = render_source_view(
        sequence_rng(seed, 'gta5', number), f'gta5_{name}', config.height, config.width,
        GTA5_LOOK)
    files = [f'images/{name}.png', f'labels/{name}.png', f'sde_depth/{name}.png']
    write_rgb(root / files[0], view.rgb)
    write_palette_png(root / files[1], view.label.astype(np.uint8),
                      cityscapes_color_lut())
    write_gray(root / files[2], depth_png(sde_depth_standin(view, GTA5_LOOK),
                                          SDE_DEPTH_SCALE))
    return files


def write_gta5(root: Path,
               config: GTA5Config = GTA5Config(),
               seed: int = 0,
               workers: int = 1) -> WriteResult:
    """Render street views and write them in the GTA5 layout.

    Args:
        root: Output folder (created).
        config: Set size.
        seed: Dataset seed; equal seeds give byte-identical files.
        workers: Rendering processes.

    Returns:
        WriteResult: What was written.
    """
    root = Path(root)
    jobs = [(seed, n, config, str(root)) for n in range(1, config.num_images + 1)]
    files: List[str] = []
    for written in parallel_map(_image_job, jobs, workers):
        files += written
    return WriteResult(root, files)
