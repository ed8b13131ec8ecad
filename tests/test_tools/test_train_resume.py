"""End-to-end: train with tools/train.py, SIGKILL it, resume, compare weights."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmdepthsem.utils import load_checkpoint_weights_only

from ..conftest import DEMO_CONFIG, REPO, run_tool, small_demo_options

pytestmark = pytest.mark.slow

MAX_ITERS = 8


def _train_cmd(data_root, work_dir, *extra, workers=0):
    options = small_demo_options(data_root, MAX_ITERS, checkpoint_interval=2)
    if workers:
        options += [f'train_dataloader.num_workers={workers}',
                    'train_dataloader.persistent_workers=True']
    return [sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--work-dir',
            str(work_dir), *extra, '--cfg-options', *options]


def _weights(path):
    return load_checkpoint_weights_only(path, map_location='cpu')['state_dict']


def test_sigkill_and_resume_gives_the_uninterrupted_weights(synthetic_nyu, tmp_path):
    """Random augmentation is on (resize, crop, flip, colour jitter) in a data-loader
    worker: the resumed run must continue the very same random stream. (Kills with the
    data loaded in-process, at many more points, are in
    tests/reliability/test_kill_resume.py.)"""
    workers = 1
    straight = tmp_path / 'straight'
    run_tool(_train_cmd(synthetic_nyu, straight, workers=workers))
    reference = _weights(straight / f'iter_{MAX_ITERS}.pth')

    killed = tmp_path / 'killed'
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(_train_cmd(synthetic_nyu, killed, workers=workers),
                            cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / 'iter_4.pth').exists():
        assert proc.poll() is None, 'training ended before it could be killed'
        assert time.time() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / f'iter_{MAX_ITERS}.pth').exists()

    result = run_tool(_train_cmd(synthetic_nyu, killed, '--resume', workers=workers))
    assert 'resumed' in (result.stdout + result.stderr).lower()
    resumed = _weights(killed / f'iter_{MAX_ITERS}.pth')
    assert resumed.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.equal(value, resumed[key]), key
    # and the training did change the weights (the comparison is not vacuous)
    initial = _weights(straight / 'iter_2.pth')
    assert any(not torch.equal(initial[k], reference[k]) for k in reference)
