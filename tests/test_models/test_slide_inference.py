"""Sliding-window inference of MultiTaskEstimator (``test_cfg=dict(mode='slide')``)."""
import pathlib

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules
from tests.test_models.test_multitask_estimator import _batch, small_model_cfg

register_all_modules()
DSS_CONFIGS = pathlib.Path(__file__).parents[2] / 'configs' / 'dss'


# ------------------------------------------------------- a model with known outputs
@MODELS.register_module(force=True)
class _SlideTestIdentityBackbone(nn.Module):
    """Returns the image itself as the only feature map."""

    def forward(self, x):
        return (x, )


class _WindowConstantHead(nn.Module):
    """Outputs, over the whole window, a constant read from the window's top-left
    input pixel (channel 0), so that each window's output is known exactly."""

    def window_value(self, feats, batch_img_metas):
        x = feats[0]
        size = tuple(batch_img_metas[0]['img_shape'][:2])
        # every window has the crop size, which the heads are asked to predict at
        assert tuple(x.shape[-2:]) == size
        return x[:, :1, :1, :1].expand(-1, -1, *size)


@MODELS.register_module(force=True)
class _SlideTestDepthHead(_WindowConstantHead):
    """Depth (m) = 1 + the window's top-left value."""

    def predict(self, feats, batch_img_metas, test_cfg=None):
        return 1.0 + self.window_value(feats, batch_img_metas)


@MODELS.register_module(force=True)
class _SlideTestSemHead(_WindowConstantHead):
    """Two logits per pixel: (v, 20 - v) for the window's top-left value v."""

    def predict(self, feats, batch_img_metas, test_cfg=None):
        value = self.window_value(feats, batch_img_metas)
        return torch.cat([value, 20.0 - value], dim=1)


def _known_model(**test_cfg):
    return MODELS.build(dict(
        type='MultiTaskEstimator',
        backbone=dict(type='_SlideTestIdentityBackbone'),
        depth_head=dict(type='_SlideTestDepthHead'),
        sem_head=dict(type='_SlideTestSemHead'),
        test_cfg=test_cfg)).eval()


def _position_image(height, width, offset=0.0):
    """``(3, H, W)``; channel 0 is ``10 * y + x + offset``."""
    ys = torch.arange(height, dtype=torch.float32)[:, None]
    xs = torch.arange(width, dtype=torch.float32)[None, :]
    image = torch.zeros(3, height, width)
    image[0] = 10 * ys + xs + offset
    return image


def _samples(height, width, n):
    return [DepthSemDataSample(metainfo=dict(img_shape=(height, width),
                                             ori_shape=(height, width)))
            for _ in range(n)]


def test_overlapping_windows_are_averaged_with_a_count_map():
    # 6x9 input, 4x4 windows, stride 3x3: a 2x3 layout; tops 0, 2 (the second moved
    # back from 3 to end at the border) and lefts 0, 3, 5 (the last moved from 6).
    model = _known_model(mode='slide', crop_size=(4, 4), stride=(3, 3))
    inputs = torch.stack([_position_image(6, 9), _position_image(6, 9, 1000.0)])
    with torch.no_grad():
        out = model.predict(inputs, _samples(6, 9, 2))
    # Each window outputs 10 * top + left (+ offset); a pixel gets the mean over the
    # windows covering it: 10 * mean(tops covering y) + mean(lefts covering x).
    mean_top = torch.tensor([0, 0, 1, 1, 2, 2.])  # y 0-1: {0}; 2-3: {0, 2}; 4-5: {2}
    # x 0-2: {0}; 3: {0, 3}; 4: {3}; 5-6: {3, 5}; 7-8: {5}
    mean_left = torch.tensor([0, 0, 0, 1.5, 3, 4, 4, 5, 5])
    expected = 10 * mean_top[:, None] + mean_left[None, :]
    for sample, offset in zip(out, (0.0, 1000.0)):
        value = expected + offset
        assert sample.pred_depth_map.shape == (6, 9)
        torch.testing.assert_close(sample.pred_depth_map.data[0], 1.0 + value)
        # the logits are averaged (not probabilities or labels)
        torch.testing.assert_close(sample.seg_logits.data,
                                   torch.stack([value, 20.0 - value]))
        torch.testing.assert_close(sample.pred_sem_seg.data[0],
                                   (value < 10.0).long())  # logit 1 wins


def test_input_smaller_than_the_crop_is_padded_and_cropped_back():
    # 3 rows < 4: padded to 4 (one row of windows, top 0), then cut back to 3 rows.
    model = _known_model(mode='slide', crop_size=(4, 4), stride=(3, 3))
    with torch.no_grad():
        (out, ) = model.predict(_position_image(3, 9)[None], _samples(3, 9, 1))
    mean_left = torch.tensor([0, 0, 0, 1.5, 3, 4, 4, 5, 5])
    assert out.pred_depth_map.shape == (3, 9)
    torch.testing.assert_close(out.pred_depth_map.data[0],
                               1.0 + mean_left.expand(3, 9))


