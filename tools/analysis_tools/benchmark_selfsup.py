"""Time of one self-supervised training iteration, split into depth, pose, warping
and loss.

    python tools/analysis_tools/benchmark_selfsup.py configs/fsre/resnet18_kitti.py
        [--height 192 --width 640] [--batch-size 12] [--iters 3] [--warmup 1]
        [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

Builds the config's model (no pretrained weights: backbone ``pretrained=False``,
pose encoder ``checkpoint=None``) and its optimizer wrapper, and trains it on a
synthetic batch of the training layout (target frame, source frames -1/+1 and their
clean copies when the pipeline keeps them, intrinsics, and pseudo-labels when the
model has a semantic decoder or a feature loss), so no data is read. One
iteration is ``train_step``'s work, done step by step so it can be timed: data
preprocessor + ``loss`` + ``parse_losses`` (the forward), then backward + optimizer
step. All in one run, after ``--warmup`` untimed iterations:

- plain: ``--iters`` iterations without the profiler; wall times (perf_counter,
  ``torch.cuda.synchronize`` on GPU) of the forward, backward + step and the whole
  iteration -- the figures to quote for speed;
- profiled: ``--iters`` iterations under ``torch.profiler`` (CPU, and CUDA on
  GPU). The estimator marks its training forward with the disjoint ranges
  ``selfsup/depth`` (encoder, depth / semantic decoders, cross-task modules),
  ``selfsup/pose`` (pose network), ``selfsup/warp`` (depth from disparity,
  back-projection, projection, grid sampling; every source and scale) and
  ``selfsup/loss`` (photometric + auto-mask, smoothness, cross-entropy, triplet);
  the benchmark wraps the whole forward in ``bench/forward``. Each part is the
  total (self + children) time of its range per iteration: CPU time on CPU, CUDA
  kernel time on GPU. ``other`` is the forward outside the four ranges
  (preprocessor, ``parse_losses``), so the shares of the forward sum to 1. The
  profiled wall times are also printed: the profiler's overhead is their difference
  from the plain ones.

The last line, ``BENCH_RESULT {json}``, holds the same figures for
``benchmark_revisions.py`` (before / after comparisons of two revisions).

At the paper size (FSRE ResNet-18, 192x640, batch 12) one iteration takes tens of
seconds on a 2-core CPU, hence the small defaults (3 iterations, 1 warm-up; about
7 iterations in all). Use ``--iters 20 --warmup 5`` on a GPU.
"""
import argparse
import contextlib
import copy
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.optim import build_optim_wrapper
from torch.profiler import ProfilerActivity, profile, record_function

import mmdepthsem
from mmdepthsem.datasets.transforms import PackDepthSemInputs
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import dataset_pipeline, model_cfg_without_downloads

PARTS = ('depth', 'pose', 'warp', 'loss')
RANGES = {part: f'selfsup/{part}' for part in PARTS}
FORWARD_RANGE = 'bench/forward'
# Monodepth2's KITTI intrinsics, normalised by the image width / height.
KITTI_K = np.array([[0.58, 0, 0.5], [0, 1.92, 0.5], [0, 0, 1]], dtype=np.float32)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='self-supervised model config')
    parser.add_argument('--height', type=int, default=192)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--batch-size', type=int, default=12)
    parser.add_argument('--iters', type=int, default=3,
                        help='timed iterations, plain and profiled each')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args()


def build_model(cfg: Config, device: str):
    """The config's model without pretrained weights, in training mode, and its
    optimizer wrapper (Adam 1e-4 when the config has none)."""
    model = MODELS.build(model_cfg_without_downloads(cfg.model)).to(device).train()
    optim_cfg = cfg.get('optim_wrapper') or ConfigDict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
    return model, build_optim_wrapper(model, copy.deepcopy(optim_cfg))


def keeps_clean(cfg: Config) -> bool:
    """Whether the training pipeline keeps un-jittered copies of the frames."""
    pipeline = dataset_pipeline(cfg.get('train_dataloader', {}).get('dataset'))
    return any(t.get('keep_clean') for t in pipeline)


def num_label_classes(cfg: Config):
    """Classes of the (pseudo-)labels the model reads, or None when it reads none."""
    model = cfg.model
    if model.get('sem_decoder'):
        return model.sem_decoder.get('out_channels', 19)
    return 19 if model.get('triplet_loss') else None


