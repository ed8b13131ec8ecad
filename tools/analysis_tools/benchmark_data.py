"""Samples/s of a config's training data pipeline with 0, 1 and 2 loader workers, next
to mmseg's nearest equivalent pipeline on the same files.

    python tools/analysis_tools/benchmark_data.py CONFIG [--workers 0 1 2]
        [--batches 20] [--rounds 3] [--batch-size N] [--no-mmseg] [--json OUT]
        [--cfg-options KEY=VALUE ...]

``ours``: the config's training loader as the Runner builds it (its dataset,
pipeline -- decode, transforms, pack -- collate function and batch size; a
``DefaultSampler`` becomes an ``InfiniteSampler`` with the same shuffling so a run
never ends an epoch), with ``num_workers`` set to each of ``--workers``.

``mmseg``: the same file list (the data list of the config's dataset; for a
labelled + unlabelled dataset, its first branch) through mmcv / mmseg transforms
built from the config's pipeline, one for one where mmseg has one:
``LoadImageFromFile`` (mmcv), ``LoadAnnotations`` for semantic and pseudo labels,
mmseg's ``LoadDepthAnnotation`` for depth PNGs, ``Resize`` / ``RandomResize`` /
``RandomFlip`` (mmcv), ``RandomCrop`` (mmseg, ``cat_max_ratio=1``),
``PhotoMetricDistortion`` for ``ColorJitter`` and ``PackSegInputs`` for
``PackDepthSemInputs``, in a plain ``Dataset`` with mmengine's ``pseudo_collate`` and
``InfiniteSampler``. mmseg has no multi-frame loading: for sequence configs its
nearest equivalent loads the -1/+1 neighbour frames as extra images (decoded only;
mmseg's transforms do not move them). Transforms with no mmseg counterpart are left
out, and the tool lists what differs.

Each round runs every worker count for both pipelines, alternating, so machine load
is shared: a fresh loader, its first batch timed apart (``latency``: worker start-up
and first decode), then ``--batches`` batches timed. samples/s is the median over
``--rounds`` rounds; ``ours / mmseg`` is the ratio of the medians. With workers the
figure is the steady-state rate of the worker pool on the machine's cores (nothing
else runs in the main process).
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import mmcv
import torch
from mmcv.transforms import LoadImageFromFile as MMCVLoadImage
from mmcv.transforms import RandomFlip as MMCVRandomFlip
from mmcv.transforms import RandomResize as MMCVRandomResize
from mmcv.transforms import Resize as MMCVResize
from mmengine.config import Config, DictAction
from mmengine.dataset import InfiniteSampler, pseudo_collate
from mmengine.runner import Runner
from mmseg.datasets.transforms import (LoadAnnotations, LoadDepthAnnotation,
                                       PackSegInputs, PhotoMetricDistortion,
                                       RandomCrop)
from torch.utils.data import DataLoader, Dataset

from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import load_tool_config

# Sub-dataset attribute / config key of the wrappers, in the order searched.
WRAPPED = ('dataset', 'labelled', 'unlabelled')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batches', type=int, default=20,
                        help='timed batches per loader, after its first one')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--batch-size', type=int,
                        help="override the training loader's batch size")
    parser.add_argument('--no-mmseg', action='store_true',
                        help='time only the config\'s own pipeline')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', metavar='OUT', help='also write the figures here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)
    if args.batches < 1 or args.rounds < 1 or min(args.workers) < 0:
        parser.error('--batches and --rounds must be >= 1, --workers >= 0')
    return args


def count_samples(batch: Any) -> int:
    """Samples in a collated batch, summed over branches for multi-branch batches."""
    inputs = batch.get('inputs')
    if inputs is not None:
        return inputs.shape[0] if torch.is_tensor(inputs) else len(inputs)
    return sum(count_samples(b) for b in batch.values() if isinstance(b, dict))


# ---------------------------------------------------------------- our loader
def our_loader(cfg: Config, workers: int, batch_size: Optional[int] = None,
               seed: int = 0) -> DataLoader:
    """The config's training loader with ``workers`` workers, never-ending."""
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=workers, persistent_workers=False)
    if workers == 0:
        loader_cfg.pop('prefetch_factor', None)
    if batch_size:
        loader_cfg.batch_size = batch_size
    sampler = loader_cfg.get('sampler') or {}
    if sampler.get('type', 'DefaultSampler') == 'DefaultSampler':
        loader_cfg.sampler = dict(type='InfiniteSampler',
                                  shuffle=sampler.get('shuffle', True))
    return Runner.build_dataloader(loader_cfg, seed=seed)


def leaf_dataset(dataset: Any, dataset_cfg: dict) -> Tuple[Any, dict]:
    """The first dataset inside wrappers that has a data list, and its config."""
    while not hasattr(dataset, 'get_data_info'):
        for key in WRAPPED:
            if hasattr(dataset, key) and key in dataset_cfg:
                dataset, dataset_cfg = getattr(dataset, key), dataset_cfg[key]
                break
        else:
            raise TypeError(f'no data list found in {type(dataset).__name__}')
    return dataset, dataset_cfg


