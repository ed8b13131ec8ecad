"""SGRE's binary foreground labels and SEEM point sampling (sec. 4.1-4.2, Table 7)."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdepthsem.registry import TRANSFORMS
from mmdepthsem.utils.edge_points import sample_edge_points, seem_point_counts
from .loading import DataFileError

#: SGRE Table 7 foreground classes (Cityscapes train ids 6, 7, 11..18); pole and all
#: other classes are background.
SGRE_FOREGROUND_CLASSES: Tuple[str, ...] = (
    'traffic light', 'traffic sign', 'person', 'rider', 'car', 'truck', 'bus', 'train',
    'motorcycle', 'bicycle')

#: Label-map key → ``results`` key of its file, for error messages.
_PATH_KEYS = {'gt_seg_map': 'seg_map_path', 'gt_pseudo_seg_map': 'pseudo_seg_map_path'}


def _cityscapes_train_id_names() -> Tuple[str, ...]:
    """The 19 Cityscapes class names, indexed by train id."""
    # Imported here: the datasets package imports these transforms first.
    from mmdepthsem.datasets.cityscapes import CITYSCAPES_LABELS
    train = sorted((t, name) for _, name, t in CITYSCAPES_LABELS if t != 255)
    return tuple(name for _, name in train)


@TRANSFORMS.register_module()
class BinaryForegroundMap(BaseTransform):
    """Map full label maps to binary foreground (1) / background (0), in place.

    SGRE's semantic branch is trained on binary pseudo-labels (sec. 4.1, Table 7,
    :data:`SGRE_FOREGROUND_CLASSES`). Ids in ``foreground_classes`` become 1, other
    valid ids 0, ``ignore_index`` stays.

    Required keys: every entry of ``keys``.
    Modified keys: the same, as ``(H, W)`` uint8 maps.

    Args:
        foreground_classes: Foreground class ids or names (names are looked up in
            ``class_names``).
        keys: The label maps to convert.
        class_names: Class names indexed by label id. Defaults to the 19 Cityscapes
            train-id classes.
        ignore_index: The unlabelled id, kept as is.

    Raises:
        KeyError: An unknown class name, or a ``keys`` entry missing in ``results``.
        ValueError: A foreground id outside ``class_names``; a label id neither a
            class nor ``ignore_index`` (:class:`DataFileError`, naming the file).
    """

    def __init__(self,
                 foreground_classes: Sequence[Union[int, str]],
                 keys: Sequence[str] = ('gt_pseudo_seg_map', ),
                 class_names: Optional[Sequence[str]] = None,
                 ignore_index: int = 255) -> None:
        self.class_names = tuple(class_names if class_names is not None else
                                 _cityscapes_train_id_names())
        if not 0 <= ignore_index <= 255:
            raise ValueError(f'ignore_index must fit uint8, got {ignore_index}')
        ids = []
        for cls in foreground_classes:
            if isinstance(cls, str):
                if cls not in self.class_names:
                    raise KeyError(f'unknown class name {cls!r}; known: '
                                   f'{", ".join(self.class_names)}')
                ids.append(self.class_names.index(cls))
            elif 0 <= int(cls) < len(self.class_names):
                ids.append(int(cls))
            else:
                raise ValueError(f'foreground class id {cls} is outside the '
                                 f'{len(self.class_names)} classes')
        self.foreground_classes = tuple(foreground_classes)
        self.foreground_ids = tuple(sorted(set(ids)))
        self.keys = tuple(keys)
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            if key not in results:
                raise KeyError(f'BinaryForegroundMap: results have no {key!r}')
            results[key] = self._binarize(np.asarray(results[key]), key, results)
        return results

    def _binarize(self, label: np.ndarray, key: str, results: dict) -> np.ndarray:
        num_classes = len(self.class_names)
        bad = ((label < 0) | (label >= num_classes)) & (label != self.ignore_index)
        if bad.any():
            path = results.get(_PATH_KEYS.get(key, ''), results.get('img_path'))
            ids = ', '.join(str(int(i)) for i in np.unique(label[bad])[:10])
            raise DataFileError(
                f'BinaryForegroundMap: {key} of {path} holds ids {ids} outside the '
                f'{num_classes} classes (ignore = {self.ignore_index})', path)
        binary = np.isin(label, self.foreground_ids).astype(np.uint8)
        binary[label == self.ignore_index] = self.ignore_index
        return binary

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'foreground_classes={self.foreground_classes}, keys={self.keys}, '
                f'ignore_index={self.ignore_index})')


@TRANSFORMS.register_module()
class SampleSEEMPoints(BaseTransform):
    """Sample SEEM's edge, disturbed-edge and random points (SGRE sec. 4.2).

    See :func:`~mmdepthsem.utils.edge_points.sample_edge_points`. The point count
    ``N`` is ``num_points`` at ``ref_size`` and scales linearly with the image side
    (``N_s = round(N * sqrt(H W / (h_ref w_ref)))``, ``scale_with_size``); ``mu N_s``
    edge points, as many disturbed ones and ``(1 - 2 mu) N_s`` random ones.

    The points are pixel positions of the final image, so this must run after every
    geometric transform (Resize, Flip, Crop, ...), right before packing.

    The binary mask is ``results[mask_key] == foreground_value``; ignore pixels count
    as background, since a void region's border (e.g. the unlabelled image bottom)
    is not a semantic edge unless it also borders foreground.

    Required keys: ``mask_key``.
    Added keys: ``seem_points`` (``(N, 2)`` int64 ``(x, y)`` pixels, rows
    ``S_E, S_D, S_R``), ``seem_num_edge_points`` (int, how many ``S_E`` rows lie on
    a real edge).

    Args:
        num_points: ``N`` at ``ref_size`` (paper: 3000).
        edge_ratio: ``mu`` (paper: 0.4).
        max_offset: ``c``, the disturbance range in pixels (paper: 3).
        ref_size: ``(h, w)`` at which ``num_points`` holds (paper: 192x640).
        scale_with_size: Scale ``N`` with the image side.
        mask_key: The binary label map (see :class:`BinaryForegroundMap`).
        foreground_value: The foreground value of that map.
        ignore_index: The map's unlabelled id (background for edges).
        seed: Fixed seed: every call draws the same points for the same mask
            (deterministic evaluation). ``None`` seeds each call from numpy's global
            generator, which mmengine seeds per worker.
    """

    def __init__(self,
                 num_points: int = 3000,
                 edge_ratio: float = 0.4,
                 max_offset: int = 3,
                 ref_size: Tuple[int, int] = (192, 640),
                 scale_with_size: bool = True,
                 mask_key: str = 'gt_pseudo_seg_map',
                 foreground_value: int = 1,
                 ignore_index: int = 255,
                 seed: Optional[int] = None) -> None:
        seem_point_counts(*ref_size, num_points, edge_ratio, ref_size)  # validates
        if max_offset < 0:
            raise ValueError(f'max_offset must be >= 0, got {max_offset}')
        if foreground_value == ignore_index:
            raise ValueError(f'foreground_value and ignore_index are both '
                             f'{ignore_index}')
        self.num_points = num_points
        self.edge_ratio = edge_ratio
        self.max_offset = max_offset
        self.ref_size = tuple(ref_size)
        self.scale_with_size = scale_with_size
        self.mask_key = mask_key
        self.foreground_value = foreground_value
        self.ignore_index = ignore_index
        self.seed = seed

    def transform(self, results: dict) -> dict:
        if results.get(self.mask_key) is None:
            raise KeyError(f'SampleSEEMPoints: results have no {self.mask_key!r}')
        label = np.asarray(results[self.mask_key])
        if label.ndim != 2:
            raise ValueError(f'SampleSEEMPoints: {self.mask_key} must be (H, W), got '
                             f'{label.shape}')
        # ignore_index != foreground_value, so ignore pixels are background here
        mask = torch.from_numpy(np.ascontiguousarray(label == self.foreground_value))
        num_edge, num_random = seem_point_counts(
            *label.shape, self.num_points, self.edge_ratio, self.ref_size,
            self.scale_with_size)
        seed = self.seed if self.seed is not None else np.random.randint(2**31)
        generator = torch.Generator().manual_seed(int(seed))
        points, num_on_edges = sample_edge_points(
            mask, num_edge, num_random, self.max_offset, generator)
        results['seem_points'] = points.numpy().astype(np.int64)
        results['seem_num_edge_points'] = num_on_edges
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_points={self.num_points}, '
                f'edge_ratio={self.edge_ratio}, max_offset={self.max_offset}, '
                f'ref_size={self.ref_size}, scale_with_size={self.scale_with_size}, '
                f'mask_key={self.mask_key!r}, '
                f'foreground_value={self.foreground_value}, '
                f'ignore_index={self.ignore_index}, seed={self.seed})')
