import math

import pytest
import torch

from mmdepthsem.models.losses import EdgeAwareSmoothnessLoss, edge_aware_smoothness
from mmdepthsem.registry import MODELS

H, W = 5, 6


def _ramp():
    """Disparity 1, 2, ..., W along x in every row."""
    return torch.arange(1, W + 1, dtype=torch.float32).expand(1, 1, H, W).clone()


def test_constant_disparity_is_smooth():
    disp = torch.full((2, 1, H, W), 0.3)
    img = torch.rand(2, 3, H, W)
    assert edge_aware_smoothness(disp, img).abs() < 1e-7


def test_ramp_without_image_edges():
    # mean(d) = (W + 1) / 2, so every normalised x-step is 2 / (W + 1); no y-steps
    loss = edge_aware_smoothness(_ramp(), torch.full((1, 3, H, W), 0.5))
    assert math.isclose(loss.item(), 2 / (W + 1), rel_tol=1e-6)
    # the normalisation makes the loss invariant to the disparity scale
    loss_scaled = edge_aware_smoothness(10 * _ramp(), torch.full((1, 3, H, W), 0.5))
    assert math.isclose(loss_scaled.item(), loss.item(), rel_tol=1e-6)


def test_ramp_with_an_image_edge():
    img = torch.full((1, 3, H, W), 0.5)
    img[:, 0, :, 3:] += 0.9  # a step in one of three channels between columns 2, 3
    loss = edge_aware_smoothness(_ramp(), img)
    # the step's x-gradient is 0.9 / 3 (channel mean); it lowers one of W - 1 weights
    expected = 2 / (W + 1) * ((W - 2) + math.exp(-0.3)) / (W - 1)
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def test_edge_weight_reduces_the_penalty_of_a_disparity_step_at_an_image_edge():
    img = torch.zeros(1, 3, H, W)
    img[..., 3:] = 1.0
    disp_at_edge = torch.ones(1, 1, H, W)
    disp_at_edge[..., 3:] = 2.0
    disp_elsewhere = torch.ones(1, 1, H, W)
    disp_elsewhere[..., 1:] = 2.0
    at_edge = edge_aware_smoothness(disp_at_edge, img)
    elsewhere = edge_aware_smoothness(disp_elsewhere, img)
    # both steps are one unit over a mean of 1.5 (at edge) / 1 + 5/6 (elsewhere)
    assert math.isclose(at_edge.item(), (1 / 1.5) * math.exp(-1) / (W - 1),
                        rel_tol=1e-6)
    assert math.isclose(elsewhere.item(), (1 / (1 + 5 / 6)) / (W - 1), rel_tol=1e-6)
    assert at_edge < elsewhere


def test_module_weight_scale_and_gradients():
    disp = _ramp().requires_grad_()
    img = torch.rand(1, 3, H, W)
    loss = MODELS.build(dict(type='EdgeAwareSmoothnessLoss', loss_weight=1e-3))
    assert isinstance(loss, EdgeAwareSmoothnessLoss)
    assert loss.loss_name == 'loss_smoothness'
    plain = edge_aware_smoothness(disp, img)
    assert torch.allclose(loss(disp, img), 1e-3 * plain)
    assert torch.allclose(loss(disp, img, scale=2), 1e-3 / 4 * plain)
    loss(disp, img, scale=1).backward()
    assert torch.isfinite(disp.grad).all() and disp.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        loss(disp, img[..., :-1])
