"""Time of one supervised multi-task (DSS) training iteration, split by module.

    python tools/analysis_tools/benchmark_dss.py configs/dss/maxvit_pico_synthetic_nyu.py
        [--height 128 --width 160] [--batch-size 4] [--iters 3] [--warmup 1]
        [--top 0] [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

Builds the config's model without pretrained weights and its optimizer wrapper, and
trains it on a synthetic collated batch (textured images, a smooth depth map in
``[0.5, 0.9] · max_depth`` and blocky labels with a few ignored pixels), so no data is
read. One iteration is ``train_step``'s work done step by step: data preprocessor
(with its batch augments, e.g. NearFarMix: range ``dss/batch_augment`` around the
whole preprocessor) + ``loss`` + ``parse_losses`` (the forward), then backward +
optimizer step. After ``--warmup`` untimed iterations, ``--iters`` plain iterations
give the wall times and ``--iters`` profiled ones split the forward along the
estimator's ranges ``multitask/backbone``, ``multitask/decode_neck``,
``multitask/task_neck``, ``multitask/depth_head`` and ``multitask/sem_head`` (head
forward + loss), CPU time on CPU, CUDA kernel time on GPU. ``--top N`` also prints
the profile's N operators with the most self time (forward and backward). The last
line, ``BENCH_RESULT {json}``, is read by ``benchmark_revisions.py``.
"""
import argparse
import json
import os.path as osp
from typing import List

import numpy as np
import torch
from mmengine.config import Config, DictAction
from torch.profiler import ProfilerActivity, profile

import mmdepthsem
from mmdepthsem.datasets.transforms import PackDepthSemInputs
from mmdepthsem.utils import register_all_modules

try:  # the self-supervised benchmark's model building and timing loop
    from benchmark_selfsup import build_model, range_times, run_iterations
except ImportError:  # imported as tools.analysis_tools.benchmark_dss
    from .benchmark_selfsup import build_model, range_times, run_iterations

PARTS = ('backbone', 'decode_neck', 'task_neck', 'depth_head', 'sem_head')
RANGES = dict({p: f'multitask/{p}' for p in PARTS},
              batch_augment='dss/batch_augment')
FORWARD_RANGE = 'bench/forward'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='multi-task model config (e.g. DSS)')
    parser.add_argument('--height', type=int, default=128)
    parser.add_argument('--width', type=int, default=160)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--top', type=int, default=0,
                        help='print the N operators with the most self time')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args()


def make_batch(height: int, width: int, batch_size: int, num_classes: int,
               max_depth: float, seed: int = 0) -> dict:
    """A collated batch before the preprocessor: BGR uint8 images, depth (metres)
    and labels (255 = ignored)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    packer = PackDepthSemInputs()
    inputs, samples = [], []
    for i in range(batch_size):
        freq = rng.uniform(3, 9, size=3)
        img = np.stack([np.sin(xx / freq[0]), np.cos(yy / freq[1]),
                        np.sin((xx + yy) / freq[2])], axis=-1)
        img = (100 + 90 * img + rng.randint(0, 40, (height, width, 3))).clip(0, 255)
        depth = max_depth * (0.5 + 0.4 * yy / height + 0.0 * xx)
        labels = (xx // 16 + yy // 12 + i) % num_classes
        labels[rng.rand(height, width) < 0.05] = 255
        packed = packer(dict(img=img.astype(np.uint8), gt_depth_map=depth,
                             gt_seg_map=labels.astype(np.uint8),
                             img_path=f'bench{i}.png', img_shape=(height, width),
                             ori_shape=(height, width)))
        inputs.append(packed['inputs'])
        samples.append(packed['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


def benchmark(cfg: Config, height: int = 128, width: int = 160, batch_size: int = 4,
              iters: int = 3, warmup: int = 1, device: str = 'cpu', seed: int = 0,
              top: int = 0) -> dict:
    """Plain and profiled iterations; ``parts`` (ms per iteration of each range and
    ``other``), ``plain`` / ``profiled`` wall times and, with ``top``, the
    operator table."""
    register_all_modules()
    torch.manual_seed(seed)
    model, optim_wrapper = build_model(cfg, device)
    sem = cfg.model.get('sem_head') or {}
    depth = cfg.model.get('depth_head') or {}
    batch = make_batch(height, width, batch_size, sem.get('num_classes', 19),
                       depth.get('max_depth', 10.0), seed)
    augment = RANGES['batch_augment']  # the preprocessor, where NearFarMix runs
    run_iterations(model, optim_wrapper, batch, warmup, device, augment)
    plain = run_iterations(model, optim_wrapper, batch, iters, device, augment)
    on_cuda = str(device).startswith('cuda')
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with profile(activities=activities) as prof:
        profiled = run_iterations(model, optim_wrapper, batch, iters, device,
                                  augment)
    events = prof.key_averages()
    basis = 'cuda' if on_cuda else 'cpu'
    times = range_times(events, list(RANGES.values()) + [FORWARD_RANGE], basis)
    per_iter = 1.0 / max(iters, 1)
    parts = {p: times[r] * per_iter for p, r in RANGES.items()}
    forward = times[FORWARD_RANGE] * per_iter
    parts['other'] = forward - sum(parts.values())
    table = events.table(sort_by=f'self_{basis}_time_total', row_limit=top) \
        if top > 0 else ''
    return dict(parts=parts, forward_profiled=forward, basis=basis, plain=plain,
                profiled=profiled, top=table)


def format_table(result: dict) -> List[str]:
    """Printed report of :func:`benchmark`."""
    forward = result['forward_profiled']
    lines = [f'{"part":<18} {result["basis"] + " ms/iter":>14} {"share":>8}']
    lines.append('-' * len(lines[0]))
    for part, ms in list(result['parts'].items()) + [('forward', forward)]:
        share = 100 * ms / forward if forward > 0 else 0.0
        lines.append(f'{part:<18} {ms:>14.1f} {share:>7.1f}%')
    lines.append('')
    lines.append(f'{"wall ms/iter":<18} {"forward":>10} {"backward+step":>14} '
                 f'{"iteration":>10}')
    for key in ('plain', 'profiled'):
        t = result[key]
        lines.append(f'{key:<18} {t["forward"]:>10.1f} {t["backward_step"]:>14.1f} '
                     f'{t["total"]:>10.1f}')
    return lines


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(f'config {osp.relpath(args.config)}: {args.height}x{args.width}, batch '
          f'{args.batch_size}, {args.iters} iterations (+{args.warmup} warm-up) plain '
          f'and profiled; device {args.device}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')
    result = benchmark(cfg, args.height, args.width, args.batch_size, args.iters,
                       args.warmup, args.device, args.seed, args.top)
    if result['top']:
        print(result['top'])
    print('\n'.join(format_table(result)))
    payload = {k: result[k] for k in ('plain', 'profiled', 'parts',
                                      'forward_profiled')}
    payload['package'] = osp.dirname(osp.abspath(mmdepthsem.__file__))
    print('BENCH_RESULT ' + json.dumps(payload))


if __name__ == '__main__':
    main()
