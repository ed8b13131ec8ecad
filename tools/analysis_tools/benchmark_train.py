"""Speed of a config's training step: iterations/s, images/s, peak memory and the
fraction of the machine's measured matmul FLOP/s that the step achieves.

    python tools/analysis_tools/benchmark_train.py CONFIG [--iters 10] [--warmup 2]
        [--device cpu|cuda] [--batch-size N] [--amp [--amp-dtype float16|bfloat16]]
        [--channels-last] [--compile] [--matmul-size 2048] [--json OUT]
        [--cfg-options KEY=VALUE ...]

What is timed: ``model.train_step(batch, optim_wrapper)`` -- data preprocessor,
forward, losses, backward and optimizer step -- on ONE batch drawn once from the
config's own training data loader (real files, real pipeline; ``--cfg-options`` can
point it at other data), built outside the clock. Data loading is not in the figure;
``benchmark_data.py`` measures it. The model is built without pretrained weights
(backbone ``pretrained=False``, pose encoder ``checkpoint=None``) with the config's
optimizer wrapper.

In one run, after ``--warmup`` untimed steps, each of the ``--iters`` timed steps is
followed by one timed square matmul (``--matmul-size``, fp32; also in the autocast
dtype with ``--amp``) on the same device and torch threads, plus one matmul before
the first step, so machine load affects both alike. Reported:

- s/iter: median of the steps, with min and max; iterations/s = 1 / median;
- images/s = samples per step x iterations/s. A sample is one entry of the batch:
  for self-supervised sequences one target frame (its -1/+1 neighbours ride along);
  for multi-branch batches (labelled + unlabelled) the sum over branches;
- memory: on CPU the process's peak RSS (``getrusage`` high-water mark), the RSS
  before the timed loop and how much the loop raised the peak; on CUDA
  ``torch.cuda.max_memory_allocated`` during the timed loop;
- FLOPs of one step, counted by ``torch.utils.flop_counter.FlopCounterMode`` over a
  real (eager) ``train_step`` after the timing: forward + backward, 2 FLOPs per
  multiply-add; only matmuls, convolutions and attention have formulas, so
  element-wise operators, norms, pooling, resampling and the optimizer update are not
  counted (their names are printed);
- achieved FLOP/s = step FLOPs / median s/iter; matmul FLOP/s = 2 n^3 / median
  matmul time; fraction of peak = achieved / matmul.

Switches: ``--amp`` on CUDA uses mmengine's ``AmpOptimWrapper`` (dynamic loss
scaling, ``--amp-dtype``; it replaces the config's wrapper type); on CPU, where that
wrapper does not run, the forward runs under ``torch.autocast('cpu', bfloat16)``
without loss scaling. ``--channels-last`` converts the model and the preprocessed
4-D inputs. ``--compile`` wraps the model's ``forward`` in ``torch.compile``; the
first warm-up step then includes compilation (reported as ``first step``), and a
compiler error stops the tool with its message.
"""
import argparse
import copy
import json
import os.path as osp
import resource
import statistics
import sys
import time
from collections import Counter
from contextlib import contextmanager
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import load_tool_config, model_cfg_without_downloads

MIB = 1024.0 * 1024.0
DTYPES = {'float16': torch.float16, 'bfloat16': torch.bfloat16}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config')
    parser.add_argument('--iters', type=int, default=10, help='timed steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--batch-size', type=int,
                        help="override the training loader's batch size")
    parser.add_argument('--amp', action='store_true', help='mixed precision')
    parser.add_argument('--amp-dtype', choices=sorted(DTYPES),
                        help='autocast dtype (default: float16 on CUDA, bfloat16 '
                        'on CPU)')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last model and inputs')
    parser.add_argument('--compile', action='store_true',
                        help="torch.compile the model's forward")
    parser.add_argument('--matmul-size', type=int, default=2048,
                        help='side of the square matmul timed as the peak')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', metavar='OUT', help='also write the figures here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0:
        parser.error('--iters must be >= 1 and --warmup >= 0')
    return args


