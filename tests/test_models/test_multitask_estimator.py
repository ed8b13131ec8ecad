import pytest
import torch
from mmengine.structures import PixelData

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()


def small_model_cfg(num_classes=5, **overrides):
    norm_cfg = dict(type='BN')
    cfg = dict(
        type='MultiTaskEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor', mean=[0, 0, 0],
                               std=[255, 255, 255], size_divisor=32),
        backbone=dict(type='TIMMBackbone', model_name='resnet18', features_only=True,
                      pretrained=False, out_indices=(1, 2, 3, 4)),
        decode_neck=dict(type='UpConcatDecoder', in_channels=[64, 128, 256, 512],
                         channels=[32, 48, 64], norm_cfg=norm_cfg, out_levels=[0]),
        depth_head=dict(type='DepthHead', in_channels=32, max_depth=10.0),
        sem_head=dict(type='FCNHead', in_channels=32, channels=16, num_convs=1,
                      concat_input=False, num_classes=num_classes, norm_cfg=norm_cfg,
                      loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)))
    cfg.update(overrides)
    return cfg


def _batch(h=40, w=60, n=2):
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 255, (3, h, w), dtype=torch.uint8))
        s = DepthSemDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w)))
        s.gt_depth_map = PixelData(data=torch.rand(1, h, w) * 9 + 0.5)
        s.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, h, w)))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_loss_dict_and_gradients_reach_backbone():
    model = MODELS.build(small_model_cfg())
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) >= {'depth.loss_silog', 'sem.loss_ce', 'sem.acc_seg'}
    total = losses['depth.loss_silog'] + losses['sem.loss_ce']
    total.backward()
    grad = model.backbone.timm_model.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_predictions_are_at_original_size_with_valid_ranges():
    model = MODELS.build(small_model_cfg()).eval()
    data = model.data_preprocessor(_batch(h=40, w=60), training=False)
    # padded to 64x64 by size_divisor=32, cropped back to 40x60
    assert data['inputs'].shape[-2:] == (64, 64)
    with torch.no_grad():
        out = model(**data, mode='predict')
    sample = out[0]
    assert sample.pred_depth_map.shape == (40, 60)
    assert 0 < sample.pred_depth_map.data.min() and sample.pred_depth_map.data.max() < 10
    assert sample.seg_logits.data.shape == (5, 40, 60)
    assert sample.pred_sem_seg.data.max() < 5


def test_ori_shape_resize_and_tensor_mode():
    model = MODELS.build(small_model_cfg()).eval()
    data = model.data_preprocessor(_batch(h=32, w=32, n=1))
    # Targets loaded after the resize (mmseg's order) stay at the original size.
    sample = data['data_samples'][0]
    sample.set_metainfo(dict(ori_shape=(64, 48)))
    sample.gt_depth_map = PixelData(data=torch.rand(1, 64, 48) * 9 + 0.5)
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, 64, 48)))
    with torch.no_grad():
        out = model(**data, mode='predict')[0]
        depth, logits = model(data['inputs'], mode='tensor')
    assert out.pred_depth_map.shape == (64, 48)
    assert out.pred_sem_seg.shape == (64, 48)
    assert depth.shape == (1, 1, 8, 8) and logits.shape == (1, 5, 8, 8)


def test_single_task_and_bad_config():
    depth_only = MODELS.build(small_model_cfg(sem_head=None))
    data = depth_only.data_preprocessor(_batch(n=1), training=True)
    assert set(depth_only(**data, mode='loss')) == {'depth.loss_silog'}
    with pytest.raises(ValueError, match='depth_head'):
        MODELS.build(small_model_cfg(sem_head=None, depth_head=None))
    with pytest.raises(ValueError, match='mode'):
        depth_only(data['inputs'], mode='bogus')
