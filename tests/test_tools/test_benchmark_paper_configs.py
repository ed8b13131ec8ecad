"""The paper-config smoke benchmark, the SDPA kernel check and tools/gpu_check.sh:
config discovery, data-root remapping, stand-in files, table rows, one tiny real run
per row kind, the paper preset's sizes and the GPU check's dry run (no CUDA)."""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from ..conftest import REPO, load_tool, run_tool

PAPER_TOOL = 'tools/analysis_tools/benchmark_paper_configs.py'
NYU_PAPER_CONFIG = 'configs/multitask/resnet50_nyu.py'
ADE_CONFIG = 'configs/dss/maxvit_ade20k_pretrain.py'


@pytest.fixture(scope='module')
def paper():
    return load_tool(PAPER_TOOL)


def test_paper_configs_are_every_config_but_bases_and_demos(paper):
    found = paper.find_paper_configs(str(REPO / 'configs'))
    names = {os.path.relpath(os.path.abspath(p), REPO) for p in found}
    for expected in ('configs/dss/maxvit_nyu.py', 'configs/fsre/resnet18_kitti.py',
                     'configs/sgre/resnet50_kitti.py', 'configs/sosd/xception65_nyu.py',
                     'configs/sdeseg/ssl_ours_resnet101_cityscapes.py',
                     'configs/dss/ablations/maxvit_nyu_mix_cutmix.py'):
        assert expected in names
    for name in names:
        parts = name.split('/')
        assert '_base_' not in parts and not parts[-1].startswith('_')
        assert 'demo' not in name and 'synthetic' not in name
    without = paper.find_paper_configs(str(REPO / 'configs'), skip_ablations=True)
    assert len(without) < len(found)
    assert not any('ablations' in p for p in without)
    assert paper.is_paper_config('sosd/xception65_nyu.py')
    assert not paper.is_paper_config('sdeseg/_ssl_resnet101_cityscapes.py')
    assert not paper.is_paper_config('sdeseg/demo/sde_stage_a_resnet18_synthetic.py')
    assert not paper.is_paper_config('dss/_base_/schedule_20e.py')


def test_real_data_roots_point_into_the_synthetic_set(paper):
    used = set()
    cfg = dict(
        train_dataloader=dict(dataset=dict(
            data_root='data/nyu', pipeline=[dict(
                type='LoadDepthEstimate',
                estimate_dir='data/cityscapes/sde_depth/stage_b')])),
        other=['data/kitti_raw', ('data/kitti_semantics', 3)],
        untouched=['work_dirs/x/epoch_1.pth', 'data/nyu_v3', 'data/kitti'])
    out = paper.remap_data_roots(cfg, '/syn', used)
    dataset = out['train_dataloader']['dataset']
    assert dataset['data_root'] == '/syn/nyu_converted'
    assert dataset['pipeline'][0]['estimate_dir'] == '/syn/cityscapes/sde_depth/stage_b'
    assert out['other'] == ['/syn/kitti', ('/syn/kitti/data_semantics', 3)]
    assert out['untouched'] == cfg['untouched']  # prefixes only at a path boundary
    assert used == {'data/nyu', 'data/cityscapes', 'data/kitti_raw',
                    'data/kitti_semantics'}
    with pytest.raises(paper.NoSyntheticData, match='no ADE20K format'):
        paper.remap_data_roots(dict(root='data/ade/ADEChallengeData2016'), '/syn')
    with pytest.raises(paper.NoSyntheticData, match='CamVid'):
        paper.remap_data_roots(['data/camvid'], '/syn')


