"""Images with SDE teacher disparities as targets: the SIDE student's training set.

SDE-Seg's automatic data selection (§3.2.2, §4.4) trains a single-image depth
(SIDE) student on the selected images ``G_A`` with the self-supervised depth (SDE)
teacher's sigmoid disparities as pseudo-labels. ``tools/select_annotations.py``
writes the files this dataset reads:

- ``ann_file``: the pool, JSON ``{"samples": [{"sample_name": ..., "img_path":
  ...}, ...]}`` (absolute image paths, or relative to ``data_root``);
- ``selection_file`` (optional): sample names to keep, one per line, in the format
  of the selection's split file (blank lines and ``#`` comments skipped);
- ``disparity_dir``: ``<disparity_dir>/<sample_name>.npy``, float ``(h, w)``
  teacher disparities in ``(0, 1)`` at the SDE input size.

:class:`LoadSDEDisparity` reads the disparity into ``gt_depth_map`` (a
``DepthHead`` with ``activation='sigmoid', max_depth=1`` regresses it directly).
"""
import io
import json
import os.path as osp
from typing import List, Optional

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthsem.registry import DATASETS, TRANSFORMS
from .base_dataset import BaseDepthSemDataset
from .transforms.loading import DataFileError, read_file_bytes


@DATASETS.register_module()
class SDEPseudoDepthDataset(BaseDepthSemDataset):
    """Pool images (optionally a selected subset) with cached SDE disparities.

    Fills ``img_path``, ``sample_name``, ``sde_disparity_path``; no classes.

    Args:
        ann_file: Pool JSON (see the module docstring), relative to ``data_root``
            unless absolute.
        disparity_dir: Folder of the ``<sample_name>.npy`` teacher disparities
            (relative to ``data_root`` unless absolute).
        selection_file: Optional file of the sample names to keep, one per line;
            the samples keep the order of this file. A name not in the pool
            raises a ``KeyError``.
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    PREPARE_HINT = ('python tools/select_annotations.py SDE_CONFIG SDE_CHECKPOINT '
                    '--work-dir DIR --out SPLIT.txt (writes pool.json and '
                    'sde_disparity/)')

    def __init__(self,
                 ann_file: str,
                 disparity_dir: str,
                 selection_file: Optional[str] = None,
                 **kwargs) -> None:
        data_root = kwargs.get('data_root', '')
        self._disparity_dir = self._under_root(data_root, disparity_dir)
        self._selection_file = self._under_root(data_root, selection_file)
        super().__init__(ann_file=ann_file, **kwargs)

    def _selected_names(self) -> Optional[List[str]]:
        if self._selection_file is None:
            return None
        self.require(self._selection_file, 'the selection file')
        text = fileio.get_text(self._selection_file, backend_args=self.backend_args)
        names = [line.strip() for line in text.splitlines()]
        return [n for n in names if n and not n.startswith('#')]

    def load_data_list(self) -> List[dict]:
        """The pool entries (or the selected ones, in selection order)."""
        self.require(self.ann_file, 'the pool file')
        pool = json.loads(fileio.get_text(self.ann_file, backend_args=self.backend_args))
        entries = {}
        for entry in pool['samples']:
            name = entry['sample_name']
            img_path = entry['img_path']
            if self.data_root and not osp.isabs(img_path):
                img_path = fileio.join_path(self.data_root, img_path)
            entries[name] = img_path
        names = self._selected_names()
        if names is None:
            names = list(entries)
        unknown = [n for n in names if n not in entries]
        if unknown:
            raise KeyError(f'{type(self).__name__}: {len(unknown)} selected names are '
                           f'not in the pool {self.ann_file}, e.g. {unknown[0]!r}')
        data_list = []
        for name in names:
            info = self.common_info(name)
            info['img_path'] = entries[name]
            info['sde_disparity_path'] = fileio.join_path(self._disparity_dir,
                                                          name + '.npy')
            files = {'image': info['img_path'],
                     'SDE disparity': info['sde_disparity_path']}
            if self.check_sample_files(f'sample {name!r}', files):
                data_list.append(info)
        return data_list


@TRANSFORMS.register_module()
class LoadSDEDisparity(BaseTransform):
    """Load a cached SDE teacher disparity as the depth target.

    The ``.npy`` map is stored at the SDE input size; when that differs from the
    current image size (``img_shape``, e.g. after a ``Resize``) it is resized
    bilinearly (disparities are smooth fields of values in ``(0, 1)``, so
    interpolation keeps them in range). Load it after the image's resize and
    before random flips/crops, which then treat it as ``gt_depth_map``.

    Required keys: ``sde_disparity_path``, ``img_shape``.
    Added keys: ``gt_depth_map`` (``(H, W)`` float32 disparity in ``(0, 1)``).

    Args:
        backend_args: mmengine file backend arguments.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Read ``results['sde_disparity_path']`` into ``results['gt_depth_map']``."""
        path = results['sde_disparity_path']
        data = read_file_bytes(path, 'SDE disparity', self.backend_args)
        try:
            disp = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as error:
            raise DataFileError(f'cannot read SDE disparity {path}: {error}',
                                path) from error
        disp = np.squeeze(disp).astype(np.float32)
        if disp.ndim != 2:
            raise DataFileError(f'SDE disparity {path} has shape {disp.shape}; an '
                                '(H, W) map is required', path)
        height, width = results['img_shape'][:2]
        if disp.shape != (height, width):
            disp = cv2.resize(disp, (int(width), int(height)),
                              interpolation=cv2.INTER_LINEAR)
        disp[~np.isfinite(disp)] = 0
        results['gt_depth_map'] = disp
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(backend_args={self.backend_args})'
