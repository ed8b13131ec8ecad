"""Unlabelled video sequences stored as numbered frames, for self-supervised depth.

SDE-Seg trains one self-supervised depth (SDE) network per source domain (Hoyer et
al., IJCV 2023, sec. 4.2) to give the synthetic source images depth estimates for
Cross-Domain DepthMix and Matching Geometry Sampling: on the GTA sequences of
"Playing for Benchmarks" (VIPER) and on SYNTHIA-SEQS. Both store each sequence as a
folder of frames numbered consecutively; a frame is a training target when all its
``frame_ids`` neighbours exist (the released ``loader/gta_seq_loader.py`` and
``loader/synthia_seq_loader.py`` use frames -1 and +1).

Camera intrinsics are given as fractions of the image size (``fx / W``, ``fy / H``,
``cx / W``, ``cy / H``, the released loaders' convention) and turned into pixels of
each sequence's image size, read from the header of its first frame, so downsampled
copies of the frames (the release trains on 1024×512 ones) get matching intrinsics.
"""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import mmengine.fileio as fileio

from mmdepthsem.registry import DATASETS
from .base_dataset import BaseDepthSemDataset
from .file_list import pinhole_intrinsics, read_image_size

#: ``<prefix><digits><suffix>``: the frame number is the last run of digits.
_FRAME = re.compile(r'^(?P<prefix>.*?)(?P<number>\d+)(?P<suffix>\.[A-Za-z]+)$')


