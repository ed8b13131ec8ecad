"""The self-supervised depth estimator: losses, frame handling, predictions."""
import pytest
import torch
from mmengine.structures import PixelData

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()
H, W = 64, 96


def build(sem=False, scales=(0, 1, 2, 3)):
    cfg = dict(
        type='SelfSupervisedDepthEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], size_divisor=32),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False,
                      out_indices=(0, 1, 2, 3, 4)),
        depth_decoder=dict(type='MonodepthDepthDecoder', scales=scales),
        pose_net=dict(type='PoseNet'),
        scales=scales)
    if sem:
        cfg['sem_decoder'] = dict(type='MonodepthDepthDecoder', out_channels=5,
                                  out_activation=None, scales=(0, ))
        cfg['sem_loss'] = dict(type='mmseg.CrossEntropyLoss', loss_weight=0.3,
                               avg_non_ignore=True)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def texture(shift=0):
    y, x = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                          torch.arange(W, dtype=torch.float32) + shift, indexing='ij')
    img = torch.stack([128 + 100 * torch.sin(x / 5), 128 + 100 * torch.cos(y / 7),
                       128 + 60 * torch.sin((x + y) / 9)])
    return img.round().clamp(0, 255).to(torch.uint8)


def sample(frame_ids=(-1, 1), shifts=(-2, 2), labels=False):
    s = DepthSemDataSample(metainfo=dict(img_path='t.png', frame_ids=frame_ids,
                                         img_shape=(H, W), ori_shape=(H, W)))
    s.frames = torch.stack([texture(d) for d in shifts])
    s.intrinsics = torch.tensor([[50.0, 0, W / 2], [0, 50.0, H / 2], [0, 0, 1]])
    if labels:
        s.gt_pseudo_sem_seg = PixelData(data=(torch.arange(W) // 20).expand(1, H, W)
                                        .clone())
    return s


def run_loss(model, samples):
    data = model.data_preprocessor(dict(inputs=[texture() for _ in samples],
                                        data_samples=samples), training=True)
    return model.loss(data['inputs'], data['data_samples'])


def test_losses_are_finite_and_reach_depth_and_pose_networks():
    model = build(sem=True)
    losses = run_loss(model, [sample(labels=True), sample(shifts=(-1, 3),
                                                          labels=True)])
    assert set(losses) == {'loss_photometric', 'loss_smooth', 'automask_ratio',
                           'loss_sem'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert 0 <= losses['automask_ratio'] <= 1
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    for module in (model.depth_decoder, model.pose_net, model.sem_decoder,
                   model.backbone):
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), type(module).__name__


def test_static_scene_is_auto_masked():
    # every source equals the target: the identity error is 0 everywhere, so the
    # auto-mask removes (almost) every pixel from the warped-source loss
    model = build(scales=(0, ))
    losses = run_loss(model, [sample(shifts=(0, 0))])
    assert losses['automask_ratio'] < 0.05


def test_frames_are_reordered_to_the_model_frame_ids():
    model = build(scales=(0, ))
    model.photometric_loss.noise_std = 0.0
    forward = run_loss(model, [sample(frame_ids=(-1, 1), shifts=(-2, 2))])
    swapped = run_loss(model, [sample(frame_ids=(1, -1), shifts=(2, -2))])
    assert torch.allclose(forward['loss_photometric'], swapped['loss_photometric'])


def test_missing_frames_and_labels_are_named():
    model = build(sem=True)
    bare = sample(labels=True)
    del bare.frames
    with pytest.raises(KeyError, match='LoadNeighbourFrames'):
        run_loss(model, [bare])
    with pytest.raises(KeyError, match='gt_pseudo_sem_seg'):
        run_loss(model, [sample()])
    with pytest.raises(KeyError, match='do not contain'):
        run_loss(model, [sample(frame_ids=(-2, 2))])


def test_predict_gives_positive_depth_within_bounds_at_the_original_size():
    model = build(sem=True).eval()
    s = DepthSemDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W)))
    data = model.data_preprocessor(dict(inputs=[texture()], data_samples=[s]))
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])[0]
    depth = out.pred_depth_map.data
    assert depth.shape == (1, H, W)
    assert depth.min() >= 0.1 - 1e-6 and depth.max() <= 100.0 + 1e-4
    assert out.pred_sem_seg.data.shape == (1, H, W)


def build_fsre():
    cfg = dict(
        type='SelfSupervisedDepthEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], size_divisor=32),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False,
                      out_indices=(0, 1, 2, 3, 4)),
        depth_decoder=dict(type='MonodepthDepthDecoder'),
        pose_net=dict(type='PoseNet'),
        sem_decoder=dict(type='MonodepthDepthDecoder', out_channels=5,
                         out_activation=None, scales=(0, )),
        sem_loss=dict(type='mmseg.CrossEntropyLoss', loss_weight=0.3,
                      avg_non_ignore=True),
        cross_task_blocks={b: dict(type='BidirectionalCMA', channels=c)
                           for b, c in ((4, 256), (3, 128), (2, 64))},
        triplet_loss=dict(type='SemanticGuidedTripletLoss', loss_weight=0.1),
        triplet_blocks=(3, 2, 1))
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_fsre_wiring_counts_triplet_patches_and_trains_the_cma():
    model = build_fsre()
    losses = run_loss(model, [sample(labels=True), sample(labels=True)])
    assert losses['sgt_patches'] > 0  # stripe borders give mixed patches
    assert torch.isfinite(losses['loss_sgt']) and losses['loss_sgt'] >= 0
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    for block in ('4', '3', '2'):
        grads = [p.grad for p in model.cross_task[block].parameters()
                 if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), block


def test_cross_task_modules_change_both_decoders():
    model = build_fsre().eval()
    x = torch.randn(1, 3, H, W)
    with torch.no_grad():
        depth, sem = model.decode(x)
        cross, model.cross_task = model.cross_task, torch.nn.ModuleDict()
        depth_plain, sem_plain = model.decode(x)  # the same decoders, no exchange
        model.cross_task = cross
    assert not torch.allclose(depth['outputs'][0], depth_plain['outputs'][0])
    assert not torch.allclose(sem['outputs'][0], sem_plain['outputs'][0])
    # stepping both decoders block by block with pass-through exchange modules
    # reproduces running each decoder on its own
    class PassThrough(torch.nn.Module):
        def forward(self, depth_feat, sem_feat):
            return depth_feat, sem_feat

    model.cross_task = torch.nn.ModuleDict({'3': PassThrough()})
    with torch.no_grad():
        depth_joint, sem_joint = model.decode(x)
    for scale in (0, 1, 2, 3):
        assert torch.allclose(depth_joint['outputs'][scale],
                              depth_plain['outputs'][scale])
    assert torch.allclose(sem_joint['outputs'][0], sem_plain['outputs'][0])
