"""Fault points for the kill-and-resume tests: a hook that SIGKILLs its own run.

Loaded into a ``tools/train.py`` subprocess through the config's ``custom_imports``
and listed in ``custom_hooks``; it stays out of the package. Environment variables
choose where the process dies (with a real ``SIGKILL``, so no handler, ``finally``
or ``atexit`` code runs):

- ``FAULT_KIND=train_iter``, ``FAULT_STEP=k``: inside training iteration ``k``
  (1-based), after forward and backward, in the optimizer's step pre-hook, before
  any parameter is updated.
- ``FAULT_KIND=val_iter``, ``FAULT_STEP=k``, ``FAULT_BATCH=b``: before validation
  batch ``b`` of the validation run after iteration ``k``.
- ``FAULT_KIND=ckpt_write``, ``FAULT_STEP=k``: while ``iter_k.pth`` is written:
  the temporary file holds half the bytes, flushed to disk.
- ``FAULT_KIND=ckpt_marker``, ``FAULT_STEP=k``: after ``iter_k.pth`` has been
  renamed into place, before ``last_checkpoint`` is updated.

``FAULT_LOG`` names a file that receives ``started <iter>`` when training starts and
``fire <kind> <step>`` just before the kill. ``FAULT_ITER_DELAY`` (seconds) slows every
iteration, which gives a kill from outside at a random time a wide enough window.
"""
import os
import signal
import time
from typing import Optional

from mmengine.hooks import Hook

import mmdepthsem.utils.checkpoint as checkpoint_module
from mmdepthsem.registry import HOOKS

KINDS = ('train_iter', 'val_iter', 'ckpt_write', 'ckpt_marker')


def _log(line: str) -> None:
    path = os.environ.get('FAULT_LOG')
    if path:
        with open(path, 'a') as f:
            f.write(line + '\n')
            f.flush()
            os.fsync(f.fileno())


def _die(kind: str, step: int) -> None:
    _log(f'fire {kind} {step}')
    os.kill(os.getpid(), signal.SIGKILL)


class _HalfWrittenFile:
    """File proxy whose first ``write`` stores half the bytes, syncs, and dies."""

    def __init__(self, file, step: int):
        self._file = file
        self._step = step

    def write(self, data: bytes) -> int:
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        os.fsync(self._file.fileno())
        _die('ckpt_write', self._step)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._file, name)


class _OsDyingOnFdopen:
    """Stand-in for ``os`` inside mmdepthsem.utils.checkpoint: the temporary file
    that ``atomic_write_bytes`` opens is torn half-way."""

    def __init__(self, step: int):
        self._step = step

    def fdopen(self, fd, *args, **kwargs):
        return _HalfWrittenFile(os.fdopen(fd, *args, **kwargs), self._step)

    def __getattr__(self, name):
        return getattr(os, name)


@HOOKS.register_module()
class FaultPointHook(Hook):
    """Kill the training process at the point named by ``FAULT_KIND``/``FAULT_STEP``."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.kind: Optional[str] = os.environ.get('FAULT_KIND') or None
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f'FAULT_KIND={self.kind!r} is none of {KINDS}')
        self.step = int(os.environ.get('FAULT_STEP', '0'))
        self.batch = int(os.environ.get('FAULT_BATCH', '0'))
        self.delay = float(os.environ.get('FAULT_ITER_DELAY', '0'))

    def before_train(self, runner) -> None:
        if self.kind == 'train_iter':
            optimizer = runner.optim_wrapper.optimizer

            def before_step(*_):
                # runner.iter counts the finished iterations
                if runner.iter + 1 == self.step:
                    _die('train_iter', self.step)

            optimizer.register_step_pre_hook(before_step)
        elif self.kind == 'ckpt_marker':
            save = runner.save_checkpoint

            def save_then_die(out_dir, filename, *args, **kwargs):
                save(out_dir, filename, *args, **kwargs)
                if filename == f'iter_{self.step}.pth':
                    _die('ckpt_marker', self.step)

            runner.save_checkpoint = save_then_die
        _log(f'started {runner.iter}')

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self.delay:
            time.sleep(self.delay)

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        if (self.kind == 'val_iter' and runner.iter == self.step
                and batch_idx == self.batch):
            _die('val_iter', self.step)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.kind == 'ckpt_write' and runner.iter + 1 == self.step:
            checkpoint_module.os = _OsDyingOnFdopen(self.step)
