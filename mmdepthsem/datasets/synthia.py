"""SYNTHIA-RAND-CITYSCAPES: synthetic source domain with 16 Cityscapes classes.

Synthia → Cityscapes protocol (UDA / SSDA): the segmentation model keeps the 19
Cityscapes train ids (the same head as for Cityscapes alone). Synthia labels never
contain terrain, truck or train (their Synthia ids map to 255), so only the 16
classes of :data:`SYNTHIA_16_CLASSES` are trained; in a semi-supervised setting the
labelled Cityscapes samples should ignore the other three as well
(:data:`CITYSCAPES_NOT_IN_SYNTHIA_TO_IGNORE` as the ``label_map`` of their
``LoadSemAnnotation``). Evaluation runs the 19-class model on Cityscapes val with
the full 19-class confusion matrix; ``IoUMetric(eval_classes=...)`` averages the
per-class IoU over :data:`SYNTHIA_13_CLASSES` (``mIoU``) and the other summary over
all 19 classes (``mIoU_all``); a second ``IoUMetric`` with
``eval_classes=SYNTHIA_16_CLASSES`` gives the 16-class mIoU. Pixels of the three
untrained classes stay in the labels: predicted as an evaluated class they are
false positives of that class, and predictions of the untrained classes are misses
of the true class (as in DACS / DAFormer's evaluation).
"""
from typing import Dict, Optional, Tuple

import numpy as np
from mmseg.datasets import CityscapesDataset

from mmdepthsem.registry import DATASETS, TRANSFORMS
from .image_folder import LabelledImageFolderDataset
from .transforms.loading import (DataFileError, LoadSemAnnotation, _apply_label_map,
                                 _check_label_ids, _check_same_size, read_image)

#: (Synthia id, Synthia class name, Cityscapes train id) of the SYNTHIA-RAND-CITYSCAPES
#: README. The 16 classes shared with Cityscapes get their train id; void, parking
#: slot, road work, lane marking and the classes Synthia (almost) never shows
#: (terrain, truck, train) are ignored (255), following the standard protocol.
SYNTHIA_LABELS: Tuple[Tuple[int, str, int], ...] = (
    (0, 'void', 255),
    (1, 'sky', 10),
    (2, 'building', 2),
    (3, 'road', 0),
    (4, 'sidewalk', 1),
    (5, 'fence', 4),
    (6, 'vegetation', 8),
    (7, 'pole', 5),
    (8, 'car', 13),
    (9, 'traffic sign', 7),
    (10, 'pedestrian', 11),
    (11, 'bicycle', 18),
    (12, 'motorcycle', 17),
    (13, 'parking-slot', 255),
    (14, 'road-work', 255),
    (15, 'traffic light', 6),
    (16, 'terrain', 255),
    (17, 'rider', 12),
    (18, 'truck', 255),
    (19, 'bus', 15),
    (20, 'train', 255),
    (21, 'wall', 3),
    (22, 'lanemarking', 255),
)
#: Synthia id → Cityscapes train id (0..18, 255 = ignored).
SYNTHIA_ID_TO_TRAIN_ID: Dict[int, int] = {i: t for i, _, t in SYNTHIA_LABELS}

_CITYSCAPES_CLASSES: Tuple[str, ...] = tuple(CityscapesDataset.METAINFO['classes'])
#: The 16 Cityscapes classes Synthia labels (Cityscapes train-id order): training.
SYNTHIA_16_CLASSES: Tuple[str, ...] = tuple(
    c for c in _CITYSCAPES_CLASSES if c not in ('terrain', 'truck', 'train'))
#: The 13 classes of the usual Synthia mIoU: the 16 without wall, fence and pole.
SYNTHIA_13_CLASSES: Tuple[str, ...] = tuple(
    c for c in SYNTHIA_16_CLASSES if c not in ('wall', 'fence', 'pole'))
#: Cityscapes train id → 255 for the three classes Synthia does not label (a
#: ``label_map`` for labelled Cityscapes samples in Synthia → Cityscapes training).
CITYSCAPES_NOT_IN_SYNTHIA_TO_IGNORE: Dict[int, int] = {
    _CITYSCAPES_CLASSES.index(c): 255
    for c in ('terrain', 'truck', 'train')
}


