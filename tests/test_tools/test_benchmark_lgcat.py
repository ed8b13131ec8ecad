"""The LG-CAT SDPA / materialised-attention benchmark: both attention paths agree
(also with padded, masked keys) and the benchmark reports its figures (no timing
limits)."""

import pytest
import torch

from mmdepthsem.models.utils.lg_cat import LGCAT, naive_attention

from ..conftest import load_tool


def load_benchmark():
    return load_tool('tools/analysis_tools/benchmark_lgcat.py')


def test_naive_attention_matches_sdpa_with_a_masked_key():
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 5, 4) for _ in range(3))
    mask = torch.randn(3, 2, 5, 5)
    mask[..., -1] = float('-inf')
    torch.testing.assert_close(
        naive_attention(q, k, v, attn_mask=mask),
        torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize('size', [(14, 21), (9, 11)], ids=['divisible', 'padded'])
def test_naive_and_sdpa_lgcat_agree(size):
    bench = load_benchmark()
    torch.manual_seed(0)
    block = LGCAT(embed_dims=16, num_heads=4, window_size=7, num_repeats=2).eval()
    with torch.no_grad():
        for attn in list(block.block_attns) + list(block.grid_attns):
            attn.rel_pos.relative_position_bias_table.normal_()
    query, kv = torch.randn(2, 16, *size), torch.randn(2, 16, *size)
    outputs = {}
    with torch.no_grad():
        for impl in bench.IMPLS:
            bench.set_attn_impl(block, impl)
            assert all(a.attn_impl == impl for a in block.block_attns)
            outputs[impl] = block(query, kv)
    torch.testing.assert_close(outputs['naive'], outputs['sdpa'], atol=1e-5,
                               rtol=0)
    assert torch.isfinite(outputs['naive']).all()


def test_attn_impl_is_validated():
    with pytest.raises(ValueError, match='attn_impl'):
        LGCAT(embed_dims=16, attn_impl='flash')


@pytest.mark.parametrize('backward', [False, True], ids=['forward', 'backward'])
def test_benchmark_reports_both_paths(backward):
    bench = load_benchmark()
    result = bench.benchmark_size(9, 11, batch_size=1, iters=1, warmup=0,
                                  backward=backward, device='cpu',
                                  embed_dims=16)
    assert {'height', 'width', 'max_abs_diff', 'sdpa_ms', 'naive_ms',
            'sdpa_peak_mb', 'naive_peak_mb', 'time_ratio',
            'memory_ratio'} <= set(result)
    assert result['max_abs_diff'] < 1e-4
    for impl in bench.IMPLS:
        assert result[f'{impl}_ms'] > 0
        assert result[f'{impl}_peak_mb'] > 0
    assert result['time_ratio'] == pytest.approx(result['naive_ms'] /
                                                 result['sdpa_ms'])
    assert 'time n/s' in bench.format_table([result])
