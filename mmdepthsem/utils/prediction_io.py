"""Writing predictions to files users and other tools can read."""
import os
import os.path as osp
from typing import Union

import cv2
import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]

# 16-bit PNGs hold depth in millimetres, the NYU/KITTI-style convention.
DEPTH_PNG_SCALE = 1000.0


def to_numpy_map(array: ArrayLike, name: str = 'map') -> np.ndarray:
    """A ``(H, W)`` numpy array from a ``(H, W)`` / ``(1, H, W)`` array or tensor.

    Raises:
        ValueError: Naming ``name`` when the shape is neither.
    """
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f'{name} must be (H, W) or (1, H, W), got shape {array.shape}.')
    return array


def save_depth_png(path: str, depth: ArrayLike, scale: float = DEPTH_PNG_SCALE) -> None:
    """Save depth (metres) as a 16-bit PNG of ``round(depth * scale)``.

    Values are clipped to the uint16 range (65.535 m at the default millimetre
    scale); NaN/negative become 0 (invalid).
    """
    depth = to_numpy_map(depth, 'depth').astype(np.float64)
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, 0.0)
    raw = np.clip(np.round(depth * scale), 0, np.iinfo(np.uint16).max)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if not cv2.imwrite(path, raw.astype(np.uint16)):
        raise OSError(f'could not write {path}')


def load_depth_png(path: str, scale: float = DEPTH_PNG_SCALE) -> np.ndarray:
    """Read a depth PNG written by :func:`save_depth_png` back into metres."""
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise OSError(f'could not read depth PNG {path}')
    return raw.astype(np.float32) / scale


def save_label_png(path: str, labels: ArrayLike) -> None:
    """Save class ids ``(H, W)`` as an 8-bit PNG (ids must be < 256)."""
    labels = to_numpy_map(labels, 'labels')
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f'{path}: class ids must lie in [0, 255] for an 8-bit PNG')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if not cv2.imwrite(path, labels.astype(np.uint8)):
        raise OSError(f'could not write {path}')