# ---------------------------------------------------------------- mmseg pipeline
class LoadNeighboursAsImages:
    """mmseg's nearest equivalent of loading a sequence: decode each path of
    ``results['frame_paths']`` as mmcv's ``LoadImageFromFile`` decodes an image and
    keep them in ``results['frames']`` (mmseg's transforms do not move them)."""

    def __call__(self, results: dict) -> dict:
        results['frames'] = {fid: mmcv.imread(path)
                             for fid, path in results.get('frame_paths', {}).items()}
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


def mmseg_pipeline(pipeline: Sequence[dict], image_wh: Tuple[int, int]
                   ) -> Tuple[List[Any], List[str]]:
    """mmcv / mmseg transforms standing for ``pipeline`` (configs of this package's
    transforms), and notes on what differs.

    Args:
        pipeline: The config's training pipeline.
        image_wh: ``(w, h)`` of the stored images, the base of a ``RandomResize``
            that scales the current image (mmcv's needs a base scale).
    """
    out, notes = [], []
    for t in pipeline:
        kind = t['type'].split('.')[-1]
        if kind == 'LoadImageFromFile':
            out.append(MMCVLoadImage())
        elif kind == 'LoadNeighbourFrames':
            out.append(LoadNeighboursAsImages())
            notes.append('neighbour frames: decoded as extra images only (mmseg '
                         'has no multi-frame loading); not resized, cropped, '
                         'flipped, jittered or packed')
        elif kind == 'LoadDepthAnnotation':
            scale = t.get('depth_scale') or 1000.0
            out.append(LoadDepthAnnotation(depth_rescale_factor=1.0 / scale))
        elif kind in ('LoadSemAnnotation', 'LoadPseudoLabel'):
            out.append(LoadAnnotations(reduce_zero_label=False))
            if kind == 'LoadPseudoLabel':
                notes.append('pseudo-labels: loaded as a label map by '
                             'LoadAnnotations')
        elif kind == 'Resize':
            out.append(MMCVResize(scale=t.get('scale'),
                                  scale_factor=t.get('scale_factor'),
                                  keep_ratio=t.get('keep_ratio', False)))
        elif kind == 'RandomResize':
            scale = t.get('scale') or image_wh
            ratio = t.get('ratio_range')
            if ratio is None and t.get('ratios'):
                ratio = (min(t['ratios']), max(t['ratios']))
                notes.append('RandomResize ratios: uniform over their range')
            out.append(MMCVRandomResize(scale=tuple(scale), ratio_range=ratio,
                                        keep_ratio=True))
        elif kind == 'RandomCrop':
            out.append(RandomCrop(crop_size=tuple(t['crop_size']),
                                  cat_max_ratio=1.0))
        elif kind == 'RandomFlip':
            out.append(MMCVRandomFlip(prob=t.get('prob', 0.5)))
        elif kind == 'ColorJitter':
            out.append(PhotoMetricDistortion())
            notes.append('ColorJitter -> PhotoMetricDistortion (mmseg defaults; '
                         'each of its distortions with probability 0.5)')
        elif kind == 'PackDepthSemInputs':
            out.append(PackSegInputs())
        else:
            notes.append(f'{kind}: no mmseg equivalent, left out')
    if not any(isinstance(t, PackSegInputs) for t in out):
        out.append(PackSegInputs())
    return out, notes


class PipelineDataset(Dataset):
    """``data_list`` entries run through a list of transforms."""

    def __init__(self, data_list: Sequence[dict], transforms: Sequence[Any]) -> None:
        self.data_list = list(data_list)
        self.transforms = list(transforms)

    def __len__(self) -> int:
        return len(self.data_list)

    def __getitem__(self, index: int) -> dict:
        results = copy.deepcopy(self.data_list[index])
        results.setdefault('seg_fields', [])
        results.setdefault('reduce_zero_label', False)
        for transform in self.transforms:
            results = transform(results)
        return results


def mmseg_dataset(dataset: Any, dataset_cfg: dict) -> Tuple[PipelineDataset,
                                                                 List[str]]:
    """mmseg's nearest equivalent of ``dataset`` (built from ``dataset_cfg``) on
    its file list, and the notes on what differs."""
    leaf, leaf_cfg = leaf_dataset(dataset, dataset_cfg)
    infos = [leaf.get_data_info(i) for i in range(len(leaf))]
    for info in infos:
        if 'seg_map_path' not in info and 'pseudo_seg_map_path' in info:
            info['seg_map_path'] = info['pseudo_seg_map_path']
    height, width = mmcv.imread(infos[0]['img_path']).shape[:2]
    transforms, notes = mmseg_pipeline(leaf_cfg.get('pipeline', []), (width, height))
    if leaf is not dataset:
        notes.insert(0, f'{type(dataset).__name__}: mmseg side reads its first '
                     f'branch ({type(leaf).__name__}) only')
    if any(isinstance(t, LoadDepthAnnotation) for t in transforms):
        notes.append('depth: mmseg scales it on loading but does not adjust it on '
                     "resize (our depth_mode), and packs it as 'gt_depth_map'")
    return PipelineDataset(infos, transforms), notes


