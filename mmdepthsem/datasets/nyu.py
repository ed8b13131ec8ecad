"""NYU-Depth-v2: the labelled set (depth + 40/13-class semantics) and the dense set."""
from typing import List, Optional, Sequence

import mmengine.fileio as fileio
import numpy as np

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset, make_palette
from .file_list import FileListDepthDataset, pinhole_intrinsics

#: Official colour-camera intrinsics (NYU toolbox ``camera_params.m``) at 640×480:
#: fx, fy, cx, cy in pixels.
NYU_CAMERA = (518.8579, 519.4696, 325.5824, 253.7362)
NYU_IMAGE_SIZE = (640, 480)  # (W, H)

#: The 40-class set of Gupta et al. (2013), ids 0..39 = mapping values 1..40.
NYU40_CLASSES = ('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door',
                 'window', 'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves',
                 'curtain', 'dresser', 'pillow', 'mirror', 'floor mat', 'clothes',
                 'ceiling', 'books', 'refrigerator', 'television', 'paper', 'towel',
                 'shower curtain', 'box', 'whiteboard', 'person', 'night stand', 'toilet',
                 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure', 'otherfurniture',
                 'otherprop')

#: The 13-class set (Couprie et al. 2013), ids 0..12 = mapping values 1..13.
NYU13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture', 'objects',
                 'picture', 'sofa', 'table', 'tv', 'wall', 'window')

NYU_CLASS_SETS = {40: NYU40_CLASSES, 13: NYU13_CLASSES}


def nyu_intrinsics(image_size: Sequence[int] = NYU_IMAGE_SIZE) -> np.ndarray:
    """The official colour camera matrix scaled to ``image_size``.

    Args:
        image_size: ``(W, H)`` of the images, pixels.

    Returns:
        ``(3, 3)`` float32 camera matrix in pixels of that size (fx, cx scale
        with ``W / 640``; fy, cy with ``H / 480``).
    """
    sx = image_size[0] / NYU_IMAGE_SIZE[0]
    sy = image_size[1] / NYU_IMAGE_SIZE[1]
    fx, fy, cx, cy = NYU_CAMERA
    return pinhole_intrinsics(fx * sx, fy * sy, cx * sx, cy * sy)


@DATASETS.register_module()
class NYUv2Dataset(BaseDepthSemDataset):
    """The labelled NYU-Depth-v2 set in the layout written by the converter.

    ``tools/dataset_converters/nyu.py`` writes::

        data_root/
          images/00001.png ...   colour, 640×480
          depths/00001.png ...   16-bit PNG, millimetres (depth_scale 1000)
          labels40/00001.png     train ids 0..39, 255 = unlabelled
          labels13/00001.png     train ids 0..12, 255 = unlabelled
          train.txt  test.txt    one frame name per line (official split)

    Frame names are the 1-based indices of the 1449 labelled frames (``%05d``),
    the indices ``splits.mat`` uses.

    Fills: ``img_path``, ``depth_map_path`` + ``depth_scale`` (``with_depth``),
    ``seg_map_path`` (``with_seg``), ``intrinsics``, ``sample_name`` (the frame
    name), ``seg_fields``, ``reduce_zero_label``; ``num_classes`` at fetch time.

    Args:
        split: ``'train'`` or ``'test'``; selects ``<split>.txt``.
        num_classes: ``40`` or ``13``: selects ``labels<num_classes>`` and the
            class names/palette.
        with_depth: Add the depth path.
        with_seg: Add the label path.
        ann_file: Split file overriding ``<split>.txt``.
        data_prefix: Overrides of ``dict(img_path='images',
            depth_map_path='depths', seg_map_path='labels<num_classes>')``.
        img_suffix: Suffix of image files.
        image_size: ``(W, H)`` of the images, to scale the official intrinsics.
        metainfo: Overrides of the class names / palette.
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    PREPARE_HINT = ('python tools/dataset_converters/nyu.py '
                    'nyu_depth_v2_labeled.mat splits.mat --mapping '
                    'classMapping40.mat -o data/nyu')

    def __init__(self,
                 split: str = 'train',
                 num_classes: int = 40,
                 with_depth: bool = True,
                 with_seg: bool = True,
                 ann_file: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.png',
                 image_size: Sequence[int] = NYU_IMAGE_SIZE,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if num_classes not in NYU_CLASS_SETS:
            raise ValueError(f'NYUv2Dataset: num_classes must be one of '
                             f'{sorted(NYU_CLASS_SETS)}, got {num_classes}')
        self.split = split
        self.num_classes = num_classes
        self.with_depth = with_depth
        self.with_seg = with_seg
        self.img_suffix = img_suffix
        self.image_size = tuple(image_size)
        classes = NYU_CLASS_SETS[num_classes]
        merged_meta = dict(classes=classes, palette=make_palette(len(classes)))
        merged_meta.update(metainfo or {})
        prefix = dict(
            img_path='images',
            depth_map_path='depths',
            seg_map_path=f'labels{num_classes}')
        prefix.update(data_prefix or {})
        super().__init__(
            ann_file=ann_file if ann_file is not None else f'{split}.txt',
            metainfo=merged_meta,
            data_prefix=prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the split file into data-list entries."""
        intrinsics = nyu_intrinsics(self.image_size)
        data_list = []
        for _, name in self.read_list_file(f'the {self.split!r} split file'):
            info = self.common_info(name)
            info['img_path'] = fileio.join_path(self.data_prefix['img_path'],
                                                name + self.img_suffix)
            info['intrinsics'] = intrinsics.copy()
            files = {'image': info['img_path']}
            if self.with_depth:
                info['depth_map_path'] = fileio.join_path(
                    self.data_prefix['depth_map_path'], name + '.png')
                info['depth_scale'] = 1000.0
                files['depth map'] = info['depth_map_path']
            if self.with_seg:
                info['seg_map_path'] = fileio.join_path(self.data_prefix['seg_map_path'],
                                                        name + '.png')
                files['label map'] = info['seg_map_path']
            if self.check_sample_files(f'frame {name!r} of {self.ann_file}', files):
                data_list.append(info)
        return data_list


@DATASETS.register_module()
class NYUv2DenseDataset(FileListDepthDataset):
    """NYU-Depth-v2's dense ("sync") training set, listed BTS style.

    A :class:`FileListDepthDataset` with NYU defaults: depth in millimetres
    (``depth_scale=1000``) and the official colour camera (``fy``, ``cx``, ``cy``;
    ``fx`` comes from each line's focal, 518.8579).

    Args:
        ann_file: The list file (``<scene>/rgb_XXXXX.jpg
            <scene>/sync_depth_XXXXX.png <focal>`` lines).
        depth_scale: Stored value per metre.
        fy: Vertical focal, pixels.
        principal_point: ``(cx, cy)`` pixels.
        **kwargs: :class:`FileListDepthDataset` arguments.
    """

    PREPARE_HINT = ('download the NYU-Depth-v2 "sync" set and its list files '
                    '(see docs/dataset_prepare.md), then set data_root and '
                    'ann_file')

    def __init__(self,
                 ann_file: str,
                 depth_scale: float = 1000.0,
                 fy: Optional[float] = NYU_CAMERA[1],
                 principal_point: Optional[Sequence[float]] = NYU_CAMERA[2:],
                 **kwargs) -> None:
        super().__init__(
            ann_file=ann_file,
            depth_scale=depth_scale,
            fy=fy,
            principal_point=principal_point,
            **kwargs)
