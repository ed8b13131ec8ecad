"""The user-facing tools on small synthetic data: test.py outputs, browse_dataset,
torchrun launch on CPU, and the missing-data message."""
import sys

import cv2
import numpy as np
import pytest

from mmdepthsem.utils.prediction_io import load_depth_png

from ..conftest import DEMO_CONFIG, REPO, run_tool, small_demo_options

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def trained(synthetic_nyu, tmp_path_factory):
    work = tmp_path_factory.mktemp('trained')
    run_tool([sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--work-dir',
              str(work), '--cfg-options', *small_demo_options(synthetic_nyu, 4, 4)])
    return synthetic_nyu, work / 'iter_4.pth'


def test_test_tool_writes_pictures_and_predictions(trained, tmp_path):
    data_root, checkpoint = trained
    show, out = tmp_path / 'vis', tmp_path / 'preds'
    result = run_tool([
        sys.executable, 'tools/test.py', str(DEMO_CONFIG), str(checkpoint),
        '--work-dir', str(tmp_path / 'work'), '--show-dir', str(show), '--out',
        str(out), '--cfg-options', *small_demo_options(data_root)])
    log = result.stdout + result.stderr
    assert 'delta1' in log and 'mIoU' in log
    test_names = (data_root / 'test.txt').read_text().split()
    pictures = sorted(show.glob('*.png'))
    assert len(pictures) == len(test_names)
    picture = cv2.imread(str(pictures[0]))
    assert picture.shape[1] >= 5 * 96  # five panels side by side
    for name in test_names:
        depth_npy = np.load(out / f'{name}_depth.npy')
        assert depth_npy.shape == (64, 96)
        depth_png = load_depth_png(str(out / f'{name}_depth.png'))
        assert np.abs(depth_png - depth_npy).max() <= 0.0005 + 1e-6  # within 1 mm
        labels = cv2.imread(str(out / f'{name}_sem.png'), cv2.IMREAD_UNCHANGED)
        assert labels.shape == (64, 96) and labels.max() < 40


def test_browse_dataset_renders_the_training_pipeline(synthetic_nyu, tmp_path):
    run_tool([sys.executable, 'tools/analysis_tools/browse_dataset.py', str(DEMO_CONFIG),
              '--output-dir', str(tmp_path), '--num', '3', '--cfg-options',
              *small_demo_options(synthetic_nyu)])
    pictures = sorted(tmp_path.glob('*.png'))
    assert len(pictures) == 3
    # the augmented training crop is 48x64: panels image | gt depth | gt segmentation
    assert cv2.imread(str(pictures[0])).shape[1] >= 3 * 64


def test_missing_dataset_stops_with_instructions(tmp_path):
    config = REPO / 'configs' / 'multitask' / 'resnet50_nyu.py'
    result = run_tool([sys.executable, 'tools/train.py', str(config), '--work-dir',
                       str(tmp_path), '--cfg-options',
                       f'train_dataloader.dataset.data_root={tmp_path / "nope"}'],
                      check=False, timeout=120)
    assert result.returncode != 0
    message = result.stderr
    assert str(tmp_path / 'nope') in message
    assert 'docs/dataset_prepare.md' in message
    assert 'resnet18_synthetic_nyu.py' in message
    assert not list(tmp_path.glob('*.pth'))


def test_skipped_bad_samples_are_counted_across_workers(synthetic_nyu, tmp_path):
    import shutil
    data = tmp_path / 'data'
    shutil.copytree(synthetic_nyu, data)
    bad = data / 'images' / f'{(data / "train.txt").read_text().split()[0]}.png'
    bad.write_bytes(b'')  # a zero-byte image
    result = run_tool([
        sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *small_demo_options(data, 8, 8),
        'train_dataloader.dataset.skip_bad_samples=True',
        'train_dataloader.num_workers=1', 'train_dataloader.persistent_workers=True'])
    log = result.stdout + result.stderr
    # 8 iterations x batch 2 = two passes over the 8 training frames: hit twice
    assert 'SkippedSampleReportHook: 2 training sample(s) were skipped because of 1 ' \
        'bad file(s)' in log
    assert str(bad) in log


def test_dist_test_evaluates_with_two_cpu_processes(trained, tmp_path):
    data_root, checkpoint = trained
    single = run_tool([sys.executable, 'tools/test.py', str(DEMO_CONFIG),
                       str(checkpoint), '--work-dir', str(tmp_path / 'one'),
                       '--cfg-options', *small_demo_options(data_root)])
    double = run_tool(['bash', 'tools/dist_test.sh', str(DEMO_CONFIG), str(checkpoint),
                       '2', '--work-dir', str(tmp_path / 'two'), '--cfg-options',
                       *small_demo_options(data_root)], env=dict(PORT='29518'))
    assert 'GPU number: 2' in double.stdout + double.stderr

    def metric_line(result):
        lines = [line for line in (result.stdout + result.stderr).splitlines()
                 if 'Iter(test)' in line and 'abs_rel' in line]
        assert lines
        return lines[-1].split('abs_rel')[1].split('data_time')[0]

    # the same metrics whether the 4 test images are split over 1 or 2 processes
    assert metric_line(single) == metric_line(double)