def make_batch(model, height: int, width: int, batch_size: int, clean: bool,
               num_classes=None, seed: int = 0) -> dict:
    """A collated training batch as the data loader gives it (before the
    preprocessor): textured frames shifted by a few pixels per frame id,
    intrinsics, and (with ``num_classes``) blocky pseudo-labels with some ignored
    pixels."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    packer = PackDepthSemInputs()
    inputs, samples = [], []
    for i in range(batch_size):
        freq = rng.uniform(3, 9, size=3)
        noise = rng.randint(0, 40, (height, width, 3))

        def frame(shift: float) -> np.ndarray:
            img = np.stack([np.sin((xx + shift) / freq[0]), np.cos(yy / freq[1]),
                            np.sin((xx + shift + yy) / freq[2])], axis=-1)
            return (100 + 90 * img + noise).clip(0, 255).astype(np.uint8)

        results = dict(img=frame(0.0), frames={f: frame(2.0 * f)
                                               for f in model.frame_ids},
                       frame_ids=(0, ) + tuple(model.frame_ids),
                       intrinsics=KITTI_K * np.array([[width], [height], [1]],
                                                     dtype=np.float32),
                       img_path=f'bench{i}.png', img_shape=(height, width),
                       ori_shape=(height, width))
        if clean:
            results['img_clean'] = results['img'].copy()
            results['frames_clean'] = {f: v.copy() for f, v in results['frames'].items()}
        if num_classes is not None:
            labels = (xx // 32 + yy // 24 + i) % num_classes
            labels[rng.rand(height, width) < 0.05] = 255
            results['gt_pseudo_seg_map'] = labels.astype(np.uint8)
        packed = packer(results)
        if num_classes is not None and model.sem_label_field != 'gt_pseudo_sem_seg':
            sample = packed['data_samples']
            sample.set_data({model.sem_label_field: sample.gt_pseudo_sem_seg})
        inputs.append(packed['inputs'])
        samples.append(packed['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


def _sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def run_iterations(model, optim_wrapper, batch: dict, iters: int, device: str,
                   preprocess_range: Optional[str] = None) -> Dict[str, float]:
    """``iters`` training iterations as ``BaseModel.train_step`` runs them; mean
    wall times (ms) of the forward, backward + optimizer step and the iteration, and
    ``cpu_total``: this process's CPU time per iteration (``time.process_time``),
    which other jobs on a shared machine disturb far less than wall time.
    ``preprocess_range`` names a profiler range around the data preprocessor
    (where batch augments such as NearFarMix run)."""
    forward = backward = cpu = 0.0
    for _ in range(iters):
        data = copy.deepcopy(batch)  # the preprocessor edits the samples in place
        _sync(device)
        start = time.perf_counter()
        cpu_start = time.process_time()
        with record_function(FORWARD_RANGE):
            with optim_wrapper.optim_context(model):
                with (record_function(preprocess_range) if preprocess_range
                      else contextlib.nullcontext()):
                    data = model.data_preprocessor(data, True)
                losses = model._run_forward(data, mode='loss')
            loss, _ = model.parse_losses(losses)
        _sync(device)
        middle = time.perf_counter()
        optim_wrapper.update_params(loss)
        _sync(device)
        forward += middle - start
        backward += time.perf_counter() - middle
        cpu += time.process_time() - cpu_start
    scale = 1000.0 / max(iters, 1)
    return dict(forward=forward * scale, backward_step=backward * scale,
                total=(forward + backward) * scale, cpu_total=cpu * scale)


def range_times(events, names: Sequence[str], basis: str) -> Dict[str, float]:
    """Total time (ms, self + children) of the named ranges over ``events``
    (``prof.key_averages()``): CPU time, or kernel time with ``basis='cuda'``."""
    totals = {name: 0.0 for name in names}
    for event in events:
        if event.key in totals:
            if basis == 'cuda':
                us = getattr(event, 'device_time_total', None)
                if us is None:
                    us = event.cuda_time_total
            else:
                us = event.cpu_time_total
            totals[event.key] += us / 1000.0
    return totals


def benchmark(cfg: Config, height: int = 192, width: int = 640, batch_size: int = 12,
              iters: int = 3, warmup: int = 1, device: str = 'cpu',
              seed: int = 0) -> dict:
    """Plain and profiled training iterations of ``cfg``'s model.

    Returns:
        ``parts``: ms per iteration of ``depth``, ``pose``, ``warp``, ``loss`` and
        ``other`` (profiled forward outside the four ranges), on ``basis``
        (``'cpu'`` time, or ``'cuda'`` kernel time on GPU); ``shares``: the same
        divided by ``forward_profiled`` (the ``bench/forward`` range), summing to 1;
        ``cpu_parts``: the CPU times in any case; ``plain`` and ``profiled``: wall
        ms of ``forward``, ``backward_step`` and ``total`` per iteration; and the
        settings.
    """
    register_all_modules()
    torch.manual_seed(seed)
    model, optim_wrapper = build_model(cfg, device)
    batch = make_batch(model, height, width, batch_size, keeps_clean(cfg),
                       num_label_classes(cfg), seed)
    run_iterations(model, optim_wrapper, batch, warmup, device)
    plain = run_iterations(model, optim_wrapper, batch, iters, device)
    on_cuda = str(device).startswith('cuda')
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with profile(activities=activities) as prof:
        profiled = run_iterations(model, optim_wrapper, batch, iters, device)
    events = prof.key_averages()
    names = [RANGES[p] for p in PARTS] + [FORWARD_RANGE]
    basis = 'cuda' if on_cuda else 'cpu'
    per_iter = 1.0 / max(iters, 1)

    def split(times: Dict[str, float]):
        parts = {p: times[RANGES[p]] * per_iter for p in PARTS}
        forward = times[FORWARD_RANGE] * per_iter
        parts['other'] = forward - sum(parts.values())
        return parts, forward

    parts, forward = split(range_times(events, names, basis))
    cpu_parts, _ = split(range_times(events, names, 'cpu'))
    shares = {p: (t / forward if forward > 0 else 0.0) for p, t in parts.items()}
    return dict(parts=parts, shares=shares, forward_profiled=forward, basis=basis,
                cpu_parts=cpu_parts, plain=plain, profiled=profiled,
                height=height, width=width, batch_size=batch_size, iters=iters,
                warmup=warmup, device=str(device))


def format_table(result: dict) -> List[str]:
    """The printed report of :func:`benchmark`."""
    basis = result['basis']
    lines = [f'{"part":<18} {basis + " ms/iter":>14} {"share of forward":>17}']
    lines.append('-' * len(lines[0]))
    for part in PARTS + ('other', ):
        label = part if part != 'other' else 'other (forward)'
        lines.append(f'{label:<18} {result["parts"][part]:>14.1f} '
                     f'{100 * result["shares"][part]:>16.1f}%')
    lines.append(f'{"forward (profiled)":<18} {result["forward_profiled"]:>14.1f} '
                 f'{100 * sum(result["shares"].values()):>16.1f}%')
    lines.append('')
    header = f'{"wall ms/iter":<18} {"forward":>10} {"backward+step":>14} ' \
             f'{"iteration":>10}'
    lines += [header, '-' * len(header)]
    for key in ('plain', 'profiled'):
        t = result[key]
        lines.append(f'{key:<18} {t["forward"]:>10.1f} {t["backward_step"]:>14.1f} '
                     f'{t["total"]:>10.1f}')
    plain = result['plain']
    if plain['total'] > 0:
        lines.append(f'backward+step share of the plain iteration: '
                     f'{100 * plain["backward_step"] / plain["total"]:.1f}%')
    return lines


def bench_result_line(result: dict) -> str:
    """``BENCH_RESULT {json}``: the line ``benchmark_revisions.py`` reads -- plain
    wall ms per iteration, profiled ms of the ranges, and the imported package."""
    payload = dict(plain=result['plain'], profiled=result['profiled'],
                   parts=result['parts'], forward_profiled=result['forward_profiled'],
                   package=osp.dirname(osp.abspath(mmdepthsem.__file__)))
    return 'BENCH_RESULT ' + json.dumps(payload)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = args.device
    name = 'cpu'
    if device.startswith('cuda'):
        name = torch.cuda.get_device_name(torch.device(device))
    print(f'config {osp.relpath(args.config)}: {args.height}x{args.width}, batch '
          f'{args.batch_size}, {args.iters} iterations (+{args.warmup} warm-up) '
          f'plain and profiled')
    print(f'device {device} ({name}), torch {torch.__version__}, torch threads '
          f'{torch.get_num_threads()}')
    result = benchmark(cfg, args.height, args.width, args.batch_size, args.iters,
                       args.warmup, device, args.seed)
    print('\n'.join(format_table(result)))
    print(bench_result_line(result))


if __name__ == '__main__':
    main()
