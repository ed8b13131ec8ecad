"""The non-finite loss/gradient policy of ``NonFiniteGuardOptimWrapper``.

Unit tests on a two-input linear model, whose gradients are known by hand
(``d(w.x + b)/dw = x``, ``d/db = 1``), and end-to-end runs of the demo config with a
NaN injected into one training iteration.
"""
import argparse
import copy
import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.config import DictAction
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

import mmdepthsem.engine.optimizers.non_finite_guard as guard_module
from mmdepthsem.engine.optimizers import (NonFiniteGuardAmpOptimWrapper,
                                          NonFiniteGuardOptimWrapper)
from mmdepthsem.engine.optimizers.non_finite_guard import SKIP_SCALAR
from tests.conftest import DEMO_CONFIG, small_demo_options
from .gloo_workers import leave_gloo_worker

X = torch.tensor([[1.0, 2.0]])
NAN = float('nan')
INF = float('inf')


def tiny_model() -> nn.Linear:
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -1.0]]))
        model.bias.fill_(0.25)
    return model


def params_of(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_params(model: nn.Module, expected: dict) -> None:
    for name, value in model.state_dict().items():
        assert torch.equal(value, expected[name]), name


def train_step(wrapper, model: nn.Module, scale: float = 1.0) -> None:
    """One step the way ``AlternatingMultiTaskEstimator.step_through`` does it."""
    with wrapper.optim_context(model):
        loss = model(X).sum() * scale
    wrapper.backward(wrapper.scale_loss(loss))
    if wrapper.should_update():
        wrapper.step()
        wrapper.zero_grad()


@pytest.fixture
def at_iter():
    """Set the runner iteration (0-based) seen by the wrapper through the hub."""
    hub = MessageHub.get_current_instance()

    def set_iter(i: int) -> None:
        hub.update_info('iter', i)
        hub.update_info('max_iters', 10)

    yield set_iter
    hub.pop_info('iter', None)
    hub.pop_info('max_iters', None)


@pytest.fixture
def warnings_seen(monkeypatch):
    seen = []
    monkeypatch.setattr(guard_module, 'print_log',
                        lambda msg, **kw: seen.append((msg, kw.get('level'))))
    return seen


def test_nan_loss_leaves_weights_and_adam_state_untouched(
        at_iter, warnings_seen, record_fault):
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=0.1))
    at_iter(5)
    train_step(wrapper, model)  # a good step first, so that Adam has state
    # Adam's first step moves every weight by lr against its gradient's sign.
    assert torch.allclose(model.weight, torch.tensor([[0.4, -1.1]]))
    before = params_of(model)
    adam_before = copy.deepcopy(wrapper.optimizer.state_dict()['state'])

    at_iter(6)
    record_fault('nan_loss')
    wrapper.update_params(model(X).sum() * NAN)  # the BaseModel.train_step path

    assert_same_params(model, before)
    adam_after = wrapper.optimizer.state_dict()['state']
    for key in ('step', 'exp_avg', 'exp_avg_sq'):
        assert torch.equal(adam_after[0][key], adam_before[0][key]), key
    assert float(adam_after[0]['step']) == 1
    assert all(p.grad is None for p in model.parameters())
    assert wrapper.num_skips == 1
    assert MessageHub.get_current_instance().get_scalar(SKIP_SCALAR).current() == 1
    (message, level), = warnings_seen
    assert 'iteration 7/10' in message and 'non-finite loss (nan)' in message
    assert level == 30  # logging.WARNING


def test_inf_gradient_with_finite_loss_is_skipped(at_iter, warnings_seen,
                                                  record_fault):
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
    before = params_of(model)
    handle = model.weight.register_hook(lambda g: torch.full_like(g, INF))
    at_iter(2)
    record_fault('inf_grad')
    train_step(wrapper, model)
    handle.remove()

    assert_same_params(model, before)  # the (finite) bias is not stepped either
    assert wrapper.num_skips == 1
    (message, _), = warnings_seen
    assert 'iteration 3/10' in message
    assert 'gradients of 1 parameter(s): weight' in message
    assert 'loss' not in message.split('non-finite')[1].split('gradients')[0]


