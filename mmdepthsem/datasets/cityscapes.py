"""Cityscapes with semantic labels, disparity-derived depth and sequence neighbours."""
import json
from typing import Dict, List, Optional, Sequence, Tuple

import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets import CityscapesDataset

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset
from .file_list import pinhole_intrinsics
from .transforms.loading import DataFileError

IMG_SUFFIX = '_leftImg8bit.png'
#: 0-based position of the annotated frame in its 30-frame snippet (the 20th).
ANNOTATED_FRAME_POSITION = 19
SNIPPET_LENGTH = 30

#: (id, name, train id) of the official Cityscapes label definition.
CITYSCAPES_LABELS: Tuple[Tuple[int, str, int], ...] = (
    (0, 'unlabeled', 255),
    (1, 'ego vehicle', 255),
    (2, 'rectification border', 255),
    (3, 'out of roi', 255),
    (4, 'static', 255),
    (5, 'dynamic', 255),
    (6, 'ground', 255),
    (7, 'road', 0),
    (8, 'sidewalk', 1),
    (9, 'parking', 255),
    (10, 'rail track', 255),
    (11, 'building', 2),
    (12, 'wall', 3),
    (13, 'fence', 4),
    (14, 'guard rail', 255),
    (15, 'bridge', 255),
    (16, 'tunnel', 255),
    (17, 'pole', 5),
    (18, 'polegroup', 255),
    (19, 'traffic light', 6),
    (20, 'traffic sign', 7),
    (21, 'vegetation', 8),
    (22, 'terrain', 9),
    (23, 'sky', 10),
    (24, 'person', 11),
    (25, 'rider', 12),
    (26, 'car', 13),
    (27, 'truck', 14),
    (28, 'bus', 15),
    (29, 'caravan', 255),
    (30, 'trailer', 255),
    (31, 'train', 16),
    (32, 'motorcycle', 17),
    (33, 'bicycle', 18),
)
#: Official label id → train id (0..18, 255 = ignored in training).
LABEL_ID_TO_TRAIN_ID: Dict[int, int] = {i: t for i, _, t in CITYSCAPES_LABELS}
#: The same as a ``(256,)`` uint8 lookup table (ids outside the table → 255).
LABEL_ID_TO_TRAIN_ID_LUT = np.full(256, 255, dtype=np.uint8)
LABEL_ID_TO_TRAIN_ID_LUT[list(LABEL_ID_TO_TRAIN_ID)] = list(LABEL_ID_TO_TRAIN_ID.values())
LABEL_ID_TO_TRAIN_ID_LUT.flags.writeable = False


def read_cityscapes_camera(path: str, backend_args: Optional[dict] = None) -> dict:
    """Read a Cityscapes ``*_camera.json``.

    Args:
        path: The JSON file.
        backend_args: mmengine file backend arguments.

    Returns:
        dict with ``baseline`` (metres), ``fx``, ``fy``, ``u0``, ``v0`` (pixels).

    Raises:
        DataFileError: The file is not JSON, lacks a key or holds a non-finite
            value or a non-positive baseline / focal length (naming file and key).
    """
    try:
        data = json.loads(fileio.get_text(path, backend_args=backend_args))
    except json.JSONDecodeError as error:
        raise DataFileError(f'camera file {path} is not valid JSON: {error}',
                            path) from error
    camera = {}
    for group, key in (('extrinsic', 'baseline'), ('intrinsic', 'fx'),
                       ('intrinsic', 'fy'), ('intrinsic', 'u0'), ('intrinsic', 'v0')):
        try:
            camera[key] = float(data[group][key])
        except (KeyError, TypeError, ValueError):
            raise DataFileError(f'camera file {path} has no number at '
                                f'{group}.{key}', path) from None
        # JSON allows NaN; a NaN or zero baseline/focal would turn into NaN or
        # all-invalid depth far from this file
        positive = key in ('baseline', 'fx', 'fy')
        if not np.isfinite(camera[key]) or (positive and camera[key] <= 0):
            raise DataFileError(
                f'camera file {path}: {group}.{key} is {camera[key]}, not a '
                f'{"positive " if positive else ""}finite number', path)
    return camera


