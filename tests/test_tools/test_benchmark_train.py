"""The training-step benchmark: its FLOP counting on a hand-countable model and the
consistency of the figures it reports on the synthetic NYU demo."""
import json

import pytest
import torch
from torch import nn

from ..conftest import DEMO_CONFIG, load_tool, small_demo_options


def load_benchmark():
    return load_tool('tools/analysis_tools/benchmark_train.py')


@pytest.mark.parametrize('input_grad', [True, False])
def test_flops_of_a_linear_step_match_the_hand_count(input_grad):
    bench = load_benchmark()
    n, d_in, d_out = 4, 16, 8
    layer = nn.Linear(d_in, d_out)
    x = torch.randn(n, d_in, requires_grad=input_grad)

    flops, uncounted = bench.count_flops(lambda: layer(x).sum().backward())
    # forward 2 n in out; backward: weight grad 2 n in out, input grad 2 n in out
    # only when the input needs it (the bias grad is a sum: not counted)
    assert flops == (6 if input_grad else 4) * n * d_in * d_out
    assert 'sum' in uncounted


def test_cpu_amp_and_channels_last_switches(synthetic_nyu):
    bench = load_benchmark()
    bench.register_all_modules()
    cfg = bench.load_tool_config(str(DEMO_CONFIG), {
        'train_dataloader.dataset.data_root': str(synthetic_nyu),
        'train_dataloader.dataset.image_size': [96, 64],
        'train_dataloader.dataset.pipeline.4.crop_size': [48, 64]})
    batch = bench.load_batch(cfg, batch_size=3)
    assert bench.count_samples(batch) == 3
    assert bench.count_samples(dict(a=batch, b=dict(inputs=batch['inputs'][:1]))) == 4
    model, optim_wrapper, note = bench.build_training(cfg, 'cpu', amp=True,
                                                      channels_last=True)
    assert 'bfloat16' in note
    with optim_wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
    assert not torch.is_autocast_enabled('cpu')
    inputs = model.data_preprocessor(batch, True)['inputs']
    assert inputs.shape == (3, 3, 64, 64)  # 48x64 crops padded to multiples of 32
    assert inputs.is_contiguous(memory_format=torch.channels_last)
    assert not inputs.is_contiguous()


def test_reported_figures_are_consistent(synthetic_nyu, tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / 'train.json'
    result = bench.main([str(DEMO_CONFIG), '--iters', '2', '--warmup', '1',
                         '--device', 'cpu', '--matmul-size', '256', '--json', str(out),
                         '--cfg-options', *small_demo_options(synthetic_nyu)])
    printed = capsys.readouterr().out
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result['batch_size'] == 2 and result['input_shape'] == [3, 48, 64]
    assert len(result['step_seconds']) == 2
    assert result['s_per_iter_min'] <= result['s_per_iter'] <= result['s_per_iter_max']
    assert result['iters_per_s'] == pytest.approx(1 / result['s_per_iter'])
    assert result['images_per_s'] == pytest.approx(2 * result['iters_per_s'])
    # a ResNet-18 step on 2 x 48x64 crops: well over 0.1 GFLOP (forward alone
    # is about 0.1 GFLOP per image at 2 FLOPs per multiply-add)
    assert result['step_flops'] > 2e8
    assert result['achieved_flops_per_s'] == pytest.approx(
        result['step_flops'] / result['s_per_iter'])
    matmul = result['matmul_flops_per_s']['float32']
    assert matmul == pytest.approx(2 * 256 ** 3 / sorted(
        result['matmul_seconds']['float32'])[1])  # median of 3 samples
    fraction = result['fraction_of_peak']['float32']
    assert fraction == pytest.approx(result['achieved_flops_per_s'] / matmul)
    assert 0 < fraction < 1.5
    assert result['peak_rss_mib'] >= result['rss_before_loop_mib'] > 100
    assert result['cuda_max_allocated_mib'] is None
    assert 'convolution' not in result['uncounted_ops']
    assert 'fraction of float32 matmul peak' in printed
    assert f'{fraction:.4f}' in printed