def test_step_after_a_skip_equals_a_run_without_the_bad_batch(at_iter,
                                                               warnings_seen,
                                                               record_fault):
    # SGD, hand-checked: each good step subtracts lr * (x, 1) = (0.5, 1.0, 0.5).
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
    at_iter(0)
    train_step(wrapper, model)
    at_iter(1)
    record_fault('nan_loss')
    train_step(wrapper, model, scale=NAN)
    at_iter(2)
    train_step(wrapper, model)
    assert torch.equal(model.weight, torch.tensor([[0.5 - 2 * 0.5, -1.0 - 2 * 1.0]]))
    assert torch.equal(model.bias, torch.tensor([0.25 - 2 * 0.5]))
    assert wrapper.num_skips == 1 and wrapper.consecutive_skips == 0

    # Adam: identical weights and moments to a plain OptimWrapper that never saw
    # the bad batch.
    guarded_model, plain_model = tiny_model(), tiny_model()
    guarded = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.Adam(guarded_model.parameters(), lr=0.1))
    plain = OptimWrapper(optimizer=torch.optim.Adam(plain_model.parameters(), lr=0.1))
    record_fault('nan_loss')
    for scale in (1.0, NAN, 2.0, 0.5):
        train_step(guarded, guarded_model, scale)
        if not math.isnan(scale):
            train_step(plain, plain_model, scale)
    assert_same_params(guarded_model, params_of(plain_model))
    s_guarded = guarded.optimizer.state_dict()['state']
    s_plain = plain.optimizer.state_dict()['state']
    for i in (0, 1):
        for key in ('step', 'exp_avg', 'exp_avg_sq'):
            assert torch.equal(s_guarded[i][key], s_plain[i][key]), (i, key)
    # And the bad batch would have poisoned the plain wrapper.
    train_step(plain, plain_model, NAN)
    assert torch.isnan(plain_model.weight).all()


def test_raise_policy_names_the_iteration(at_iter, record_fault):
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5), policy='raise')
    before = params_of(model)
    at_iter(8)
    record_fault('nan_loss')
    with pytest.raises(RuntimeError, match=r'iteration 9/10.*loss \(nan\)'):
        train_step(wrapper, model, scale=NAN)
    assert_same_params(model, before)

    wrapper.zero_grad()
    handle = model.bias.register_hook(lambda g: g * NAN)
    record_fault('nan_grad')
    with pytest.raises(RuntimeError, match=r'iteration 9/10.*parameter\(s\): bias'):
        train_step(wrapper, model)
    handle.remove()
    assert_same_params(model, before)


def test_consecutive_skip_limit_stops_the_run(at_iter, warnings_seen, record_fault):
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        max_consecutive_skips=3)
    scales = [NAN, NAN, 1.0, NAN, NAN]  # a good step resets the run of skips
    for i, scale in enumerate(scales):
        at_iter(i)
        train_step(wrapper, model, scale)
    record_fault('nan_loss', n=5)
    assert wrapper.num_skips == 4 and wrapper.consecutive_skips == 2
    before = params_of(model)
    at_iter(5)
    record_fault('nan_loss')
    with pytest.raises(RuntimeError,
                       match=r'iteration 6/10: non-finite loss.*; 3 consecutive steps'):
        train_step(wrapper, model, NAN)
    assert_same_params(model, before)
    assert len(warnings_seen) == 4
    with pytest.raises(ValueError):
        NonFiniteGuardOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.5), policy='ignore')


@pytest.mark.parametrize('clip_grad', [
    dict(max_norm=1.0), dict(type='value', clip_value=0.1)], ids=['norm', 'value'])
def test_gradient_clipping_does_not_hide_the_fault(clip_grad, at_iter, warnings_seen,
                                                   record_fault):
    def run(wrapper_type):
        model = tiny_model()
        wrapper = wrapper_type(optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
                               clip_grad=dict(clip_grad))
        handle = model.weight.register_hook(lambda g: torch.full_like(g, INF))
        train_step(wrapper, model)
        handle.remove()
        return model, wrapper

    at_iter(3)
    record_fault('inf_grad', n=2)
    plain_model, _ = run(OptimWrapper)
    # Without the guard clipping turns the inf into NaN (norm) or into a finite
    # but meaningless update (value): the weights move.
    assert not torch.equal(plain_model.weight, tiny_model().weight)
    model, wrapper = run(NonFiniteGuardOptimWrapper)
    assert_same_params(model, params_of(tiny_model()))
    assert wrapper.num_skips == 1


