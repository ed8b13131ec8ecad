"""Images and label maps in two flat folders, with optional SDE depth estimates."""
from typing import Dict, List, Optional, Tuple

import mmengine.fileio as fileio

from .base_dataset import BaseDepthSemDataset


class LabelledImageFolderDataset(BaseDepthSemDataset):
    """Base of the source-domain datasets (GTA5, SYNTHIA): ``<img_path>/<name>`` and
    ``<seg_map_path>/<name>`` with the same file names, every sample's label ids
    mapped by ``ID_TO_TRAIN_ID`` (``label_map``), and an optional folder of SDE depth
    estimates ``<depth_estimate_dir>/<sample_name><depth_estimate_suffix>`` (see
    :class:`LoadDepthEstimate`; with it, each sample gets ``depth_estimate_path`` and
    a missing estimate is a missing sample file).

    Without ``ann_file`` every image is listed (sorted); with it, ``ann_file`` lists
    one image name per line (with or without the suffix).

    Subclasses set ``DEFAULT_PREFIX`` (``img_path``, ``seg_map_path``),
    ``ID_TO_TRAIN_ID`` and ``FOLDER_NAMES`` (the folders as the errors call them).

    Args:
        with_seg: Add the label path (off for image-only use).
        depth_estimate_dir: Folder of the SDE depth estimates, relative to
            ``data_root`` unless absolute; ``None`` for none.
        depth_estimate_suffix: Suffix of the estimate files.
        data_prefix: Overrides of ``DEFAULT_PREFIX``.
        img_suffix: Suffix of the images (and of the labels).
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    DEFAULT_PREFIX: Dict[str, str] = dict(img_path='images', seg_map_path='labels')
    ID_TO_TRAIN_ID: Dict[int, int] = {}
    FOLDER_NAMES: Tuple[str, str] = ('the image folder', 'the label folder')

    def __init__(self,
                 with_seg: bool = True,
                 depth_estimate_dir: Optional[str] = None,
                 depth_estimate_suffix: str = '.png',
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.png',
                 **kwargs) -> None:
        prefix = dict(self.DEFAULT_PREFIX)
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
        img_dir = self.require(self.data_prefix['img_path'], self.FOLDER_NAMES[0])
        if self.with_seg:
            self.require(self.data_prefix['seg_map_path'], self.FOLDER_NAMES[1])
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
                info['label_map'] = dict(self.ID_TO_TRAIN_ID)
                files['label map'] = info['seg_map_path']
            if self.depth_estimate_dir is not None:
                info['depth_estimate_path'] = fileio.join_path(
                    self.depth_estimate_dir, stem + self.depth_estimate_suffix)
                files['depth estimate'] = info['depth_estimate_path']
            if self.check_sample_files(f'image {name!r}', files):
                data_list.append(info)
        return data_list
