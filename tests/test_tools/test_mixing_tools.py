"""Mixing end to end on the synthetic data: the MixedSampleDataset wrapper on a real
dataset, training with a pipeline mix, browse_dataset pictures of both forms, and
the throughput benchmark."""
import re
import sys

import numpy as np
import pytest

from mmdepthsem.registry import DATASETS
from mmdepthsem.utils import register_all_modules

from ..conftest import REPO, run_tool, small_demo_options

pytestmark = pytest.mark.slow
MIX_CONFIG = REPO / 'configs' / 'multitask' / 'resnet18_synthetic_nyu_nearfarmix.py'


def mix_options(data_root, max_iters=4):
    """small_demo_options with the training set moved inside the wrapper."""
    options = []
    for option in small_demo_options(data_root, max_iters, max_iters):
        if option.startswith('train_dataloader.dataset.'):
            option = option.replace('train_dataloader.dataset.',
                                    'train_dataloader.dataset.dataset.')
        options.append(option)
    return options + ['train_dataloader.dataset.pipeline.0.prob=1.0']


def test_wrapper_mixes_two_samples_of_the_real_dataset(synthetic_nyu):
    register_all_modules()
    inner = dict(type='NYUv2Dataset', data_root=str(synthetic_nyu), split='train',
                 num_classes=40, image_size=(96, 64), pipeline=[
                     dict(type='LoadImageFromFile'), dict(type='LoadDepthAnnotation'),
                     dict(type='LoadSemAnnotation')])
    dataset = DATASETS.build(dict(
        type='MixedSampleDataset', dataset=inner,
        pipeline=[dict(type='NearFarMix', depth_range=(0.5, 9.5)),
                  dict(type='PackDepthSemInputs')]))
    plain = DATASETS.build(inner)
    assert len(dataset) == len(plain) and dataset.metainfo == plain.metainfo
    np.random.seed(0)
    item = dataset[0]
    sample = item['data_samples']
    info = sample.metainfo['mix_info']
    assert info['method'] == 'NearFarMix' and info['applied']
    assert info['partner'].endswith('.png')
    first = plain[0]
    second = plain[[d['img_path'] for d in
                    (plain.get_data_info(i) for i in range(len(plain)))
                    ].index(info['partner'])]
    near = (first['gt_depth_map'] > 0) & (first['gt_depth_map'] <= info['thr'])
    depth = sample.gt_depth_map.data[0].numpy()
    assert np.array_equal(depth, np.where(near, first['gt_depth_map'],
                                          second['gt_depth_map']))
    labels = sample.gt_sem_seg.data[0].numpy()
    assert np.array_equal(labels, np.where(near, first['gt_seg_map'],
                                           second['gt_seg_map']))


def test_training_with_pipeline_nearfarmix_logs_the_mix_rate(synthetic_nyu, tmp_path):
    result = run_tool([sys.executable, 'tools/train.py', str(MIX_CONFIG), '--work-dir',
                       str(tmp_path), '--cfg-options', *mix_options(synthetic_nyu)])
    log = result.stdout + result.stderr
    rates = [float(v) for v in re.findall(r'mix_applied: ([0-9.]+)', log)]
    assert rates and max(rates) > 0
    assert (tmp_path / 'iter_4.pth').exists()


def test_browse_dataset_renders_pipeline_and_batch_mixes(synthetic_nyu, tmp_path):
    result = run_tool([sys.executable, 'tools/analysis_tools/browse_dataset.py',
                       str(MIX_CONFIG), '--output-dir', str(tmp_path / 'pipe'), '--num',
                       '3', '--cfg-options', *mix_options(synthetic_nyu)])
    assert '(3 mixed)' in result.stdout
    assert len(list((tmp_path / 'pipe').glob('*.png'))) == 3

    config = tmp_path / 'batch_mix.py'
    config.write_text(
        f"_base_ = ['{REPO / 'configs/multitask/resnet18_synthetic_nyu.py'}']\n"
        'model = dict(data_preprocessor=dict(batch_augments=['
        "dict(type='BatchNearFarMix', depth_range=(0.5, 9.5))]))\n")
    result = run_tool([sys.executable, 'tools/analysis_tools/browse_dataset.py',
                       str(config), '--output-dir', str(tmp_path / 'batch'), '--num',
                       '4', '--batch-augments', '--batch-size', '4', '--cfg-options',
                       *small_demo_options(synthetic_nyu)])
    assert re.search(r'\(([1-4]) mixed\)', result.stdout)
    assert len(list((tmp_path / 'batch').glob('*.png'))) == 4


def test_benchmark_prints_both_forms_side_by_side():
    result = run_tool([sys.executable, 'tools/analysis_tools/benchmark_mixing.py',
                       '--size', '48', '64', '--batch-size', '4', '--iters', '2',
                       '--warmup', '1', '--device', 'cpu', '--methods', 'NearFarMix',
                       'DepthMix'])
    rows = re.findall(r'^(NearFarMix|DepthMix)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)x$',
                      result.stdout, re.M)
    assert [r[0] for r in rows] == ['NearFarMix', 'DepthMix']
    for _, pipe, batch, ratio in rows:
        assert float(pipe) > 0 and float(batch) > 0
        assert float(ratio) == pytest.approx(float(batch) / float(pipe), rel=0.05,
                                             abs=0.01)
