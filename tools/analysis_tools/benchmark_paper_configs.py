"""Start every paper config at its paper size: 2 training iterations and 1
validation sample each, on the paper-size synthetic data, one table row per config.

    python tools/dataset_converters/generate_synthetic.py all --preset paper \\
        --out data/synthetic_paper            # + tools/dataset_converters/nyu.py
    python tools/analysis_tools/benchmark_paper_configs.py [CONFIG ...] \\
        [--data-root data/synthetic_paper] [--iters 2] [--device cpu|cuda] \\
        [--batch-size N] [--skip-ablations] [--mem-limit-gb G] [--timeout S] \\
        [--out table.md] [--json rows.json] [--cfg-options KEY=VALUE ...] [--list]

(``make data-paper`` writes the data set, NYU conversion included.)

Configs: the ones given, else every config under ``configs/`` except ``_base_``
folders, files whose name starts with ``_`` (bases of a family) and the demo ones
(``demo`` or ``synthetic`` in the path). Each runs in its own subprocess, so an
error, a crash or an out-of-memory kill becomes that config's row (with the error)
and the next config runs.

Per config, in the subprocess:

1. the config is read (``--cfg-options`` applied) and every path under a real data
   root it names (``data/nyu``, ``data/kitti_raw``, ``data/kitti_semantics``,
   ``data/cityscapes``, ``data/gta5``, ``data/synthia``, see
   :data:`REAL_TO_SYNTHETIC`) is pointed at the same format under ``--data-root``.
   Configs on data with no synthetic counterpart (ADE20K, CamVid) stop here with
   that message. Auxiliary files the paper pipelines read besides the data set --
   teacher pseudo-labels, precomputed SDE depth estimates, labelled-split files --
   are written once as labelled stand-ins inside the synthetic set
   (:func:`write_stand_ins`; ``STAND_INS.txt`` lists them), never into a folder
   the synthetic generator did not write;
2. one batch of the paper's per-GPU size (``train_dataloader.batch_size``, or
   ``--batch-size``) is drawn from the config's own training loader (the sample
   list is repeated when the synthetic set holds fewer samples than the batch);
3. the model is built without pretrained weights or downloads (backbone
   ``pretrained=False``, no ``init_cfg`` checkpoint is loaded), with the config's
   optimizer wrapper, and ``train_step`` runs ``--iters`` times, each timed;
4. the first sample of the validation loader goes through ``val_step`` and the
   config's validation metrics (``process`` + ``evaluate``).

Reported: the seconds of each training iteration (the first includes one-off
allocations), the validation sample's seconds, peak memory (CPU: the process's
peak RSS; CUDA: ``torch.cuda.max_memory_allocated`` of the training steps and of
the validation sample), the paper's per-GPU batch and the batch that ran. Nothing
is downloaded: the subprocesses run with ``HF_HUB_OFFLINE=1``.
``--mem-limit-gb`` caps each subprocess's address space (``RLIMIT_AS``, which is
larger than its RSS by the size of the mapped libraries, a few GiB for torch), so a
config that would exhaust a shared machine fails with a ``MemoryError`` row naming
the allocation instead of inviting the kernel's OOM killer.

This is a smoke run at the paper size and a rough cost figure, not a timing
benchmark (two iterations; ``benchmark_train.py`` times steps properly).
"""
import argparse
import copy
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MIB = 1024.0 * 1024.0