# ---------------------------------------------------------------- data and model
def load_batch(cfg: Config, batch_size: Optional[int] = None) -> dict:
    """One collated batch of the config's training loader (in this process)."""
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader_cfg.pop('prefetch_factor', None)
    if batch_size:
        loader_cfg.batch_size = batch_size
    return next(iter(Runner.build_dataloader(loader_cfg, seed=0)))


def count_samples(batch: dict) -> int:
    """Samples in a collated batch, summed over branches for multi-branch batches
    (``{branch: dict(inputs=[...], ...)}``)."""
    inputs = batch.get('inputs')
    if inputs is not None:
        return inputs.shape[0] if torch.is_tensor(inputs) else len(inputs)
    return sum(count_samples(b) for b in batch.values() if isinstance(b, dict))


def _to_channels_last(data):
    if torch.is_tensor(data) and data.dim() == 4:
        return data.contiguous(memory_format=torch.channels_last)
    if isinstance(data, dict):
        return {k: _to_channels_last(v) for k, v in data.items()}
    return data


def _channels_last_hook(module, args, output):
    """Forward hook of the data preprocessor: channels-last 4-D inputs."""
    if isinstance(output, dict) and 'inputs' in output:
        output = dict(output, inputs=_to_channels_last(output['inputs']))
    elif isinstance(output, dict):  # multi-branch: {branch: dict(inputs=...)}
        output = {k: dict(v, inputs=_to_channels_last(v['inputs']))
                  if isinstance(v, dict) and 'inputs' in v else v
                  for k, v in output.items()}
    return output


def add_cpu_autocast(optim_wrapper, dtype: torch.dtype) -> None:
    """Run ``optim_wrapper``'s forward context under ``torch.autocast('cpu')``."""
    original = optim_wrapper.optim_context

    @contextmanager
    def optim_context(model):
        with original(model), torch.autocast('cpu', dtype=dtype):
            yield

    optim_wrapper.optim_context = optim_context


def build_training(cfg: Config, device: str, amp: bool = False,
                   amp_dtype: Optional[str] = None, channels_last: bool = False
                   ) -> Tuple[torch.nn.Module, object, str]:
    """The model (train mode, on ``device``), its optimizer wrapper and a line
    saying what ``--amp`` does here."""
    model = MODELS.build(model_cfg_without_downloads(cfg.model)).to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        model.data_preprocessor.register_forward_hook(_channels_last_hook)
    optim_cfg = copy.deepcopy(cfg.get('optim_wrapper') or dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4)))
    amp_note = 'off'
    on_cuda = str(device).startswith('cuda')
    if amp and on_cuda:
        dtype = amp_dtype or 'float16'
        # fp32 wrapper -> its AMP counterpart, as tools/train.py --amp does
        amp_types = {'OptimWrapper': 'AmpOptimWrapper',
                     'NonFiniteGuardOptimWrapper': 'NonFiniteGuardAmpOptimWrapper'}
        config_type = optim_cfg.get('type', 'OptimWrapper')
        amp_type = amp_types.get(config_type, config_type)
        if amp_type not in amp_types.values():
            raise SystemExit(f'--amp replaces OptimWrapper, but the config uses '
                             f'{config_type}')
        amp_note = (f'{amp_type} ({dtype}, dynamic loss scale)' if amp_type != config_type
                    else f"the config's {amp_type} ({dtype})")
        optim_cfg.update(type=amp_type, dtype=dtype)
        optim_cfg.setdefault('loss_scale', 'dynamic')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    if amp and not on_cuda:
        dtype = amp_dtype or 'bfloat16'
        add_cpu_autocast(optim_wrapper, DTYPES[dtype])
        amp_note = (f"torch.autocast('cpu', {dtype}) around the forward, no loss "
                    "scaling (AmpOptimWrapper needs a GPU)")
    return model, optim_wrapper, amp_note


# ---------------------------------------------------------------- measurements
def _sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


