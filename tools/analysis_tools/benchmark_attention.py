"""SGRE's self-attention and FSRE's CMA: scaled_dot_product_attention against
materialised attention, side by side in one run.

    python tools/analysis_tools/benchmark_attention.py [--modules sa cma]
        [--height 192 --width 640] [--batch-size 1] [--iters 5] [--warmup 1]
        [--backward] [--device cpu|cuda] [--threads N]

(LG-CAT, the DSS attention, has its own script: ``benchmark_lgcat.py``.)

The modules are built at the widths and placements of the paper configs and fed
random maps of the sizes they see for a ``--height x --width`` input (192x640 is
the KITTI training size):

- ``sa``: :class:`~mmdepthsem.models.necks.SemanticGuidedSelfAttention` (SGRE
  eq. 7–8, ``softmax(Q Kᵀ) V`` over all ``L = h·w`` pixels of a level, no
  ``1/√d``) at depth-decoder blocks 4, 3, 2 (``C`` = 256, 128, 64 at strides 16,
  8, 4). ``sdpa`` is the module's own path
  (``F.scaled_dot_product_attention(..., scale=1)``); ``naive`` computes the
  same ``softmax(Q Kᵀ) V`` with the ``(B, 1, L, L)`` weights materialised, from the
  module's own projections.
- ``cma``: :class:`~mmdepthsem.models.necks.CrossModalAttention` (FSRE eq. 11–14)
  at decoder blocks 4, 3, 2 (``C`` = 256, 128, 64, ``H = 4`` embeddings of width
  ``C' = 2C``). Its attention is per pixel, over the ``H`` embeddings: there is no
  ``L × L`` matrix. ``naive`` is the module's own path (scores ``Σ_c K^h Q^h``,
  softmax over ``h``, ``Σ_h ρ_h V^h``, with the ``(B, H, C', h, w)`` products
  materialised); ``sdpa`` writes the same thing as one SDPA call per pixel: a
  single all-ones query of width ``C'`` over the ``H`` key tokens ``K^h ⊙ Q^h``
  and value tokens ``V^h`` (the score is then ``Σ_c K^h Q^h / √C'``, eq. 13).

For every case, in one run: the max abs difference of the two outputs (eval mode),
the wall time per iteration (forward under ``no_grad``; with ``--backward``
forward + backward of ``out.sum()``) after ``--warmup`` untimed iterations, the
two paths alternating iteration by iteration so the machine's load hits both
alike, and the peak memory of one iteration above the memory live before it
(:func:`mmdepthsem.utils.profiling.peak_memory_bytes`: CUDA peak allocation, or
the CPU allocator's live tensor bytes from ``torch.profiler``). Ratios are
naive / SDPA: above 1, SDPA is faster or leaner.
"""
import argparse
import math
import time
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmdepthsem.models.necks import CrossModalAttention, SemanticGuidedSelfAttention
from mmdepthsem.models.utils.lg_cat import naive_attention
from mmdepthsem.utils.profiling import peak_memory_bytes, synchronize

IMPLS = ('sdpa', 'naive')
# Decoder block b -> width C_b and stride 2**b: SGRE's attention blocks
# (configs/_base_/models/sgre_resnet50.py) and FSRE's CMA placements
# (configs/_base_/models/fsre_resnet18.py) are both blocks 4, 3, 2.
BLOCKS = {4: 256, 3: 128, 2: 64}


def sa_naive(module: SemanticGuidedSelfAttention, x: Tensor) -> Tensor:
    """``softmax(Q Kᵀ) V`` of ``x`` ``(B, C, h, w)`` with the ``(B, 1, L, L)``
    weights materialised; the module's projections, its output layout."""
    batch, _, height, width = x.shape

    def tokens(t: Tensor) -> Tensor:  # (B, c, h, w) -> (B, 1, L, c)
        return t.flatten(2).transpose(1, 2).unsqueeze(1)

    query = tokens(module.query(x))
    # naive_attention divides by sqrt(d); SGRE's eq. 7 has no scaling
    query = query * math.sqrt(query.shape[-1])
    out = naive_attention(query, tokens(module.key(x)), tokens(module.value(x)))
    return out.squeeze(1).transpose(1, 2).reshape(batch, -1, height, width)


def cma_sdpa(module: CrossModalAttention, target: Tensor, reference: Tensor) -> Tensor:
    """The module's ``attend`` as one SDPA call per pixel: an all-ones query of width
    ``C'`` over the ``H`` key tokens ``K^h ⊙ Q^h`` and value tokens ``V^h``.

    Returns:
        ``(B, C', h, w)``, as :meth:`CrossModalAttention.attend`.
    """
    keys = module._split(module.key(target))  # (B, H, C', h, w)
    queries = module._split(module.query(reference))
    values = module._split(module.value(target))
    batch, heads, channels, height, width = keys.shape

    def tokens(t: Tensor) -> Tensor:  # (B, H, C', h, w) -> (B·h·w, H, C')
        return t.permute(0, 3, 4, 1, 2).reshape(-1, heads, channels)

    ones = keys.new_ones(batch * height * width, 1, channels)
    out = torch.nn.functional.scaled_dot_product_attention(
        ones, tokens(keys * queries), tokens(values))  # scale 1/sqrt(C'): eq. 13
    return out.reshape(batch, height, width, channels).permute(0, 3, 1, 2)


