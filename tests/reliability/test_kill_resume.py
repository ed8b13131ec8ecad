"""SIGKILL a training run several times at chosen points, resume each time, and end
with exactly the weights of an uninterrupted run.

The kill points come from :mod:`tests.reliability.fault_points` (a hook loaded into
``tools/train.py`` through ``custom_imports``): inside an iteration (between backward
and the optimizer step), during validation, half-way through writing a checkpoint's
temporary file, and between a checkpoint's rename and the ``last_checkpoint`` update.
One more kill comes from this process at a seeded random wall-clock time. Order and
positions are drawn from a seeded generator. Random augmentation and dropout are on,
so the final weights depend on the data order and on every generator state.
"""
import os
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Dict, Optional, Set

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.engine.hooks.random_state_hook import RandomStateHook
from mmdepthsem.utils import load_checkpoint_weights_only
from mmdepthsem.utils.resume import find_resumable_checkpoint

from ..conftest import DEMO_CONFIG, REPO, small_demo_options

pytestmark = pytest.mark.slow

MAX_ITERS = 8
CKPT_INTERVAL = 2
VAL_INTERVAL = 2
SEED = 4
# seconds: a wall-clock kill lands this long after training (re)starts; every
# iteration is slowed to at least ITER_DELAY so that it finishes at most two of them
ITER_DELAY = 0.6
KILL_KINDS = ('train_iter', 'val_iter', 'ckpt_write', 'ckpt_marker', 'wall_clock')


def _write_config(tmp_path: Path) -> Path:
    """The demo config plus the fault-point hook, as a ``_base_``-inheriting file."""
    hooks = list(Config.fromfile(str(DEMO_CONFIG)).custom_hooks)
    hooks.append(dict(type='FaultPointHook'))
    path = tmp_path / 'fault_config.py'
    path.write_text(
        f'_base_ = [{str(DEMO_CONFIG)!r}]\n'
        "custom_imports = dict(imports=['tests.reliability.fault_points'], "
        'allow_failed_imports=False)\n'
        f'custom_hooks = {[dict(h) for h in hooks]!r}\n')
    return path


class _Trainer:
    """Starts ``tools/train.py --resume`` on one work dir with fault variables set."""

    def __init__(self, config: Path, data_root: Path, work_dir: Path):
        self.config, self.work_dir = config, work_dir
        # dropout draws from torch's generator in every training step, so the weights
        # depend on the generator states, not only on the replayed data stream
        self.options = small_demo_options(data_root, MAX_ITERS, CKPT_INTERVAL) + [
            f'train_cfg.val_interval={VAL_INTERVAL}', 'model.sem_head.dropout_ratio=0.1']
        self.runs = 0

    def start(self, **fault: str):
        self.runs += 1
        log = self.work_dir.parent / f'{self.work_dir.name}_{self.runs}.log'
        fault_log = self.work_dir.parent / f'{self.work_dir.name}_{self.runs}.fault'
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1',
                   FAULT_LOG=str(fault_log), **fault)
        cmd = [sys.executable, 'tools/train.py', str(self.config), '--work-dir',
               str(self.work_dir), '--resume', '--cfg-options', *self.options]
        with open(log, 'w') as out:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
        return proc, log, fault_log


def _wait(proc, log: Path, expected_rc: int, timeout: float = 240) -> str:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    text = log.read_text()
    assert proc.returncode == expected_rc, f'rc {proc.returncode}:\n{text[-5000:]}'
    return text


def _assert_resumed_from(log_text: str, step: int) -> None:
    if step:
        assert re.search(rf'resumed epoch: \d+, iter: {step}\b', log_text), step
    else:
        assert 'training starts from scratch' in log_text


def _step(path: str) -> int:
    return int(re.search(r'iter_(\d+)\.pth$', path).group(1))


def _checkpoint_files(work_dir: Path) -> Dict[int, Path]:
    """Every ``iter_*.pth`` of the work dir; each must be a complete zip archive."""
    found = {_step(str(p)): p for p in work_dir.glob('iter_*.pth')}
    torn = [p.name for p in found.values() if not zipfile.is_zipfile(p)]
    assert not torn, f'truncated checkpoint files: {torn}'
    return found


def _expected_resume(complete: Set[int], recorded: Optional[int]) -> Optional[int]:
    """What --resume must pick: the file ``last_checkpoint`` names, else the newest."""
    if recorded is not None:
        return recorded
    return max(complete) if complete else None


def _kill_point(kind: str, resumed: int, rng: random.Random) -> Dict[str, str]:
    """Fault variables for one kill, a little after the iteration resumed from.

    Each kill moves the resume point on by at most two iterations (the wall-clock one
    too, as iterations are slowed to ITER_DELAY), so the five kinds fit into
    MAX_ITERS in any order.
    """
    if kind == 'train_iter':
        return dict(FAULT_KIND=kind, FAULT_STEP=str(rng.randint(resumed + 1,
                                                                resumed + 3)))
    if kind == 'val_iter':
        after = (resumed // VAL_INTERVAL + 1) * VAL_INTERVAL
        return dict(FAULT_KIND=kind, FAULT_STEP=str(after),
                    FAULT_BATCH=str(rng.randrange(4)))
    if kind in ('ckpt_write', 'ckpt_marker'):
        return dict(FAULT_KIND=kind, FAULT_STEP=str(resumed + CKPT_INTERVAL))
    return dict(FAULT_ITER_DELAY=str(ITER_DELAY))


def _state(path: Path) -> dict:
    return load_checkpoint_weights_only(path, map_location='cpu')


def _assert_same_tensors(expected, actual, where: str) -> None:
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), where
        assert torch.equal(expected, actual), where
    elif isinstance(expected, dict):
        assert expected.keys() == actual.keys(), where
        for key in expected:
            _assert_same_tensors(expected[key], actual[key], f'{where}.{key}')
    elif isinstance(expected, (list, tuple)):
        assert len(expected) == len(actual), where
        for i, (e, a) in enumerate(zip(expected, actual)):
            _assert_same_tensors(e, a, f'{where}[{i}]')


