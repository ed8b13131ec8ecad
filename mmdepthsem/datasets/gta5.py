"""GTA5 (Playing for Data): synthetic source domain with Cityscapes label ids."""
from typing import Dict

from mmseg.datasets import CityscapesDataset

from mmdepthsem.registry import DATASETS
from .image_folder import LabelledImageFolderDataset
from .cityscapes import LABEL_ID_TO_TRAIN_ID

#: GTA5 label id (the Cityscapes label ids 0..33 of the GTA5 release) → Cityscapes
#: train id (0..18, 255 = ignored). The project's own Cityscapes table
#: (:data:`mmdepthsem.datasets.cityscapes.CITYSCAPES_LABELS`), no cityscapesscripts.
GTA5_ID_TO_TRAIN_ID: Dict[int, int] = dict(LABEL_ID_TO_TRAIN_ID)


@DATASETS.register_module()
class GTA5DepthSemDataset(LabelledImageFolderDataset):
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
    DEFAULT_PREFIX = dict(img_path='images', seg_map_path='labels')
    ID_TO_TRAIN_ID = GTA5_ID_TO_TRAIN_ID