@DATASETS.register_module()
class FrameSequenceDataset(BaseDepthSemDataset):
    """Frames ``<img_path>/<sequence folders>/<prefix><number><suffix>`` with neighbours.

    Every image under ``data_prefix['img_path']`` (recursively; with
    ``sequence_filter``, only those whose relative path contains that folder name)
    is a frame; its number is the last run of digits of its file name, and frames of
    one folder with the same prefix form a sequence. A frame is listed when every
    neighbour ``number + i`` (``i`` in ``frame_ids``, same zero padding) exists; the
    ends of each sequence are left out without a warning. No labels are read.

    Fills ``img_path``, ``frame_ids``, ``frame_paths``, ``intrinsics`` (pixels of the
    frame's image size) and ``sample_name`` (the path relative to ``img_path``
    without its suffix).

    Args:
        frame_ids: Relative indices of the neighbours (``(-1, 1)``).
        img_suffixes: Image file suffixes to list.
        sequence_filter: A folder name every listed path must contain (e.g.
            ``'RGB'`` for SYNTHIA-SEQS, whose sequences also hold depth and label
            images); ``None`` lists every image.
        intrinsics: ``(fx / W, fy / H, cx / W, cy / H)``; ``None``: the class's
            ``NORMALISED_INTRINSICS``.
        data_prefix: ``img_path``: the folder of the sequences.
        **kwargs: :class:`BaseDepthSemDataset` arguments.
    """

    METAINFO = dict(classes=(), palette=[])
    DEFAULT_PREFIX: Dict[str, str] = dict(img_path='')
    NORMALISED_INTRINSICS: Optional[Tuple[float, float, float, float]] = None
    PREPARE_HINT = 'place the sequence frames under data_root'

    def __init__(self,
                 frame_ids: Sequence[int] = (-1, 1),
                 img_suffixes: Sequence[str] = ('.png', '.jpg'),
                 sequence_filter: Optional[str] = None,
                 intrinsics: Optional[Sequence[float]] = None,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        frame_ids = tuple(int(i) for i in frame_ids)
        if 0 in frame_ids:
            raise ValueError('frame_ids must not contain 0 (the target), got '
                             f'{frame_ids}')
        intrinsics = intrinsics if intrinsics is not None else self.NORMALISED_INTRINSICS
        if intrinsics is None or len(intrinsics) != 4 or \
                not all(float(v) > 0 for v in intrinsics):
            raise ValueError(f'{type(self).__name__}: intrinsics must be four positive '
                             f'fractions (fx/W, fy/H, cx/W, cy/H), got {intrinsics!r}')
        self.frame_ids = frame_ids
        self.img_suffixes = tuple(img_suffixes)
        self.sequence_filter = sequence_filter
        self.normalised_intrinsics = tuple(float(v) for v in intrinsics)
        prefix = dict(self.DEFAULT_PREFIX)
        prefix.update(data_prefix or {})
        super().__init__(data_prefix=prefix, **kwargs)

    def _kept(self, rel: str) -> bool:
        if self.sequence_filter is None:
            return True
        return self.sequence_filter in rel.replace('\\', '/').split('/')[:-1]

    def load_data_list(self) -> List[dict]:
        """List every frame whose neighbours exist, sequence by sequence."""
        img_dir = self.require(self.data_prefix['img_path'], 'the sequence folder')
        names = [rel for rel in fileio.list_dir_or_file(
            img_dir, list_dir=False, suffix=self.img_suffixes, recursive=True,
            backend_args=self.backend_args) if self._kept(rel)]
        available = set(names)
        sizes: Dict[Tuple[str, str], Tuple[int, int]] = {}
        data_list = []
        for rel in sorted(names):
            match = _FRAME.match(osp.basename(rel))
            if match is None:
                continue
            folder = osp.dirname(rel)
            prefix, number, suffix = match.group('prefix', 'number', 'suffix')
            width = len(number)

            def neighbour(i: int) -> str:
                return osp.join(folder, f'{prefix}{int(number) + i:0{width}d}{suffix}')

            if not all(neighbour(i) in available for i in self.frame_ids):
                continue
            key = (folder, prefix)
            if key not in sizes:  # one header read per sequence
                sizes[key] = read_image_size(fileio.join_path(img_dir, rel),
                                             self.backend_args)
            w, h = sizes[key]
            fx, fy, cx, cy = self.normalised_intrinsics
            info = self.common_info(rel[:-len(suffix)])
            info['img_path'] = fileio.join_path(img_dir, rel)
            info['frame_ids'] = self.frame_ids
            info['frame_paths'] = {i: fileio.join_path(img_dir, neighbour(i))
                                   for i in self.frame_ids}
            info['intrinsics'] = pinhole_intrinsics(fx * w, fy * h, cx * w, cy * h)
            data_list.append(info)
        if not data_list:
            raise FileNotFoundError(
                f'{type(self).__name__}: no frame under {img_dir} has all its '
                f'neighbours {self.frame_ids} ({len(names)} images listed'
                + (f' in {self.sequence_filter!r} folders' if self.sequence_filter
                   else '') + f'); {self.PREPARE_HINT}')
        return data_list


@DATASETS.register_module()
class GTA5SequenceDataset(FrameSequenceDataset):
    """The GTA sequences of "Playing for Benchmarks" (VIPER), images only.

    Layout under ``data_root`` (the release's ``GTASEQ_DIR``)::

        {split}/img/<seq>/<seq>_<frame:05d>.jpg

    Intrinsics (the release's ``loader/gta_seq_loader.py``, from the benchmark's
    ``camera.zip``): ``fx = 1.206285 W``, ``fy = 2.144507 H``, principal point at
    the image centre, for the 1920×1080 frames and their resized copies.

    Args:
        split: ``'train'`` or ``'val'``.
        **kwargs: :class:`FrameSequenceDataset` arguments.
    """

    NORMALISED_INTRINSICS = (1.206285, 2.144507, 0.5, 0.5)
    PREPARE_HINT = ('download the VIPER (playing-for-benchmarks.org) train/img and '
                    'val/img archives into data/gta5_sequences')

    def __init__(self, split: str = 'train', data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        prefix = dict(img_path=f'{split}/img')
        prefix.update(data_prefix or {})
        self.split = split
        super().__init__(data_prefix=prefix, **kwargs)


@DATASETS.register_module()
class SynthiaSeqsDataset(FrameSequenceDataset):
    """SYNTHIA-SEQS (the video sequences), images only.

    Layout under ``data_root`` (each downloaded ``SYNTHIA-SEQS-<nn>-<SEASON>``
    archive unpacked there; the release's ``SYNTHIA_DIR/video``)::

        SYNTHIA-SEQS-<nn>-<SEASON>/RGB/<Stereo_Left|Stereo_Right>/<Omni_X>/<frame:06d>.png

    Every view folder (``Omni_B``, ``Omni_F``, … of both stereo cameras) is its own
    sequence. Only the ``RGB`` folders are listed (``sequence_filter='RGB'``); the
    archives' ``Depth`` and ``GT`` folders hold images too. Intrinsics (the release's
    ``loader/synthia_seq_loader.py``): ``f = 532.740352`` pixels at 1280×760,
    principal point at the centre.

    Args:
        sequence_filter: See :class:`FrameSequenceDataset` (``'RGB'``).
        **kwargs: :class:`FrameSequenceDataset` arguments.
    """

    NORMALISED_INTRINSICS = (532.740352 / 1280, 532.740352 / 760, 0.5, 0.5)
    PREPARE_HINT = ('download the SYNTHIA-SEQS archives (synthia-dataset.net) and '
                    'unpack them into data/synthia_seqs')

    def __init__(self, sequence_filter: Optional[str] = 'RGB', **kwargs) -> None:
        super().__init__(sequence_filter=sequence_filter, **kwargs)
