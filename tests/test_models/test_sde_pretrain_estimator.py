"""SDE-Seg pretraining: frozen encoder (stage A), ImageNet feature distance (stage B)."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmdepthsem.models.losses import FeatureDistanceLoss
from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()
LAMBDA = 1e-2
H, W = 64, 64  # bottleneck 2x2: the smallest the decoder's reflection padding takes


def texture(shift=0):
    y, x = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                          torch.arange(W, dtype=torch.float32) + shift, indexing='ij')
    img = torch.stack([128 + 100 * torch.sin(x / 5), 128 + 100 * torch.cos(y / 7),
                       128 + 60 * torch.sin((x + y) / 9)])
    return img.round().clamp(0, 255).to(torch.uint8)


def sample(shifts=(-2, 2)):
    s = DepthSemDataSample(metainfo=dict(img_path='t.png', frame_ids=(-1, 1),
                                         img_shape=(H, W), ori_shape=(H, W)))
    s.frames = torch.stack([texture(d) for d in shifts])
    s.intrinsics = torch.tensor([[30.0, 0, W / 2], [0, 30.0, H / 2], [0, 0, 1]])
    return s


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """One intra-op thread: these small models only lose to thread contention on
    the shared test machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(stage):
    cfg = dict(
        type='SDEPretrainEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], size_divisor=32),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False,
                      out_indices=(0, 1, 2, 3, 4)),
        depth_decoder=dict(type='MonodepthDepthDecoder', scales=(0, )),
        pose_net=dict(type='PoseNet'),
        scales=(0, ))
    if stage == 'A':
        cfg['freeze_backbone'] = True
    elif stage == 'B':
        cfg['feature_distance_loss'] = dict(type='FeatureDistanceLoss',
                                            loss_weight=LAMBDA)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def batch():
    return dict(inputs=[texture(), texture(3)],
                data_samples=[sample(), sample(shifts=(-1, 3))])


def preprocessed(model):
    data = model.data_preprocessor(batch(), training=True)
    return data['inputs'], data['data_samples']


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def optim_wrapper(model, lr=1e-2):
    return build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=lr)))


def hand_distance(model, inputs):
    """λ_F · sqrt(sum of squares) of the bottleneck difference, whole batch."""
    with torch.no_grad():
        diff = model.backbone(inputs)[-1] - model.reference_backbone(inputs)[-1]
    return LAMBDA * diff.double().pow(2).sum().sqrt()


# ----------------------------------------------------------------- loss alone
def test_feature_distance_loss_by_hand():
    loss = FeatureDistanceLoss(loss_weight=0.5)
    feat = torch.tensor([[[[3.0]], [[0.0]]], [[[1.0]], [[2.0]]]], requires_grad=True)
    ref = torch.tensor([[[[0.0]], [[0.0]]], [[[1.0]], [[-2.0]]]], requires_grad=True)
    value = loss(feat, ref)  # sqrt(3² + 0 + 0 + 4²) = 5
    assert value.item() == pytest.approx(2.5)
    assert loss.loss_name == 'loss_feat_dist'
    value.backward()
    assert ref.grad is None  # the reference is detached
    expected = 0.5 * (feat - ref).detach() / 5.0
    assert torch.allclose(feat.grad, expected)
    # at equality: exactly 0 with a zero (not NaN) gradient
    feat.grad = None
    loss(feat, feat.detach().clone()).backward()
    assert torch.equal(feat.grad, torch.zeros_like(feat))
    with pytest.raises(ValueError, match='differ in shape'):
        loss(torch.zeros(2, 3), torch.zeros(3, 2))
    assert FeatureDistanceLoss().loss_weight == 1e-2


# -------------------------------------------------------------------- stage A
def test_stage_a_freezes_encoder_weights_and_bn_statistics():
    model = build('A')
    model.train()
    assert not model.backbone.training
    assert not any(m.training for m in model.backbone.modules())
    assert model.depth_decoder.training and model.pose_net.training
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.depth_decoder.parameters())
    encoder, decoder, pose = (snapshot(model.backbone), snapshot(model.depth_decoder),
                              snapshot(model.pose_net))
    wrapper = optim_wrapper(model)
    losses = model.train_step(batch(), wrapper)
    assert 'loss_feat_dist' not in losses and 'loss_photometric' in losses
    assert all(p.grad is None for p in model.backbone.parameters())
    assert same(snapshot(model.backbone), encoder)  # weights and running stats
    assert not same(snapshot(model.depth_decoder), decoder)
    assert not same(snapshot(model.pose_net), pose)
    assert not hasattr(model, 'reference_ready')


