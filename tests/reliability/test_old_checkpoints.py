"""Checkpoints of older mmdepthsem versions load, or fail with a clear error.

The fixtures are written by the tests (``ckpt_old_formats.py``: one writer per
layout change, each stamped with the version and commit it imitates) from
checkpoints of the current code, so they follow the model as it evolves.
"""
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import load_checkpoint_weights_only, register_all_modules
from mmdepthsem.utils.tool_config import load_weights, model_cfg_without_downloads

from ..conftest import DEMO_CONFIG, REPO, run_tool, small_demo_options
from .ckpt_old_formats import (PADNET_V1_LAYERS, padnet_neck_v1,
                               sdeseg_distillation_at_block1)

# The demo model with a PAD-Net distillation neck between decoder and heads.
PADNET_MODEL = dict(
    task_neck=dict(type='PADNetDistillationNeck', in_channels=64, channels=32),
    depth_head=dict(in_channels=32), sem_head=dict(in_channels=32))
PADNET_OPTIONS = [
    f'model.{part}.{key}={value}' for part, args in PADNET_MODEL.items()
    for key, value in args.items()]
SDESEG_SSL_CONFIG = REPO / 'configs' / 'sdeseg' / 'demo' / \
    'ssl_depthmix_resnet18_synthetic.py'


def _build(config, model_overrides=None):
    register_all_modules()
    cfg = Config.fromfile(str(config))
    if model_overrides:
        cfg.merge_from_dict(dict(model=model_overrides))
    return MODELS.build(model_cfg_without_downloads(cfg.model))


