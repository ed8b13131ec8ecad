"""The KITTI-2015 semantic segmentation benchmark (200 annotated training images)."""
from typing import List, Optional

import mmengine.fileio as fileio
from mmseg.datasets import CityscapesDataset

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset
from .cityscapes import LABEL_ID_TO_TRAIN_ID


@DATASETS.register_module()
class KITTISemanticsDataset(BaseDepthSemDataset):
    """KITTI-2015 semantics: images with Cityscapes-style labels, no depth.

    The benchmark FSRE, SGRE and SDE-Seg report segmentation mIoU on. Layout of
    the download (``data_semantics.zip``) under ``data_root``::

        training/image_2/000000_10.png ...     colour, about 375×1242 (varies)
        training/semantic/000000_10.png ...    uint8 Cityscapes *label ids*

    Labels are converted to the 19 Cityscapes train ids while loading
    (``label_map`` in every sample, applied by :class:`LoadSemAnnotation`): classes
    without a train id become 255; an id that is not a Cityscapes label id at all
    is an error naming the file. The test set has no labels and is not listed.

    Fills: ``img_path``, ``seg_map_path``, ``label_map``, ``sample_name`` (the file
    stem, e.g. ``000000_10``), ``seg_fields``, ``reduce_zero_label``;
    ``num_classes`` at fetch time.

    Args:
        data_prefix: Overrides of ``dict(img_path='training/image_2',
            seg_map_path='training/semantic')``.
        img_suffix: Suffix of the images (and of the labels).
        metainfo: Overrides of mmseg's Cityscapes classes / palette.
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    METAINFO = CityscapesDataset.METAINFO
    PREPARE_HINT = ('download the KITTI-2015 semantic segmentation benchmark '
                    '(data_semantics.zip) and unpack it into data/kitti_semantics')

    def __init__(self,
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '_10.png',
                 **kwargs) -> None:
        prefix = dict(img_path='training/image_2', seg_map_path='training/semantic')
        prefix.update(data_prefix or {})
        self.img_suffix = img_suffix
        super().__init__(data_prefix=prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the annotated training images."""
        img_dir = self.require(self.data_prefix['img_path'], 'the image folder')
        self.require(self.data_prefix['seg_map_path'], 'the label folder')
        names = sorted(
            fileio.list_dir_or_file(
                img_dir, list_dir=False, suffix=self.img_suffix,
                backend_args=self.backend_args))
        data_list = []
        for name in names:
            info = self.common_info(name[:-len('.png')])
            info.update(
                img_path=fileio.join_path(img_dir, name),
                seg_map_path=fileio.join_path(self.data_prefix['seg_map_path'], name),
                label_map=dict(LABEL_ID_TO_TRAIN_ID))
            files = {'image': info['img_path'], 'label map': info['seg_map_path']}
            if self.check_sample_files(f'image {name!r}', files):
                data_list.append(info)
        return data_list
