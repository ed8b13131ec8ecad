"""Parameters and FLOPs of a config's model.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
        [--cfg-options KEY=VALUE ...]

Builds the config's model without pretrained weights (backbone
``pretrained=False``, pose encoder ``checkpoint=None``), puts it in eval mode and
traces its ``mode='tensor'`` forward on one dummy image ``(1, 3, H, W)`` with
mmengine's analysis API (``mmengine.analysis.FlopAnalyzer`` and
``parameter_count``, the counters behind ``get_model_complexity_info``; they are
called directly because ``get_model_complexity_info`` also traces the model a
second time for activations and does not return the operators it could not
count).

The shape defaults to the config's test size: the test pipeline's ``Resize``
scale, else the training crop (``RandomCrop``), padded up to the data
preprocessor's ``size_divisor`` as the model would see it; ``--shape`` is
required when the config gives neither. MaxViT backbones take multiples of their
``img_size`` only (window / grid ``img_size / 32``): for another shape, build them
for it, e.g. ``--shape 64 96 --cfg-options "model.backbone.img_size=(64,96)"``.

What the traced forward covers:

- ``MultiTaskEstimator``: backbone, decoder, task necks and both heads (raw head
  outputs at feature resolution, before the test-time resize);
- ``SelfSupervisedDepthEstimator``: the depth network only (encoder, depth and
  semantic decoders, cross-task modules); the pose network is a training-time
  module and is not run, so its parameters are in the totals but not its FLOPs.

FLOPs follow mmengine / fvcore: one fused multiply-add counts as one FLOP, and only
operators with a handle are counted (convolutions, matmuls, linear layers, norms,
upsampling, ...); element-wise operators (activations, additions, softmax) are
ignored or reported as unsupported. mmengine has no handle for
``aten::scaled_dot_product_attention`` (the attention of MaxViT and LG-CAT); this
tool adds one counting its two matmuls, ``Q K^T`` and ``A V``, as mmengine counts
``matmul`` (the softmax and the mask are not counted). ``--no-sdpa-handle`` leaves
them out, as mmengine alone would. The operators still not counted are printed.
"""
import argparse
import math
import time
from collections import Counter
from typing import Any, Dict, List, Sequence, Tuple

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import Config, DictAction
from torch import Tensor, nn

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import model_cfg_without_downloads, test_input_shape