#: Real data roots as the paper configs name them -> the folder of the same format
#: under ``--data-root`` (the layout ``generate_synthetic.py all`` + ``nyu.py`` write).
REAL_TO_SYNTHETIC: Dict[str, str] = {
    'data/nyu': 'nyu_converted',
    'data/kitti_raw': 'kitti',
    'data/kitti_semantics': 'kitti/data_semantics',
    'data/cityscapes': 'cityscapes',
    'data/gta5': 'gta5',
    'data/synthia': 'synthia',
    'data/gta5_sequences': 'gta5_sequences',
    'data/synthia_seqs': 'synthia_seqs',
}
#: Real data roots the synthetic generator has no format for -> dataset name.
NO_SYNTHETIC: Dict[str, str] = {
    'data/ade': 'ADE20K',
    'data/camvid': 'CamVid',
}
#: ``--variants`` of ``--timed`` -> (amp, channels_last).
VARIANTS: Dict[str, Tuple[bool, bool]] = {
    'fp32': (False, False),
    'amp': (True, False),
    'channels-last': (False, True),
    'amp+channels-last': (True, True),
}
#: Memory of the GPU the paper-size runs are sized against (80 GB A100 / H100), MiB.
GPU_MEMORY_MIB = 80e9 / MIB
#: Name of the list of stand-in files, written into the synthetic set.
STAND_INS_LIST = 'STAND_INS.txt'
#: Depth of the stand-in depth estimates: a ramp from far (top row) to near
#: (bottom row), metres.
STAND_IN_DEPTH_RANGE = (40.0, 2.0)
#: Exact labels the synthetic KITTI set ships as a teacher's pseudo-labels.
RENDERER_PSEUDO_LABELS = 'pseudo_labels/renderer'
#: Synthetic-set split that stands in for a missing labelled-split file.
STAND_IN_SPLIT_GLOB = 'splits/train_1-5_seed*.txt'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='*',
                        help='configs to run (default: every paper config)')
    parser.add_argument('--config-dir', default=osp.join(REPO, 'configs'),
                        help='where to look for paper configs')
    parser.add_argument('--skip-ablations', action='store_true',
                        help="leave out configs under an 'ablations' folder")
    parser.add_argument('--data-root', default='data/synthetic_paper',
                        help='synthetic set with nyu_converted/, kitti/, cityscapes/, '
                        'gta5/, synthia/ (generate_synthetic.py --preset paper)')
    parser.add_argument('--iters', type=int, default=2, help='training iterations')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda when available)')
    parser.add_argument('--batch-size', type=int,
                        help="override the config's per-GPU batch")
    parser.add_argument('--amp', action='store_true',
                        help="mixed precision (benchmark_train.py's --amp)")
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--mem-limit-gb', type=float,
                        help='address-space limit of each subprocess, GiB')
    parser.add_argument('--timeout', type=float, default=3600.0,
                        help='seconds per config before its subprocess is stopped')
    parser.add_argument('--out', help='write the markdown table here too')
    parser.add_argument('--json', help='write the rows as JSON here')
    parser.add_argument('--timed', type=int, metavar='N',
                        help="instead of the smoke run: benchmark_train.py's "
                        'measurement (N timed steps after --warmup, matmul peak, '
                        'FLOPs) for each of --variants; one row per variant')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed steps before the timed ones (with --timed)')
    parser.add_argument('--variants', nargs='+', default=['fp32'],
                        choices=VARIANTS, help='with --timed: precision / layout '
                        'variants, each its own row')
    parser.add_argument('--matmul-size', type=int, default=2048,
                        help='with --timed: side of the square matmul peak')
    parser.add_argument('--data-only', action='store_true',
                        help='only read each config\'s training batch and validation '
                        'sample (no model): checks the paper-size data path')
    parser.add_argument('--list', action='store_true',
                        help='print the configs that would run and their paper batch')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='KEY=VALUE overrides applied to every config')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error('--iters must be >= 1')
    return args


# ---------------------------------------------------------------- configs
def is_paper_config(path: str) -> bool:
    """Whether ``path`` (a ``.py`` under ``configs/``) is a paper config: not a
    ``_base_`` file, not a family base (``_name.py``), not a demo / synthetic one."""
    parts = path.replace(os.sep, '/').split('/')
    name = parts[-1]
    return (name.endswith('.py') and not name.startswith('_')
            and '_base_' not in parts
            and not any(word in part for part in parts
                        for word in ('demo', 'synthetic')))


def find_paper_configs(config_dir: str, skip_ablations: bool = False) -> List[str]:
    """Every paper config under ``config_dir``, sorted, as paths relative to the
    current directory when inside it."""
    found = []
    for path in sorted(glob.glob(osp.join(config_dir, '**', '*.py'), recursive=True)):
        rel = osp.relpath(path, config_dir)
        if not is_paper_config(rel):
            continue
        if skip_ablations and 'ablations' in rel.split(os.sep):
            continue
        found.append(_display_path(path))
    return found


def _display_path(path: str) -> str:
    rel = osp.relpath(path)
    return path if rel.startswith('..') else rel