def mmseg_loader(dataset: PipelineDataset, workers: int, batch_size: int,
                 seed: int = 0) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                      sampler=InfiniteSampler(dataset, shuffle=True, seed=seed),
                      collate_fn=pseudo_collate)


# ---------------------------------------------------------------- timing
def time_loader(loader: DataLoader, batches: int) -> Dict[str, float]:
    """Latency of the first batch (s, iterator start included) and samples/s of
    the next ``batches``."""
    start = time.perf_counter()
    iterator = iter(loader)
    next(iterator)
    first = time.perf_counter()
    samples = 0
    for _ in range(batches):
        samples += count_samples(next(iterator))
    seconds = time.perf_counter() - first
    del iterator  # stops the workers
    return dict(latency_s=first - start, samples_per_s=samples / seconds,
                samples=samples, seconds=seconds)


def benchmark(cfg: Config, workers: Sequence[int] = (0, 1, 2), batches: int = 20,
              rounds: int = 3, batch_size: Optional[int] = None,
              with_mmseg: bool = True, seed: int = 0) -> dict:
    """samples/s of the config's training loader and of mmseg's equivalent.

    Returns:
        dict with ``rows``: one per pipeline (``'ours'``, ``'mmseg'``) and worker
        count: ``samples_per_s`` (median over rounds), ``latency_s`` (median first
        batch), ``rounds`` (the per-round samples/s); ``ratio``: ours / mmseg
        samples/s per worker count; ``notes`` on what the mmseg side differs in;
        ``batch_size``; and the settings.
    """
    register_all_modules()
    loaders = {'ours': lambda w: our_loader(cfg, w, batch_size, seed)}
    notes: List[str] = []
    ours_batch = batch_size or cfg.train_dataloader.get('batch_size', 1)
    if with_mmseg:
        built = our_loader(cfg, 0, batch_size, seed).dataset
        mmseg_ds, notes = mmseg_dataset(built, cfg.train_dataloader.dataset)
        loaders['mmseg'] = lambda w: mmseg_loader(mmseg_ds, w, ours_batch, seed)
    runs: Dict[Tuple[str, int], List[Dict[str, float]]] = {
        (name, w): [] for w in workers for name in loaders}
    for _ in range(rounds):
        for w in workers:
            for name, make in loaders.items():
                runs[name, w].append(time_loader(make(w), batches))
    rows = []
    for (name, w), timings in runs.items():
        rows.append(dict(
            pipeline=name, workers=w,
            samples_per_s=statistics.median(t['samples_per_s'] for t in timings),
            latency_s=statistics.median(t['latency_s'] for t in timings),
            rounds=[t['samples_per_s'] for t in timings]))
    by_key = {(r['pipeline'], r['workers']): r for r in rows}
    ratio = {w: by_key['ours', w]['samples_per_s'] / by_key['mmseg', w]['samples_per_s']
             for w in workers if ('mmseg', w) in by_key}
    return dict(rows=rows, ratio=ratio, notes=notes, batch_size=ours_batch,
                workers=list(workers), batches=batches, rounds=rounds,
                torch=torch.__version__, cpus=torch.multiprocessing.cpu_count())


def format_table(result: dict) -> List[str]:
    """The printed report of :func:`benchmark`."""
    header = (f'{"pipeline":<10} {"workers":>7} {"samples/s":>10} '
              f'{"latency s":>10} {"ours/mmseg":>11}')
    lines = [header, '-' * len(header)]
    for row in result['rows']:
        ratio = result['ratio'].get(row['workers']) if row['pipeline'] == 'ours' \
            else None
        text = '' if ratio is None else f'{ratio:.2f}'
        lines.append(f'{row["pipeline"]:<10} {row["workers"]:>7} '
                     f'{row["samples_per_s"]:>10.2f} {row["latency_s"]:>10.3f} '
                     f'{text:>11}')
    lines.append('-' * len(header))
    lines.append('Notes: samples/s = median over rounds of the batches after the '
                 'first; latency = first batch (worker start-up included).')
    if result['ratio']:
        lines.append('       mmseg: same files; ours also loads and packs what '
                     'the config asks for (depth, intrinsics, frames, ...).')
    for note in result['notes']:
        lines.append(f'       mmseg: {note}')
    return lines


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)  # the workers do the work; keep the main process light
    cfg = load_tool_config(args.config, args.cfg_options)
    print(f'config {osp.relpath(args.config)}: workers {args.workers}, '
          f'{args.batches} timed batches x {args.rounds} rounds; torch '
          f'{torch.__version__}, {torch.multiprocessing.cpu_count()} CPUs')
    result = benchmark(cfg, args.workers, args.batches, args.rounds, args.batch_size,
                       not args.no_mmseg, args.seed)
    result['config'] = osp.relpath(args.config)
    print(f'batch size {result["batch_size"]}')
    print('\n'.join(format_table(result)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'figures written to {args.json}')
    return result


if __name__ == '__main__':
    main()
