"""berHu loss: both branches by hand, detached threshold, invalid pixels, DepthHead."""
import pytest
import torch
from mmengine.structures import PixelData

from mmdepthsem.models.losses import BerHuLoss, berhu_loss
from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample


def test_branches_by_hand():
    target = torch.ones(1, 1, 1, 4)
    pred = torch.tensor([[[[1.0, 1.1, 2.0, 6.0]]]], requires_grad=True)
    # e = 0, 0.1, 1, 5; c = 0.2 * 5 = 1 -> 0, 0.1, 1 (L1), (25 + 1) / 2 = 13
    loss = berhu_loss(pred, target)
    assert loss.item() == pytest.approx((0 + 0.1 + 1 + 13) / 4)
    loss.backward()
    # c is detached: d/de of (e^2 + c^2) / 2c is e / c = 5 for the last pixel
    assert pred.grad[0, 0, 0].tolist() == pytest.approx([0, 0.25, 0.25, 1.25])


def test_invalid_pixels_and_all_invalid():
    pred = torch.tensor([[0.5, 0.7, 0.2]], requires_grad=True)
    target = torch.tensor([[0.5, float('nan'), 0.0]])
    assert berhu_loss(pred, target).item() == 0.0  # only pixel 0 is valid
    mask = torch.tensor([[False, True, True]])
    with pytest.warns(UserWarning, match='no valid pixel'):
        loss = berhu_loss(pred, target, mask)
    assert loss.item() == 0.0 and loss.requires_grad
    with pytest.warns(UserWarning):
        loss = berhu_loss(pred, torch.full_like(target, float('nan')))
    assert not torch.isnan(loss)
    with pytest.raises(ValueError, match='shape'):
        berhu_loss(pred, target[:, :2])


def test_registered_and_called_by_depth_head():
    loss = MODELS.build(dict(type='BerHuLoss', loss_weight=2.0))
    assert isinstance(loss, BerHuLoss) and loss.loss_name == 'loss_berhu'
    head = MODELS.build(dict(type='DepthHead', in_channels=4, max_depth=1.0,
                             loss_decode=dict(type='BerHuLoss')))
    sample = DepthSemDataSample()
    sample.gt_depth_map = PixelData(data=torch.full((1, 8, 8), 0.5))
    losses = head.loss([torch.rand(1, 4, 4, 4)], [sample])
    assert set(losses) == {'loss_berhu'} and torch.isfinite(losses['loss_berhu'])