class NoSyntheticData(RuntimeError):
    """The config reads a data set the synthetic generator has no format for."""


def _remap_path(value: str, data_root: str) -> Tuple[str, Optional[str]]:
    """``value`` with a real data-root prefix replaced; the prefix, or None."""
    for real, synthetic in REAL_TO_SYNTHETIC.items():
        if value == real or value.startswith(real + '/'):
            return osp.join(data_root, synthetic) + value[len(real):], real
    for real, name in NO_SYNTHETIC.items():
        if value == real or value.startswith(real + '/'):
            raise NoSyntheticData(
                f'reads {name} ({value!r}): the synthetic generator has no {name} '
                'format, so this config cannot start without the real data set')
    return value, None


def remap_data_roots(node: Any, data_root: str, used: Optional[set] = None) -> Any:
    """A copy of a config tree (dicts, lists, tuples) in which every string under a
    real data root (:data:`REAL_TO_SYNTHETIC`) points into ``data_root``.

    Args:
        node: The config (``cfg._cfg_dict.to_dict()``) or a part of it.
        data_root: The synthetic set's parent folder.
        used: Filled with the real roots that were replaced.

    Raises:
        NoSyntheticData: For a path under a root of :data:`NO_SYNTHETIC`.
    """
    used = set() if used is None else used
    if isinstance(node, dict):
        return {k: remap_data_roots(v, data_root, used) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(remap_data_roots(v, data_root, used) for v in node)
    if isinstance(node, str):
        value, real = _remap_path(node, data_root)
        if real is not None:
            used.add(real)
        return value
    return node


def paper_batch_size(cfg) -> Optional[int]:
    """The per-GPU training batch of the config (``train_dataloader.batch_size``)."""
    loader = cfg.get('train_dataloader') or {}
    return loader.get('batch_size')


# ---------------------------------------------------------------- stand-in files
def _dataset_cfgs(node: Any, estimate_dirs: Sequence[str] = ()
                  ) -> Iterator[Tuple[dict, List[str]]]:
    """Every dataset config inside a dataset (wrapper) config -- those with a
    ``data_root``, at any depth (``labelled`` / ``unlabelled`` / ``source`` /
    ``target`` / ``dataset`` branches) -- with the depth-estimate folders its
    samples are read from: ``LoadDepthEstimate`` of its pipeline, its own
    ``depth_estimate_dir`` (relative to its root) and a wrapper's
    ``<branch>_estimate_dir`` for its ``<branch>`` dataset."""
    if isinstance(node, dict):
        if 'data_root' in node and 'type' in node:
            dirs = list(estimate_dirs) + [
                t['estimate_dir'] for t in node.get('pipeline') or []
                if isinstance(t, dict) and t.get('type') == 'LoadDepthEstimate']
            if node.get('depth_estimate_dir'):
                own = node['depth_estimate_dir']
                dirs.append(own if osp.isabs(own) else osp.join(node['data_root'], own))
            yield node, dirs
        for key, value in node.items():
            branch_dirs = []
            if isinstance(value, dict) and node.get(f'{key}_estimate_dir'):
                branch_dirs = [node[f'{key}_estimate_dir']]
            yield from _dataset_cfgs(value, branch_dirs)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _dataset_cfgs(value)


def _is_synthetic_path(path: str, data_root: str) -> bool:
    """Whether ``path`` lies in a folder of ``data_root`` that the synthetic
    generator wrote (one with its manifest)."""
    from mmdepthsem.datasets.synthetic import MANIFEST_NAME
    root = osp.abspath(data_root)
    path = osp.abspath(path)
    if not path.startswith(root + os.sep):
        return False
    top = osp.join(root, osp.relpath(path, root).split(os.sep)[0])
    return osp.isfile(osp.join(top, MANIFEST_NAME)) or (
        osp.basename(top) == 'nyu_converted'
        and osp.isfile(osp.join(root, 'nyu', MANIFEST_NAME)))


def _image_size(path: str) -> Tuple[int, int]:
    import cv2
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f'cannot read {path} to size a stand-in file')
    return image.shape[:2]


