"""Reliability: the bad-input sweep.

Each case of :data:`CASES` injects one fault into a copy of a tiny synthetic set in an
official on-disk format and reads it through the real dataset class, built from a
method config's dataset section with the project registry (and that config's
pipeline). The documented outcomes (``docs/dataset_prepare.md``, "Bad files"):

- ``skip``: loading the sample raises an error naming the file; with
  ``skip_bad_samples=True`` the sample is skipped with a warning naming the file, the
  skip is counted and a valid sample is served in its place;
- ``drop``: a file a split/list line needs is missing or unusable when the data list
  is built: an error naming the file; with ``skip_bad_samples=True`` the sample is
  dropped with a warning and counted; evaluation datasets (``test_mode``) still raise;
- ``error``: a dataset-level file (calibration, subset list) is unusable: an error
  naming the file and the key or line, also with ``skip_bad_samples=True``;
- ``invalid``: the values load as invalid depth (``0``), never NaN.
"""
import copy
import json
import logging
import os
import os.path as osp
import shutil
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Tuple
from unittest import mock

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets.transforms.loading import DataFileError
from mmdepthsem.registry import DATASETS
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO

LOG_TARGET = 'mmdepthsem.datasets.base_dataset.print_log'
OUTCOMES: Counter = Counter()

# ----------------------------------------------------------------- the formats


def _nyu(cfg: dict, root: str) -> None:
    cfg.update(data_root=root, image_size=(96, 64))


def _nyu_dense(cfg: dict, root: str) -> None:
    # The labelled-set config with NYUv2DenseDataset swapped in, as
    # docs/dataset_prepare.md describes; the dense set has no labels.
    for key in ('split', 'num_classes', 'image_size'):
        cfg.pop(key)
    cfg.update(type='NYUv2DenseDataset', data_root=root, img_prefix='sync',
               depth_prefix='sync', ann_file='nyudepthv2_train_files_with_gt.txt')
    cfg['pipeline'] = [t for t in cfg['pipeline'] if t['type'] != 'LoadSemAnnotation']


def _root_only(cfg: dict, root: str) -> None:
    cfg.update(data_root=root)


def _kitti_annotated(cfg: dict, root: str) -> None:
    # The velodyne evaluation section with the benchmark's annotated depth instead.
    cfg.update(data_root=root, depth_source='annotated', ann_root='data_depth_annotated')
    for transform in cfg['pipeline']:
        if transform['type'] == 'LoadVelodyneDepth':
            transform.clear()
            transform.update(type='LoadDepthAnnotation')


def _kitti_semantics(cfg: dict, root: str) -> None:
    cfg.update(data_root=osp.join(root, 'data_semantics'))


def _cityscapes_eval(cfg: dict, root: str) -> None:
    # The evaluation section (disparity + camera + labels) on the 2-frame train split.
    cfg.update(data_root=root, split='train')


@dataclass(frozen=True)
class Format:
    """A dataset format: which pristine set, which config section, how to adapt it."""

    data: str  # key of the ``pristine`` fixture
    config: str  # relative to the repository
    section: str  # dotted path of the dataset dict in the config
    adapt: Callable[[dict, str], None]


NYU_CFG = 'configs/multitask/resnet18_synthetic_nyu.py'
KITTI_CFG = 'configs/fsre/resnet18_synthetic_kitti.py'
SEM_CFG = 'configs/fsre/resnet18_synthetic_kitti_semantics.py'
SSL_CFG = 'configs/sdeseg/demo/ssl_baseline_resnet18_synthetic.py'
FORMATS: Dict[str, Format] = {
    'nyu': Format('nyu', NYU_CFG, 'train_dataloader.dataset', _nyu),
    'nyu_test': Format('nyu', NYU_CFG, 'test_dataloader.dataset', _nyu),
    'nyu_dense': Format('nyu_raw', NYU_CFG, 'train_dataloader.dataset', _nyu_dense),
    'kitti_selfsup': Format('kitti', KITTI_CFG, 'train_dataloader.dataset', _root_only),
    'kitti_velodyne': Format('kitti', KITTI_CFG, 'test_dataloader.dataset', _root_only),
    'kitti_annotated': Format('kitti', KITTI_CFG, 'test_dataloader.dataset',
                              _kitti_annotated),
    'kitti_semantics': Format('kitti', SEM_CFG, 'test_dataloader.dataset',
                              _kitti_semantics),
    'cityscapes': Format('cityscapes', SSL_CFG, 'test_dataloader.dataset',
                         _cityscapes_eval),
    'cityscapes_labelled': Format('cityscapes', SSL_CFG,
                                  'train_dataloader.dataset.labelled', _root_only),
    'cityscapes_sequence': Format('cityscapes', SSL_CFG,
                                  'train_dataloader.dataset.unlabelled', _root_only),
}

