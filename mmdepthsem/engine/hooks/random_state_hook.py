"""Saving and restoring the random number generators with checkpoints."""
import random
from typing import Callable, Iterator, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmdepthsem.registry import HOOKS


class _RestoreBeforeFirstNewBatch:
    """Data-loader iterator proxy that calls ``restore`` once, after ``skip`` batches.

    mmengine's ``IterBasedTrainLoop`` replays the data loader up to the resumed
    iteration before training; the generators must be restored after that replay
    and before the first batch that is actually trained on.
    """

    def __init__(self, iterator: Iterator, skip: int, restore: Callable[[], None]):
        self._iterator = iterator
        self._skip = skip
        self._restore: Optional[Callable[[], None]] = restore

    def __iter__(self):
        return self

    def __next__(self):
        if self._restore is not None:
            if self._skip == 0:
                self._restore()
                self._restore = None
            else:
                self._skip -= 1
        return next(self._iterator)

    def __getattr__(self, name):
        return getattr(self._iterator, name)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Store the RNG states in every checkpoint and restore them on resume.

    mmengine re-seeds on resume but does not restore the generators, so random
    augmentation after a resume differs from an uninterrupted run. This hook saves
    the states of Python's ``random``, numpy's global generator and torch's CPU (and
    CUDA) generators when a checkpoint is written (after iteration ``k``, before batch
    ``k + 1`` is drawn). On resume with an iteration-based loop, mmengine first
    replays the data loader up to iteration ``k`` (drawing random numbers again), so
    the states are put back exactly between that replay and the fetch of batch
    ``k + 1``; with an epoch-based loop they are put back before the next epoch.
    Data-loader workers are seeded by mmengine from the run's seed and the replay
    advances them identically, so they need no saved state.

    Validation is kept out of the training stream: the states are saved before each
    validation run and put back after it. Otherwise the draws validation makes (every
    data-loader iteration takes a seed from torch's generator) would be part of an
    uninterrupted run but missing from one resumed at a checkpoint written just
    before validation, and dropout or drop-path would differ from then on.

    In distributed runs only the saving rank's states are stored and every rank
    restores them; bit-exact resumption is guaranteed for single-process runs.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._before_val: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # a checkpoint written during validation (save_best) gets the training stream
        checkpoint['rng_state'] = self._before_val if self._before_val is not None \
            else _get_state()

    def before_val(self, runner) -> None:
        self._before_val = _get_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            _set_state(self._before_val)
            self._before_val = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')
        if self._pending is None:
            print_log('The checkpoint holds no RNG state; random augmentation '
                      'after resuming will differ from an uninterrupted run.',
                      logger='current')

    def before_train(self, runner) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):
            loop.dataloader_iterator = _RestoreBeforeFirstNewBatch(
                loop.dataloader_iterator, runner.iter, lambda: _set_state(state))
        else:
            _set_state(state)


def _get_state() -> dict:
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_state(state: dict) -> None:
    # The weights-only unpickler returns the inner tuple of Python's state as a list.
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