def _stand_in_labels(info: dict, shape: Tuple[int, int], root: str):
    """Labels for a missing pseudo-label file: the renderer's own pseudo-labels
    of the sample (``<root>/pseudo_labels/renderer``, the synthetic KITTI set's),
    else the sample's ground truth when it has a label map, else horizontal bands
    of ids 0..9."""
    import cv2
    import numpy as np
    candidates = [osp.join(root, RENDERER_PSEUDO_LABELS, info['sample_name'] + '.png'),
                  info.get('seg_map_path')]
    for path in candidates:
        if path and osp.isfile(path):
            labels = cv2.imread(path, cv2.IMREAD_UNCHANGED)
            if labels is not None and labels.shape[:2] == shape:
                return labels.astype(np.uint8)
    rows = np.minimum(np.arange(shape[0]) * 10 // max(shape[0], 1), 9)
    return np.repeat(rows[:, None], shape[1], axis=1).astype(np.uint8)


def _stand_in_depth(shape: Tuple[int, int]):
    import numpy as np
    far, near = STAND_IN_DEPTH_RANGE
    column = np.linspace(far, near, shape[0], dtype=np.float64)
    depth = np.repeat(column[:, None], shape[1], axis=1)
    return np.round(depth * 256.0).astype(np.uint16)


def write_stand_ins(cfg_dict: dict, data_root: str) -> List[str]:
    """Write the auxiliary files the config's datasets and pipelines read that the
    synthetic set lacks, and return them (relative to ``data_root``).

    - ``pseudo_label_dir`` of a dataset: one PNG per sample, the sample's own
      ground-truth ids (else bands of ids 0..9) in place of a teacher's labels;
    - ``LoadDepthEstimate.estimate_dir`` of a pipeline: one 16-bit PNG per sample,
      a vertical ramp of :data:`STAND_IN_DEPTH_RANGE` metres (x 256);
    - a missing ``subset_file``: a copy of the synthetic set's
      ``splits/train_1-5_seed*.txt``.

    Only missing files are written, and only inside folders the synthetic generator
    wrote; anything else that is missing is left to the dataset's own error.
    """
    from mmdepthsem.registry import DATASETS
    from mmdepthsem.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    written: List[str] = []
    for section in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg_dict.get(section) or {}
        for ds_cfg, estimate_dirs in _dataset_cfgs(loader.get('dataset')):
            root = ds_cfg.get('data_root') or ''
            if not _is_synthetic_path(osp.join(root, 'x'), data_root):
                continue
            subset = ds_cfg.get('subset_file')
            if subset:
                path = subset if osp.isabs(subset) else osp.join(root, subset)
                if not osp.exists(path) and _is_synthetic_path(path, data_root):
                    candidates = sorted(glob.glob(osp.join(root, STAND_IN_SPLIT_GLOB)))
                    if candidates:
                        os.makedirs(osp.dirname(path), exist_ok=True)
                        shutil.copyfile(candidates[0], path)
                        written.append(path)
            estimate_dirs = [d for d in dict.fromkeys(estimate_dirs)
                             if _is_synthetic_path(osp.join(d, 'x'), data_root)]
            pseudo_dir = ds_cfg.get('pseudo_label_dir')
            if not estimate_dirs and not pseudo_dir:
                continue
            listing = {k: v for k, v in ds_cfg.items() if k not in ('pipeline', )}
            listing.update(pipeline=[], check_files=False, pseudo_label_dir=None,
                           pseudo_conf_dir=None, subset_file=None)
            if listing.get('with_seg') is False:  # list the label maps too
                listing['with_seg'] = True
            dataset = DATASETS.build(listing)
            for idx in range(len(dataset)):
                info = dataset.get_data_info(idx)
                name = info['sample_name']
                shape = None
                if pseudo_dir:
                    base = pseudo_dir if osp.isabs(pseudo_dir) else osp.join(
                        root, pseudo_dir)
                    path = osp.join(base, name + ds_cfg.get('pseudo_label_suffix',
                                                            '.png'))
                    if not osp.exists(path) and _is_synthetic_path(path, data_root):
                        shape = shape or _image_size(info['img_path'])
                        written.append(
                            _write_png(path, _stand_in_labels(info, shape, root)))
                for estimate_dir in estimate_dirs:
                    path = osp.join(estimate_dir, name + '.png')
                    if not osp.exists(path):
                        shape = shape or _image_size(info['img_path'])
                        written.append(_write_png(path, _stand_in_depth(shape)))
    if written:
        with open(osp.join(data_root, STAND_INS_LIST), 'a') as f:
            for path in written:
                f.write(osp.relpath(path, data_root) + '\n')
    return [osp.relpath(p, data_root) for p in written]


def _write_png(path: str, array) -> str:
    import cv2
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array):
        raise OSError(f'could not write the stand-in file {path}')
    return path


