"""L1 depth loss (SOSD eq. 7), checked against values worked out by hand."""
import pytest
import torch

from mmdepthsem.models.losses import DepthL1Loss, l1_depth_loss
from mmdepthsem.registry import MODELS

# Image 0: three valid pixels, |errors| 1, 0, 2 (and one invalid target, 0).
# Image 1: one valid pixel, |error| 4 (the rest invalid: 0, NaN).
TARGET = torch.tensor([[[[1.0, 2.0], [3.0, 0.0]]],
                       [[[2.0, 0.0], [float('nan'), 0.0]]]])
PRED = torch.tensor([[[[2.0, 2.0], [1.0, 9.0]]],
                     [[[6.0, 5.0], [7.0, 8.0]]]])
VALID = torch.tensor([[[[True, True], [True, False]]],
                      [[[True, False], [False, False]]]])


def test_pooled_mean_over_the_batch_by_hand():
    loss = l1_depth_loss(PRED, TARGET)
    pooled = (1 + 0 + 2 + 4) / 4
    per_image = ((1 + 0 + 2) / 3 + 4 / 1) / 2
    assert loss.item() == pytest.approx(pooled)  # 1.75
    assert abs(pooled - per_image) > 0.5  # 1.75 vs 2.5: the test tells them apart


def test_three_dim_input_and_explicit_mask():
    assert l1_depth_loss(PRED[:, 0], TARGET[:, 0]).item() == pytest.approx(1.75)
    # The mask can only remove pixels: drop image 1's pixel -> (1 + 0 + 2) / 3.
    mask = VALID.clone()
    mask[1] = False
    assert l1_depth_loss(PRED, TARGET, mask).item() == pytest.approx(1.0)
    # A mask that admits invalid targets does not make them valid.
    assert l1_depth_loss(PRED, TARGET, torch.ones_like(VALID)).item() == \
        pytest.approx(1.75)


def test_nan_inf_and_non_positive_targets_are_ignored():
    target = torch.tensor([[[[1.0, float('nan'), float('inf'), 0.0, -2.0]]]])
    pred = torch.tensor([[[[3.0, 1.0, 1.0, 1.0, 1.0]]]], requires_grad=True)
    loss = l1_depth_loss(pred, target)
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad.flatten().tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_gradient_is_sign_over_valid_count():
    pred = PRED.clone().requires_grad_(True)
    l1_depth_loss(pred, TARGET).backward()
    safe_target = torch.where(VALID, TARGET, torch.zeros_like(TARGET))
    expected = torch.sign(PRED - safe_target) * VALID / VALID.sum()
    assert torch.isfinite(pred.grad).all()
    assert torch.allclose(pred.grad, expected)
    # by hand: +1/4, 0 (exact hit), -1/4, invalid 0 | +1/4, invalid 0, 0, 0
    assert pred.grad.flatten().tolist() == pytest.approx(
        [0.25, 0.0, -0.25, 0.0, 0.25, 0.0, 0.0, 0.0])


def test_no_valid_pixel_gives_zero_with_gradient_path():
    pred = torch.rand(2, 1, 3, 3, requires_grad=True)
    target = torch.zeros(2, 1, 3, 3)
    target[0, 0, 0, 0] = float('nan')
    target[1, 0, 1, 1] = -1.0
    loss = l1_depth_loss(pred, target)
    assert loss.item() == 0.0 and torch.isfinite(loss)
    assert loss.requires_grad
    loss.backward()
    assert pred.grad is not None
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_module_weight_name_registry_and_shape_check():
    module = DepthL1Loss(loss_weight=0.5)
    assert module.loss_name == 'loss_l1'
    assert module(PRED, TARGET).item() == pytest.approx(0.5 * 1.75)
    assert module(PRED, TARGET, VALID).item() == pytest.approx(0.5 * 1.75)

    built = MODELS.build(dict(type='DepthL1Loss', loss_weight=2.0,
                              loss_name='loss_disp_l1'))
    assert isinstance(built, DepthL1Loss)
    assert built.loss_name == 'loss_disp_l1'
    assert built(PRED, TARGET).item() == pytest.approx(3.5)

    with pytest.raises(ValueError, match=r'\(1, 1, 2, 2\).*\(1, 1, 2, 3\)'):
        l1_depth_loss(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 3))