# ------------------------------------------------------------------ the faults
# A fault changes the file at ``path`` (``root``: the copied data root) and returns
# the text the error / warning must contain (the faulted file unless said otherwise).


def truncate(path: str, root: str) -> str:
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(data[:len(data) // 2])
    return path


def truncate_scan(path: str, root: str) -> str:
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(data[:-7])  # a partial record
    return path


def zero_bytes(path: str, root: str) -> str:
    open(path, 'wb').close()
    return path


def _read(path: str) -> np.ndarray:
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def _write(path: str, array: np.ndarray) -> None:
    assert cv2.imwrite(path, array), path


def depth_8bit(path: str, root: str) -> str:
    _write(path, np.clip(_read(path), 0, 255).astype(np.uint8))
    return path


def depth_rgb(path: str, root: str) -> str:
    raw = _read(path)
    _write(path, np.stack([raw] * 3, axis=-1))  # 16-bit, three channels
    return path


def half_width(path: str, root: str) -> str:
    raw = _read(path)
    _write(path, np.ascontiguousarray(raw[:, :raw.shape[1] // 2]))
    return path


def label_ids(value: int) -> Callable[[str, str], str]:

    def fault(path: str, root: str) -> str:
        label = _read(path)
        label[:2, :3] = value
        _write(path, label)
        return path

    return fault


def all_zero(path: str, root: str) -> str:
    _write(path, np.zeros_like(_read(path)))
    return path


def nan_npy_depth(path: str, root: str) -> str:
    """Point the first list line at a float ``.npy`` holding NaN, ±inf, negative
    values and 2500 (= 2.5 m at NYU's depth_scale 1000)."""
    height, width = _read(path).shape
    depth = np.full((height, width), 2500, np.float32)
    depth[:, :width // 4] = np.nan
    depth[:, width // 4:width // 2] = np.inf
    depth[:8, width // 2:] = -np.inf
    depth[8:16, width // 2:] = -3.0
    np.save(path[:-len('.png')] + '.npy', depth)
    ann = osp.join(root, 'nyudepthv2_train_files_with_gt.txt')
    with open(ann) as handle:
        lines = handle.read().splitlines()
    rgb, depth_name, focal = lines[0].split()
    lines[0] = f'{rgb} {depth_name[:-len(".png")]}.npy {focal}'
    with open(ann, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    return path


def append_line(line: str, missing: str) -> Callable[[str, str], str]:
    """Add a split/list line naming a frame whose file ``missing`` does not exist."""

    def fault(path: str, root: str) -> str:
        with open(path, 'a') as handle:
            handle.write(line + '\n')
        return missing

    fault.adds_line = True
    return fault


def drop_calib_key(key: str) -> Callable[[str, str], str]:

    def fault(path: str, root: str) -> str:
        with open(path) as handle:
            lines = handle.read().splitlines()
        kept = [line for line in lines if not line.startswith(key + ':')]
        assert len(kept) == len(lines) - 1, key
        with open(path, 'w') as handle:
            handle.write('\n'.join(kept) + '\n')
        return key

    return fault


def nan_calib_value(key: str) -> Callable[[str, str], str]:

    def fault(path: str, root: str) -> str:
        with open(path) as handle:
            text = handle.read()
        start = text.index(key + ':') + len(key) + 1
        end = text.index('\n', start)
        count = len(text[start:end].split())
        with open(path, 'w') as handle:
            handle.write(text[:start] + ' nan' * count + text[end:])
        return key

    return fault


def edit_camera(group: str, key: str, value=None) -> Callable[[str, str], str]:
    """Drop ``group.key`` from a camera JSON (``value=None``) or set it."""

    def fault(path: str, root: str) -> str:
        with open(path) as handle:
            camera = json.load(handle)
        if value is None:
            del camera[group][key]
        else:
            camera[group][key] = value
        with open(path, 'w') as handle:
            json.dump(camera, handle)  # writes NaN as the bare token NaN
        return f'{group}.{key}'

    return fault


def remove(path: str, root: str) -> str:
    os.remove(path)
    return path


# ------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    """One (format, fault) pair and its documented outcome.

    ``target`` is ``'<key>'`` of the first sample's data info (``frame_paths:<id>``
    for a neighbour) or ``'file:<path relative to the data root>'``.
    """

    fmt: str
    target: str
    fault: Callable[[str, str], str]
    kind: str  # 'skip', 'drop', 'error' or 'invalid'
    error: type = DataFileError
    match: Tuple[str, ...] = ()  # further texts the message must contain


KITTI_DRIVE = '2011_09_26/2011_09_26_drive_0001_sync'
KITTI_CAM = 'file:2011_09_26/calib_cam_to_cam.txt'
KITTI_VELO = 'file:2011_09_26/calib_velo_to_cam.txt'
CS_CAMERA = 'file:camera/train/aachen/aachen_000000_000019_camera.json'
NOT_DECODED = ('cannot decode',)
EMPTY = ('empty (0 bytes)',)
CASES: Dict[str, Case] = {
    # --- NYU labelled set (converter output: PNG images, uint16 mm depth, train ids)
    'nyu-truncated-png-image': Case('nyu', 'img_path', truncate, 'skip',
                                    match=NOT_DECODED),
    'nyu-zero-byte-image': Case('nyu', 'img_path', zero_bytes, 'skip', match=EMPTY),
    'nyu-zero-byte-depth': Case('nyu', 'depth_map_path', zero_bytes, 'skip',
                                match=EMPTY),
    'nyu-truncated-depth': Case('nyu', 'depth_map_path', truncate, 'skip',
                                match=NOT_DECODED),
    'nyu-8bit-depth': Case('nyu', 'depth_map_path', depth_8bit, 'skip',
                           match=('8-bit', '16-bit')),
    'nyu-rgb-depth': Case('nyu', 'depth_map_path', depth_rgb, 'skip',
                          match=('single-channel', )),
    'nyu-depth-wrong-size': Case('nyu', 'depth_map_path', half_width, 'skip',
                                 match=('64x48 (HxW)', 'same size')),
    'nyu-label-out-of-range': Case('nyu', 'seg_map_path', label_ids(40), 'skip',
                                   match=('ids 40', '40 classes')),
    'nyu-label-wrong-size': Case('nyu', 'seg_map_path', half_width, 'skip',
                                 match=('same size', )),
    'nyu-truncated-label': Case('nyu', 'seg_map_path', truncate, 'skip',
                                match=NOT_DECODED),
    'nyu-split-missing-frame': Case('nyu', 'file:train.txt',
                                    append_line('99999', '99999.png'), 'drop',
                                    FileNotFoundError, ('train.txt', 'does not exist')),
    'nyu-all-zero-depth': Case('nyu_test', 'depth_map_path', all_zero, 'invalid'),
    # --- NYU dense set (BTS list: JPEG images, uint16 mm depth)
    'nyu_dense-truncated-jpeg': Case('nyu_dense', 'img_path', truncate, 'skip',
                                     match=NOT_DECODED),
    'nyu_dense-zero-byte-jpeg': Case('nyu_dense', 'img_path', zero_bytes, 'skip',
                                     match=EMPTY),
    'nyu_dense-8bit-depth': Case('nyu_dense', 'depth_map_path', depth_8bit, 'skip',
                                 match=('8-bit', )),
    'nyu_dense-depth-wrong-size': Case('nyu_dense', 'depth_map_path', half_width,
                                       'skip', match=('same size', )),
    'nyu_dense-list-missing-frame': Case(
        'nyu_dense', 'file:nyudepthv2_train_files_with_gt.txt',
        append_line('gone/rgb_00007.jpg gone/sync_depth_00007.png 51.9',
                    'gone/rgb_00007.jpg'), 'drop', FileNotFoundError,
        ('nyudepthv2_train_files_with_gt.txt:', )),
    'nyu_dense-nan-depth-npy': Case('nyu_dense', 'depth_map_path', nan_npy_depth,
                                    'invalid'),
    # --- KITTI raw (PNG frames, velodyne scans, calibration, split files)
    'kitti-zero-byte-image': Case('kitti_velodyne', 'img_path', zero_bytes, 'skip',
                                  match=EMPTY),
    'kitti-truncated-png-image': Case('kitti_velodyne', 'img_path', truncate, 'skip',
                                      match=NOT_DECODED),
    'kitti-truncated-velodyne': Case('kitti_velodyne', 'velodyne_path', truncate_scan,
                                     'skip', match=('not a multiple of 16', )),
    'kitti-zero-byte-velodyne': Case('kitti_velodyne', 'velodyne_path', zero_bytes,
                                     'skip', match=EMPTY),
    'kitti-truncated-neighbour': Case('kitti_selfsup', 'frame_paths:-1', truncate,
                                      'skip', match=('neighbour frame -1', )),
    'kitti-pseudo-label-out-of-range': Case('kitti_selfsup', 'pseudo_seg_map_path',
                                            label_ids(19), 'skip',
                                            match=('ids 19', '19 classes')),
    'kitti-calib-missing-P_rect': Case('kitti_selfsup', KITTI_CAM,
                                       drop_calib_key('P_rect_03'), 'error'),
    'kitti-calib-missing-R_rect': Case('kitti_velodyne', KITTI_CAM,
                                       drop_calib_key('R_rect_00'), 'error'),
    'kitti-velo-calib-missing-T': Case('kitti_velodyne', KITTI_VELO,
                                       drop_calib_key('T'), 'error'),
    'kitti-calib-nan-value': Case('kitti_velodyne', KITTI_CAM,
                                  nan_calib_value('P_rect_02'), 'error',
                                  match=('non-finite', )),
    'kitti-split-missing-frame': Case(
        'kitti_selfsup', 'file:splits/eigen_zhou/train_files.txt',
        append_line(f'{KITTI_DRIVE} 99 r', 'image_03/data/0000000099.png'), 'drop',
        FileNotFoundError, ('train_files.txt:', )),
    'kitti-annotated-zero-byte-depth': Case('kitti_annotated', 'depth_map_path',
                                            zero_bytes, 'skip', match=EMPTY),
    'kitti-annotated-rgb-depth': Case('kitti_annotated', 'depth_map_path', depth_rgb,
                                      'skip', match=('single-channel', )),
    'kitti-annotated-8bit-depth': Case('kitti_annotated', 'depth_map_path',
                                       depth_8bit, 'skip', match=('8-bit', )),
    # --- KITTI-2015 semantics (raw Cityscapes label ids -> train ids)
    'kitti_semantics-unknown-raw-id': Case('kitti_semantics', 'seg_map_path',
                                           label_ids(40), 'skip',
                                           match=('ids 40', )),
    # --- Cityscapes (PNG images, train-id labels, uint16 disparity, camera JSON)
    'cityscapes-zero-byte-image': Case('cityscapes', 'img_path', zero_bytes, 'skip',
                                       match=EMPTY),
    'cityscapes-truncated-disparity': Case('cityscapes', 'disparity_path', truncate,
                                           'skip', match=NOT_DECODED),
    'cityscapes-8bit-disparity': Case('cityscapes', 'disparity_path', depth_8bit,
                                      'skip', match=('uint8', '16-bit')),
    'cityscapes-disparity-wrong-size': Case('cityscapes', 'disparity_path',
                                            half_width, 'skip', match=('same size', )),
    'cityscapes-label-out-of-range': Case('cityscapes', 'seg_map_path', label_ids(19),
                                          'skip', match=('ids 19', '19 classes')),
    'cityscapes-truncated-neighbour': Case('cityscapes_sequence', 'frame_paths:1',
                                           truncate, 'skip',
                                           match=('neighbour frame 1', )),
    'cityscapes-camera-missing-baseline': Case(
        'cityscapes', CS_CAMERA, edit_camera('extrinsic', 'baseline'), 'drop'),
    'cityscapes-camera-missing-fx': Case('cityscapes', CS_CAMERA,
                                         edit_camera('intrinsic', 'fx'), 'drop'),
    'cityscapes-camera-nan-baseline': Case(
        'cityscapes', CS_CAMERA, edit_camera('extrinsic', 'baseline', float('nan')),
        'drop', match=('not a positive finite number', )),
    'cityscapes-camera-zero-byte': Case('cityscapes', CS_CAMERA, zero_bytes, 'drop',
                                        match=('not valid JSON', )),
    'cityscapes-missing-disparity': Case('cityscapes', 'disparity_path', remove,
                                         'drop', FileNotFoundError),
    'cityscapes-subset-names-missing-frame': Case(
        'cityscapes_labelled', 'file:splits/train_1-5_seed0.txt',
        append_line('aachen/aachen_000099_000019', 'aachen_000099_000019'), 'error',
        KeyError, ('train_1-5_seed0.txt', 'line 2')),
}

# --------------------------------------------------------------------- helpers


@pytest.fixture(scope='module')
def pristine(synthetic_nyu, tmp_path_factory) -> Dict[str, str]:
    """Untouched tiny sets; cases copy the one they fault."""
    from mmdepthsem.datasets.synthetic import generate_dataset
    from mmdepthsem.datasets.synthetic.generate import TINY_CONFIGS
    from mmdepthsem.datasets.synthetic.kitti_format import KITTIConfig

    torch.set_num_threads(1)
    register_all_modules()
    root = tmp_path_factory.mktemp('bad_input_pristine')
    # 5 frames per drive: a training frame whose neighbours no faulted sample uses
    generate_dataset('kitti', str(root), seed=0, config=KITTIConfig(
        height=32, width=104, num_drives=2, num_test_drives=1, frames_per_drive=5))
    generate_dataset('cityscapes', str(root), seed=0, config=TINY_CONFIGS['cityscapes'])
    return dict(nyu=str(synthetic_nyu), nyu_raw=str(synthetic_nyu.parent / 'nyu'),
                kitti=str(root / 'kitti'), cityscapes=str(root / 'cityscapes'))


@pytest.fixture(scope='module')
def outcomes(request):
    """Prints how many cases ran, by outcome kind, when the module is done."""
    yield OUTCOMES
    if not OUTCOMES:
        return
    kinds = ', '.join(f'{k}: {v}' for k, v in sorted(OUTCOMES.items()))
    line = f'\nbad-input sweep: {sum(OUTCOMES.values())} cases tried ({kinds})'
    capture = request.config.pluginmanager.getplugin('capturemanager')
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print(line)


_CONFIGS: Dict[str, Config] = {}


def build(fmt: Format, root: str, **overrides):
    """The dataset of ``fmt``'s config section on ``root`` (training mode unless
    ``overrides`` say otherwise)."""
    if fmt.config not in _CONFIGS:
        _CONFIGS[fmt.config] = Config.fromfile(str(REPO / fmt.config))
    section = _CONFIGS[fmt.config]
    for part in fmt.section.split('.'):
        section = section[part]
    cfg = copy.deepcopy(section.to_dict())
    fmt.adapt(cfg, root)
    # serialize_data=False: the serialisation's gc.collect() costs ~1 s per build in a
    # full test process, and only matters for data-loader workers
    cfg.update(test_mode=False, max_refetch=4, serialize_data=False)
    cfg.update(overrides)
    return DATASETS.build(cfg)


def sample_files(info: dict) -> set:
    files = {v for v in info.values() if isinstance(v, str)}
    return files | set(info.get('frame_paths', {}).values())


def clean_index(dataset, path: str) -> int:
    """A sample that does not use ``path`` (the refetch target)."""
    for index in range(len(dataset)):
        if path not in sample_files(dataset.get_data_info(index)):
            return index
    raise AssertionError(f'every sample of the tiny set uses {path}')


def message_of(info) -> str:
    return str(info.value.args[0]) if isinstance(info.value, KeyError) else str(
        info.value)


def assert_names(message: str, needle: str, case: Case) -> None:
    for text in (needle, ) + case.match:
        assert text in message, f'{text!r} not in: {message}'


def warnings_of(log) -> list:
    return [c.args[0] for c in log.call_args_list
            if c.kwargs.get('level') == logging.WARNING]


# ---------------------------------------------------------------------- checks


def check_skip(case: Case, fmt: Format, root: str, path: str, needle: str,
               num_samples: int) -> None:
    strict = build(fmt, root)
    with pytest.raises(case.error) as info:
        strict[0]
    assert_names(message_of(info), needle, case)
    lenient = build(fmt, root, skip_bad_samples=True)
    good = clean_index(lenient, path)
    lenient._rand_another = lambda: good  # mmengine refetches a random index
    with mock.patch(LOG_TARGET) as log:
        data = lenient[0]
    served = data['data_samples']
    assert served.img_path == lenient.get_data_info(good)['img_path']
    assert served.skipped_files == [path]
    assert lenient.num_skipped == 1 and lenient.skipped_files == [path]
    (warning, ) = warnings_of(log)
    assert path in warning and '(1 sample(s) skipped so far)' in warning
    # evaluation never skips
    evaluation = build(fmt, root, skip_bad_samples=True, test_mode=True)
    with pytest.raises(case.error) as info:
        evaluation[0]
    assert_names(message_of(info), needle, case)


def check_drop(case: Case, fmt: Format, root: str, path: str, needle: str,
               num_samples: int) -> None:
    with pytest.raises(case.error) as info:
        build(fmt, root)
    assert_names(message_of(info), needle, case)
    with mock.patch(LOG_TARGET) as log:
        lenient = build(fmt, root, skip_bad_samples=True)
    # the faulted file, or the missing file an added line names
    assert lenient.num_skipped == 1
    skipped = lenient.skipped_files[0]
    assert skipped == path or skipped.endswith(needle)
    added = getattr(case.fault, 'adds_line', False)
    assert len(lenient) == num_samples - (0 if added else 1)
    (warning, ) = warnings_of(log)
    assert needle in warning and '(1 sample(s) skipped so far)' in warning
    with pytest.raises(case.error):
        build(fmt, root, skip_bad_samples=True, test_mode=True)


def check_error(case: Case, fmt: Format, root: str, path: str, needle: str,
                num_samples: int) -> None:
    for skip in (False, True):  # dataset-level files are never skipped
        with pytest.raises(case.error) as info:
            build(fmt, root, skip_bad_samples=skip)
        assert_names(message_of(info), needle, case)
        assert osp.basename(path) in message_of(info)


def check_invalid(case: Case, fmt: Format, root: str, path: str, needle: str,
                  num_samples: int) -> None:
    dataset = build(fmt, root)
    assert dataset.get_data_info(0)['depth_map_path'].startswith(path[:-len('.png')])
    depth = dataset[0]['data_samples'].gt_depth_map.data
    assert torch.isfinite(depth).all()
    valid = depth[depth > 0]
    if case.fault is all_zero:
        assert valid.numel() == 0
        return
    # NaN, ±inf and negative values became 0; 2.5 m stayed (divided by the
    # RandomResize scale s in [1, 1.25], one s per sample)
    assert (depth == 0).sum() > 0 and valid.numel() > 0
    assert torch.allclose(valid, valid[0]) and 2.0 - 1e-4 <= float(valid[0]) <= 2.5


CHECKS: Dict[str, Callable[..., None]] = dict(
    skip=check_skip, drop=check_drop, error=check_error, invalid=check_invalid)


@pytest.mark.parametrize('name', list(CASES))
def test_bad_input(name, pristine, outcomes, tmp_path, record_bad_input):
    """Fault a copy of the format's tiny set, then check the documented outcome."""
    case = CASES[name]
    fmt = FORMATS[case.fmt]
    root = str(tmp_path / 'data')
    shutil.copytree(pristine[fmt.data], root)
    if case.target.startswith('file:'):
        path = osp.join(root, case.target[len('file:'):])
        assert osp.isfile(path), path
    dataset = build(fmt, root)
    if not case.target.startswith('file:'):
        key, _, frame = case.target.partition(':')
        info = dataset.get_data_info(0)
        path = info[key][int(frame)] if frame else info[key]
    needle = case.fault(path, root)
    record_bad_input(name)
    OUTCOMES[case.kind] += 1
    CHECKS[case.kind](case, fmt, root, path, needle, len(dataset))


def test_every_kind_and_format_is_swept():
    """The table covers each outcome kind and each format it declares."""
    assert {c.kind for c in CASES.values()} == set(CHECKS)
    assert {c.fmt for c in CASES.values()} == set(FORMATS)