# ---------------------------------------------------------------- one config
def _load_benchmark_train():
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'benchmark_train.py')
    spec = importlib.util.spec_from_file_location('benchmark_train', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Repeated:
    """A dataset's first ``len(dataset)`` samples repeated up to ``length`` items
    (for batches larger than the few-frame synthetic set)."""

    def __init__(self, dataset, length: int) -> None:
        self.dataset = dataset
        self.length = length
        self.metainfo = getattr(dataset, 'metainfo', None)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, idx: int):
        return self.dataset[idx % len(self.dataset)]


def _first_batch(loader_cfg: dict, batch_size: int):
    """The first batch of ``loader_cfg`` (no workers), with the sample list
    repeated when shorter than ``batch_size``."""
    from mmengine.runner import Runner

    from mmdepthsem.registry import DATASETS
    loader_cfg = copy.deepcopy(loader_cfg)
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=batch_size)
    loader_cfg.pop('prefetch_factor', None)
    dataset = loader_cfg.pop('dataset')
    dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
    if len(dataset) < batch_size:
        dataset = _Repeated(dataset, batch_size)
    loader_cfg['dataset'] = dataset
    return next(iter(Runner.build_dataloader(loader_cfg, seed=0))), dataset


def on_cuda_device(device: str) -> bool:
    return str(device).startswith('cuda')


def _sync(device: str) -> None:
    import torch
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak if sys.platform == 'darwin' else peak * 1024) / MIB


