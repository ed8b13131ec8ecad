"""SGRE's estimator: BCE of the binary branch, SEEM points in training and test."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from .test_self_supervised_estimator import H, W, run_loss, sample, texture

register_all_modules()
R18 = (64, 64, 128, 256, 512)


def build(seem=True, attention_blocks=(4, 3, 2), **kwargs):
    cfg = dict(
        type='SemanticGuidedDepthEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], size_divisor=32),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False,
                      out_indices=(0, 1, 2, 3, 4)),
        depth_decoder=dict(type='SemanticFusedDepthDecoder', in_channels=R18,
                           attention_blocks=attention_blocks,
                           seem=dict(type='SemanticEdgeEnhancement') if seem else None),
        sem_decoder=dict(type='MonodepthDepthDecoder', in_channels=R18, out_channels=1,
                         out_activation=None, scales=(0, 1, 2, 3)),
        sem_loss=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=True,
                      avg_non_ignore=True),
        pose_net=dict(type='PoseNet'),
        point_sampler=dict(num_points=40, ref_size=(H, W)))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def sgre_sample(num_points=40):
    s = sample()
    labels = torch.zeros(1, H, W, dtype=torch.int64)
    labels[:, 20:40, 30:60] = 1
    labels[:, :2] = 255
    s.gt_pseudo_sem_seg = PixelData(data=labels)
    g = torch.Generator().manual_seed(1)
    s.seem_points = torch.stack([torch.randint(0, W, (num_points, ), generator=g),
                                 torch.randint(0, H, (num_points, ), generator=g)], 1)
    s.set_metainfo(dict(seem_num_edge_points=16))
    return s


def test_training_losses_points_and_gradients_reach_seem_and_attention():
    model = build()
    with torch.no_grad():  # let the attention's own weights receive gradients too
        for attn in model.depth_decoder.attention.values():
            attn.gamma.fill_(0.5)
    losses = run_loss(model, [sgre_sample(), sgre_sample()])
    assert {'loss_photometric', 'loss_smooth', 'loss_sem', 'seem_points',
            'seem_edge_points'} <= set(losses)
    assert losses['seem_points'].item() == 40 and losses['seem_edge_points'] == 16
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    for name, p in model.depth_decoder.named_parameters():
        if name.startswith(('seem.', 'attention.')):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert model.sem_decoder.blocks['block4'].conv_in.conv.weight.grad.abs().sum() > 0


def test_semantic_loss_is_the_mean_bce_of_every_scale_at_full_size():
    model = build(seem=False, attention_blocks=())
    samples = [sgre_sample()]
    data = model.data_preprocessor(dict(inputs=[texture()], data_samples=samples),
                                   training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    _, sem = model.decode(data['inputs'], data['data_samples'])
    labels = samples[0].gt_pseudo_sem_seg.data
    valid = labels != 255
    expected = []
    for s in range(4):
        up = F.interpolate(sem['outputs'][s], size=(H, W), mode='bilinear',
                           align_corners=False)[:, 0]
        expected.append(F.binary_cross_entropy_with_logits(up[valid],
                                                           labels[valid].float()))
    assert torch.allclose(losses['loss_sem'], torch.stack(expected).mean(), atol=1e-6)


def test_training_without_points_names_the_missing_transform():
    model = build()
    s = sgre_sample()
    del s.seem_points
    with pytest.raises(KeyError, match='SampleSEEMPoints'):
        run_loss(model, [s])


def test_evaluation_is_deterministic_and_uses_the_predicted_mask():
    model = build().eval()
    inputs = model.data_preprocessor(dict(inputs=[texture(), texture(3)]))['inputs']
    with torch.no_grad():
        first = model.predict(inputs)
        second = model.predict(inputs)
        # a prediction does not depend on the rest of its batch
        alone = model.predict(inputs[1:])
    for a, b in zip(first, second):
        assert torch.equal(a.pred_depth_map.data, b.pred_depth_map.data)
    assert torch.allclose(first[1].pred_depth_map.data, alone[0].pred_depth_map.data,
                          atol=1e-5)
    assert first[0].seg_logits.data.shape == (1, H, W)
    assert set(first[0].pred_sem_seg.data.unique().tolist()) <= {0, 1}
    # other test-time points, another prediction: the points are really used
    other = build(test_seed=5).eval()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        moved = other.predict(inputs)
    assert not torch.equal(moved[0].pred_depth_map.data, first[0].pred_depth_map.data)


def test_points_from_prediction_follow_the_foreground_edges():
    model = build()
    logits = torch.full((1, 1, H, W), -5.0)
    logits[..., 20:40, 30:60] = 5.0
    points = model.points_from_prediction(logits, (H, W))
    assert points.shape == (1, 40, 2)  # N = 40 at the reference size
    edge = points[0, :16]  # mu N edge points on the rectangle's border band
    near_x = (edge[:, 0] - 29.5).abs().le(1.5) | (edge[:, 0] - 59.5).abs().le(1.5)
    near_y = (edge[:, 1] - 19.5).abs().le(1.5) | (edge[:, 1] - 39.5).abs().le(1.5)
    assert (near_x | near_y).all()


def test_test_points_from_samples_and_bad_arguments():
    model = build(test_points='samples').eval()
    s = sgre_sample()
    inputs = model.data_preprocessor(dict(inputs=[texture()], data_samples=[s]))
    with torch.no_grad():
        out = model.predict(inputs['inputs'], inputs['data_samples'])
    assert out[0].pred_depth_map.data.shape == (1, H, W)
    with pytest.raises(ValueError, match='test_points'):
        build(test_points='labels')
    with pytest.raises(KeyError, match='point_sampler'):
        build(point_sampler=dict(num_point=10))
    with pytest.raises(ValueError, match='sem_decoder'):
        MODELS.build(dict(type='SemanticGuidedDepthEstimator',
                          backbone=dict(type='mmseg.TIMMBackbone',
                                        model_name='resnet18', features_only=True,
                                        pretrained=False, out_indices=(0, 1, 2, 3, 4)),
                          depth_decoder=dict(type='MonodepthDepthDecoder'),
                          pose_net=dict(type='PoseNet')))