class _OpCounter(TorchDispatchMode):
    """Counts every aten operator called under it."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter = Counter()
        self.active = True

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if self.active:
            self.ops[func.overloadpacket] += 1
        return func(*args, **(kwargs or {}))


# Operators without arithmetic worth naming among the uncounted ones.
_NO_MATH = ('view', 'reshape', 'permute', 'transpose', 't', 'expand', 'slice',
            'select', 'unsqueeze', 'squeeze', 'detach', 'clone', 'copy_', 'empty',
            'empty_like', 'zeros', 'zeros_like', 'ones_like', 'new_empty', 'fill_',
            'zero_', '_to_copy', 'alias', 'split', 'split_with_sizes', 'cat',
            'stack', 'contiguous', 'as_strided', 'unbind', 'lift_fresh', 'index',
            'new_zeros', 'new_ones', 'full', 'ones', 'arange', 'lift_fresh_copy',
            '_unsafe_view', 'scalar_tensor', 'is_same_size', 'item',
            '_local_scalar_dense', 'empty_strided', 'set_', 'resize_', 'flatten',
            '_record_function_enter_new', '_record_function_exit')


def count_flops(fn: Callable[[], object], optim_wrapper=None) -> Tuple[int, Counter]:
    """FLOPs of everything ``fn()`` runs (forward and backward alike), by
    ``FlopCounterMode``: 2 FLOPs per multiply-add, matmuls / convolutions /
    attention only. Also returns a Counter of the arithmetic operators it ran
    that have no FLOP formula (calls per operator), leaving out those of
    ``optim_wrapper.step`` when given (the optimizer update)."""
    counter = FlopCounterMode(display=False)
    ops = _OpCounter()
    if optim_wrapper is not None:
        original_step = optim_wrapper.step

        def step(*args, **kwargs):
            ops.active = False
            try:
                return original_step(*args, **kwargs)
            finally:
                ops.active = True

        optim_wrapper.step = step
    try:
        with counter, ops:
            fn()
    finally:
        if optim_wrapper is not None:
            del optim_wrapper.step  # back to the class's method
    counted = set(flop_registry)
    uncounted = Counter({str(op).split('.')[-1]: n for op, n in ops.ops.items()
                         if op not in counted
                         and str(op).split('.')[-1] not in _NO_MATH})
    return int(counter.get_total_flops()), uncounted


class MatmulTimer:
    """Times ``a @ b`` of two ``n x n`` matrices in ``dtype`` on ``device``
    (preallocated, so the timed loop allocates nothing)."""

    def __init__(self, size: int, device: str, dtype: torch.dtype = torch.float32):
        gen = torch.Generator().manual_seed(0)
        self.a = torch.randn(size, size, generator=gen).to(device, dtype)
        self.b = torch.randn(size, size, generator=gen).to(device, dtype)
        self.out = torch.empty_like(self.a)
        self.size, self.device, self.dtype = size, device, dtype
        # on a GPU one matmul is far below the clock's resolution: repeat it
        self.reps = 1 if not str(device).startswith('cuda') else 20
        self.seconds: List[float] = []
        self()  # warm-up (library initialisation)
        self.seconds.clear()

    @property
    def flops(self) -> int:
        return 2 * self.size ** 3

    def __call__(self) -> float:
        _sync(self.device)
        start = time.perf_counter()
        for _ in range(self.reps):
            torch.mm(self.a, self.b, out=self.out)
        _sync(self.device)
        seconds = (time.perf_counter() - start) / self.reps
        self.seconds.append(seconds)
        return seconds

    def median_flops_per_s(self) -> float:
        return self.flops / statistics.median(self.seconds)


def current_rss() -> Optional[int]:
    """Resident set size of this process in bytes (Linux ``/proc``), else None."""
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


def peak_rss() -> int:
    """High-water mark of this process's RSS in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


