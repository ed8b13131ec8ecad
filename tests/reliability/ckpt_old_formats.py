"""Writers of checkpoints in the formats of older mmdepthsem versions.

Each writer turns a checkpoint of the current code into the layout an older version
wrote, and records which one in ``meta['mmdepthsem_version']`` (the package version)
and ``meta['mmdepthsem_format']`` (the last commit that wrote the layout; the
version string did not change while the layout did). When a module's state-dict
layout changes again, bump its ``_version``, add the upgrade to its
``_load_from_state_dict`` and add a writer here with the layout it replaces.

Format changes in the project's history (``git log``):

- ``PADNetDistillationNeck`` (4c4e651 -> 3ed9256): the gate and message
  convolutions moved from the neck into ``distillation.`` (module ``_version`` 1 ->
  2). Upgraded on loading.
- SDE-Seg SSL configs (3ed9256 -> 791cf4b): the PAD-Net distillation moved from
  decoder block 1 to block 2. Not a renaming but another layer at another scale, so
  not upgradable: a strict load names the keys (tested).
- ``projects/berhu_loss`` -> ``mmdepthsem.models.losses`` (3ed9256): the loss has no
  parameters or buffers, so checkpoints are unaffected (tested: no state).
- Plain ``OptimWrapper`` optimizer states (no ``nonfinite_guard`` counters) resume
  into the guarded wrapper with counters at 0.
"""
import copy
import re
from collections import OrderedDict
from typing import Dict

# the module layout of version 1 of PADNetDistillationNeck
PADNET_V1_LAYERS = ('depth_gate', 'sem_gate', 'sem_to_depth', 'depth_to_sem')


def _with_metadata(state: Dict, metadata: Dict) -> OrderedDict:
    state = OrderedDict(state)
    state._metadata = metadata  # torch's per-module versions, pickled with the dict
    return state


def _stamp(checkpoint: dict, version: str, commit: str) -> dict:
    checkpoint = dict(checkpoint)
    checkpoint['meta'] = dict(checkpoint.get('meta') or {},
                              mmdepthsem_version=version, mmdepthsem_format=commit)
    optimizer = checkpoint.get('optimizer')
    if isinstance(optimizer, dict) and 'nonfinite_guard' in optimizer:
        # written by plain OptimWrapper then: no skip counters
        checkpoint['optimizer'] = {k: v for k, v in optimizer.items()
                                   if k != 'nonfinite_guard'}
    return checkpoint


def padnet_neck_v1(checkpoint: dict, neck_prefix: str) -> dict:
    """``checkpoint`` as mmdepthsem 0.1.0 at 4c4e651 wrote it for a model whose
    ``PADNetDistillationNeck`` sits at ``neck_prefix`` (e.g. ``'task_neck'``):
    ``<neck>.depth_gate.weight`` instead of ``<neck>.distillation.depth_gate.weight``,
    module version 1."""
    state = checkpoint['state_dict']
    metadata = copy.deepcopy(getattr(state, '_metadata', OrderedDict()))
    old = OrderedDict()
    moved = 0
    for key, value in state.items():
        for layer in PADNET_V1_LAYERS:
            new_head = f'{neck_prefix}.distillation.{layer}.'
            if key.startswith(new_head):
                key = f'{neck_prefix}.{layer}.' + key[len(new_head):]
                moved += 1
        old[key] = value
    if moved != 2 * len(PADNET_V1_LAYERS):
        raise ValueError(f'expected 8 distillation tensors under {neck_prefix}, '
                         f'moved {moved}')
    # the sub-modules of version 2 did not exist in version 1
    metadata = OrderedDict((k, v) for k, v in metadata.items()
                           if not k.startswith(f'{neck_prefix}.distillation'))
    metadata[neck_prefix] = dict(version=1)
    checkpoint = dict(checkpoint, state_dict=_with_metadata(old, metadata))
    return _stamp(checkpoint, '0.1.0', '4c4e651')


def sdeseg_distillation_at_block1(checkpoint: dict) -> dict:
    """``checkpoint`` of an SDE-Seg SSL model as runs before 791cf4b wrote it, for
    the key layout: the distillation module at ``cross_task.1`` (after up-block 1)
    instead of ``cross_task.2``, in the student and the EMA teacher."""
    pattern = re.compile(r'(^|\.)cross_task\.2\.')
    old = OrderedDict((pattern.sub(r'\1cross_task.1.', key), value)
                      for key, value in checkpoint['state_dict'].items())
    checkpoint = dict(checkpoint, state_dict=old)
    return _stamp(checkpoint, '0.1.0', '3ed9256')
