"""ModuleGradNormHook logs the gradient norm reaching the parameters under a prefix."""
import types

import pytest
import torch
from mmengine.logging import MessageHub
from torch import nn

from mmdepthsem.engine.hooks import ModuleGradNormHook


class TwoParts(nn.Module):

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3, 2)
        self.cross_task = nn.ModuleDict({'4': nn.Linear(2, 1, bias=False)})
        self.frozen = nn.Linear(1, 1)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        return self.frozen(self.cross_task['4'](self.head(x)))


def _runner(model):
    return types.SimpleNamespace(model=model,
                                 message_hub=MessageHub.get_instance('grad_norm_test'))


def test_logged_norm_equals_the_norm_of_the_accumulated_gradients():
    torch.manual_seed(0)
    model = TwoParts()
    runner = _runner(model)
    hook = ModuleGradNormHook(prefixes=('cross_task', 'head'))
    hook.before_train(runner)
    x = torch.randn(4, 3)
    for _ in range(2):  # two backward passes in one iteration (gradient accumulation)
        model(x).pow(2).sum().backward()
    hook.after_train_iter(runner, 0)
    expected_cma = model.cross_task['4'].weight.grad.norm()
    expected_head = torch.cat([p.grad.flatten() for p in model.head.parameters()]).norm()
    # the hook sums the squares of each pass's gradient: |g|^2 + |g|^2 for equal passes
    hub = runner.message_hub
    assert hub.get_scalar('train/grad_norm_cross_task').current() == pytest.approx(
        float(expected_cma) / 2**0.5, rel=1e-5)
    assert hub.get_scalar('train/grad_norm_head').current() == pytest.approx(
        float(expected_head) / 2**0.5, rel=1e-5)
    # reset after logging: an iteration without backward logs 0
    hook.after_train_iter(runner, 1)
    assert hub.get_scalar('train/grad_norm_cross_task').current() == 0.0
    hook.after_train(runner)
    model(x).sum().backward()
    hook.after_train_iter(runner, 2)
    assert hub.get_scalar('train/grad_norm_cross_task').current() == 0.0  # removed


def test_zero_gradient_is_logged_as_zero():
    model = TwoParts()
    runner = _runner(model)
    hook = ModuleGradNormHook(prefixes='cross_task')
    hook.before_train(runner)
    (model(torch.randn(2, 3)) * 0).sum().backward()
    hook.after_train_iter(runner, 0)
    assert runner.message_hub.get_scalar('train/grad_norm_cross_task').current() == 0.0


def test_unknown_or_frozen_prefix_is_an_error_naming_it():
    runner = _runner(TwoParts())
    with pytest.raises(KeyError, match="'cma'.*head, cross_task, frozen"):
        ModuleGradNormHook(prefixes=('cma', )).before_train(runner)
    with pytest.raises(KeyError, match="'frozen'"):
        ModuleGradNormHook(prefixes=('frozen', )).before_train(runner)
