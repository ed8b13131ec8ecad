"""The self-supervised iteration benchmark: its split of the forward into the
estimator's profiler ranges (structure and bookkeeping only, no timing limits)."""

import pytest
import torch
from mmengine.config import Config
from torch.profiler import ProfilerActivity, profile

from ..conftest import REPO, load_tool

pytestmark = pytest.mark.slow
MONODEPTH2 = REPO / 'configs' / 'selfsup' / 'monodepth2_resnet18_synthetic_kitti.py'
FSRE = REPO / 'configs' / 'fsre' / 'resnet18_kitti.py'


def load_benchmark():
    return load_tool('tools/analysis_tools/benchmark_selfsup.py')


def test_iteration_is_split_into_parts_whose_shares_sum_to_one():
    bench = load_benchmark()
    result = bench.benchmark(Config.fromfile(MONODEPTH2), height=64, width=128,
                             batch_size=1, iters=1, warmup=0, device='cpu')
    assert {'parts', 'shares', 'cpu_parts', 'forward_profiled', 'basis', 'plain',
            'profiled'} <= set(result)
    assert result['basis'] == 'cpu'
    assert set(result['parts']) == set(result['shares']) == {
        'depth', 'pose', 'warp', 'loss', 'other'}
    for part in bench.PARTS:
        assert result['parts'][part] > 0, part
    # the ranges are disjoint and nested in the forward: nothing is counted twice
    assert result['parts']['other'] >= -1e-3
    assert sum(result['shares'].values()) == pytest.approx(1.0, abs=1e-6)
    assert result['shares']['depth'] == pytest.approx(
        result['parts']['depth'] / result['forward_profiled'])
    for key in ('plain', 'profiled'):
        times = result[key]
        assert times['forward'] > 0 and times['backward_step'] > 0
        assert times['total'] == pytest.approx(times['forward'] +
                                               times['backward_step'])
    table = '\n'.join(bench.format_table(result))
    for part in bench.PARTS:
        assert part in table


def test_the_estimator_marks_all_four_ranges_in_its_training_forward():
    # FSRE: semantic decoder, cross-task modules and triplet loss on pseudo-labels
    bench = load_benchmark()
    bench.register_all_modules()
    cfg = Config.fromfile(FSRE)
    model, _ = bench.build_model(cfg, 'cpu')
    batch = bench.make_batch(model, 64, 128, 1, bench.keeps_clean(cfg),
                             bench.num_label_classes(cfg))
    assert 'frames_clean' in batch['data_samples'][0]
    data = model.data_preprocessor(batch, True)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_photometric', 'loss_smooth', 'loss_sem'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    names = {event.key for event in prof.key_averages()}
    assert set(bench.RANGES.values()) <= names