def test_stand_ins_are_written_only_inside_the_synthetic_set(paper, synthetic_nyu,
                                                            tmp_path):
    root = synthetic_nyu.parent  # holds nyu/ (with the manifest) and nyu_converted/
    estimates = synthetic_nyu / 'sde_depth' / 'test_stand_ins'
    pseudo = 'pseudo_labels/test_stand_ins'
    cfg = dict(train_dataloader=dict(dataset=dict(
        type='NYUv2Dataset', data_root=str(synthetic_nyu), split='train',
        with_seg=False, pseudo_label_dir=pseudo,  # as DSS: teacher labels only
        pipeline=[dict(type='LoadDepthEstimate', estimate_dir=str(estimates))])))
    written = paper.write_stand_ins(cfg, str(root))
    train = (synthetic_nyu / 'train.txt').read_text().split('\n')
    num_train = len([line for line in train if line.strip()])
    assert len(written) == 2 * num_train
    labels = sorted((synthetic_nyu / pseudo).glob('*.png'))
    assert len(labels) == num_train
    # the pseudo-label stand-in of a sample is its own ground truth
    gt = cv2.imread(str(synthetic_nyu / 'labels40' / labels[0].name),
                    cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(cv2.imread(str(labels[0]), cv2.IMREAD_UNCHANGED), gt)
    depth = cv2.imread(str(sorted(estimates.glob('*.png'))[0]), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == gt.shape
    far, near = paper.STAND_IN_DEPTH_RANGE
    assert depth[0, 0] == round(far * 256) and depth[-1, 0] == round(near * 256)
    listed = (root / paper.STAND_INS_LIST).read_text().split()
    assert set(written) <= set(listed)
    assert paper.write_stand_ins(cfg, str(root)) == []  # existing files are kept
    # a folder the generator did not write gets nothing
    foreign = tmp_path / 'real_data'
    foreign.mkdir()
    cfg['train_dataloader']['dataset'].update(data_root=str(foreign))
    assert paper.write_stand_ins(cfg, str(tmp_path)) == []
    assert list(foreign.iterdir()) == []


def test_rows_and_table(paper):
    ok = dict(config='configs/a.py', status='ok', paper_batch=4, batch=4,
              input_shape=[3, 480, 640], train_s=[2.5, 1.25], val_s=0.5,
              train_peak_mib=1000.4, val_peak_mib=1200.0, device='cpu', stand_ins=3)
    bad = dict(config='configs/b.py', status='error', paper_batch=12,
               error='MemoryError: no | room', peak_rss_mib=20000.0)
    table = paper.format_table([ok, bad]).splitlines()
    assert table[0] == paper.TABLE_HEADER and len(table) == 4
    assert table[2] == ('| `configs/a.py` | 4 | 4 | 3×480×640 | 2.50, 1.25 | 0.50 | '
                        '1000 / 1200 | ok (peak RSS), 3 stand-in files written |')
    assert table[3].startswith('| `configs/b.py` | 12 | — |')
    assert 'error: MemoryError: no \\| room (peak RSS at failure 20000 MiB)' in table[3]
    timed = dict(config='configs/a.py', status='ok', batch=4, timed=True, variants=[
        dict(variant='amp', status='ok', s_per_iter=0.5, s_per_iter_min=0.4,
             s_per_iter_max=0.6, images_per_s=8.0, cuda_max_allocated_mib=40000.0,
             peak_rss_mib=3000.0, achieved_flops_per_s=2e13,
             fraction_of_peak={'float32': 0.4, 'float16': 0.1}),
        dict(variant='fp32', status='error', error='OutOfMemoryError: CUDA')])
    lines = paper.format_table([timed]).splitlines()
    assert lines[0] == paper.TIMED_HEADER
    assert lines[2] == ('| `configs/a.py` | amp | 4 | 0.500 (0.400–0.600) | 8.0 | '
                        '40000 | 52% | 20.00 | 0.40 (float32), 0.10 (float16) | ok |')
    assert lines[3].endswith('error: OutOfMemoryError: CUDA |')


@pytest.mark.slow
def test_one_run_and_one_error_row(paper, synthetic_nyu, tmp_path):
    """A real (tiny) run of a paper config on the tiny set, and a config without a
    synthetic data set, which becomes an error row while the other runs."""
    out, rows_json = tmp_path / 'table.md', tmp_path / 'rows.json'
    result = run_tool([
        sys.executable, PAPER_TOOL, NYU_PAPER_CONFIG, ADE_CONFIG,
        '--data-root', str(synthetic_nyu.parent), '--device', 'cpu', '--iters', '1',
        '--batch-size', '2', '--out', str(out), '--json', str(rows_json),
        '--cfg-options', 'train_dataloader.dataset.pipeline.4.crop_size=[32,32]'],
        env=dict(OMP_NUM_THREADS='1'))
    rows = json.loads(rows_json.read_text())
    assert [r['status'] for r in rows] == ['ok', 'error'], result.stdout
    run, error = rows
    assert run['paper_batch'] == 4 and run['batch'] == 2  # read from the config
    assert len(run['train_s']) == 1 and run['val_s'] > 0
    assert run['data'] == ['data/nyu']
    assert 0 <= run['val_metrics']['abs_rel'] < 100
    assert error['paper_batch'] == 4 and 'no ADE20K format' in error['error']
    table = out.read_text()
    assert table.count('\n| `configs/') == 2 and 'error: NoSyntheticData' in table


@pytest.mark.slow
def test_timed_mode_gives_one_row_per_variant(synthetic_nyu, tmp_path):
    """--timed (what gpu_check.sh runs): benchmark_train's figures per variant, the
    FLOPs counted once and shared, since precision and layout do not change them."""
    rows_json = tmp_path / 'rows.json'
    run_tool([sys.executable, PAPER_TOOL, NYU_PAPER_CONFIG, '--data-root',
              str(synthetic_nyu.parent), '--device', 'cpu', '--batch-size', '2',
              '--timed', '1', '--warmup', '0', '--variants', 'fp32', 'amp',
              '--matmul-size', '128', '--json', str(rows_json), '--cfg-options',
              'train_dataloader.dataset.pipeline.4.crop_size=[32,32]'],
             env=dict(OMP_NUM_THREADS='1'))
    row, = json.loads(rows_json.read_text())
    assert row['status'] == 'ok' and row['batch'] == 2
    fp32, amp = row['variants']
    assert (fp32['variant'], amp['variant']) == ('fp32', 'amp')
    assert fp32['step_flops'] == amp['step_flops'] > 0
    assert set(amp['fraction_of_peak']) == {'float32', 'bfloat16'}
    assert 'bfloat16' in amp['amp'] and fp32['amp'] == 'off'
    assert fp32['cuda_max_allocated_mib'] is None  # CPU: peak RSS instead


def test_paper_preset_has_the_real_image_sizes():
    cli = load_tool('tools/dataset_converters/generate_synthetic.py')
    args = cli.parse_args(['all', '--preset', 'paper'])
    sizes = {name: (c.height, c.width) for name, c in
             ((n, cli.build_config(n, args)) for n in cli.DATASET_NAMES)}
    assert sizes == dict(nyu=(480, 640), kitti=(375, 1242), cityscapes=(1024, 2048),
                         gta5=(1052, 1914), synthia=(760, 1280),
                         gta5_sequences=(1080, 1920), synthia_seqs=(760, 1280))
    # the size options still apply on top of the preset
    small = cli.build_config('nyu', cli.parse_args(['nyu', '--preset', 'paper',
                                                    '--frames', '2']))
    assert (small.height, small.frames_per_scene) == (480, 2)


def test_sdpa_check_names_the_kernel_and_the_cpu_sa_path_is_fused():
    sdpa = load_tool('tools/analysis_tools/check_sdpa_kernels.py')
    assert sdpa.kernel_of(['aten::_scaled_dot_product_efficient_attention']) == \
        'memory-efficient'
    assert sdpa.kernel_of(['aten::_scaled_dot_product_flash_attention']) == 'flash'
    assert sdpa.kernel_of(['aten::_scaled_dot_product_attention_math', 'aten::bmm']) \
        == 'math'
    rows = [sdpa.check_module(label, module, inputs, 'cpu', False) for label, module,
            inputs in sdpa.build_cases((14, 14), (64, 64), 1)]
    assert [r['module'] for r in rows] == ['LG-CAT C=128 14x14', 'SA b4 C=256 4x4',
                                           'SA b3 C=128 8x8', 'SA b2 C=64 16x16']
    # SA pads Q and K on CPU so that torch's fused kernel takes it (no L x L matrix)
    for row in rows[1:]:
        assert (row['forward'], row['backward'], row['math']) == \
            ('fused (cpu flash)', 'fused (cpu flash)', False)


def test_gpu_check_dry_run_prints_the_plan_without_cuda(tmp_path):
    work = tmp_path / 'work'
    result = run_tool(['bash', 'tools/gpu_check.sh', '--dry-run', '--work-dir',
                       str(work), '--data-root', str(tmp_path / 'data')],
                      env=dict(CUDA_VISIBLE_DEVICES=''), timeout=120)
    out = result.stdout
    commands = [line for line in out.splitlines() if line.startswith('+ ')]
    assert any('-m pytest tests -m cuda' in c for c in commands)
    sdpa = [c for c in commands if 'check_sdpa_kernels.py' in c]
    assert len(sdpa) == 2 and all('--require-fused' in c for c in sdpa)
    assert sum('--amp' in c for c in sdpa) == 1
    bench = [c for c in commands if 'benchmark_paper_configs.py' in c]
    paper = load_tool(PAPER_TOOL)
    configs = [c.split('benchmark_paper_configs.py ')[1].split()[0] for c in bench]
    assert len(configs) == 6
    for config in configs:  # each method's paper config, at its own batch
        assert (REPO / config).is_file() and paper.is_paper_config(config)
    assert all('--device cuda' in c and '--batch-size' not in c for c in bench)
    assert all('fp32 amp channels-last amp+channels-last' in c for c in bench)
    assert not work.exists()  # a dry run runs nothing
    rows = [line for line in out.splitlines() if line.startswith('| ')]
    assert rows[0].startswith('| check |')
    assert len(rows) == 2 + 1 + 8 + 6 * 4


def test_gpu_check_report_verdicts(tmp_path):
    report = load_tool('tools/analysis_tools/gpu_check_report.py')
    junit = tmp_path / 'tests.xml'
    suite = ET.Element('testsuite', tests='3', failures='1', errors='0', skipped='0')
    ET.SubElement(suite, 'testcase', classname='t', name='ok1')
    ET.SubElement(suite, 'testcase', classname='t', name='ok2')
    failing = ET.SubElement(suite, 'testcase', classname='t', name='nccl')
    ET.SubElement(failing, 'failure', message='boom')
    root = ET.Element('testsuites')
    root.append(suite)
    ET.ElementTree(root).write(junit)
    sdpa = tmp_path / 'sdpa.json'
    sdpa.write_text(json.dumps([
        dict(module='LG-CAT', amp=False, forward='memory-efficient',
             backward='memory-efficient', math=False, sdpa_ops=[]),
        dict(module='SA b4', amp=True, forward='math', backward='math', math=True,
             sdpa_ops=['aten::_scaled_dot_product_attention_math'])]))
    train = tmp_path / 'train.json'
    train.write_text(json.dumps([dict(config='configs/x.py', batch=4, variants=[
        dict(variant='fp32', status='ok', s_per_iter=1.0, images_per_s=4.0,
             cuda_max_allocated_mib=90e9 / 2**20, achieved_flops_per_s=1e13,
             fraction_of_peak={'float32': 0.25})])]))
    out = tmp_path / 'report.md'
    text = report.main(['--out', str(out), '--junit', str(junit), '--sdpa', str(sdpa),
                        '--train', str(train), '--device-name', 'GPU'])['report']
    assert out.read_text() == text
    lines = text.splitlines()
    assert lines[0] == '# GPU check on GPU'
    tests_row = next(line for line in lines if line.startswith('| CUDA tests'))
    assert '2 passed, 1 failed' in tests_row and tests_row.endswith('FAIL |')
    assert 't::nccl' in tests_row
    sdpa_rows = [line for line in lines if line.startswith('| SDPA')]
    assert sdpa_rows[0].endswith('| ok |')
    assert sdpa_rows[1].endswith('FAIL (math fallback) |')
    train_row = next(line for line in lines if line.startswith('| train step'))
    assert '(112% of 80 GB)' in train_row and train_row.endswith('FAIL (over 80 GB) |')
    assert '0.25 of float32 matmul peak' in train_row
    missing = report.main(['--out', str(tmp_path / 'none.md')])['report']
    assert missing.count('not run') == 3


def test_child_arguments_round_trip(paper):
    """The parent hands its settings to the subprocess unchanged."""
    args = paper.parse_args(['c.py', '--timed', '3', '--variants', 'amp', 'fp32',
                             '--batch-size', '2', '--cfg-options', 'a.b=1'])
    assert isinstance(args, argparse.Namespace)
    assert (args.timed, args.variants, args.batch_size, args.cfg_options) == \
        (3, ['amp', 'fp32'], 2, ['a.b=1'])
    assert set(paper.VARIANTS) == {'fp32', 'amp', 'channels-last',
                                   'amp+channels-last'}