def run_config(config: str, data_root: str, iters: int = 2, device: str = 'cpu',
               batch_size: Optional[int] = None, amp: bool = False,
               channels_last: bool = False,
               cfg_options: Optional[Sequence[str]] = None,
               data_only: bool = False, row: Optional[dict] = None,
               timed: Optional[int] = None, warmup: int = 1,
               variants: Sequence[str] = ('fp32', ), matmul_size: int = 2048) -> dict:
    """Run one config (in this process) and return its row; see the module
    docstring.

    Args:
        data_only: Only read the training batch and the validation sample (no
            model): checks a config's paper-size data path in seconds.
        row: Filled in place as the run goes, so that a caller catching an
            exception keeps what was measured before it.
        timed: Instead of the smoke run, ``benchmark_train.benchmark`` with this
            many timed steps (after ``warmup``) for each of ``variants``
            (:data:`VARIANTS`); their results go to ``row['variants']``.

    Raises:
        Whatever the config raises; the parent turns it into an error row.
    """
    import torch
    from mmengine.config import Config, DictAction
    from mmengine.evaluator import Evaluator

    from mmdepthsem.utils import register_all_modules
    from mmdepthsem.utils.tool_config import load_tool_config

    bench = _load_benchmark_train()
    options = None
    if cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        options = parser.parse_args(['--o', *cfg_options]).o
    row = dict(config=config) if row is None else row
    row.update(device=device, data_only=data_only)
    cfg = load_tool_config(config, options)
    row['paper_batch'] = paper_batch_size(cfg)
    used: set = set()
    cfg = Config(remap_data_roots(cfg._cfg_dict.to_dict(), data_root, used),
                 filename=cfg.filename)
    row['data'] = sorted(used)
    row['stand_ins'] = len(write_stand_ins(cfg._cfg_dict.to_dict(), data_root))
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    batch_size = batch_size or row['paper_batch'] or 1
    batch, dataset = _first_batch(cfg.train_dataloader, batch_size)
    row['batch'] = bench.count_samples(batch)
    row['dataset_samples'] = len(getattr(dataset, 'dataset', dataset))
    row['input_shape'] = bench._input_shape(batch)
    if data_only:
        val_loader = cfg.get('val_dataloader') or cfg.get('test_dataloader')
        if val_loader:
            val_batch, _ = _first_batch(val_loader, 1)
            row['val_input_shape'] = bench._input_shape(val_batch)
        row['peak_rss_mib'] = _peak_rss_mib()
        row['status'] = 'ok'
        return row
    if timed:
        row['variants'] = []
        flops = None  # the same for every variant: counted once
        for variant in variants:
            var_amp, var_cl = VARIANTS[variant]
            entry: Dict[str, Any] = dict(variant=variant)
            row['variants'].append(entry)
            try:
                result = bench.benchmark(cfg, timed, warmup, device, amp=var_amp,
                                         channels_last=var_cl,
                                         matmul_size=matmul_size, batch=batch,
                                         step_flops=flops)
                flops = result['step_flops']
            except Exception as err:  # noqa: BLE001 -- one variant's failure
                entry.update(status='error', error=_error_line(err))
                if on_cuda_device(device):
                    import gc
                    gc.collect()
                    torch.cuda.empty_cache()
                continue
            entry.update(status='ok', **{k: result[k] for k in (
                's_per_iter', 's_per_iter_min', 's_per_iter_max', 'images_per_s',
                'cuda_max_allocated_mib', 'peak_rss_mib', 'step_flops',
                'achieved_flops_per_s', 'matmul_flops_per_s', 'fraction_of_peak',
                'amp')})
            if on_cuda_device(device):
                torch.cuda.empty_cache()
        row['peak_rss_mib'] = _peak_rss_mib()
        row['status'] = 'ok' if all(v['status'] == 'ok' for v in row['variants']) \
            else 'error'
        if row['status'] == 'error':
            row['error'] = '; '.join(f"{v['variant']}: {v['error']}"
                                     for v in row['variants'] if v['status'] != 'ok')
        return row

    model, optim_wrapper, row['amp'] = bench.build_training(
        cfg, device, amp=amp, channels_last=channels_last)
    on_cuda = device.startswith('cuda')
    if on_cuda:
        torch.cuda.reset_peak_memory_stats(device)
    seconds = []
    for _ in range(iters):
        data = copy.deepcopy(batch)
        _sync(device)
        start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        _sync(device)
        seconds.append(time.perf_counter() - start)
    row['train_s'] = seconds
    row['train_peak_mib'] = (torch.cuda.max_memory_allocated(device) / MIB
                             if on_cuda else _peak_rss_mib())

    val_loader = cfg.get('val_dataloader') or cfg.get('test_dataloader')
    val_metrics = cfg.get('val_evaluator') or cfg.get('test_evaluator')
    if val_loader:
        del optim_wrapper
        model.zero_grad(set_to_none=True)
        if on_cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        val_batch, val_dataset = _first_batch(val_loader, 1)
        model.eval()
        _sync(device)
        start = time.perf_counter()
        with torch.no_grad():
            outputs = model.val_step(val_batch)
        _sync(device)
        row['val_s'] = time.perf_counter() - start
        row['val_peak_mib'] = (torch.cuda.max_memory_allocated(device) / MIB
                               if on_cuda else _peak_rss_mib())
        if val_metrics:
            evaluator = Evaluator(val_metrics)
            evaluator.dataset_meta = getattr(val_dataset, 'metainfo', None)
            evaluator.process(outputs, val_batch)
            row['val_metrics'] = {k: float(v) for k, v in evaluator.evaluate(1).items()
                                  if isinstance(v, (int, float))}
    row['peak_rss_mib'] = _peak_rss_mib()
    row['status'] = 'ok'
    return row


def _child_main(args: argparse.Namespace) -> int:
    """Subprocess entry: run ``args.child`` and write its row to ``args.result``."""
    row: Dict[str, Any] = dict(config=args.child)
    code = 0
    try:
        run_config(args.child, args.data_root, args.iters, args.device,
                   args.batch_size, args.amp, args.channels_last, args.cfg_options,
                   args.data_only, row, args.timed, args.warmup, args.variants,
                   args.matmul_size)
    except BaseException as err:  # noqa: BLE001 -- every failure becomes a row
        row.update(status='error', error=_error_line(err),
                   peak_rss_mib=_peak_rss_mib())
        traceback.print_exc()
        code = 1
    with open(args.result, 'w') as f:
        json.dump(row, f, indent=2)
    return code


def _error_line(err: BaseException) -> str:
    text = f'{type(err).__name__}: {err}'.strip()
    text = re.sub(r'\s+', ' ', text)
    return text if len(text) <= 400 else text[:397] + '...'