def test_whole_mode_is_the_default_and_uses_one_window():
    model = _known_model()
    assert model.test_cfg['mode'] == 'whole'
    with torch.no_grad():
        (out, ) = model.predict(_position_image(6, 9)[None], _samples(6, 9, 1))
    torch.testing.assert_close(out.pred_depth_map.data, torch.ones(1, 6, 9))


# ------------------------------------------------------------------ a real network
@pytest.mark.parametrize('flip', [False, True])
def test_one_window_of_the_whole_input_equals_whole_mode(flip):
    torch.manual_seed(0)
    whole = MODELS.build(small_model_cfg()).eval()
    slide = MODELS.build(small_model_cfg(test_cfg=dict(
        mode='slide', crop_size=(64, 64), stride=(17, 23)))).eval()
    slide.load_state_dict(whole.state_dict())
    data = whole.data_preprocessor(_batch(h=40, w=60), training=False)
    assert data['inputs'].shape[-2:] == (64, 64)  # padded by size_divisor=32
    for sample in data['data_samples']:
        sample.set_metainfo(dict(flip=flip, flip_direction='horizontal'))
    with torch.no_grad():
        expected = whole(data['inputs'], data['data_samples'], mode='predict')
        expected = [(s.pred_depth_map.data.clone(), s.seg_logits.data.clone())
                    for s in expected]
        got = slide(data['inputs'], data['data_samples'], mode='predict')
    for sample, (depth, logits) in zip(got, expected):
        assert torch.equal(sample.pred_depth_map.data, depth)
        assert torch.equal(sample.seg_logits.data, logits)


@pytest.mark.parametrize('size_divisor,crop,stride', [
    (32, (32, 32), (20, 20)),  # 64x64 padded input, 3x3 windows, last ones moved
    (None, (32, 64), (24, 24)),  # 40x60 input narrower than the crop: padded inside
])
def test_outputs_have_the_original_size(size_divisor, crop, stride):
    torch.manual_seed(0)
    cfg = small_model_cfg(test_cfg=dict(mode='slide', crop_size=crop, stride=stride))
    cfg['data_preprocessor']['size_divisor'] = size_divisor
    model = MODELS.build(cfg).eval()
    data = model.data_preprocessor(_batch(h=40, w=60), training=False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    for sample in out:
        assert sample.pred_depth_map.shape == (40, 60)
        depth = sample.pred_depth_map.data
        assert torch.isfinite(depth).all() and 0 < depth.min() and depth.max() < 10
        assert sample.seg_logits.data.shape == (5, 40, 60)
        assert sample.pred_sem_seg.shape == (40, 60)


def test_maxvit_built_for_the_crop_predicts_wider_inputs_by_sliding():
    cfg = Config.fromfile(str(DSS_CONFIGS / 'maxvit_pico_synthetic_nyu.py'))
    cfg.model.backbone.pretrained = False
    cfg.model.test_cfg = dict(mode='slide', crop_size=(128, 160), stride=(128, 96))
    model = MODELS.build(cfg.model).eval()
    inputs = torch.randn(1, 3, 128, 256)  # 2 windows (lefts 0, 96)
    with pytest.raises(Exception, match='sliding-window'):
        model.backbone(inputs)  # the partition only fits the 128x160 crop
    with torch.no_grad():
        (out, ) = model.predict(inputs, _samples(128, 256, 1))
    assert out.pred_depth_map.shape == (128, 256)
    assert out.seg_logits.data.shape == (40, 128, 256)
    assert torch.isfinite(out.pred_depth_map.data).all()


# ------------------------------------------------------------------ bad test_cfg
@pytest.mark.parametrize('test_cfg,key', [
    (dict(mode='sliding'), 'mode'),
    (dict(mode='slide', stride=(2, 2)), 'crop_size'),
    (dict(mode='slide', crop_size=(4, 4)), 'stride'),
    (dict(mode='slide', crop_size=(4, ), stride=(2, 2)), 'crop_size'),
    (dict(mode='slide', crop_size=4, stride=(2, 2)), 'crop_size'),
    (dict(mode='slide', crop_size=(4, 4), stride=(0, 2)), 'stride'),
    (dict(mode='slide', crop_size=(4, 4), stride=(2.5, 2)), 'stride'),
    (dict(mode='slide', crop_size=(4, 4), stride=(2, 5)), 'stride'),  # gaps
])
def test_invalid_test_cfg_names_the_key(test_cfg, key):
    with pytest.raises(ValueError, match=rf"test_cfg\['{key}'\]"):
        _known_model(**test_cfg)
