"""Convert the labelled NYU-Depth-v2 set into the layout of ``NYUv2Dataset``.

Inputs (download them from the NYU-Depth-v2 page; the class mappings are
user-supplied, e.g. ``classMapping40.mat`` of Gupta et al.):

- ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 = HDF5): ``images``, ``depths``,
  ``labels`` (raw class ids 0..894, 0 = unlabelled);
- ``splits.mat``: ``trainNdxs`` / ``testNdxs``, 1-based frame indices;
- one or more mapping files: a vector mapping raw id → 1..K (0 = none).

Command::

    python tools/dataset_converters/nyu.py nyu_depth_v2_labeled.mat splits.mat \\
        --mapping classMapping40.mat --mapping-key mapClass \\
        --mapping class13Mapping.mat --mapping-key classMapping13.labelIdx \\
        -o data/nyu

``--mapping`` is repeatable; the n-th ``--mapping-key`` belongs to the n-th
``--mapping`` (default ``mapClass``; ``a.b`` reads field ``b`` of MATLAB struct
``a``). A mapping whose length is the number of raw classes maps raw ids; a
mapping whose length equals the class count of an earlier mapping maps that
mapping's classes (e.g. a 40 → 13 vector after the 894 → 40 one).

Output (frame names are the 1-based frame indices, ``%05d``)::

    data/nyu/images/00001.png     colour image as stored in the .mat (RGB on disk)
    data/nyu/depths/00001.png     uint16, millimetres (0 = invalid)
    data/nyu/labels40/00001.png   uint8 train ids 0..39, 255 = unlabelled / none
    data/nyu/labels13/00001.png   (one folder per mapping, named by its K)
    data/nyu/train.txt            795 frame names (official split)
    data/nyu/test.txt             654 frame names
"""
import argparse
import os
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

IGNORE_INDEX = 255


def _unwrap_cell(value: np.ndarray) -> np.ndarray:
    """Unwrap the 1x1 object arrays SciPy wraps MATLAB structs and cells in."""
    while value.dtype == object and value.size == 1:
        value = value.flat[0]
    return value


def _read_mat_variable(path: str, key: str) -> np.ndarray:
    """Read variable ``key`` (``a.b`` for a struct field) from a ``.mat`` file.

    MATLAB v5 files are read with SciPy, v7.3 (HDF5) files with h5py.
    """
    from scipy.io import loadmat
    parts = key.split('.')
    try:
        mat = loadmat(path)
    except NotImplementedError:  # MATLAB v7.3: HDF5
        import h5py
        with h5py.File(path, 'r') as handle:
            node = handle
            for part in parts:
                if part not in node:
                    raise KeyError(f'{path} has no variable {key!r} '
                                   f'(found: {sorted(node.keys())})')
                node = node[part]
            return np.asarray(node)
    if parts[0] not in mat:
        found = sorted(k for k in mat if not k.startswith('__'))
        raise KeyError(f'{path} has no variable {parts[0]!r} (found: {found}); '
                       'pass the right name with --mapping-key')
    value = mat[parts[0]]
    for part in parts[1:]:
        value = _unwrap_cell(value)
        names = value.dtype.names or ()
        if part not in names:
            raise KeyError(f'{path}: {".".join(parts[:parts.index(part)])} has no '
                           f'field {part!r} (fields: {list(names)})')
        value = value[part]
    return np.asarray(_unwrap_cell(value))


def load_mapping(path: str, key: str = 'mapClass') -> np.ndarray:
    """Load a class mapping vector: entry ``i`` is the class (1..K, 0 = none) of id i+1.

    Args:
        path: The ``.mat`` file.
        key: Variable name (``a.b`` for a struct field).

    Returns:
        1-D int64 array.
    """
    mapping = _read_mat_variable(path, key).ravel()
    if mapping.size == 0 or not np.all(np.isfinite(mapping.astype(np.float64))):
        raise ValueError(f'{path}:{key} is empty or not numeric')
    if np.any(mapping < 0) or np.any(mapping != np.round(mapping)):
        raise ValueError(f'{path}:{key} must hold non-negative integers')
    return mapping.astype(np.int64)


def resolve_mappings(mappings: Sequence[Tuple[str, np.ndarray]],
                     num_raw: int) -> Dict[int, np.ndarray]:
    """Turn each mapping into a raw-id lookup table, composing chained mappings.

    Args:
        mappings: ``(name, vector)`` pairs in command-line order.
        num_raw: Number of raw classes (894 in NYU-Depth-v2).

    Returns:
        ``{K: lut}`` where ``lut`` has ``num_raw + 1`` entries mapping raw id
        (0 = unlabelled) → train id ``0..K-1`` or 255.
    """
    tables: Dict[int, np.ndarray] = {}  # K -> raw id -> class 1..K (0 none)
    for name, vector in mappings:
        num_classes = int(vector.max())
        if num_classes < 1 or num_classes >= IGNORE_INDEX:
            raise ValueError(f'{name}: maps to {num_classes} classes; 1..254 '
                             'are supported')
        if vector.size == num_raw:
            table = np.concatenate([[0], vector])
        elif vector.size in tables:
            previous = tables[vector.size]
            lookup = np.concatenate([[0], vector])
            table = lookup[previous]
        else:
            raise ValueError(f'{name} has {vector.size} entries: expected {num_raw} (raw '
                             f'classes) or the class count of an earlier mapping '
                             f'({sorted(tables)})')
        if num_classes in tables:
            raise ValueError(f'{name}: two mappings produce {num_classes} classes')
        tables[num_classes] = table
    luts = {}
    for num_classes, table in tables.items():
        lut = np.full(table.shape, IGNORE_INDEX, dtype=np.uint8)
        lut[table > 0] = table[table > 0] - 1
        luts[num_classes] = lut
    return luts


