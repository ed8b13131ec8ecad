"""Pure functions that turn depth maps and label maps into RGB pictures.

Used by :class:`~mmdepthsem.visualization.DepthSemLocalVisualizer` and by inference
outputs; they take numpy arrays or torch tensors and return ``(H, W, 3)`` uint8 RGB.
"""
from functools import lru_cache
from typing import Optional, Sequence, Tuple

import numpy as np

from mmdepthsem.utils.prediction_io import ArrayLike, to_numpy_map


@lru_cache(maxsize=32)
def colormap_lut(cmap: str) -> np.ndarray:
    """The 256-entry lookup table of a matplotlib colour map.

    Args:
        cmap: A matplotlib colour-map name, e.g. ``'turbo'``, ``'magma'``,
            ``'magma_r'``, ``'viridis'``.

    Returns:
        ``(256, 3)`` uint8 RGB; entry 0 is the low end of the map.
    """
    import matplotlib
    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f'Unknown colour map {cmap!r}; use a matplotlib name such as '
                         "'turbo', 'magma', 'inferno', 'viridis' (add '_r' to reverse)."
                         ) from None
    rgba = colormap(np.linspace(0.0, 1.0, 256))
    return np.round(rgba[:, :3] * 255).astype(np.uint8)


def valid_depth_mask(depth: ArrayLike) -> np.ndarray:
    """``(H, W)`` bool: finite and positive depth (``0`` means invalid)."""
    depth = to_numpy_map(depth, 'depth')
    return np.isfinite(depth) & (depth > 0)


def depth_value_range(depth: ArrayLike) -> Optional[Tuple[float, float]]:
    """``(min, max)`` of the valid pixels of a depth map, or ``None`` if none is valid."""
    depth = to_numpy_map(depth, 'depth')
    valid = depth[valid_depth_mask(depth)]
    if valid.size == 0:
        return None
    return float(valid.min()), float(valid.max())


def colorize_depth(depth: ArrayLike,
                   vmin: Optional[float] = None,
                   vmax: Optional[float] = None,
                   cmap: str = 'turbo',
                   invalid_color: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """Colour a depth map with a colour map; invalid pixels get ``invalid_color``.

    Values are mapped linearly from ``[vmin, vmax]`` (clipped) onto the 256 colours of
    ``cmap``: ``vmin`` gets the map's first colour, ``vmax`` its last.

    Args:
        depth: ``(H, W)`` or ``(1, H, W)`` metres; ``<= 0`` or non-finite is invalid.
        vmin: Depth of the first colour (metres); ``None`` for the valid minimum.
        vmax: Depth of the last colour (metres); ``None`` for the valid maximum.
        cmap: A matplotlib colour-map name. The default ``'turbo'`` never produces
            black, so black invalid pixels stay distinguishable.
        invalid_color: RGB of invalid pixels.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    depth = to_numpy_map(depth, 'depth').astype(np.float64)
    valid = valid_depth_mask(depth)
    if vmin is None or vmax is None:
        value_range = depth_value_range(depth) or (0.0, 1.0)
        vmin = value_range[0] if vmin is None else vmin
        vmax = value_range[1] if vmax is None else vmax
    span = vmax - vmin
    scaled = (depth - vmin) / span if span > 0 else np.zeros_like(depth)
    index = np.round(np.clip(np.nan_to_num(scaled), 0.0, 1.0) * 255).astype(np.int64)
    out = colormap_lut(cmap)[index]
    out[~valid] = np.asarray(invalid_color, dtype=np.uint8)
    return out


@lru_cache(maxsize=4)
def default_palette(num_colors: int = 256, seed: int = 2024) -> np.ndarray:
    """A fixed pseudo-random palette for label maps without a dataset palette.

    Returns:
        ``(num_colors, 3)`` uint8 RGB, identical on every call.
    """
    return np.random.RandomState(seed).randint(0, 256, (num_colors, 3)).astype(np.uint8)


def overlay_sem_seg(image: np.ndarray,
                    sem_seg: ArrayLike,
                    palette: Sequence[Sequence[int]],
                    alpha: float = 0.5,
                    ignore_index: int = 255) -> np.ndarray:
    """Blend a label map's palette colours over an image.

    Pixels labelled ``c`` become ``round((1 - alpha) * image + alpha * palette[c])``;
    pixels with ``ignore_index`` or a label outside the palette keep the image.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        sem_seg: ``(H, W)`` or ``(1, H, W)`` integer class ids.
        palette: RGB colour per class id.
        alpha: Opacity of the label colours, in ``[0, 1]``.
        ignore_index: Label left uncoloured.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    labels = to_numpy_map(sem_seg, 'sem_seg').astype(np.int64)
    if labels.shape != image.shape[:2]:
        raise ValueError(f'sem_seg {labels.shape} and image {image.shape[:2]} differ in '
                         'size.')
    palette = np.asarray(palette, dtype=np.float64).reshape(-1, 3)
    coloured = (labels >= 0) & (labels < len(palette)) & (labels != ignore_index)
    out = image.astype(np.float64)
    out[coloured] = (1 - alpha) * out[coloured] + alpha * palette[labels[coloured]]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def resize_nearest(array: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of the first two axes (any dtype, any channels).

    Args:
        array: ``(H, W)`` or ``(H, W, C)``.
        size: Target ``(H', W')``.

    Returns:
        ``(H', W')`` or ``(H', W', C)``; sample centres map to the nearest source pixel.
    """
    height, width = array.shape[:2]
    if (height, width) == tuple(size):
        return array
    rows = np.minimum(((np.arange(size[0]) + 0.5) * height / size[0]).astype(np.int64),
                      height - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * width / size[1]).astype(np.int64),
                      width - 1)
    return array[rows[:, None], cols[None, :]]