def _last_error_line(stderr: str) -> str:
    """The exception line of a traceback in ``stderr`` (or its last line)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.match(r'^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b', line):
            return line[:400]
    return lines[-1][:400] if lines else ''


def _limit_address_space(gib: float):
    limit = int(gib * 1024 ** 3)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_in_subprocess(config: str, args: argparse.Namespace) -> dict:
    """Run one config in a fresh interpreter and return its row (an error row when
    the subprocess fails, is killed or runs past ``args.timeout``)."""
    with tempfile.TemporaryDirectory(prefix='paper_bench_') as tmp:
        result = osp.join(tmp, 'row.json')
        command = [sys.executable, osp.abspath(__file__), '--child', config,
                   '--result', result, '--data-root', args.data_root,
                   '--iters', str(args.iters), '--device', args.device]
        if args.batch_size:
            command += ['--batch-size', str(args.batch_size)]
        if args.amp:
            command.append('--amp')
        if args.channels_last:
            command.append('--channels-last')
        if args.data_only:
            command.append('--data-only')
        if args.timed:
            command += ['--timed', str(args.timed), '--warmup', str(args.warmup),
                        '--matmul-size', str(args.matmul_size),
                        '--variants', *args.variants]
        if args.cfg_options:
            command += ['--cfg-options', *args.cfg_options]
        env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (REPO, os.environ.get('PYTHONPATH')) if p)
        preexec = _limit_address_space(args.mem_limit_gb) if args.mem_limit_gb else None
        start = time.perf_counter()
        try:
            proc = subprocess.run(command, env=env, capture_output=True, text=True,
                                  timeout=args.timeout, preexec_fn=preexec)
        except subprocess.TimeoutExpired:
            return dict(config=config, status='error',
                        error=f'timeout: still running after {args.timeout:.0f} s',
                        wall_s=time.perf_counter() - start)
        wall = time.perf_counter() - start
        row = None
        if osp.isfile(result):
            with open(result) as f:
                row = json.load(f)
        if row is None:
            how = (f'killed by signal {-proc.returncode}' if proc.returncode < 0
                   else f'exit status {proc.returncode}')
            if proc.returncode == -9:
                how += ' (likely the out-of-memory killer)'
            row = dict(config=config, status='error',
                       error=f'{how}; {_last_error_line(proc.stderr)}'.strip('; '))
        row['wall_s'] = wall
        if row.get('status') != 'ok':
            row['stderr_tail'] = proc.stderr[-3000:]
        return row


# ---------------------------------------------------------------- table
TABLE_HEADER = ('| config | paper batch / GPU | batch run | input (C×H×W) | s/iter '
                '(iter 1, 2, ...) | val s/sample | peak memory MiB (train / val) | '
                'status |')


def _fmt(value, fmt: str = '.2f') -> str:
    return '—' if value is None else format(value, fmt)


def format_row(row: dict) -> str:
    """One markdown table row of a result (ok or error)."""
    config = f"`{row['config']}`"
    paper = _fmt(row.get('paper_batch'), 'd') if row.get('paper_batch') else '—'
    if row.get('status') != 'ok':
        error = str(row.get('error', 'failed')).replace('|', '\\|')
        peak = row.get('peak_rss_mib')
        note = (f' (peak RSS at failure {peak:.0f} MiB)'
                if peak and 'memory' in error.lower() else '')
        empty = ' — |' * 5
        return f'| {config} | {paper} |{empty} error: {error}{note} |'
    shape = row.get('input_shape')
    shape = '×'.join(str(s) for s in shape) if shape else '—'
    iters = ', '.join(f'{s:.2f}' for s in row.get('train_s', []))
    memory = f"{_fmt(row.get('train_peak_mib'), '.0f')} / " \
             f"{_fmt(row.get('val_peak_mib'), '.0f')}"
    kind = 'CUDA max allocated' if str(row.get('device', '')).startswith('cuda') \
        else 'peak RSS'
    status = 'data ok (no model run)' if row.get('data_only') else f'ok ({kind})'
    if row.get('stand_ins'):
        status += f", {row['stand_ins']} stand-in files written"
    return (f"| {config} | {paper} | {row.get('batch', '—')} | {shape} | {iters} | "
            f"{_fmt(row.get('val_s'))} | {memory} | {status} |")


TIMED_HEADER = ('| config | variant | batch | s/iter (min–max) | images/s | '
                'peak memory MiB | of 80 GB | achieved TFLOP/s | fraction of matmul '
                'peak | status |')


def format_timed_rows(row: dict) -> List[str]:
    """Markdown rows of a ``--timed`` result, one per variant (or one error)."""
    config = f"`{row['config']}`"
    batch = row.get('batch', '—')
    variants = row.get('variants')
    if not variants:
        error = str(row.get('error', 'failed')).replace('|', '\\|')
        empty = ' — |' * 6
        return [f'| {config} | — | {batch} |{empty} error: {error} |']
    lines = []
    for v in variants:
        if v.get('status') != 'ok':
            error = str(v.get('error', 'failed')).replace('|', '\\|')
            empty = ' — |' * 6
            lines.append(f"| {config} | {v['variant']} | {batch} |{empty} "
                         f'error: {error} |')
            continue
        cuda = v.get('cuda_max_allocated_mib')
        memory = cuda if cuda is not None else v.get('peak_rss_mib')
        share = f'{100 * cuda / GPU_MEMORY_MIB:.0f}%' if cuda is not None else '—'
        fractions = ', '.join(f'{f:.2f} ({d})' for d, f in
                              (v.get('fraction_of_peak') or {}).items())
        lines.append(
            f"| {config} | {v['variant']} | {batch} | {v['s_per_iter']:.3f} "
            f"({v['s_per_iter_min']:.3f}–{v['s_per_iter_max']:.3f}) | "
            f"{v['images_per_s']:.1f} | {memory:.0f} | {share} | "
            f"{v['achieved_flops_per_s'] / 1e12:.2f} | {fractions} | ok |")
    return lines


def format_table(rows: Sequence[dict]) -> str:
    """The markdown table of all rows (``--timed`` rows get their own columns)."""
    if rows and all('variants' in r or r.get('timed') for r in rows):
        separator = ('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | '
                     '--- |')
        return '\n'.join([TIMED_HEADER, separator]
                         + [line for r in rows for line in format_timed_rows(r)])
    separator = '| --- | ---: | ---: | --- | --- | ---: | --- | --- |'
    return '\n'.join([TABLE_HEADER, separator] + [format_row(r) for r in rows])


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.device is None:
        import torch
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.child:
        sys.exit(_child_main(args))
    configs = list(args.configs) or find_paper_configs(args.config_dir,
                                                       args.skip_ablations)
    if args.list:
        from mmengine.config import Config
        for config in configs:
            print(f'{config}  batch/GPU {paper_batch_size(Config.fromfile(config))}')
        return []
    missing = [d for d in ('nyu_converted', 'kitti', 'cityscapes')
               if not osp.isdir(osp.join(args.data_root, d))]
    if missing:
        print(f'warning: {args.data_root} has no {", ".join(missing)}; render it with\n'
              f'  python tools/dataset_converters/generate_synthetic.py all --preset '
              f'paper --out {args.data_root}\n  (and tools/dataset_converters/nyu.py '
              'for nyu_converted; `make data-paper` does both)', file=sys.stderr)
    what = ('the training batch and 1 validation sample (no model)' if args.data_only
            else f'{args.timed} timed steps x {len(args.variants)} variants' if args.timed
            else f'{args.iters} training iterations + 1 validation sample')
    print(f'{len(configs)} configs, {what} each, device {args.device}, data '
          f'{args.data_root}', flush=True)
    rows = []
    for number, config in enumerate(configs, 1):
        row = run_in_subprocess(config, args)
        row['timed'] = bool(args.timed)
        rows.append(row)
        lines = format_timed_rows(row) if args.timed else [format_row(row)]
        for line in lines:
            print(f'[{number}/{len(configs)}] {line}', flush=True)
    table = format_table(rows)
    print('\n' + table)
    if args.out:
        with open(args.out, 'w') as f:
            command = shlex.join(['benchmark_paper_configs.py',
                                  *(argv if argv is not None else sys.argv[1:])])
            f.write(f'<!-- {command} -->\n')
            f.write(table + '\n')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