def test_accumulated_step_with_one_bad_micro_batch_is_skipped(at_iter,
                                                             warnings_seen,
                                                             record_fault):
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5), accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 4)
    before = params_of(model)
    at_iter(1)
    record_fault('nan_loss')
    train_step(wrapper, model, NAN)  # accumulates, no step yet
    train_step(wrapper, model, 1.0)  # finite loss, but the sum of grads is NaN
    assert_same_params(model, before)
    assert wrapper.num_skips == 1
    train_step(wrapper, model, 1.0)
    train_step(wrapper, model, 1.0)
    # One update with the mean of two micro-batch gradients (x, 1).
    assert torch.equal(model.weight, torch.tensor([[0.0, -2.0]]))


def test_counters_survive_state_dict_and_plain_checkpoints_still_load(at_iter,
                                                                     warnings_seen,
                                                                     record_fault):
    model = tiny_model()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=0.1))
    record_fault('nan_loss', n=2)
    train_step(wrapper, model, NAN)
    train_step(wrapper, model, NAN)
    state = wrapper.state_dict()

    resumed = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.Adam(tiny_model().parameters(), lr=0.1))
    resumed.load_state_dict(copy.deepcopy(state))
    assert (resumed.num_skips, resumed.consecutive_skips) == (2, 2)
    # A plain OptimWrapper checkpoint (no counters) loads with the counters at 0,
    # and a plain OptimWrapper accepts the guarded one's state.
    plain = OptimWrapper(optimizer=torch.optim.Adam(model.parameters(), lr=0.1))
    plain.load_state_dict(copy.deepcopy(state))
    resumed.load_state_dict(plain.state_dict())
    assert (resumed.num_skips, resumed.consecutive_skips) == (0, 0)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason='AMP needs a GPU')
def test_amp_variant_skips_a_nan_loss(at_iter, warnings_seen, record_fault):
    model = tiny_model().cuda()
    wrapper = NonFiniteGuardAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5), loss_scale='dynamic')
    before = params_of(model)
    scale_before = wrapper.loss_scaler.get_scale()
    at_iter(0)
    record_fault('nan_loss')
    with wrapper.optim_context(model):
        loss = model(X.cuda()).sum() * NAN
    wrapper.update_params(loss)
    assert_same_params(model, before)
    assert wrapper.num_skips == 1
    assert wrapper.loss_scaler.get_scale() == scale_before
    with wrapper.optim_context(model):
        loss = model(X.cuda()).sum()
    wrapper.update_params(loss)
    assert torch.allclose(model.weight, torch.tensor([[0.0, -2.0]], device='cuda'))


def _ddp_worker(rank: int, port: int, out_dir: str) -> None:
    """Two DDP steps on CPU (gloo); rank 0 adds a detached NaN to its first loss,
    so that its gradients, and the other rank's, stay finite."""
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        model = tiny_model()
        ddp = nn.parallel.DistributedDataParallel(model)
        wrapper = NonFiniteGuardOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
        for step in range(2):
            with wrapper.optim_context(ddp):
                loss = ddp(X).sum()
            if rank == 0 and step == 0:
                loss = loss + torch.tensor(NAN)
            wrapper.update_params(loss)
        torch.save(dict(weight=model.weight.detach(), skips=wrapper.num_skips),
                   os.path.join(out_dir, f'rank{rank}.pt'))
    except BaseException:
        dist.destroy_process_group()
        raise
    leave_gloo_worker()


def test_ranks_agree_on_a_nan_loss_seen_by_one_rank(tmp_path, record_fault):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    record_fault('nan_loss_one_rank')
    # fork: the workers inherit the imported modules (spawn re-imports them, ~10x
    # slower); each sets one thread before any torch op.
    mp.start_processes(_ddp_worker, args=(port, str(tmp_path)), nprocs=2,
                       start_method='fork')
    results = [torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1)]
    # Both ranks skipped the first step and took the second one (w - lr * x).
    for result in results:
        assert result['skips'] == 1
        assert torch.equal(result['weight'], torch.tensor([[0.0, -2.0]]))