def load_split(path: str, key: str, num_frames: int) -> np.ndarray:
    """Read 1-based frame indices from ``splits.mat`` and check them."""
    indices = _read_mat_variable(path, key).ravel().astype(np.int64)
    if indices.size and (indices.min() < 1 or indices.max() > num_frames):
        raise ValueError(f'{path}:{key} holds indices outside 1..{num_frames} '
                         f'({indices.min()}..{indices.max()}); the indices are '
                         '1-based')
    return np.sort(indices)


def depth_to_millimetres(depth: np.ndarray) -> np.ndarray:
    """Metres (float) → uint16 millimetres; NaN, inf and <= 0 become 0."""
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape, dtype=np.uint16)
    out[valid] = np.clip(np.round(depth[valid] * 1000), 0, 65535)
    return out


def _write_png(path: str, array: np.ndarray) -> None:
    if not cv2.imwrite(path, array):
        raise OSError(f'could not write {path}')


def convert_nyu(mat_path: str,
                splits_path: str,
                mappings: Sequence[Tuple[str, np.ndarray]],
                out_dir: str,
                log: Callable[[str], None] = print) -> Dict[str, List[str]]:
    """Write images, depths, label maps and split files.

    Args:
        mat_path: ``nyu_depth_v2_labeled.mat``.
        splits_path: ``splits.mat``.
        mappings: ``(name, vector)`` class mappings (see :func:`load_mapping`).
        out_dir: Output root.
        log: Progress printer.

    Returns:
        ``{'train': names, 'test': names}``.
    """
    import h5py
    for path in (mat_path, splits_path):
        if not osp.isfile(path):
            raise FileNotFoundError(f'input file not found: {path}')
    with h5py.File(mat_path, 'r') as mat:
        for key in ('images', 'depths', 'labels'):
            if key not in mat:
                raise KeyError(f'{mat_path} has no dataset {key!r}; is it '
                               'nyu_depth_v2_labeled.mat?')
        images, depths, labels = mat['images'], mat['depths'], mat['labels']
        num_frames = images.shape[0]
        if depths.shape[0] != num_frames or labels.shape[0] != num_frames:
            raise ValueError(f'{mat_path}: images/depths/labels have '
                             f'{images.shape[0]}/{depths.shape[0]}/'
                             f'{labels.shape[0]} frames')
        num_raw = mat['names'].size if 'names' in mat else 894
        luts = resolve_mappings(mappings, num_raw) if mappings else {}
        splits = {
            'train': load_split(splits_path, 'trainNdxs', num_frames),
            'test': load_split(splits_path, 'testNdxs', num_frames)
        }
        if np.intersect1d(splits['train'], splits['test']).size:
            raise ValueError(f'{splits_path}: train and test share frames')
        folders = ['images', 'depths'] + [f'labels{k}' for k in luts]
        for folder in folders:
            os.makedirs(osp.join(out_dir, folder), exist_ok=True)
        log(f'Converting {num_frames} frames of {mat_path} into {out_dir} '
            f'({", ".join(folders)})')
        step = max(1, num_frames // 10)
        for index in range(num_frames):
            name = f'{index + 1:05d}'
            rgb = np.asarray(images[index]).transpose(2, 1, 0)  # (H, W, 3) RGB
            _write_png(
                osp.join(out_dir, 'images', name + '.png'),
                np.ascontiguousarray(rgb[..., ::-1]))  # cv2 writes BGR
            depth = np.asarray(depths[index]).T  # (H, W) metres
            _write_png(
                osp.join(out_dir, 'depths', name + '.png'), depth_to_millimetres(depth))
            raw = np.asarray(labels[index]).T.astype(np.int64)  # (H, W)
            for num_classes, lut in luts.items():
                if raw.size and raw.max() >= lut.size:
                    raise ValueError(f'frame {name}: raw label {raw.max()} exceeds the '
                                     f'{lut.size - 1} classes of the mapping')
                _write_png(
                    osp.join(out_dir, f'labels{num_classes}', name + '.png'), lut[raw])
            if (index + 1) % step == 0 or index + 1 == num_frames:
                log(f'  {index + 1}/{num_frames} frames')
    names = {}
    for split, indices in splits.items():
        names[split] = [f'{i:05d}' for i in indices]
        with open(osp.join(out_dir, f'{split}.txt'), 'w') as handle:
            handle.write(''.join(n + '\n' for n in names[split]))
        log(f'  {split}.txt: {len(indices)} frames')
    return names


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert labelled NYU-Depth-v2 to PNG files + split lists.')
    parser.add_argument('mat', help='nyu_depth_v2_labeled.mat')
    parser.add_argument('splits', help='splits.mat (1-based trainNdxs/testNdxs)')
    parser.add_argument(
        '--mapping',
        action='append',
        default=[],
        metavar='FILE',
        help='class mapping .mat (repeatable, e.g. 40 and 13 classes)')
    parser.add_argument(
        '--mapping-key',
        action='append',
        default=[],
        metavar='KEY',
        help='variable of the n-th --mapping (default mapClass; a.b = struct '
        'field)')
    parser.add_argument('-o', '--out-dir', default='data/nyu')
    args = parser.parse_args(argv)
    if len(args.mapping_key) > len(args.mapping):
        parser.error('more --mapping-key than --mapping options')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    keys = args.mapping_key + ['mapClass'] * (len(args.mapping) - len(args.mapping_key))
    mappings = [(f'{path}:{key}', load_mapping(path, key))
                for path, key in zip(args.mapping, keys)]
    if not mappings:
        print('No --mapping given: writing images and depths only.')
    convert_nyu(args.mat, args.splits, mappings, args.out_dir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