def _randomised(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.copy_(torch.randn_like(value))
    return model.state_dict()


def _assert_same(state, reference):
    assert state.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.equal(state[key], value), key


def test_padnet_neck_v1_checkpoint_loads_by_every_weights_path(tmp_path,
                                                              record_fault):
    torch.set_num_threads(1)
    model = _build(DEMO_CONFIG, PADNET_MODEL)
    reference = _randomised(model)
    path = tmp_path / 'padnet_v0.1.0_4c4e651.pth'
    fixture = padnet_neck_v1(dict(meta=dict(iter=2), state_dict=reference),
                             'task_neck')
    torch.save(fixture, path)

    saved = load_checkpoint_weights_only(path)
    assert saved['meta']['mmdepthsem_version'] == '0.1.0'
    keys = saved['state_dict'].keys()
    assert 'task_neck.depth_gate.weight' in keys  # the old layout, really
    assert not any('.distillation.' in k for k in keys)
    assert saved['state_dict']._metadata['task_neck'] == dict(version=1)
    neck_version = type(model.task_neck)._version
    assert neck_version == 2

    loaders = {
        # weights_only load + torch's strict load_state_dict
        'torch': lambda m: m.load_state_dict(
            load_checkpoint_weights_only(path)['state_dict'], strict=True),
        # mmengine's load_checkpoint (Runner's load_from), strict
        'mmengine': lambda m: load_checkpoint(m, str(path), strict=True),
        # tools/test.py, the inferencer: the state dict is rebuilt without the
        # version metadata, so the upgrade goes by the keys alone
        'load_weights': lambda m: load_weights(m, str(path), strict=True),
    }
    for name, load in loaders.items():
        fresh = _build(DEMO_CONFIG, PADNET_MODEL)
        load(fresh)
        _assert_same(fresh.state_dict(), reference)
        gate = fresh.task_neck.distillation.depth_gate.weight
        assert torch.equal(gate, fixture['state_dict']['task_neck.depth_gate.weight'])
    # the current layout still loads as it is (the upgrade leaves it alone)
    fresh = _build(DEMO_CONFIG, PADNET_MODEL)
    fresh.load_state_dict(reference, strict=True)
    _assert_same(fresh.state_dict(), reference)
    record_fault('old_checkpoint_format', len(loaders))


def test_sdeseg_checkpoint_with_distillation_at_block1_fails_clearly(tmp_path,
                                                                     record_fault):
    """Before 791cf4b the SDE-Seg SSL configs distilled after up-block 1 (stride 2).
    That layer cannot serve at block 2 (another scale), so the keys are not
    upgraded: a strict load must name both ends of the move."""
    torch.set_num_threads(1)
    model = _build(SDESEG_SSL_CONFIG)
    state = model.state_dict()
    assert any(k.startswith('cross_task.2.') for k in state)
    path = tmp_path / 'sdeseg_ssl_v0.1.0_3ed9256.pth'
    torch.save(sdeseg_distillation_at_block1(dict(state_dict=state)), path)
    with pytest.raises(RuntimeError) as err:
        load_weights(model, str(path), strict=True)
    message = str(err.value)
    assert 'unexpected key in source state_dict: cross_task.1.depth_gate' in message
    assert 'missing keys in source state_dict: cross_task.2.depth_gate' in message
    assert 'teacher.module.cross_task.1.' in message
    record_fault('old_checkpoint_format')


def test_berhu_loss_move_left_checkpoints_unchanged():
    """``projects/berhu_loss`` moved into the package (3ed9256); the loss holds no
    state, so a checkpoint of a model with it has the same keys."""
    register_all_modules()
    loss = MODELS.build(dict(type='BerHuLoss'))
    assert dict(loss.state_dict()) == {}


def _train(data_root, work_dir, *extra, max_iters=4, interval=2):
    return run_tool([sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--work-dir',
                     str(work_dir), *extra, '--cfg-options',
                     *small_demo_options(data_root, max_iters, interval),
                     *PADNET_OPTIONS], check=False)


@pytest.mark.slow
def test_train_py_resumes_a_padnet_v1_checkpoint_to_the_same_weights(
        synthetic_nyu, tmp_path, record_fault):
    """An iteration-2 checkpoint rewritten in the 0.1.0 (4c4e651) layout resumes
    with ``tools/train.py --resume`` and ends at exactly the weights of the run
    that was never interrupted (mmengine's resume loads with strict=False, so a
    missed upgrade would re-initialise the distillation layers, not fail)."""
    straight = tmp_path / 'straight'
    result = _train(synthetic_nyu, straight)
    assert result.returncode == 0, result.stderr[-4000:]
    reference = load_checkpoint_weights_only(straight / 'iter_4.pth')['state_dict']

    old = tmp_path / 'old' / 'iter_2_v0.1.0.pth'
    old.parent.mkdir()
    torch.save(padnet_neck_v1(load_checkpoint_weights_only(straight / 'iter_2.pth'),
                              'task_neck'), old)
    resumed_dir = tmp_path / 'resumed'
    result = _train(synthetic_nyu, resumed_dir, '--resume', str(old))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'resumed' in log.lower()
    assert 'missing keys' not in log and 'unexpected key' not in log
    resumed = load_checkpoint_weights_only(resumed_dir / 'iter_4.pth')['state_dict']
    _assert_same(resumed, reference)
    # the layers the upgrade moved were trained on, not re-initialised
    start = load_checkpoint_weights_only(straight / 'iter_2.pth')['state_dict']
    for layer in PADNET_V1_LAYERS:
        key = f'task_neck.distillation.{layer}.weight'
        assert not torch.equal(start[key], reference[key])
    record_fault('old_checkpoint_format')


class _OpensAFile:
    """Unpickling this would create ``path`` -- a stand-in for an attack."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.mark.slow
def test_train_py_resume_refuses_a_malicious_checkpoint(synthetic_nyu, tmp_path,
                                                         record_fault):
    """Only the loader functions are tested in test_checkpoint_safety.py; here the
    whole ``tools/train.py --resume`` path stops, names the file and the global,
    runs nothing and writes no checkpoint."""
    marker = tmp_path / 'pwned.txt'
    evil = tmp_path / 'evil_iter_2.pth'
    torch.save(dict(meta=dict(iter=2), state_dict={}, payload=_OpensAFile(marker)),
               evil)
    work = tmp_path / 'work'
    result = run_tool([sys.executable, 'tools/train.py', str(DEMO_CONFIG),
                       '--work-dir', str(work), '--resume', str(evil),
                       '--cfg-options', *small_demo_options(synthetic_nyu, 4, 2)],
                      check=False)
    assert result.returncode != 0
    assert 'UnsafeCheckpointError' in result.stderr
    assert f'Refused to load checkpoint {evil}' in result.stderr
    assert 'io.open' in result.stderr  # the refused global: builtins.open
    assert not marker.exists()
    assert not list(work.glob('iter_*.pth'))
    record_fault('malicious_checkpoint')