@pytest.mark.parametrize('config', [
    'multitask/resnet18_synthetic_nyu.py', 'sosd/resnet18_synthetic_nyu.py',
    'fsre/resnet18_kitti.py', 'sgre/resnet50_kitti.py',
    'sdeseg/selection/resnet50_side_student.py', 'dss/maxvit_nyu.py'])
def test_configs_build_the_guarded_wrapper(config):
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from mmdepthsem.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(str(DEMO_CONFIG.parents[1] / config))
    wrapper = build_optim_wrapper(nn.Linear(2, 1), cfg.optim_wrapper)
    assert type(wrapper) is NonFiniteGuardOptimWrapper and wrapper.policy == 'skip'
    cfg.merge_from_dict({'optim_wrapper.policy': 'raise'})
    assert build_optim_wrapper(nn.Linear(2, 1), cfg.optim_wrapper).policy == 'raise'


# -- end to end: the demo config in a real Runner ------------------------------

def demo_runner(data_root, work_dir, name, max_iters, extra=()):
    from mmengine.runner import Runner

    from mmdepthsem.utils.tool_config import load_tool_config
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = small_demo_options(data_root, max_iters, checkpoint_interval=1000)
    options += [f'train_cfg.val_interval={max_iters + 1}', *extra]
    cfg_options = parser.parse_args(['--cfg-options', *options]).cfg_options
    cfg = load_tool_config(str(DEMO_CONFIG), cfg_options, str(work_dir))
    cfg.experiment_name = name  # a fresh MessageHub / logger per run
    cfg.default_hooks.checkpoint.save_last = False
    runner = Runner.from_cfg(cfg)
    return runner


def inject_nan_at(runner, nan_iter: int) -> None:
    """Make the model's loss NaN in (0-based) runner iteration ``nan_iter``."""
    model = runner.model
    original_loss = model.loss

    def loss(inputs, data_samples):
        losses = original_loss(inputs, data_samples)
        if runner.iter == nan_iter:
            key = next(k for k in losses if 'loss' in k)
            losses[key] = losses[key] * NAN
        return losses

    model.loss = loss


@pytest.mark.slow
def test_demo_run_skips_the_nan_iteration(synthetic_nyu, tmp_path, record_fault):
    torch.set_num_threads(1)
    runner = demo_runner(synthetic_nyu, tmp_path / 'skip', 'nan_skip', max_iters=3)
    inject_nan_at(runner, nan_iter=1)
    initial = {k: v.clone() for k, v in runner.model.state_dict().items()}
    record_fault('nan_loss_e2e')
    runner.train()

    assert isinstance(runner.optim_wrapper, NonFiniteGuardOptimWrapper)
    assert runner.optim_wrapper.num_skips == 1
    assert runner.message_hub.get_scalar(SKIP_SCALAR).current() == 1
    final = runner.model.state_dict()
    assert all(torch.isfinite(v).all() for v in final.values()
               if v.is_floating_point())
    changed = [k for k, v in final.items() if not torch.equal(v, initial[k])]
    assert len(changed) > len(final) // 2  # the two finite steps trained
    log = next((tmp_path / 'skip').glob('*/*.log')).read_text()
    assert 'Skipped the optimizer step at iteration 2/3' in log
    assert 'nonfinite_skips: 1' in log


@pytest.mark.slow
def test_demo_run_with_raise_policy_stops_at_the_nan_iteration(synthetic_nyu,
                                                               tmp_path,
                                                               record_fault):
    torch.set_num_threads(1)
    runner = demo_runner(synthetic_nyu, tmp_path / 'raise', 'nan_raise', max_iters=2,
                         extra=['optim_wrapper.policy=raise'])
    inject_nan_at(runner, nan_iter=1)
    record_fault('nan_loss_e2e')
    with pytest.raises(RuntimeError, match=r'At iteration 2/2: non-finite loss \(nan\)'):
        runner.train()
    assert runner.iter == 1  # the first iteration finished, the second did not