def test_repeated_sigkills_resume_to_the_uninterrupted_weights(
        synthetic_nyu, tmp_path, record_fault):
    config = _write_config(tmp_path)
    straight = _Trainer(config, synthetic_nyu, tmp_path / 'straight')
    killed = _Trainer(config, synthetic_nyu, tmp_path / 'killed')
    # the reference trains while the first kills happen; each is one process
    reference_proc, reference_log, _ = straight.start()

    rng = random.Random(SEED)
    kinds = list(KILL_KINDS)
    rng.shuffle(kinds)
    complete: Set[int] = set()      # steps of complete iter_*.pth files
    recorded: Optional[int] = None  # the step last_checkpoint names
    resumed = 0                     # the iteration the next run starts from
    kills = Counter()
    for kind in kinds:
        fault = _kill_point(kind, resumed, rng)
        old_tmp = set(killed.work_dir.glob('.*.tmp'))
        proc, log, fault_log = killed.start(**fault)
        if kind == 'wall_clock':
            deadline = time.time() + 240
            while 'started' not in (fault_log.read_text() if fault_log.exists()
                                    else ''):
                assert proc.poll() is None, log.read_text()[-5000:]
                assert time.time() < deadline
                time.sleep(0.05)
            remaining = MAX_ITERS - resumed
            time.sleep(rng.uniform(0.1, min(1.5, ITER_DELAY * remaining - 0.5)))
            proc.send_signal(signal.SIGKILL)
        text = _wait(proc, log, -signal.SIGKILL)
        kills[kind] += 1
        files = _checkpoint_files(killed.work_dir)
        _assert_resumed_from(text, resumed)
        if kind == 'wall_clock':
            # unknown position: read back what the run left
            complete = set(files)
            marker = killed.work_dir / 'last_checkpoint'
            recorded = (_step(marker.read_text().strip())
                        if marker.exists() and marker.read_text().strip() else None)
        else:
            step = int(fault['FAULT_STEP'])
            assert fault_log.read_text().splitlines()[-1] == f'fire {kind} {step}'
            # the iterations whose checkpoint (if due) was written and recorded
            finished = step if kind == 'val_iter' else step - 1
            new = {s for s in range(resumed + 1, finished + 1) if s % CKPT_INTERVAL == 0}
            complete |= new
            recorded = max(new) if new else recorded
            if kind == 'ckpt_marker':
                complete.add(step)
            if kind == 'ckpt_write':
                torn = list(set(killed.work_dir.glob(f'.iter_{step}.pth.*.tmp'))
                            - old_tmp)
                assert len(torn) == 1 and torn[0].stat().st_size > 0
                assert not zipfile.is_zipfile(torn[0])
        assert set(files) == complete
        expected = _expected_resume(complete, recorded)
        found = find_resumable_checkpoint(str(killed.work_dir))
        assert (found and _step(found)) == expected, (kind, fault, found)
        resumed = expected or 0

    proc, log, _ = killed.start()
    _assert_resumed_from(_wait(proc, log, 0), resumed)
    _wait(reference_proc, reference_log, 0)

    reference = _state(straight.work_dir / f'iter_{MAX_ITERS}.pth')
    resumed_ckpt = _state(killed.work_dir / f'iter_{MAX_ITERS}.pth')
    _assert_same_tensors(reference['state_dict'], resumed_ckpt['state_dict'],
                         'state_dict')
    _assert_same_tensors(reference['optimizer']['state'],
                         resumed_ckpt['optimizer']['state'], 'optimizer')
    # training moved the weights, so the comparison is not vacuous
    first = _state(straight.work_dir / f'iter_{CKPT_INTERVAL}.pth')['state_dict']
    assert any(not torch.equal(first[k], reference['state_dict'][k]) for k in first)
    # the torn write was never picked up, and a resume deletes it
    logs = sorted(tmp_path.glob('killed_*.log'))
    assert any('unfinished checkpoint write' in p.read_text() for p in logs)
    assert not list(killed.work_dir.glob('.*.tmp'))

    print(f'kills per kind: {dict(kills)}; {killed.runs} runs of the killed chain')
    assert sum(kills.values()) == len(KILL_KINDS)
    for kind, n in kills.items():
        record_fault(f'sigkill_{kind}', n)


def test_validation_leaves_the_training_random_stream_alone():
    """A resumed run skips the validation that followed its checkpoint; the draws of
    that validation must therefore not shift the training stream."""
    def draws():
        return (random.random(), float(np.random.rand()), float(torch.rand(1)))

    hook = RandomStateHook()
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    expected = draws()
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    hook.before_val(runner=None)
    list(torch.utils.data.DataLoader(range(4)))  # takes a seed from torch
    draws()
    hook.after_val(runner=None)
    assert draws() == expected