@DATASETS.register_module()
class CityscapesDepthSemDataset(BaseDepthSemDataset):
    """Cityscapes: images, 19-class train-id labels, depth from disparity, sequences.

    Layout under ``data_root``::

        leftImg8bit/{split}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
        gtFine/{split}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
        disparity/{split}/<city>/<city>_<seq>_<frame>_disparity.png
        camera/{split}/<city>/<city>_<seq>_<frame>_camera.json
        leftImg8bit_sequence/{split}/<city>/<city>_<seq>_<frame>_leftImg8bit.png

    ``labelTrainIds`` are made by the official scripts, mmseg's converter or
    ``tools/dataset_converters/cityscapes.py``. The annotated frame is the 20th of
    its 30-frame snippet, so neighbour ``i`` (``frame_ids``) is frame number
    ``frame + i`` of the same sequence, with ``-19 <= i <= 10``. A camera file
    that is missing, not JSON or lacks a key raises an error naming it (and the
    key) when the data list is built; with ``skip_bad_samples=True`` the image is
    dropped with a warning instead, like an image with a missing file.

    Fills: ``img_path``, ``seg_map_path`` (``with_seg``), ``disparity_path``
    (``with_disparity``; load with :class:`LoadCityscapesDisparity`), ``camera``
    and ``intrinsics`` (``with_camera``; from the camera file, pixels of the
    2048×1024 image), ``frame_ids``, ``frame_paths``, ``sample_name``
    (``<city>/<city>_<seq>_<frame>``), ``seg_fields``, ``reduce_zero_label``;
    ``num_classes`` at fetch time.

    Args:
        split: ``'train'``, ``'val'`` or ``'test'``.
        with_seg: Add the label path.
        with_disparity: Add the disparity path.
        with_camera: Read the camera files (``camera``, ``intrinsics``); needed
            to turn disparity into depth.
        frame_ids: Relative indices of the sequence neighbours to list.
        targets: ``'annotated'`` (the annotated frame of every snippet, the
            default) or ``'sequence'``: every frame of ``leftImg8bit_sequence``
            whose ``frame_ids`` neighbours exist is a target (self-supervised depth
            on all sequence frames, as SDE-Seg's SDE pretraining; frames at the
            ends of a snippet are left out without a warning). Sequence targets
            have no labels or disparity (``with_seg`` / ``with_disparity`` must be
            off); their camera is that of their snippet's annotated frame.
        data_prefix: Overrides of the five folders (keys ``img_path``,
            ``seg_map_path``, ``disparity_path``, ``camera_path``,
            ``sequence_path``).
        seg_map_suffix: Suffix of the label files.
        metainfo: Overrides of mmseg's Cityscapes classes / palette.
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    METAINFO = CityscapesDataset.METAINFO
    PREPARE_HINT = ('download leftImg8bit, gtFine, disparity and camera (and '
                    'leftImg8bit_sequence for neighbours) into data/cityscapes, '
                    'then: python tools/dataset_converters/cityscapes.py '
                    'data/cityscapes')

    def __init__(self,
                 split: str = 'train',
                 with_seg: bool = True,
                 with_disparity: bool = True,
                 with_camera: bool = True,
                 frame_ids: Sequence[int] = (),
                 data_prefix: Optional[dict] = None,
                 seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 targets: str = 'annotated',
                 **kwargs) -> None:
        if targets not in ('annotated', 'sequence'):
            raise ValueError(f"targets must be 'annotated' or 'sequence', got "
                             f'{targets!r}')
        if targets == 'sequence' and (with_seg or with_disparity):
            raise ValueError("targets='sequence' lists frames without labels or "
                             'disparity: set with_seg=False and with_disparity=False')
        self.targets = targets
        frame_ids = tuple(int(i) for i in frame_ids)
        low = -ANNOTATED_FRAME_POSITION
        high = SNIPPET_LENGTH - 1 - ANNOTATED_FRAME_POSITION
        bad = [i for i in frame_ids if i == 0 or not low <= i <= high]
        if bad:
            raise ValueError(
                f'frame_ids {bad} are invalid: neighbours of the annotated '
                f'(20th) frame of a 30-frame snippet lie in [{low}, {high}] and '
                'exclude 0')
        self.split = split
        self._annotated: Dict[str, str] = {}
        self.with_seg = with_seg
        self.with_disparity = with_disparity
        self.with_camera = with_camera
        self.frame_ids = frame_ids
        self.seg_map_suffix = seg_map_suffix
        prefix = dict(
            img_path=f'leftImg8bit/{split}',
            seg_map_path=f'gtFine/{split}',
            disparity_path=f'disparity/{split}',
            camera_path=f'camera/{split}',
            sequence_path=f'leftImg8bit_sequence/{split}')
        prefix.update(data_prefix or {})
        super().__init__(data_prefix=prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the annotated images (or sequence frames) of the split."""
        img_dir = self.require(self.data_prefix['img_path'],
                               f'the {self.split!r} image folder')
        names = sorted(
            fileio.list_dir_or_file(
                img_dir,
                list_dir=False,
                suffix=IMG_SUFFIX,
                recursive=True,
                backend_args=self.backend_args))
        if self.targets == 'sequence':
            names = self._sequence_targets(names)
            img_dir = self.data_prefix['sequence_path']
        data_list = []
        for rel in names:
            stem = rel[:-len(IMG_SUFFIX)]  # <city>/<city>_<seq>_<frame>
            info = self.common_info(stem)
            info['img_path'] = fileio.join_path(img_dir, rel)
            files = {'image': info['img_path']}
            if self.with_seg:
                info['seg_map_path'] = fileio.join_path(self.data_prefix['seg_map_path'],
                                                        stem + self.seg_map_suffix)
                files['label map'] = info['seg_map_path']
            if self.with_disparity:
                info['disparity_path'] = fileio.join_path(
                    self.data_prefix['disparity_path'], stem + '_disparity.png')
                files['disparity map'] = info['disparity_path']
            city_prefix, sequence, frame = stem.rsplit('_', 2)
            info['frame_ids'] = self.frame_ids
            info['frame_paths'] = {
                i:
                fileio.join_path(
                    self.data_prefix['sequence_path'],
                    f'{city_prefix}_{sequence}_{int(frame) + i:06d}{IMG_SUFFIX}')
                for i in self.frame_ids
            }
            files.update({
                f'sequence frame {i:+d}': p
                for i, p in info['frame_paths'].items()
            })
            if not self.check_sample_files(f'image {rel!r}', files):
                continue
            if self.with_camera:
                camera_path = fileio.join_path(self.data_prefix['camera_path'],
                                               self._annotated.get(stem, stem) +
                                               '_camera.json')
                if not self.exists(camera_path):
                    self.missing_sample(f'image {rel!r}', camera_path, 'camera file')
                    continue
                try:
                    camera = read_cityscapes_camera(camera_path, self.backend_args)
                except DataFileError as error:
                    # a per-image file: skippable like a missing one
                    self.skip_or_raise(error, camera_path, f'image {rel!r}')
                    continue
                info['camera'] = camera
                info['intrinsics'] = pinhole_intrinsics(camera['fx'], camera['fy'],
                                                        camera['u0'], camera['v0'])
            data_list.append(info)
        return data_list

    def _sequence_targets(self, annotated: List[str]) -> List[str]:
        """Every sequence frame (``<city>/<stem>_leftImg8bit.png``) of the annotated
        snippets whose ``frame_ids`` neighbours exist; fills ``self._annotated``
        (target stem -> its snippet's annotated stem, for the camera file)."""
        seq_dir = self.require(self.data_prefix['sequence_path'],
                               f'the {self.split!r} sequence folder')
        available = set(fileio.list_dir_or_file(
            seq_dir, list_dir=False, suffix=IMG_SUFFIX, recursive=True,
            backend_args=self.backend_args))
        snippet = {rel[:-len(IMG_SUFFIX)].rsplit('_', 1)[0]: rel[:-len(IMG_SUFFIX)]
                   for rel in annotated}  # <city>/<city>_<seq> -> annotated stem
        targets = []
        for rel in sorted(available):
            prefix, frame = rel[:-len(IMG_SUFFIX)].rsplit('_', 1)
            if prefix not in snippet:
                continue
            if all(f'{prefix}_{int(frame) + i:06d}{IMG_SUFFIX}' in available
                   for i in self.frame_ids):
                targets.append(rel)
                self._annotated[rel[:-len(IMG_SUFFIX)]] = snippet[prefix]
        return targets