def build_cases(module_names: Sequence[str], height: int, width: int,
                batch_size: int, device: torch.device, requires_grad: bool
                ) -> List[Tuple[str, nn.Module, Tuple[Tensor, ...],
                                Dict[str, Callable[..., Tensor]]]]:
    """``(label, module, inputs, {impl: fn(module, *inputs)})`` for every module and
    decoder block, with weights and inputs from the current torch seed."""
    cases = []
    for name in module_names:
        for block, channels in BLOCKS.items():
            size = (batch_size, channels, height >> block, width >> block)
            if name == 'sa':
                module = SemanticGuidedSelfAttention(channels, qk_reduction=8)
                inputs = (torch.randn(size),)
                impls = dict(sdpa=lambda m, x: m.attend(x), naive=sa_naive)
            elif name == 'cma':
                module = CrossModalAttention(channels, num_embeddings=4, expansion=2)
                inputs = (torch.randn(size), torch.randn(size))
                impls = dict(sdpa=cma_sdpa, naive=lambda m, t, r: m.attend(t, r))
            else:
                raise ValueError(f'unknown module {name!r}; choose from sa, cma')
            inputs = tuple(t.to(device).requires_grad_(requires_grad) for t in inputs)
            label = f'{name} b{block} C={channels} {size[2]}x{size[3]}'
            cases.append((label, module.to(device), inputs, impls))
    return cases


def _step(fn: Callable[..., Tensor], module: nn.Module, inputs: Tuple[Tensor, ...],
          backward: bool) -> None:
    if backward:
        fn(module, *inputs).sum().backward()
        module.zero_grad(set_to_none=True)
        for tensor in inputs:
            tensor.grad = None
    else:
        with torch.no_grad():
            fn(module, *inputs)


def benchmark_case(module: nn.Module, inputs: Tuple[Tensor, ...],
                   impls: Dict[str, Callable[..., Tensor]], iters: int = 5,
                   warmup: int = 1, backward: bool = False) -> Dict[str, float]:
    """Both paths of one case: output difference, mean ms per iteration and peak MiB
    of each, and the naive / SDPA ratios ``time_ratio`` and ``memory_ratio``."""
    device = inputs[0].device
    module.eval()
    with torch.no_grad():
        outputs = {impl: fn(module, *inputs) for impl, fn in impls.items()}
    result = dict(max_abs_diff=(outputs['sdpa'] - outputs['naive']).abs().max().item())
    del outputs
    module.train(backward)
    times: Dict[str, List[float]] = {impl: [] for impl in IMPLS}
    for i in range(warmup + iters):
        for impl in IMPLS:
            synchronize(device)
            start = time.perf_counter()
            _step(impls[impl], module, inputs, backward)
            synchronize(device)
            if i >= warmup:
                times[impl].append(time.perf_counter() - start)
    for impl in IMPLS:
        result[f'{impl}_ms'] = 1e3 * sum(times[impl]) / len(times[impl])
        peak = peak_memory_bytes(lambda: _step(impls[impl], module, inputs, backward),
                                 device)
        result[f'{impl}_peak_mb'] = peak / 2**20
    result['time_ratio'] = result['naive_ms'] / result['sdpa_ms']
    result['memory_ratio'] = result['naive_peak_mb'] / max(result['sdpa_peak_mb'],
                                                           1e-9)
    return result


def format_table(rows: Sequence[Tuple[str, Dict[str, float]]]) -> str:
    width = max(len(label) for label, _ in rows)
    header = (f'{"case":<{width}} {"max|diff|":>10} {"sdpa ms":>9} {"naive ms":>9} '
              f'{"time n/s":>9} {"sdpa MiB":>9} {"naive MiB":>10} {"mem n/s":>8}')
    lines = [header, '-' * len(header)]
    for label, r in rows:
        lines.append(f'{label:<{width}} {r["max_abs_diff"]:>10.2e} '
                     f'{r["sdpa_ms"]:>9.1f} {r["naive_ms"]:>9.1f} '
                     f'{r["time_ratio"]:>8.2f}x {r["sdpa_peak_mb"]:>9.1f} '
                     f'{r["naive_peak_mb"]:>10.1f} {r["memory_ratio"]:>7.2f}x')
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--modules', nargs='+', default=['sa', 'cma'],
                        choices=['sa', 'cma'])
    parser.add_argument('--height', type=int, default=192, help='input image height')
    parser.add_argument('--width', type=int, default=640, help='input image width')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--backward', action='store_true',
                        help='time forward + backward instead of the forward')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help="torch CPU threads (default: torch's)")
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    cases = build_cases(args.modules, args.height, args.width, args.batch_size,
                        device, args.backward)
    pass_name = 'forward + backward (train mode)' if args.backward \
        else 'forward (eval, no_grad)'
    memory = 'torch.cuda.max_memory_allocated' if device.type == 'cuda' \
        else 'torch.profiler CPU allocator events (profile_memory=True)'
    print(f'{args.height}x{args.width} input, batch {args.batch_size}, {pass_name}, '
          f'{device}, torch {torch.__version__}, {torch.get_num_threads()} threads; '
          f'{args.iters} iterations after {args.warmup} warm-up, alternating')
    print(f'peak memory: one iteration, above the memory live before it, from {memory}')
    rows = []
    for label, module, inputs, impls in cases:
        rows.append((label, benchmark_case(module, inputs, impls, args.iters,
                                           args.warmup, args.backward)))
    print(format_table(rows))
    print('time n/s, mem n/s: naive / SDPA (> 1: SDPA is faster / uses less memory)')


if __name__ == '__main__':
    main()
