"""Write Cityscapes ``*_gtFine_labelTrainIds.png`` from ``*_gtFine_labelIds.png``.

For users who downloaded ``gtFine`` but have not run the official
``createTrainIdLabelImgs.py`` (or mmseg's converter). The official id → train-id
table is ``mmdepthsem.datasets.cityscapes.CITYSCAPES_LABELS``; ids without a train id
become 255 (ignore).

Command::

    python tools/dataset_converters/cityscapes.py data/cityscapes [--nproc 4]

It converts every ``gtFine/<split>/<city>/*_gtFine_labelIds.png`` under the root
and writes ``*_gtFine_labelTrainIds.png`` next to it (existing files are kept
unless ``--overwrite``). A label file holding an id outside the table is an error
naming the file and the ids.
"""
import argparse
import contextlib
import glob
import os.path as osp
import sys
from multiprocessing import Pool
from typing import Optional, Sequence

import cv2
import numpy as np

from mmdepthsem.datasets.cityscapes import (CITYSCAPES_LABELS,
                                             LABEL_ID_TO_TRAIN_ID_LUT)

LABEL_IDS_SUFFIX = '_gtFine_labelIds.png'
TRAIN_IDS_SUFFIX = '_gtFine_labelTrainIds.png'


def convert_label_file(path: str, overwrite: bool = False) -> str:
    """Convert one ``*_gtFine_labelIds.png``; returns the written path.

    Raises:
        FileNotFoundError / ValueError: The file is missing, unreadable, not a
            single-channel 8-bit image, or holds ids outside the table.
    """
    out_path = path[:-len(LABEL_IDS_SUFFIX)] + TRAIN_IDS_SUFFIX
    if osp.exists(out_path) and not overwrite:
        return out_path
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file not found: {path}')
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise ValueError(f'cannot decode label file {path} (empty, truncated or '
                         'not an image)')
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ValueError(f'{path} is {label.dtype} with shape {label.shape}; '
                         'labelIds files are single-channel 8-bit PNGs')
    known = np.array([i for i, _, _ in CITYSCAPES_LABELS])
    unknown = np.setdiff1d(np.unique(label), known)
    if unknown.size:
        raise ValueError(f'{path} holds ids {unknown.tolist()} that are not '
                         'Cityscapes label ids (0..33)')
    if not cv2.imwrite(out_path, LABEL_ID_TO_TRAIN_ID_LUT[label]):
        raise OSError(f'could not write {out_path}')
    return out_path


def _convert(job) -> str:
    return convert_label_file(*job)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Cityscapes labelIds → labelTrainIds.')
    parser.add_argument('root', help='Cityscapes root (holding gtFine/)')
    parser.add_argument('--gt-dir', default='gtFine')
    parser.add_argument('--nproc', type=int, default=1)
    parser.add_argument('--overwrite', action='store_true')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(f'{gt_dir} does not exist; download gtFine into '
                                f'{args.root} (see docs/dataset_prepare.md)')
    files = sorted(
        glob.glob(osp.join(gt_dir, '**', '*' + LABEL_IDS_SUFFIX), recursive=True))
    if not files:
        raise FileNotFoundError(f'no *{LABEL_IDS_SUFFIX} files under {gt_dir}')
    print(f'Converting {len(files)} label files under {gt_dir}')
    jobs = [(path, args.overwrite) for path in files]
    step = max(1, len(files) // 10)
    with Pool(args.nproc) if args.nproc > 1 else contextlib.nullcontext() as pool:
        results = (pool.imap_unordered(_convert, jobs, chunksize=8)
                   if pool is not None else map(_convert, jobs))
        for done, _ in enumerate(results, 1):
            if done % step == 0 or done == len(files):
                print(f'  {done}/{len(files)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