@TRANSFORMS.register_module()
class LoadSynthiaAnnotation(LoadSemAnnotation):
    """Load a SYNTHIA-RAND-CITYSCAPES label (``GT/LABELS``) as train ids.

    The files are 16-bit, 3-channel PNGs: the class id is in the first (red)
    channel, the instance id in the second. They are read with OpenCV (channel
    order BGR, so the class is channel 2); a single-channel PNG is taken as the
    class-id map itself (e.g. labels converted beforehand). Ids are mapped with
    ``label_map`` (default: the sample's, i.e. :data:`SYNTHIA_ID_TO_TRAIN_ID`);
    an id outside the Synthia table is a :class:`DataFileError` naming the file.

    Required keys: ``seg_map_path``, ``label_map`` (or the argument); optional
    ``num_classes``, ``ori_shape``.
    Added keys: ``gt_seg_map`` (``(H, W)`` uint8 train ids, ``255`` ignore),
    ``seg_fields``.

    Args:
        label_map: ``{synthia_id: train_id}``; ``None`` takes
            ``results['label_map']``.
        num_classes: As in :class:`LoadSemAnnotation`.
        ignore_index: The ignore id.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 label_map: Optional[Dict[int, int]] = None,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            reduce_zero_label=False,
            label_map=label_map,
            num_classes=num_classes,
            ignore_index=ignore_index,
            imdecode_backend='cv2',
            backend_args=backend_args)

    def load_label(self, path: str, results: dict, what: str) -> np.ndarray:
        """Read the class channel, map ids to train ids and check them.

        Returns:
            ``(H, W)`` uint8 train ids.
        """
        raw = read_image(path, what, 'unchanged', 'cv2', self.backend_args)
        if raw.ndim == 3 and raw.shape[2] >= 3:
            label = raw[..., 2]  # red = class id (OpenCV reads BGR)
        elif raw.ndim == 3 and raw.shape[2] == 1:
            label = raw[..., 0]
        elif raw.ndim == 2:
            label = raw
        else:
            raise DataFileError(
                f'{what} {path} has shape {raw.shape}; a Synthia label is a (H, W, 3) '
                'PNG with the class id in the red channel', path)
        label = label.astype(np.int64)
        label_map = self.label_map
        if label_map is None:
            label_map = results.get('label_map')
        if label_map:
            unknown = ~np.isin(label, list(label_map))
            if unknown.any():
                ids = ', '.join(str(int(i)) for i in np.unique(label[unknown])[:10])
                raise DataFileError(
                    f'{what} {path} holds class ids {ids} ({int(unknown.sum())} '
                    'pixels) that are not SYNTHIA-RAND-CITYSCAPES ids (0..22): is it '
                    'a GT/LABELS file?', path)
            label = _apply_label_map(label, label_map)
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = results.get('num_classes')
        _check_label_ids(label, path, num_classes, self.ignore_index)
        _check_same_size(label.shape, results, path, what)
        return label.astype(np.uint8)


@DATASETS.register_module()
class SynthiaDepthSemDataset(LabelledImageFolderDataset):
    """SYNTHIA-RAND-CITYSCAPES images, 16-class labels and optional SDE depth.

    Layout of the download (9400 frames, 1280×760) under ``data_root``::

        RGB/0000000.png ...          colour
        GT/LABELS/0000000.png ...    uint16 × 3: class id (red), instance id (green)
        GT/COLOR/0000000.png ...     colour rendering (not used)
        Depth/Depth/0000000.png ...  ground-truth depth (not used: SDE-Seg mixes with
                                     self-supervised estimates, as for the target)

    Load the labels with :class:`LoadSynthiaAnnotation` (not
    ``LoadSemAnnotation``, which rejects 3-channel label files): the sample's
    ``label_map`` (:data:`SYNTHIA_ID_TO_TRAIN_ID`) turns them into Cityscapes train
    ids, so the metainfo is Cityscapes' 19 classes, of which the labels use 16
    (:data:`SYNTHIA_16_CLASSES`; see the module docstring for the 13/16-class
    evaluation).

    SDE depth estimates work as in :class:`GTA5DepthSemDataset`
    (``depth_estimate_dir``, ``<sample_name><suffix>``, :class:`LoadDepthEstimate`).

    Fills: ``img_path``, ``seg_map_path`` (``with_seg``), ``label_map``,
    ``depth_estimate_path`` (with ``depth_estimate_dir``), ``sample_name`` (the file
    stem), ``seg_fields``, ``reduce_zero_label``; ``num_classes`` at fetch time.

    Args:
        with_seg: Add the label path.
        depth_estimate_dir: Folder of SDE depth estimates, relative to
            ``data_root`` unless absolute; ``None`` for none.
        depth_estimate_suffix: Suffix of the estimate files.
        data_prefix: Overrides of ``dict(img_path='RGB', seg_map_path='GT/LABELS')``.
        img_suffix: Suffix of the images (and of the labels).
        **kwargs: :class:`BaseDepthSemDataset` arguments; ``ann_file`` lists
            image names (one per line) to use instead of every image.
    """

    METAINFO = CityscapesDataset.METAINFO
    PREPARE_HINT = ('download SYNTHIA-RAND-CITYSCAPES (synthia-dataset.net) and '
                    'unpack it into data/synthia (RGB/, GT/LABELS/)')
    DEFAULT_PREFIX = dict(img_path='RGB', seg_map_path='GT/LABELS')
    ID_TO_TRAIN_ID = SYNTHIA_ID_TO_TRAIN_ID
    FOLDER_NAMES = ('the RGB folder', 'the GT/LABELS folder')