def benchmark(cfg: Config, iters: int = 10, warmup: int = 2, device: str = 'cpu',
              batch_size: Optional[int] = None, amp: bool = False,
              amp_dtype: Optional[str] = None, channels_last: bool = False,
              compile: bool = False, matmul_size: int = 2048, seed: int = 0,
              batch: Optional[dict] = None, step_flops: Optional[int] = None
              ) -> dict:
    """Time ``train_step`` on one real batch of ``cfg``, interleaved with matmuls.

    Args:
        batch: A collated batch to time instead of the first one of the config's
            training loader (``batch_size`` is then ignored), e.g. one whose
            sample list was repeated to reach the paper's batch.
        step_flops: The step's FLOPs when already counted (e.g. for the same
            model and batch in another precision or memory layout); skips the
            counting step, and no uncounted operators are listed.

    Returns:
        dict of the figures (times in s, memory in MiB, FLOPs and FLOP/s as
        numbers) and the settings; see the module docstring.
    """
    register_all_modules()
    torch.manual_seed(seed)
    batch = load_batch(cfg, batch_size) if batch is None else batch
    samples = count_samples(batch)
    model, optim_wrapper, amp_note = build_training(cfg, device, amp, amp_dtype,
                                                    channels_last)
    eager_forward = model.forward
    if compile:
        model.forward = torch.compile(model.forward)

    def step():
        data = copy.deepcopy(batch)  # the preprocessor edits samples in place
        _sync(device)
        start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        _sync(device)
        return time.perf_counter() - start

    first_step = None
    for i in range(warmup):
        try:
            seconds = step()
        except Exception as err:  # noqa: BLE001 -- report compiler failures plainly
            if compile:
                raise SystemExit(f'--compile failed on {device}: '
                                 f'{type(err).__name__}: {err}') from err
            raise
        first_step = seconds if i == 0 else first_step

    timers = [MatmulTimer(matmul_size, device)]
    if amp:
        low = amp_dtype or ('float16' if str(device).startswith('cuda')
                            else 'bfloat16')
        timers.append(MatmulTimer(matmul_size, device, DTYPES[low]))
    on_cuda = str(device).startswith('cuda')
    if on_cuda:
        torch.cuda.reset_peak_memory_stats(device)
    rss_before, peak_before = current_rss(), peak_rss()
    for timer in timers:
        timer()
    step_seconds = []
    for _ in range(iters):
        step_seconds.append(step())
        for timer in timers:
            timer()
    peak_after = peak_rss()
    cuda_peak = torch.cuda.max_memory_allocated(device) / MIB if on_cuda else None

    model.forward = eager_forward  # count on the eager graph: same arithmetic
    if step_flops is None:
        data = copy.deepcopy(batch)
        flops, uncounted = count_flops(lambda: model.train_step(data, optim_wrapper),
                                       optim_wrapper)
    else:
        flops, uncounted = int(step_flops), Counter()

    median = statistics.median(step_seconds)
    achieved = flops / median
    matmul = {str(t.dtype).replace('torch.', ''): t.median_flops_per_s()
              for t in timers}
    return dict(
        device=str(device), torch=torch.__version__,
        threads=torch.get_num_threads(), batch_size=samples,
        input_shape=_input_shape(batch), iters=iters, warmup=warmup,
        amp=amp_note, channels_last=channels_last, compile=compile,
        s_per_iter=median, s_per_iter_min=min(step_seconds),
        s_per_iter_max=max(step_seconds), step_seconds=step_seconds,
        first_step_s=first_step, iters_per_s=1.0 / median,
        images_per_s=samples / median,
        peak_rss_mib=peak_after / MIB,
        rss_before_loop_mib=None if rss_before is None else rss_before / MIB,
        loop_raised_peak_rss_mib=(peak_after - peak_before) / MIB,
        cuda_max_allocated_mib=cuda_peak,
        step_flops=flops, achieved_flops_per_s=achieved,
        matmul_size=matmul_size, matmul_flops_per_s=matmul,
        matmul_seconds={str(t.dtype).replace('torch.', ''): t.seconds
                        for t in timers},
        fraction_of_peak={k: achieved / v for k, v in matmul.items()},
        uncounted_ops=dict(uncounted.most_common()))


