"""Saving and restoring the random number generators with checkpoints."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmdepthsem.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Store the RNG states in every checkpoint and restore them on resume.

    mmengine re-seeds on resume but does not restore the generators, so random
    augmentation after a resume differs from an uninterrupted run. This hook saves the
    states of Python's ``random``, numpy's global generator and torch's CPU (and CUDA)
    generators of the saving process. On resume, mmengine's iteration loop first
    replays the data loader up to the resumed iteration (which draws random numbers
    again); the saved states are therefore put back at the first training iteration
    after the resume, so the remaining run draws exactly what the uninterrupted run
    drew. Data-loader workers are seeded by mmengine from the run's seed and the
    sampler replays their order, so they need no saved state.

    In distributed runs each rank's generators differ; only the saving rank's states
    are stored, and all ranks restore them (documented limitation: bit-exact resume is
    guaranteed for single-process runs).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')
        if self._pending is None:
            print_log('The checkpoint holds no RNG state; random augmentation '
                      'after resuming will differ from an uninterrupted run.',
                      logger='current')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        random.setstate(_as_python_state(state['python']))
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])


def _as_python_state(state):
    # The weights-only unpickler turns the inner tuple into a list.
    version, internal, gauss = state
    return version, tuple(internal), gauss
