"""Inference speed of a config's model: images per second and milliseconds per image.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--num-iters 50]
        [--warmup 5] [--repeat 3] [--device cpu] [--shape H W] [--batch-size 1]
        [--mode predict|tensor] [--dataset] [--cfg-options KEY=VALUE ...]

Times ``model(inputs, mode='predict')`` (or ``mode='tensor'``: the raw head outputs,
without resizing to the original size) under ``torch.no_grad()`` in eval mode. Each
of ``--repeat`` runs does ``--warmup`` untimed iterations, then times
``--num-iters`` iterations of one batch each; on a GPU the device is synchronised
before the clock starts and stops, so queued kernels are counted. The report gives
the median over the runs and their min / max.

Inputs are random images of ``--shape`` (default: the config's test size, padded to
the data preprocessor's ``size_divisor``), normalised by the model's data
preprocessor outside the timed region. With ``--dataset`` the batches come from the
config's test data loader instead (``--batch-size`` then overrides its batch size);
they too are preprocessed outside the timed region.

Without CHECKPOINT the model keeps its initial weights (the backbone is built with
``pretrained=False``); speed does not depend on the weights.
"""
import argparse
import math
import statistics
import time
from typing import Dict, Iterator, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from torch import nn

from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import build_model_with_weights, test_input_shape


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (optional)')
    parser.add_argument('--num-iters', type=int, default=50,
                        help='timed iterations per run')
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed iterations before each run')
    parser.add_argument('--repeat', type=int, default=3, help='number of runs')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu', 'cuda:0'")
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input height and width of random inputs (default: '
                        "the config's test size)")
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--mode', choices=['predict', 'tensor'], default='predict',
                        help='forward mode to time')
    parser.add_argument('--dataset', action='store_true',
                        help="time on the config's test data instead of random "
                        'inputs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)
    for name in ('num_iters', 'repeat', 'batch_size'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    if args.warmup < 0:
        parser.error('--warmup must not be negative')
    return args


default_test_shape = test_input_shape  # the padded test-time (H, W) of a config


def build_model(cfg: Config, checkpoint: Optional[str], device: str = 'cpu'
                ) -> nn.Module:
    """The config's model with ``checkpoint``'s weights (weights-only loading), in
    eval mode on ``device``; nothing is downloaded."""
    return build_model_with_weights(cfg.model, checkpoint, device)


def random_batches(model: nn.Module, shape: Sequence[int],
                   batch_size: int) -> Iterator[Dict]:
    """One random uint8-range batch, preprocessed once and yielded forever."""
    generator = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, *shape), generator=generator,
                            dtype=torch.uint8) for _ in range(batch_size)]
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=images), False)
    data['data_samples'] = None
    while True:
        yield data


def dataset_batches(model: nn.Module, cfg: Config, batch_size: int) -> Iterator[Dict]:
    """Preprocessed batches of the test data loader, cycled forever."""
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg['batch_size'] = batch_size
    loader = Runner.build_dataloader(loader_cfg)
    if len(loader) == 0:
        raise SystemExit('the test data loader is empty')
    while True:
        for batch in loader:
            with torch.no_grad():
                yield model.data_preprocessor(batch, False)


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_run(model: nn.Module, batches: Iterator[Dict], mode: str, num_iters: int,
             warmup: int) -> float:
    """Seconds per image of one run: ``warmup`` untimed iterations, then
    ``num_iters`` timed ones; data preparation stays outside the clock (a short
    last batch of the data set counts its own images)."""
    device = next(model.parameters()).device
    with torch.no_grad():
        for _ in range(warmup):
            data = next(batches)
            model(data['inputs'], data['data_samples'], mode=mode)
        elapsed, images = 0.0, 0
        for _ in range(num_iters):
            data = next(batches)
            _synchronize(device)
            start = time.perf_counter()
            model(data['inputs'], data['data_samples'], mode=mode)
            _synchronize(device)
            elapsed += time.perf_counter() - start
            images += data['inputs'].shape[0]
    return elapsed / images


def summarise(seconds_per_image: List[float]) -> Dict[str, float]:
    """Median, min and max of the runs, as ms/image and FPS (images per second)."""
    ms = [s * 1000 for s in seconds_per_image]
    fps = [1.0 / s if s > 0 else math.inf for s in seconds_per_image]
    return dict(ms_median=statistics.median(ms), ms_min=min(ms), ms_max=max(ms),
                fps_median=statistics.median(fps), fps_min=min(fps),
                fps_max=max(fps))


def format_report(args: argparse.Namespace, device: torch.device, input_desc: str,
                  runs: List[float], stats: Dict[str, float]) -> str:
    lines = [f'Config: {args.config}',
             f'Checkpoint: {args.checkpoint or "none (initial weights)"}',
             f'Device: {device}' + (f' ({torch.cuda.get_device_name(device)})'
                                    if device.type == 'cuda' else
                                    f' ({torch.get_num_threads()} threads)'),
             f'Inputs: {input_desc}, batch size {args.batch_size}, '
             f"mode='{args.mode}'",
             f'Runs: {args.repeat} x {args.num_iters} timed iterations '
             f'({args.warmup} warm-up iterations discarded per run)']
    for index, seconds in enumerate(runs, 1):
        lines.append(f'  run {index}: {seconds * 1000:.2f} ms/image, '
                     f'{1 / seconds:.2f} FPS')
    lines.append(f'ms/image: {stats["ms_median"]:.2f} (median; min '
                 f'{stats["ms_min"]:.2f}, max {stats["ms_max"]:.2f})')
    lines.append(f'FPS: {stats["fps_median"]:.2f} (median; min '
                 f'{stats["fps_min"]:.2f}, max {stats["fps_max"]:.2f})')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device)
    model = build_model(cfg, args.checkpoint, str(device))
    if args.dataset:
        from mmdepthsem.utils.preflight import check_data_roots
        check_data_roots(cfg, phases=('test', ))
        batches = dataset_batches(model, cfg, args.batch_size)
        input_desc = 'test data set'
    else:
        shape = tuple(args.shape) if args.shape else default_test_shape(cfg)
        if shape is None:
            raise SystemExit(f'{args.config}: no test size in the config; pass '
                             '--shape H W')
        batches = random_batches(model, shape, args.batch_size)
        input_desc = f'random (3, {shape[0]}, {shape[1]})'
    runs = [time_run(model, batches, args.mode, args.num_iters, args.warmup)
            for _ in range(args.repeat)]
    stats = summarise(runs)
    print(format_report(args, device, input_desc, runs, stats))
    return stats


if __name__ == '__main__':
    main()
