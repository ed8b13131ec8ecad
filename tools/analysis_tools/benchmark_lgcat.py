"""LG-CAT block: scaled_dot_product_attention against materialised attention.

    python tools/analysis_tools/benchmark_lgcat.py [--sizes 30x40 60x80 120x160]
        [--batch-size 1] [--iters 10] [--warmup 2] [--backward]
        [--device cpu|cuda] [--threads N]

Builds one LG-CAT block (:class:`mmdepthsem.models.utils.lg_cat.LGCAT`) at the DSS
neck width: 128 channels, h = 4 heads, w = 7 window / grid, N_s = 2 block + grid
pairs and the FusedMBConv. Its attentions call either
``F.scaled_dot_product_attention`` (``attn_impl='sdpa'``, the default) or
:func:`~mmdepthsem.models.utils.lg_cat.naive_attention`
(``attn_impl='naive'``: ``softmax(Q K^T / sqrt(d) + B) V`` with the
``(windows, heads, 49, 49)`` weights materialised), with the same weights,
relative-position bias and padding mask: the same module is switched between the
two, so both run in the same process on the same inputs.

For each ``HxW`` size (feature maps of the stride-4 decoder output: 120x160 for
NYU's 480x640; sides that are not multiples of 7 are padded and masked), in one
run:

- the outputs of both implementations and their max abs difference (forward only,
  eval mode);
- the wall time per iteration (perf_counter; ``torch.cuda.synchronize`` on GPU) of
  the forward under ``torch.no_grad`` (eval mode), or with ``--backward`` of
  forward + backward of ``out.sum()`` (training mode), after ``--warmup``
  untimed iterations; the implementations alternate iteration by iteration, so
  a change of the machine's load hits both alike;
- the peak memory of one iteration above the memory held before it: on CUDA
  ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; on CPU the
  peak of the running sum of the allocation / free events of torch's CPU
  allocator recorded by ``torch.profiler(profile_memory=True)`` (the live tensor
  bytes, inputs and weights excluded as they exist before the iteration);
- the ratios naive / SDPA of time and peak memory (> 1: SDPA is faster / leaner).
"""
import argparse
import time
from typing import Dict, List, Sequence

import torch
from torch import Tensor, nn

from mmdepthsem.models.utils.lg_cat import (ATTENTION_IMPLS, LGCAT,
                                           PartitionCrossAttention)
from mmdepthsem.utils.profiling import peak_memory_bytes, synchronize

IMPLS = ATTENTION_IMPLS  # the two paths compared
# The DSS neck's LG-CAT (configs/_base_/models/dss_maxvit.py).
DSS_LGCAT = dict(embed_dims=128, num_heads=4, window_size=7, num_repeats=2)


def parse_size(text: str):
    height, width = (int(v) for v in text.lower().split('x'))
    return height, width


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', nargs='+', type=parse_size,
                        default=[(30, 40), (60, 80), (120, 160)],
                        help='feature map sizes HxW (120x160: NYU 480x640 / 4)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--backward', action='store_true',
                        help='time forward + backward instead of the forward')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def set_attn_impl(module: nn.Module, impl: str) -> None:
    """Switch every LG-CAT attention in ``module`` to ``impl``."""
    for child in module.modules():
        if isinstance(child, PartitionCrossAttention):
            child.attn_impl = impl


def _step(block: nn.Module, query: Tensor, kv: Tensor, backward: bool) -> None:
    if backward:
        block(query, kv).sum().backward()
        block.zero_grad(set_to_none=True)
        query.grad = kv.grad = None
    else:
        with torch.no_grad():
            block(query, kv)


def peak_memory(block: nn.Module, query: Tensor, kv: Tensor, backward: bool) -> int:
    """Bytes allocated at the peak of one iteration above those live before it."""
    return peak_memory_bytes(lambda: _step(block, query, kv, backward), query.device)


