"""The SA / CMA SDPA-vs-materialised benchmark: both paths of each module agree, the
memory helper measures a known allocation, and the naive SA path really holds the
``L × L`` weights (no timing limits)."""
import pytest
import torch

from mmdepthsem.models.necks import CrossModalAttention, SemanticGuidedSelfAttention
from mmdepthsem.utils.profiling import peak_memory_bytes

from ..conftest import load_tool


@pytest.fixture(scope='module')
def bench():
    return load_tool('tools/analysis_tools/benchmark_attention.py')


def test_sa_naive_path_equals_the_module(bench):
    torch.manual_seed(0)
    module = SemanticGuidedSelfAttention(16, qk_reduction=8).eval()
    x = torch.randn(2, 16, 5, 7)
    with torch.no_grad():
        torch.testing.assert_close(bench.sa_naive(module, x), module.attend(x),
                                   atol=1e-5, rtol=1e-5)


def test_cma_sdpa_path_equals_the_module(bench):
    torch.manual_seed(0)
    module = CrossModalAttention(8, num_embeddings=4, expansion=2).eval()
    target, reference = torch.randn(2, 8, 5, 6), torch.randn(2, 8, 5, 6)
    with torch.no_grad():
        torch.testing.assert_close(bench.cma_sdpa(module, target, reference),
                                   module.attend(target, reference),
                                   atol=1e-5, rtol=1e-5)


def test_cma_sdpa_with_one_embedding_returns_the_values(bench):
    """With H = 1 the softmax over embeddings is 1: the output is V itself."""
    torch.manual_seed(0)
    module = CrossModalAttention(4, num_embeddings=1, expansion=2).eval()
    target, reference = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)
    with torch.no_grad():
        torch.testing.assert_close(bench.cma_sdpa(module, target, reference),
                                   module.value(target), atol=1e-6, rtol=0)


def test_peak_memory_of_a_known_allocation():
    def step():
        a = torch.ones(1 << 20)  # 4 MiB
        b = torch.ones(1 << 19)  # +2 MiB while a lives
        del a, b
    peak = peak_memory_bytes(step, torch.device('cpu'))
    assert 6 << 20 <= peak < (6 << 20) + (64 << 10)


def test_naive_sa_holds_the_pixel_by_pixel_weights(bench):
    """32x32 pixels: the materialised weights are 1024² fp32 = 4 MiB, which the
    naive peak must include; the cases carry the paper placements."""
    torch.manual_seed(0)
    module = SemanticGuidedSelfAttention(16, qk_reduction=8)
    x = torch.randn(1, 16, 32, 32)
    result = bench.benchmark_case(module, (x,), dict(
        sdpa=lambda m, t: m.attend(t), naive=bench.sa_naive), iters=1, warmup=0)
    assert result['max_abs_diff'] < 1e-4
    assert result['naive_peak_mb'] >= 4.0
    assert result['sdpa_peak_mb'] < 1.0  # fused kernel: no L x L weights
    assert result['time_ratio'] == pytest.approx(result['naive_ms'] / result['sdpa_ms'])
    labels = [c[0] for c in bench.build_cases(['sa', 'cma'], 192, 640, 1,
                                              torch.device('cpu'), False)]
    assert labels[:3] == ['sa b4 C=256 12x40', 'sa b3 C=128 24x80',
                          'sa b2 C=64 48x160']
    assert labels[3].startswith('cma b4 C=256')


@pytest.mark.parametrize('backward', [False, True], ids=['forward', 'backward'])
def test_cma_case_reports_both_paths(bench, backward):
    torch.manual_seed(0)
    (label, module, inputs, impls), = bench.build_cases(['cma'], 32, 32, 1,
                                                        torch.device('cpu'),
                                                        backward)[-1:]
    result = bench.benchmark_case(module, inputs, impls, iters=1, warmup=0,
                                  backward=backward)
    assert label == 'cma b2 C=64 8x8'
    assert result['max_abs_diff'] < 1e-4
    assert result['sdpa_peak_mb'] > 0 and result['naive_peak_mb'] > 0
