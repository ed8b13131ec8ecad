"""File-writing helpers shared by the format writers (equal input, equal bytes)."""
import io
import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, List, Sequence, TypeVar

import cv2
import numpy as np
import scipy.io

T = TypeVar('T')
R = TypeVar('R')

#: Fixed MATLAB 5 header text (scipy writes the creation time there, which would make
#: otherwise identical files differ).
_MAT5_DESCRIPTION = (b'MATLAB 5.0 MAT-file, '
                     b'written by the mmdepthsem synthetic data generator')
#: Bytes of descriptive text at the start of a MAT-file header (v5 and v7.3 alike).
MAT_HEADER_TEXT_BYTES = 116


@dataclass
class WriteResult:
    """What a format writer wrote.

    Attributes:
        root: Output folder.
        files: Written files, relative to ``root``.
    """

    root: Path
    files: List[str]


def parallel_map(fn: Callable[[T], R], items: Sequence[T], workers: int = 1) -> List[R]:
    """``[fn(x) for x in items]``, optionally in ``workers`` forked processes.

    Results come back in input order, so output does not depend on ``workers``.
    """
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    ctx = multiprocessing.get_context('fork')
    with ctx.Pool(min(workers, len(items))) as pool:
        return pool.map(fn, items, chunksize=1)


def _prepare(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def write_rgb(path: Path, rgb: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB image as PNG or JPEG (by suffix).

    Raises:
        OSError: If OpenCV cannot write the file.
    """
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality
              ] if path.suffix.lower() in ('.jpg', '.jpeg') else []
    if not cv2.imwrite(_prepare(path), np.ascontiguousarray(rgb[..., ::-1]), params):
        raise OSError(f'could not write image {path}')


def write_gray(path: Path, image: np.ndarray) -> None:
    """Write an ``(H, W)`` uint8 or uint16 single-channel PNG.

    Raises:
        OSError: If OpenCV cannot write the file.
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f'{path}: expected uint8 or uint16, got {image.dtype}')
    if not cv2.imwrite(_prepare(path), np.ascontiguousarray(image)):
        raise OSError(f'could not write image {path}')


def depth_png(depth: np.ndarray, scale: float) -> np.ndarray:
    """Encode metric depth as a 16-bit depth PNG image.

    Args:
        depth: ``(H, W)`` metres, 0 = invalid.
        scale: PNG value per metre (1000 for NYU, 256 for KITTI).

    Returns:
        np.ndarray: ``(H, W)`` uint16 ``round(depth * scale)``, clipped to the uint16
        range.
    """
    return np.clip(np.rint(depth * scale), 0, np.iinfo(np.uint16).max).astype(np.uint16)


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write text lines (``\\n``-terminated)."""
    Path(_prepare(path)).write_text(''.join(f'{line}\n' for line in lines))


def write_json(path: Path, data: Any) -> None:
    """Write JSON with sorted keys and a trailing newline."""
    Path(_prepare(path)).write_text(json.dumps(data, indent=2, sort_keys=True) + '\n')


def write_mat_v5(path: Path, arrays: dict) -> None:
    """Write a MATLAB v5 ``.mat`` (``scipy.io.savemat``) with a fixed header text."""
    buf = io.BytesIO()
    scipy.io.savemat(buf, arrays, format='5', oned_as='column')
    data = bytearray(buf.getvalue())
    data[:MAT_HEADER_TEXT_BYTES] = _MAT5_DESCRIPTION.ljust(MAT_HEADER_TEXT_BYTES)
    Path(_prepare(path)).write_bytes(bytes(data))


def relative_files(root: Path) -> List[str]:
    """All files under ``root`` as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob('*') if p.is_file())
