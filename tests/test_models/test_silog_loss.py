import math

import pytest
import torch

from mmdepthsem.models.losses import ScaleInvariantLogLoss, silog_loss


def test_constant_log_ratio_matches_dss_check_value():
    target = torch.full((1, 1, 3, 4), 2.0)
    pred = target * 2.0  # g = ln 2 everywhere
    loss = silog_loss(pred, target, alpha=10.0, lambd=0.85)
    expected = 10 * math.log(2) * math.sqrt(1 - 0.85)
    assert loss.item() == pytest.approx(expected, abs=1e-5)
    assert expected == pytest.approx(2.6845, abs=1e-4)


def test_per_image_mean_with_different_valid_counts():
    # image 0: two valid pixels with g = (ln 2, 0); image 1: one valid pixel, g = ln 3
    target = torch.tensor([[[[1.0, 1.0, 0.0]]], [[[2.0, 0.0, 0.0]]]])
    pred = torch.tensor([[[[2.0, 1.0, 5.0]]], [[[6.0, 9.0, 9.0]]]])
    loss = silog_loss(pred, target, alpha=10.0, lambd=0.85)
    g0 = [math.log(2), 0.0]
    mean_g2 = sum(g * g for g in g0) / 2
    mean_g = sum(g0) / 2
    image0 = 10 * math.sqrt(mean_g2 - 0.85 * mean_g**2)
    image1 = 10 * math.sqrt(math.log(3)**2 * (1 - 0.85))
    assert loss.item() == pytest.approx((image0 + image1) / 2, rel=1e-5)
    # pooling all three pixels would give a different number
    pooled = [math.log(2), 0.0, math.log(3)]
    pooled_loss = 10 * math.sqrt(
        sum(g * g for g in pooled) / 3 - 0.85 * (sum(pooled) / 3)**2)
    assert abs(loss.item() - pooled_loss) > 1e-3


def test_no_valid_pixel_gives_zero_with_gradient_path():
    pred = torch.rand(2, 1, 4, 4, requires_grad=True)
    target = torch.zeros(2, 1, 4, 4)
    target[0, 0, 0, 0] = float('nan')
    loss = silog_loss(pred, target)
    assert loss.item() == 0.0 and torch.isfinite(loss)
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_nan_and_inf_targets_are_invalid():
    target = torch.tensor([[[[1.0, float('nan'), float('inf')]]]])
    pred = torch.tensor([[[[2.0, 7.0, 7.0]]]], requires_grad=True)
    loss = silog_loss(pred, target, alpha=1.0, lambd=0.0)
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[0, 0, 0, 1] == 0 and pred.grad[0, 0, 0, 2] == 0


def test_module_weight_name_and_shape_check():
    module = ScaleInvariantLogLoss(alpha=10.0, lambd=0.85, loss_weight=2.0)
    target = torch.full((1, 1, 2, 2), 2.0)
    assert module(target * 2, target).item() == pytest.approx(2 * 2.6845, abs=1e-3)
    assert module.loss_name == 'loss_silog'
    with pytest.raises(ValueError, match='shape'):
        silog_loss(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 3))
