import pytest
import torch
from mmengine.structures import PixelData

from mmdepthsem.models.decode_heads import DepthHead
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()


def _sample(depth):
    sample = DepthSemDataSample()
    sample.gt_depth_map = PixelData(data=depth)
    return sample


def test_sigmoid_output_lies_in_zero_max_depth():
    head = DepthHead(in_channels=4, max_depth=10.0)
    with torch.no_grad():
        head.conv_depth.bias.fill_(50.0)
        high = head(torch.randn(2, 4, 5, 6))
        head.conv_depth.bias.fill_(-50.0)
        low = head(torch.randn(2, 4, 5, 6))
    assert high.shape == (2, 1, 5, 6)
    assert high.max() <= 10.0 and high.min() > 9.9
    assert low.min() >= 0.0 and low.max() < 1e-6


@pytest.mark.parametrize('activation', ['relu', 'softplus'])
def test_unbounded_activations_respect_min_depth(activation):
    head = DepthHead(in_channels=4, activation=activation, min_depth=0.5)
    with torch.no_grad():
        head.conv_depth.bias.fill_(-100.0)
    assert head(torch.randn(1, 4, 3, 3)).min() >= 0.5


def test_loss_resizes_to_target_and_ignores_invalid():
    head = DepthHead(in_channels=4, max_depth=10.0)
    feats = (torch.randn(2, 4, 4, 4, requires_grad=True), )
    target = torch.rand(1, 16, 16) * 5 + 1
    target[:, :8] = 0  # invalid half
    losses = head.loss(feats, [_sample(target), _sample(target.clone())])
    assert set(losses) == {'loss_silog'}
    losses['loss_silog'].backward()
    assert feats[0].grad.abs().sum() > 0


def test_all_invalid_depth_gives_zero_loss_not_nan():
    head = DepthHead(in_channels=4)
    losses = head.loss((torch.randn(1, 4, 4, 4), ), [_sample(torch.zeros(1, 8, 8))])
    assert losses['loss_silog'].item() == 0.0


def test_missing_target_and_bad_arguments_are_named():
    head = DepthHead(in_channels=4)
    with pytest.raises(KeyError, match='gt_depth_map'):
        head.loss((torch.randn(1, 4, 4, 4), ), [DepthSemDataSample()])
    with pytest.raises(ValueError, match='activation'):
        DepthHead(in_channels=4, activation='tanh')


def test_predict_resizes_to_img_shape():
    head = DepthHead(in_channels=4)
    out = head.predict((torch.randn(1, 4, 4, 5), ), [dict(img_shape=(16, 20))])
    assert out.shape == (1, 1, 16, 20)