SDPA_OP = 'aten::scaled_dot_product_attention'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input height and width (default: the config\'s test '
                        'size)')
    parser.add_argument('--no-sdpa-handle', action='store_true',
                        help='do not count scaled_dot_product_attention (mmengine '
                        'alone has no handle for it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args()


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``scaled_dot_product_attention(q, k, v, ...)``: the matmuls
    ``Q K^T`` (``L x E`` by ``E x S``) and ``A V`` (``L x S`` by ``S x Ev``) per
    batch and head, one multiply-add = one FLOP (as mmengine's ``matmul``)."""
    q, k, v = (get_shape(val) for val in inputs[:3])
    batch = math.prod(q[:-2])
    length, embed = q[-2:]
    source = k[-2]
    return batch * length * source * (embed + v[-1])


default_shape = test_input_shape  # the padded test-time (H, W) of a config


def build_model(cfg: Config) -> nn.Module:
    """The config's model without pretrained weights, in eval mode, on the CPU."""
    return MODELS.build(model_cfg_without_downloads(cfg.model)).eval()


class _TensorForward(nn.Module):
    """``model(inputs, mode='tensor')`` with ``None`` outputs dropped (the tracer
    accepts only tensors)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        outputs = self.model(inputs, mode='tensor')
        if isinstance(outputs, Tensor):
            return (outputs, )
        return tuple(out for out in outputs if out is not None)


def covered_parts(model: nn.Module) -> str:
    """What the ``mode='tensor'`` forward of the estimator runs."""
    if hasattr(model, 'pose_net'):
        return ('depth network only (encoder, decoders, cross-task modules); the '
                'pose network is not run: its parameters are counted, its FLOPs '
                'are not')
    return 'the whole model (raw head outputs, before the test-time resize)'


def complexity(model: nn.Module, shape: Sequence[int],
               count_sdpa: bool = True) -> Dict[str, Any]:
    """Parameters and FLOPs of ``model``'s tensor-mode forward on one image.

    Args:
        model: An mmdepthsem estimator (put in eval mode here).
        shape: Input ``(H, W)``.
        count_sdpa: Add a handle for ``scaled_dot_product_attention``.

    Returns:
        dict with ``params`` (total), ``flops`` (total), ``sdpa_flops`` (of which
        attention; None when not counted or not in the model), ``modules`` (list
        of ``(name, params, flops)`` per top-level child, parameter-less ones
        left out), ``not_run`` (those of them the forward does not call),
        ``unsupported`` (Counter of the
        operators not counted), ``covered`` (what the forward runs) and
        ``seconds`` (time of the trace and count).
    """
    model.eval()
    inputs = torch.randn(1, 3, *shape, device=next(model.parameters()).device)
    analyzer = FlopAnalyzer(_TensorForward(model), (inputs, ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    if count_sdpa:
        analyzer.set_op_handle(SDPA_OP, sdpa_flop_jit)
    start = time.perf_counter()
    with torch.no_grad():
        flops = analyzer.total()
        by_module = analyzer.by_module()
        by_operator = analyzer.by_operator()
        unsupported = Counter(analyzer.unsupported_ops())
        uncalled = analyzer.uncalled_modules()
    seconds = time.perf_counter() - start
    params = parameter_count(model)
    modules = [(name, params[name], by_module.get(f'model.{name}', 0))
               for name, child in model.named_children() if params.get(name, 0)]
    sdpa_name = SDPA_OP.split('::')[-1]
    return dict(params=params[''], flops=flops,
                sdpa_flops=by_operator.get(sdpa_name) if count_sdpa else None,
                not_run=sorted(name for name, _, _ in modules
                               if f'model.{name}' in uncalled),
                modules=modules, unsupported=unsupported,
                covered=covered_parts(model), seconds=seconds)


def format_report(config: str, shape: Sequence[int], result: Dict[str, Any],
                  count_sdpa: bool = True) -> str:
    rule = '=' * 60
    lines = [rule, f'Config: {config}',
             f'Input shape: (1, 3, {shape[0]}, {shape[1]})',
             f'Forward: mode=\'tensor\', {result["covered"]}',
             f'Params: {result["params"] / 1e6:.3f} M',
             f'FLOPs: {result["flops"] / 1e9:.3f} G', rule]
    lines.append(f'{"module":<22}{"params (M)":>12}{"share":>8}{"FLOPs (G)":>12}'
                 f'{"share":>8}')
    lines.append('-' * 62)
    total_p, total_f = max(result['params'], 1), max(result['flops'], 1)
    for name, params, flops in result['modules']:
        flops_str = f'{flops / 1e9:>12.3f}{flops / total_f:>8.1%}' \
            if name not in result['not_run'] else f'{"not run":>12}{"":>8}'
        lines.append(f'{name:<22}{params / 1e6:>12.3f}{params / total_p:>8.1%}'
                     f'{flops_str}')
    lines.append('-' * 62)
    lines.append(f'{"total":<22}{result["params"] / 1e6:>12.3f}{1:>8.1%}'
                 f'{result["flops"] / 1e9:>12.3f}{1:>8.1%}')
    lines.append(rule)
    notes = ['FLOPs: one multiply-add = 1 FLOP (mmengine / fvcore convention), '
             'operators with an mmengine handle only; element-wise operators '
             '(activations, additions, softmax) are not counted.']
    if count_sdpa and result['sdpa_flops'] is not None:
        notes.append('scaled_dot_product_attention: mmengine has no handle; this '
                     'tool counts its Q K^T and A V matmuls: '
                     f'{result["sdpa_flops"] / 1e9:.3f} G of the total.')
    elif count_sdpa:
        notes.append('scaled_dot_product_attention: not used by this forward.')
    else:
        notes.append('scaled_dot_product_attention: not counted (--no-sdpa-handle; '
                     'mmengine has no handle for it).')
    unsupported = result['unsupported']
    if unsupported:
        ops = ', '.join(f'{op} x{n}' for op, n in sorted(unsupported.items()))
        notes.append(f'Not counted (no FLOP handle): {ops}.')
    lines.append('Note: ' + '\n      '.join(notes))
    lines.append(f'(traced and counted in {result["seconds"]:.1f} s)')
    return '\n'.join(lines)


def main():
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    shape = tuple(args.shape) if args.shape else default_shape(cfg)
    if shape is None:
        raise SystemExit(f'{args.config}: no test Resize scale or training crop in '
                         'the config; pass --shape H W')
    model = build_model(cfg)
    count_sdpa = not args.no_sdpa_handle
    result = complexity(model, shape, count_sdpa)
    print(format_report(args.config, shape, result, count_sdpa))


if __name__ == '__main__':
    main()