def test_stages_exclude_each_other():
    with pytest.raises(ValueError, match='exclude each other'):
        MODELS.build(dict(
            type='SDEPretrainEstimator', freeze_backbone=True,
            feature_distance_loss=dict(type='FeatureDistanceLoss'),
            backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                          features_only=True, pretrained=False,
                          out_indices=(0, 1, 2, 3, 4)),
            depth_decoder=dict(type='MonodepthDepthDecoder'),
            pose_net=dict(type='PoseNet')))


# -------------------------------------------------------------------- stage B
def test_stage_b_reference_is_frozen_and_copied_at_the_first_step():
    model = build('B').train()
    assert not model.reference_backbone.training
    assert not any(p.requires_grad for p in model.reference_backbone.parameters())
    assert all(p.requires_grad for p in model.backbone.parameters())
    assert 'reference_ready' in model.state_dict()
    assert any(k.startswith('reference_backbone.') for k in model.state_dict())
    assert int(model.reference_ready) == 0
    # make the reference different from the encoder to see the copy
    with torch.no_grad():
        for p in model.reference_backbone.parameters():
            p.add_(1.0)

    model.eval()  # both encoders on running statistics: L_F is exactly 0
    inputs, samples = preprocessed(model)
    losses = model.loss(inputs, samples)
    assert int(model.reference_ready) == 1
    assert same(snapshot(model.reference_backbone), snapshot(model.backbone))
    assert losses['loss_feat_dist'].item() == 0.0
    assert {'loss_photometric', 'loss_smooth', 'loss_feat_dist'} <= set(losses)

    # training mode: the encoder uses batch statistics, the reference does not
    model.train()
    losses = model.loss(inputs, samples)
    with torch.no_grad():
        diff = model.backbone(inputs)[-1] - model.reference_backbone(inputs)[-1]
    expected = LAMBDA * torch.linalg.norm(diff)
    assert losses['loss_feat_dist'].item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses['loss_feat_dist'].item() > 0


def test_stage_b_distance_grows_after_training_and_matches_hand_computation():
    model = build('B').train()
    initial = snapshot(model.backbone)
    wrapper = optim_wrapper(model, lr=1e-3)
    for _ in range(2):
        model.train_step(batch(), wrapper)
    # only the first step copied (the second would have copied the updated
    # encoder): the reference is the initial encoder, untouched by the optimiser
    assert same(snapshot(model.reference_backbone), initial)
    assert not same(snapshot(model.backbone), initial)
    assert all(p.grad is None for p in model.reference_backbone.parameters())

    model.eval()
    inputs, samples = preprocessed(model)
    value = model.loss(inputs, samples)['loss_feat_dist']
    expected = hand_distance(model, inputs)
    assert expected > 0
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_feature_distance_gradient_reaches_only_the_encoder():
    model = build('B').train()
    inputs, samples = preprocessed(model)
    model.loss(inputs, samples)  # copies the reference
    with torch.no_grad():  # move the encoder away from the reference
        model.backbone.timm_model.conv1.weight.mul_(1.5)
    model.zero_grad()
    model.loss(inputs, samples)['loss_feat_dist'].backward()
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    for module in (model.depth_decoder, model.pose_net, model.reference_backbone):
        assert all(p.grad is None or not p.grad.any() for p in module.parameters())
    assert all(p.grad is None for p in model.reference_backbone.parameters())


def test_saved_reference_is_kept_and_missing_one_is_copied():
    model = build('B')
    inputs, samples = preprocessed(model)
    model.loss(inputs, samples)
    with torch.no_grad():
        model.backbone.timm_model.conv1.weight.add_(0.1)
    state = model.state_dict()
    assert int(state['reference_ready']) == 1

    resumed = build('B')
    resumed.load_state_dict(state)
    reference = snapshot(resumed.reference_backbone)
    assert not same(reference, snapshot(resumed.backbone))
    resumed.eval()
    value = resumed.loss(inputs, samples)['loss_feat_dist']
    assert same(snapshot(resumed.reference_backbone), reference)  # not re-copied
    assert value.item() > 0
    assert value.item() == pytest.approx(hand_distance(resumed, inputs).item(),
                                         rel=1e-5)

    # a stage-A checkpoint (no flag, no reference) loaded non-strictly: copied
    stage_a = build('A')
    with torch.no_grad():
        stage_a.depth_decoder.heads.scale0.weight.add_(1.0)
        stage_a.backbone.timm_model.conv1.weight.add_(0.2)
    fresh = build('B')
    missing = fresh.load_state_dict(stage_a.state_dict(), strict=False).missing_keys
    assert 'reference_ready' in missing
    assert not same(snapshot(fresh.reference_backbone), snapshot(stage_a.backbone))
    fresh.eval()
    assert fresh.loss(inputs, samples)['loss_feat_dist'].item() == 0.0
    assert same(snapshot(fresh.reference_backbone), snapshot(stage_a.backbone))
