"""Samples per second of the mixing augmentations: pipeline form vs. batch form.

    python tools/analysis_tools/benchmark_mixing.py [--size 480 640] [--batch-size 8]
        [--iters 20] [--device cpu|cuda] [--methods NearFarMix DepthMix ...]

Both forms mix the same in-memory samples (random textures with smooth depth and
blocky labels, so no disk reads are timed):

- pipeline: the transform on numpy ``results`` dicts, one pair at a time, as a
  data-loader worker runs it (one worker, one process);
- batch: the ``Batch*`` augment on a collated batch on ``--device``, as the data
  preprocessor runs it (float RGB images, pixel fields as ``PixelData``).

The printed ratio is batch / pipeline throughput, measured in the same run.
"""
import argparse
import copy
import time

import numpy as np
import torch

from mmdepthsem.datasets.transforms import PackDepthSemInputs
from mmdepthsem.registry import MODELS, TRANSFORMS
from mmdepthsem.utils import register_all_modules

METHODS = {
    'NearFarMix': dict(depth_range=(1.5, 6.5)),
    'DepthMix': dict(mask_source='gt'),
    'CutMix': dict(),
    'ClassMix': dict(),
    'AffineMix': dict(mask_source='gt'),
    'CutDepth': dict(),
    'VCutDepth': dict(),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, nargs=2, default=(480, 640),
                        metavar=('H', 'W'))
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--iters', type=int, default=10, help='timed repetitions')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--methods', nargs='+', default=['NearFarMix', 'DepthMix'],
                        choices=sorted(METHODS))
    return parser.parse_args()


def make_sample(seed: int, hw) -> dict:
    """A pipeline ``results`` dict: texture, smooth depth in 1–8 m, blocky labels."""
    rng = np.random.RandomState(seed)
    h, w = hw
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    depth = 1.0 + 7.0 * (0.5 + 0.5 * np.sin(xx / w * rng.uniform(2, 6) + rng.rand())
                         * np.cos(yy / h * rng.uniform(2, 6)))
    labels = ((xx // 40 + yy // 40 + seed) % 13).astype(np.uint8)
    return dict(img=rng.randint(0, 256, (h, w, 3)).astype(np.uint8),
                gt_depth_map=depth.astype(np.float32), gt_seg_map=labels,
                seg_fields=['gt_seg_map'], img_path=f'bench{seed}.png',
                img_shape=(h, w), ori_shape=(h, w))


def time_pipeline(transform, samples, iters: int, warmup: int) -> float:
    """Samples per second of the pipeline transform (a pair per call)."""
    pairs = [(samples[i], samples[(i + 1) % len(samples)]) for i in range(len(samples))]

    def run_once():
        for first, second in pairs:
            results = copy.copy(first)
            results['mix_results'] = [second]
            transform(results)

    for _ in range(warmup):
        run_once()
    start = time.perf_counter()
    for _ in range(iters):
        run_once()
    return iters * len(pairs) / (time.perf_counter() - start)


def time_batch(augment, samples, device: str, iters: int, warmup: int) -> float:
    """Samples per second of the batch augment on a collated batch on ``device``."""
    packer = PackDepthSemInputs()
    packed = [packer(copy.deepcopy(s)) for s in samples]
    inputs = torch.stack([p['inputs'] for p in packed]).float().to(device)
    data_samples = [p['data_samples'].to(device) for p in packed]
    augment = augment.to(device)

    def sync():
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    for _ in range(warmup):
        augment(inputs, copy.deepcopy(data_samples))
    sync()
    elapsed = 0.0
    for _ in range(iters):
        batch_samples = copy.deepcopy(data_samples)  # not timed: fresh targets
        sync()
        start = time.perf_counter()
        augment(inputs, batch_samples)
        sync()
        elapsed += time.perf_counter() - start
    return iters * len(samples) / elapsed


def main():
    args = parse_args()
    register_all_modules()
    np.random.seed(0)
    samples = [make_sample(i, tuple(args.size)) for i in range(args.batch_size)]
    print(f'mixing throughput at {args.size[0]}x{args.size[1]}, batch '
          f'{args.batch_size}, batch form on {args.device}, '
          f'torch threads {torch.get_num_threads()}')
    header = f'{"method":<12} {"pipeline (samples/s)":>22} {"batch (samples/s)":>19} ' \
             f'{"batch/pipeline":>15}'
    print(header)
    print('-' * len(header))
    for name in args.methods:
        kwargs = METHODS[name]
        transform = TRANSFORMS.build(dict(type=name, **kwargs))
        augment = MODELS.build(dict(type=f'Batch{name}', **kwargs))
        pipe = time_pipeline(transform, samples, args.iters, args.warmup)
        batch = time_batch(augment, samples, args.device, args.iters, args.warmup)
        print(f'{name:<12} {pipe:>22.1f} {batch:>19.1f} {batch / pipe:>14.2f}x')


if __name__ == '__main__':
    main()