def benchmark_size(height: int, width: int, batch_size: int = 1, iters: int = 10,
                   warmup: int = 2, backward: bool = False, device: str = 'cpu',
                   seed: int = 0, **lgcat_args) -> Dict[str, float]:
    """Both implementations of one LG-CAT block on ``(B, C, height, width)`` maps.

    Args:
        height, width: Feature map size.
        batch_size: Batch size ``B``.
        iters: Timed iterations of each implementation.
        warmup: Untimed iterations of each implementation first.
        backward: Time forward + backward (training mode) instead of the forward.
        device: ``'cpu'`` or ``'cuda'``.
        seed: Seed of the weights and inputs.
        **lgcat_args: :class:`LGCAT` arguments (default: the DSS neck's).

    Returns:
        dict with ``height``, ``width``, ``max_abs_diff`` (forward outputs, eval
        mode), ``{impl}_ms`` (mean ms per iteration) and ``{impl}_peak_mb``
        (MiB) for ``impl`` in ``sdpa``, ``naive``, and ``time_ratio`` /
        ``memory_ratio`` (naive / SDPA).
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    block = LGCAT(**{**DSS_LGCAT, **lgcat_args}).to(device)
    channels = block.block_attns[0].embed_dims
    with torch.no_grad():  # a bias that matters, as after training
        for attn in block.modules():
            if isinstance(attn, PartitionCrossAttention):
                attn.rel_pos.relative_position_bias_table.normal_()
    query = torch.randn(batch_size, channels, height, width, device=device,
                        requires_grad=backward)
    kv = torch.randn(batch_size, channels, height, width, device=device,
                     requires_grad=backward)

    block.eval()
    outputs = {}
    with torch.no_grad():
        for impl in IMPLS:
            set_attn_impl(block, impl)
            outputs[impl] = block(query, kv)
    result = dict(height=height, width=width,
                  max_abs_diff=(outputs['sdpa'] - outputs['naive']).abs().max().item())
    del outputs

    block.train(backward)
    times: Dict[str, List[float]] = {impl: [] for impl in IMPLS}
    for i in range(warmup + iters):
        for impl in IMPLS:
            set_attn_impl(block, impl)
            synchronize(device)
            start = time.perf_counter()
            _step(block, query, kv, backward)
            synchronize(device)
            if i >= warmup:
                times[impl].append(time.perf_counter() - start)
    for impl in IMPLS:
        set_attn_impl(block, impl)
        result[f'{impl}_ms'] = 1e3 * sum(times[impl]) / len(times[impl])
        result[f'{impl}_peak_mb'] = peak_memory(block, query, kv, backward) / 2**20
    set_attn_impl(block, 'sdpa')
    result['time_ratio'] = result['naive_ms'] / result['sdpa_ms']
    result['memory_ratio'] = result['naive_peak_mb'] / max(result['sdpa_peak_mb'],
                                                           1e-9)
    return result


def format_table(results: Sequence[Dict[str, float]]) -> str:
    header = (f'{"size":>9} {"max|diff|":>10} {"sdpa ms":>9} {"naive ms":>9} '
              f'{"time n/s":>9} {"sdpa MiB":>9} {"naive MiB":>10} {"mem n/s":>8}')
    lines = [header, '-' * len(header)]
    for r in results:
        size = f'{r["height"]}x{r["width"]}'
        lines.append(f'{size:>9} {r["max_abs_diff"]:>10.2e} {r["sdpa_ms"]:>9.1f} '
                     f'{r["naive_ms"]:>9.1f} {r["time_ratio"]:>8.2f}x '
                     f'{r["sdpa_peak_mb"]:>9.1f} {r["naive_peak_mb"]:>10.1f} '
                     f'{r["memory_ratio"]:>7.2f}x')
    return '\n'.join(lines)


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    pass_name = 'forward + backward (train mode)' if args.backward \
        else 'forward (eval, no_grad)'
    memory = 'torch.cuda.max_memory_allocated' if args.device.startswith('cuda') \
        else 'torch.profiler CPU allocator events (profile_memory=True)'
    print(f'LG-CAT (C={DSS_LGCAT["embed_dims"]}, h={DSS_LGCAT["num_heads"]}, '
          f'w={DSS_LGCAT["window_size"]}, N_s={DSS_LGCAT["num_repeats"]}), '
          f'batch {args.batch_size}, {pass_name}, {args.device}, torch '
          f'{torch.__version__}, {torch.get_num_threads()} threads; '
          f'{args.iters} iterations after {args.warmup} warm-up, alternating')
    print(f'peak memory: one iteration, above the memory live before it, from '
          f'{memory}')
    results = []
    for height, width in args.sizes:
        results.append(benchmark_size(height, width, args.batch_size, args.iters,
                                      args.warmup, args.backward, args.device,
                                      args.seed))
    print(format_table(results))
    print('time n/s, mem n/s: naive / SDPA (> 1: SDPA is faster / uses less memory)')


if __name__ == '__main__':
    main()