def _input_shape(batch: dict) -> Optional[List[int]]:
    """``[C, H, W]`` of the first input image of a (possibly multi-branch) batch."""
    inputs = batch.get('inputs')
    if inputs is None:
        branches = [b for b in batch.values() if isinstance(b, dict)]
        return _input_shape(branches[0]) if branches else None
    first = inputs[0]
    return list(first.shape) if torch.is_tensor(first) else None


def format_report(result: dict) -> List[str]:
    """The printed report of :func:`benchmark`."""
    r = result
    lines = [f'{"figure":<34} {"value":>14}  unit', '-' * 58]

    def row(name: str, value, unit: str = '', fmt: str = '.4g') -> None:
        text = 'n/a' if value is None else format(value, fmt)
        lines.append(f'{name:<34} {text:>14}  {unit}')

    row('s/iter (median)', r['s_per_iter'], 's')
    row('s/iter (min)', r['s_per_iter_min'], 's')
    row('s/iter (max)', r['s_per_iter_max'], 's')
    if r['first_step_s'] is not None:
        row('first step (warm-up)', r['first_step_s'], 's')
    row('iterations/s', r['iters_per_s'], 'it/s')
    row('images/s', r['images_per_s'], f'samples/s ({r["batch_size"]} per step)')
    if r['cuda_max_allocated_mib'] is not None:
        row('CUDA max allocated (timed loop)', r['cuda_max_allocated_mib'], 'MiB',
            '.1f')
    row('peak RSS (process)', r['peak_rss_mib'], 'MiB', '.1f')
    row('RSS before the timed loop', r['rss_before_loop_mib'], 'MiB', '.1f')
    row('peak RSS raised by the loop', r['loop_raised_peak_rss_mib'], 'MiB', '.1f')
    row('step FLOPs (fwd + bwd)', r['step_flops'] / 1e9, 'GFLOP', '.3f')
    row('achieved', r['achieved_flops_per_s'] / 1e9, 'GFLOP/s', '.3f')
    for dtype, value in r['matmul_flops_per_s'].items():
        row(f'matmul {r["matmul_size"]}^2 {dtype}', value / 1e9, 'GFLOP/s', '.3f')
        row(f'fraction of {dtype} matmul peak', r['fraction_of_peak'][dtype], '',
            '.4f')
    lines.append('-' * 58)
    uncounted = ', '.join(f'{k} x{v}' for k, v in list(r['uncounted_ops'].items())[:14])
    more = len(r['uncounted_ops']) - 14
    lines += [
        'Notes: the step is train_step on one pre-loaded batch (no data loading; see '
        'benchmark_data.py).',
        '       FLOPs: FlopCounterMode, 2 per multiply-add, matmul/conv/attention '
        'only; the optimizer update and',
        f'       these forward/backward operators are not counted: {uncounted}'
        + (f' (+{more} more)' if more > 0 else ''),
        '       matmul peak: median of square matmuls timed between the steps (same '
        'device, same threads).',
    ]
    return lines


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = load_tool_config(args.config, args.cfg_options)
    if args.device.startswith('cuda'):
        name = torch.cuda.get_device_name(torch.device(args.device))
    else:
        name = 'cpu'
    print(f'config {osp.relpath(args.config)}: {args.iters} timed steps '
          f'(+{args.warmup} warm-up); device {args.device} ({name}), torch '
          f'{torch.__version__}, {torch.get_num_threads()} torch threads')
    result = benchmark(cfg, args.iters, args.warmup, args.device, args.batch_size,
                       args.amp, args.amp_dtype, args.channels_last, args.compile,
                       args.matmul_size, args.seed)
    result['config'] = osp.relpath(args.config)
    print(f'batch {result["batch_size"]} x {result["input_shape"]}; amp: '
          f'{result["amp"]}; channels-last: {args.channels_last}; compile: '
          f'{args.compile}')
    print('\n'.join(format_report(result)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'figures written to {args.json}')
    return result


if __name__ == '__main__':
    main()
