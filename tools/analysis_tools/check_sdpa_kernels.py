"""Which scaled_dot_product_attention kernel LG-CAT (DSS) and SGRE's self-attention
actually run: flash, memory-efficient, cuDNN or the math fallback.

    python tools/analysis_tools/check_sdpa_kernels.py [--device cuda] [--amp]
        [--lgcat-size 120x160] [--sa-size 192x640] [--batch-size 1]
        [--require-fused] [--json OUT]

Builds the modules at the paper configs' widths -- one LG-CAT block of the DSS neck
(128 channels, h = 4, w = 7, N_s = 2) on the stride-4 maps of a 480x640 NYU image
(``--lgcat-size``), and :class:`SemanticGuidedSelfAttention` at SGRE's depth-decoder
blocks 4, 3, 2 (C = 256, 128, 64 at strides 16, 8, 4 of ``--sa-size``) -- and runs
one forward + backward of each under ``torch.profiler`` (in training mode, under
``torch.autocast`` float16 with ``--amp``). The aten operators that ran name the
kernel SDPA dispatched to:

- ``_scaled_dot_product_flash_attention``: flash (CUDA);
- ``_scaled_dot_product_efficient_attention``: memory-efficient (CUDA);
- ``_scaled_dot_product_cudnn_attention``: cuDNN (CUDA);
- ``_scaled_dot_product_flash_attention_for_cpu``: the fused CPU kernel;
- none of these (``_scaled_dot_product_attention_math`` and/or plain ``bmm`` +
  ``softmax``): the math fallback, which materialises the ``L x L`` weights.

One row per module and block. ``--require-fused`` exits with status 1 when any
row ran the math fallback (what ``tools/gpu_check.sh`` asks on CUDA). The last
line is ``SDPA_RESULT {json}``.
"""
import argparse
import json
import sys
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from mmdepthsem.models.necks import SemanticGuidedSelfAttention
from mmdepthsem.models.utils.lg_cat import LGCAT

#: aten operator -> kernel name, in the order they are looked for.
KERNELS: Tuple[Tuple[str, str], ...] = (
    ('aten::_scaled_dot_product_flash_attention_for_cpu', 'fused (cpu flash)'),
    ('aten::_scaled_dot_product_flash_attention', 'flash'),
    ('aten::_scaled_dot_product_efficient_attention', 'memory-efficient'),
    ('aten::_scaled_dot_product_cudnn_attention', 'cudnn'),
)
MATH_OP = 'aten::_scaled_dot_product_attention_math'
#: The DSS neck's LG-CAT block (configs/_base_/models/dss_maxvit.py).
DSS_LGCAT = dict(embed_dims=128, num_heads=4, window_size=7, num_repeats=2)
#: SGRE's self-attention placements: decoder block -> channels (stride 2**block).
SGRE_SA_BLOCKS = {4: 256, 3: 128, 2: 64}


def parse_size(text: str) -> Tuple[int, int]:
    height, width = text.lower().split('x')
    return int(height), int(width)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--amp', action='store_true',
                        help='run under torch.autocast (float16 on CUDA, bfloat16 '
                        'on CPU)')
    parser.add_argument('--lgcat-size', type=parse_size, default=(120, 160),
                        help='HxW of the LG-CAT maps (stride 4 of 480x640)')
    parser.add_argument('--sa-size', type=parse_size, default=(192, 640),
                        help='HxW of the SGRE input image')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--require-fused', action='store_true',
                        help='exit 1 if any module ran the math fallback')
    parser.add_argument('--json', help='also write the rows here')
    return parser.parse_args(argv)


def kernel_of(op_names: Sequence[str]) -> str:
    """The SDPA kernel named by the aten operators that ran (see module docstring)."""
    names = set(op_names)
    found = [kernel for op, kernel in KERNELS if op in names]
    if found:
        return found[0]
    return 'math'


def _profiled_ops(fn) -> List[str]:
    activities = [ProfilerActivity.CPU]
    with profile(activities=activities) as prof:
        fn()
    return [event.key for event in prof.key_averages()]


def check_module(label: str, module: nn.Module, inputs: Tuple[torch.Tensor, ...],
                 device: str, amp: bool) -> Dict[str, object]:
    """One forward + backward of ``module(*inputs)``; the kernel that ran, for
    the forward and the backward."""
    module = module.to(device).train()
    inputs = tuple(t.to(device).requires_grad_(True) for t in inputs)
    dtype = torch.float16 if device.startswith('cuda') else torch.bfloat16
    context = torch.autocast(device.split(':')[0], dtype=dtype) if amp else nullcontext()

    def step() -> None:
        with context:
            out = module(*inputs)
        out.float().sum().backward()

    step()  # warm-up: library initialisation outside the profile
    ops = _profiled_ops(step)
    forward_ops = [op for op in ops if not op.endswith('_backward')]
    backward_ops = [op[:-len('_backward')] for op in ops if op.endswith('_backward')]
    forward = kernel_of(forward_ops)
    backward = kernel_of(backward_ops) if backward_ops else forward
    return dict(module=label, device=device, amp=amp, forward=forward,
                backward=backward, math=MATH_OP in ops or 'math' in (forward,
                                                                     backward),
                sdpa_ops=sorted(op for op in ops if 'scaled_dot_product' in op))


def build_cases(lgcat_size: Tuple[int, int], sa_size: Tuple[int, int],
                batch_size: int) -> List[Tuple[str, nn.Module, Tuple[torch.Tensor, ...]]]:
    """``(label, module, inputs)`` for LG-CAT and each SGRE self-attention block."""
    torch.manual_seed(0)
    height, width = lgcat_size
    size = (batch_size, DSS_LGCAT['embed_dims'], height, width)
    cases = [(f'LG-CAT C=128 {height}x{width}', LGCAT(**DSS_LGCAT),
              (torch.randn(size), torch.randn(size)))]
    for block, channels in SGRE_SA_BLOCKS.items():
        h, w = sa_size[0] >> block, sa_size[1] >> block
        module = SemanticGuidedSelfAttention(channels, qk_reduction=8)
        cases.append((f'SA b{block} C={channels} {h}x{w}', module,
                      (torch.randn(batch_size, channels, h, w), )))
    return cases


def format_table(rows: Sequence[Dict[str, object]]) -> str:
    lines = ['| module | device | autocast | forward kernel | backward kernel |',
             '| --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['module']} | {r['device']} | "
                     f"{'float16/bfloat16' if r['amp'] else 'off (fp32)'} | "
                     f"{r['forward']} | {r['backward']} |")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    rows = [check_module(label, module, inputs, args.device, args.amp)
            for label, module, inputs in build_cases(args.lgcat_size, args.sa_size,
                                                     args.batch_size)]
    print(format_table(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    print('SDPA_RESULT ' + json.dumps(rows))
    if args.require_fused and any(r['math'] for r in rows):
        print('error: the math fallback ran (see the table)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
