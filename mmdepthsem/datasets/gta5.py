"""GTA5 (Playing for Data): synthetic source domain with Cityscapes label ids."""
from typing import Dict, List, Optional

import mmengine.fileio as fileio
from mmseg.datasets import CityscapesDataset

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset
from .cityscapes import LABEL_ID_TO_TRAIN_ID

#: GTA5 label id (the Cityscapes label ids 0..33 of the GTA5 release) → Cityscapes
#: train id (0..18, 255 = ignored). The project's own Cityscapes table
#: (:data:`mmdepthsem.datasets.cityscapes.CITYSCAPES_LABELS`), no cityscapesscripts.
GTA5_ID_TO_TRAIN_ID: Dict[int, int] = dict(LABEL_ID_TO_TRAIN_ID)


@DATASETS.register_module()
class GTA5DepthSemDataset(BaseDepthSemDataset):
    """GTA5 images with 19-class labels and optional SDE depth estimates.

    The official release (about 25k frames, 1914×1052) under ``data_root``::

        images/00001.png ...     colour
        labels/00001.png ...     uint8 palette PNG; the palette *indices* are
                                 Cityscapes label ids 0..33

    Labels are mapped to the 19 Cityscapes train ids while loading (``label_map``
    in every sample, applied by :class:`LoadSemAnnotation`, whose default pillow
    backend keeps palette indices): ids without a train id become 255, ``255``
    stays ignore, and any other id (34..254) is a :class:`DataFileError` naming the
    label file.

    Depth pseudo-labels (for DepthMix and Matching Geometry Sampling) come from a
    source-domain self-supervised depth network and are stored like every depth
    estimate of the project (see :class:`LoadDepthEstimate`):
    ``<depth_estimate_dir>/<sample_name><depth_estimate_suffix>``, a 16-bit PNG
    (value / 256 = metres) or a float ``.npy`` in metres. With
    ``depth_estimate_dir`` set, each sample gets ``depth_estimate_path`` and a
    missing estimate is a missing sample file (error, or skipped with
    ``skip_bad_samples``); load the estimates in the pipeline with
    ``LoadDepthEstimate(estimate_dir=<data_root>/<depth_estimate_dir>)``.

    Without ``ann_file`` every image is listed; with it, ``ann_file`` lists one
    image name per line (``00001.png`` or ``00001``), e.g. a subset or the
    ``trainIds`` of GTA5's ``split.mat``.

    Fills: ``img_path``, ``seg_map_path`` (``with_seg``), ``label_map``,
    ``depth_estimate_path`` (with ``depth_estimate_dir``), ``sample_name`` (the file
    stem, e.g. ``00001``), ``seg_fields``, ``reduce_zero_label``; ``num_classes`` at
    fetch time.

    Args:
        with_seg: Add the label path (off for image-only use).
        depth_estimate_dir: Folder of the SDE depth estimates, relative to
            ``data_root`` unless absolute; ``None`` for none.
        depth_estimate_suffix: Suffix of the estimate files.
        data_prefix: Overrides of ``dict(img_path='images', seg_map_path='labels')``.
        img_suffix: Suffix of the images (and of the labels).
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    METAINFO = CityscapesDataset.METAINFO
    PREPARE_HINT = ('download the GTA5 images and labels (download.visinf.tu-'
                    'darmstadt.de/data/from_games) and unpack every part into '
                    'data/gta5/images and data/gta5/labels')

    def __init__(self,
                 with_seg: bool = True,
                 depth_estimate_dir: Optional[str] = None,
                 depth_estimate_suffix: str = '.png',
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.png',
                 **kwargs) -> None:
        prefix = dict(img_path='images', seg_map_path='labels')
        prefix.update(data_prefix or {})
        self.with_seg = with_seg
        self.img_suffix = img_suffix
        self.depth_estimate_dir = self._under_root(
            kwargs.get('data_root', ''), depth_estimate_dir)
        self.depth_estimate_suffix = depth_estimate_suffix
        super().__init__(data_prefix=prefix, **kwargs)

    def _names(self, img_dir: str) -> List[str]:
        """Image file names (relative to ``img_dir``), sorted or as in ``ann_file``."""
        if not self.ann_file:
            return sorted(
                fileio.list_dir_or_file(
                    img_dir, list_dir=False, suffix=self.img_suffix,
                    backend_args=self.backend_args))
        names = []
        for _, line in self.read_list_file('the image list file'):
            names.append(line if line.endswith(self.img_suffix) else line +
                         self.img_suffix)
        return names

    def load_data_list(self) -> List[dict]:
        """List the images (all, or those of ``ann_file``)."""
        img_dir = self.require(self.data_prefix['img_path'], 'the image folder')
        if self.with_seg:
            self.require(self.data_prefix['seg_map_path'], 'the label folder')
        if self.depth_estimate_dir is not None:
            self.require(self.depth_estimate_dir, 'the depth-estimate folder')
        data_list = []
        for name in self._names(img_dir):
            stem = name[:-len(self.img_suffix)]
            info = self.common_info(stem)
            info['img_path'] = fileio.join_path(img_dir, name)
            files = {'image': info['img_path']}
            if self.with_seg:
                info['seg_map_path'] = fileio.join_path(
                    self.data_prefix['seg_map_path'], name)
                info['label_map'] = dict(GTA5_ID_TO_TRAIN_ID)
                files['label map'] = info['seg_map_path']
            if self.depth_estimate_dir is not None:
                info['depth_estimate_path'] = fileio.join_path(
                    self.depth_estimate_dir, stem + self.depth_estimate_suffix)
                files['depth estimate'] = info['depth_estimate_path']
            if self.check_sample_files(f'image {name!r}', files):
                data_list.append(info)
        return data_list
