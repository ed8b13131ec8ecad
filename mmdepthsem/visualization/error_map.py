"""Per-pixel depth error maps as RGB pictures.

The absolute relative error of a prediction ``d`` against the ground truth ``d*`` is
``|d - d*| / d*`` at every pixel where the ground truth is valid, the quantity whose
mean is the ``abs_rel`` metric of :mod:`mmdepthsem.evaluation.functional`.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from mmdepthsem.utils.prediction_io import ArrayLike, to_numpy_map

from .colormap import colormap_lut


def abs_rel_error(pred: ArrayLike,
                  gt: ArrayLike,
                  valid: Optional[ArrayLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Absolute relative error ``|d - d*| / d*`` per pixel and where it is defined.

    Args:
        pred: Predicted depth ``(H, W)`` or ``(1, H, W)``.
        gt: Ground-truth depth of the same size; ``<= 0`` or non-finite is invalid.
        valid: Optional ``(H, W)`` bool mask of the pixels to evaluate (e.g. the
            evaluation crop and depth range); combined with the validity of ``gt`` and
            the finiteness of ``pred``.

    Returns:
        ``(error, mask)``: ``(H, W)`` float64 errors (``0`` outside the mask) and the
        ``(H, W)`` bool mask of the pixels where the error is defined.

    Raises:
        ValueError: If the shapes of ``pred``, ``gt`` and ``valid`` differ.
    """
    pred = to_numpy_map(pred, 'pred').astype(np.float64)
    gt = to_numpy_map(gt, 'gt').astype(np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} differ in size.')
    mask = np.isfinite(gt) & (gt > 0) & np.isfinite(pred)
    if valid is not None:
        valid = to_numpy_map(valid, 'valid').astype(bool)
        if valid.shape != gt.shape:
            raise ValueError(f'valid {valid.shape} and gt {gt.shape} differ in size.')
        mask &= valid
    error = np.zeros_like(gt)
    error[mask] = np.abs(pred[mask] - gt[mask]) / gt[mask]
    return error, mask


def abs_rel_error_map(pred: ArrayLike,
                      gt: ArrayLike,
                      valid: Optional[ArrayLike] = None,
                      max_rel: float = 0.5,
                      cmap: str = 'turbo',
                      invalid_color: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """Colour the absolute relative error of a depth prediction.

    The error is mapped linearly from ``[0, max_rel]`` onto the 256 colours of
    ``cmap``: zero error gets the map's first colour, errors ``>= max_rel`` its last.
    Pixels where the error is undefined (see :func:`abs_rel_error`) get
    ``invalid_color``.

    Args:
        pred: Predicted depth ``(H, W)`` or ``(1, H, W)``.
        gt: Ground-truth depth of the same size; ``<= 0`` or non-finite is invalid.
        valid: Optional ``(H, W)`` bool mask of the evaluated pixels.
        max_rel: Error of the top colour, ``> 0``.
        cmap: A matplotlib colour-map name. The default ``'turbo'`` never produces
            black, so black invalid pixels stay distinguishable.
        invalid_color: RGB of pixels without a defined error.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    if not max_rel > 0:
        raise ValueError(f'max_rel must be positive, got {max_rel}.')
    error, mask = abs_rel_error(pred, gt, valid)
    index = np.round(np.clip(error / max_rel, 0.0, 1.0) * 255).astype(np.int64)
    out = colormap_lut(cmap)[index]
    out[~mask] = np.asarray(invalid_color, dtype=np.uint8)
    return out
