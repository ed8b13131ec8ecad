"""SOSD-Net: decoder, semantic objectness units and the EM-style alternating steps."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData

from mmdepthsem.models.decode_heads.semantic_to_depth_head import objectness_cue
from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()
H, W, C, K = 64, 96, 32, 5
GROUPS = dict(
    shared=['backbone', 'decode_neck.aspp', 'decode_neck.image_pool',
            'decode_neck.bottleneck', 'decode_neck.low_level', 'decode_neck.common'],
    depth=['decode_neck.depth_feature', 'depth_head'],
    semantic=['decode_neck.semantic_feature', 'sem_head'])


def model_cfg(with_unit=True, alternation=None,
              estimator='AlternatingMultiTaskEstimator'):
    cfg = dict(
        type=estimator,
        data_preprocessor=dict(type='DepthSemDataPreProcessor', mean=[128.0] * 3,
                               std=[64.0] * 3, size_divisor=16),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False, out_indices=(1, 3)),
        decode_neck=dict(type='SOSDDecoder', in_channels=(64, 256), channels=C,
                         low_level_channels=8),
        depth_head=dict(type='SemanticToDepthHead', in_channels=C, sem_channels=C,
                        common_channels=C, with_unit=with_unit, activation='softplus',
                        loss_decode=dict(type='DepthL1Loss')),
        sem_head=dict(type='DepthToSemanticHead', in_channels=(C, C, C), num_classes=K,
                      with_unit=with_unit,
                      loss_decode=dict(type='mmseg.CrossEntropyLoss',
                                       avg_non_ignore=True)))
    if estimator == 'AlternatingMultiTaskEstimator':
        cfg['alternation'] = dict(dict(groups=GROUPS), **(alternation or {}))
    return cfg


def build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(**kwargs))
    model.init_weights()
    return model


def batch(n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(n):
        s = DepthSemDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W)))
        s.gt_depth_map = PixelData(data=1 + 4 * torch.rand(1, H, W, generator=g))
        s.gt_sem_seg = PixelData(data=torch.randint(0, K, (1, H, W), generator=g))
        samples.append(s)
    inputs = [torch.randint(0, 256, (3, H, W), generator=g, dtype=torch.uint8)
              for _ in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def set_counter(epoch=0, iteration=0):
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', epoch)
    hub.update_info('iter', iteration)


# ------------------------------------------------------------------ modules
def test_decoder_and_heads_shapes():
    model = build()
    inputs = torch.randn(2, 3, H, W)
    sem, common, depth = model.extract_feat(inputs)
    assert sem.shape == common.shape == depth.shape == (2, C, H // 4, W // 4)
    assert len(model.decode_neck.depth_feature) == 2  # two convs for depth
    assert len(model.decode_neck.semantic_feature) == 1
    assert len(model.decode_neck.common) == 1
    out = model.predict(inputs)
    assert out[0].pred_depth_map.data.shape == (1, H, W)
    assert (out[0].pred_depth_map.data > 0).all()
    assert out[0].seg_logits.data.shape == (K, H, W)
    assert model.sem_head.conv_seg.kernel_size == (3, 3)
    with pytest.raises(ValueError, match='high-level feature has'):
        model.decode_neck([torch.randn(2, 64, 16, 24), torch.randn(2, 7, 4, 6)])


def test_objectness_cue_is_the_root_of_the_product():
    a = torch.tensor([[[[4.0, 0.0], [1.0, 2.25]]]], requires_grad=True)
    b = torch.tensor([[[[9.0, 5.0], [0.25, 4.0]]]], requires_grad=True)
    cue = objectness_cue(a, b, eps=1e-6)
    expected = torch.tensor([[[[6.0, 1e-3], [0.5, 3.0]]]])
    assert torch.allclose(cue, expected, atol=1e-6)
    cue.sum().backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    # d sqrt(ab + eps) / da = b / (2 sqrt(ab + eps))
    assert torch.isclose(a.grad[0, 0, 0, 0], torch.tensor(9.0 / 12.0))
    assert torch.isclose(a.grad[0, 0, 0, 1], torch.tensor(5.0 / 2e-3), rtol=1e-4)


def test_the_units_are_what_separates_sosd_from_mtl():
    sosd, mtl = build().eval(), build(with_unit=False)
    assert hasattr(sosd.depth_head, 'branch_3d') and not hasattr(mtl.depth_head,
                                                                   'branch_3d')
    with torch.no_grad():  # the semantic-to-depth unit's branches are positive
        x = sosd.extract_feat(torch.randn(1, 3, H, W))
        assert (sosd.depth_head.branch_3d(x[1]) > 0).all()
        assert sosd.depth_head.cue(x).shape == (1, 1, H // 4, W // 4)
    # at 256 channels the two units add about 0.4 M parameters (24.0 vs 23.6 M in
    # the paper's Table 1), a small fraction of the model
    full = MODELS.build(dict(model_cfg(), decode_neck=dict(
        type='SOSDDecoder', in_channels=(64, 256)), depth_head=dict(
            type='SemanticToDepthHead', loss_decode=dict(type='DepthL1Loss')),
        sem_head=dict(type='DepthToSemanticHead', num_classes=19)))
    base = MODELS.build(dict(model_cfg(with_unit=False), decode_neck=dict(
        type='SOSDDecoder', in_channels=(64, 256)), depth_head=dict(
            type='SemanticToDepthHead', with_unit=False,
            loss_decode=dict(type='DepthL1Loss')),
        sem_head=dict(type='DepthToSemanticHead', num_classes=19, with_unit=False)))
    added = sum(p.numel() for p in full.parameters()) - sum(
        p.numel() for p in base.parameters())
    assert 0.3e6 < added < 0.5e6
    assert added / sum(p.numel() for p in base.parameters()) < 0.1


def test_task_layers_start_from_the_papers_gaussian():
    model = build()
    weight = model.decode_neck.depth_feature[0].conv.weight
    assert abs(weight.std().item() - 0.1) < 0.01
    assert model.sem_head.conv_seg.bias.abs().max() == 0


# ------------------------------------------------------------------ groups
def test_every_parameter_is_in_exactly_one_group():
    model = build()
    counts = {g: sum(1 for _ in model.group_parameters(g)) for g in GROUPS}
    assert sum(counts.values()) == len(list(model.parameters()))
    assert all(counts.values())
    bad = dict(GROUPS, shared=GROUPS['shared'][:-1])  # the common conv in none
    with pytest.raises(ValueError, match='decode_neck.common'):
        build(alternation=dict(groups=bad))
    bad = dict(GROUPS, depth=GROUPS['depth'] + ['decode_neck.common'])
    with pytest.raises(ValueError, match='in two'):
        build(alternation=dict(groups=bad))
    with pytest.raises(ValueError, match='unknown alternation keys'):
        build(alternation=dict(periode=2))


def test_period_and_resume_follow_the_runner_counter():
    model = build(alternation=dict(by_epoch=False, period=3))
    phases = []
    for it in range(8):
        set_counter(iteration=it)
        phases.append(model.current_phase())
    assert phases == ['depth'] * 3 + ['semantic'] * 3 + ['depth'] * 2
    # a resumed run restores the counter, hence the phase, mid-phase
    set_counter(iteration=4)
    assert build(alternation=dict(by_epoch=False, period=3)).current_phase() == \
        'semantic'
    model = build(alternation=dict(start='semantic'))
    set_counter(epoch=0)
    assert model.current_phase() == 'semantic'
    set_counter(epoch=1)
    assert model.current_phase() == 'depth'
    assert build(alternation=dict(enabled=False)).current_phase() is None


# ---------------------------------------------------------------- EM steps
def snapshot(model, optim, group):
    params = {n: p.detach().clone() for n, p in model.named_parameters()
              if model.group_of[n] == group}
    buffers = {n: b.clone() for n, b in model.named_buffers()
               if any(n.startswith(p + '.') for p in GROUPS[group])}
    state = {}
    for n, p in model.named_parameters():
        if model.group_of[n] == group and p in optim.state:
            state[n] = {k: v.clone() for k, v in optim.state[p].items()}
    return params, buffers, state


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def changed(before, model):
    """Every parameter outside the backbone moved, and some backbone ones did (timm's
    ResNet zero-initialises the last BN of each block, so at the first step no
    gradient reaches the convolutions before it)."""
    now = dict(model.named_parameters())
    moved = {n: not torch.equal(v, now[n]) for n, v in before.items()}
    head = [m for n, m in moved.items() if not n.startswith('backbone.')]
    body = [m for n, m in moved.items() if n.startswith('backbone.')]
    return all(head) and (not body or any(body))


def test_each_phase_updates_only_its_groups_on_real_optimiser_steps():
    model = build()
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    wrapper = OptimWrapper(optim)

    set_counter(epoch=0)  # depth phase
    sem_before = snapshot(model, optim, 'semantic')
    depth_before = snapshot(model, optim, 'depth')
    shared_before = snapshot(model, optim, 'shared')
    log = model.train_step(batch(), wrapper)
    assert {k for k in log if k.startswith('depth.') or k.startswith('sem.')} == {
        'depth.loss_l1'}
    assert log['em_phase'] == 0
    sem_after = snapshot(model, optim, 'semantic')
    assert same(sem_before[0], sem_after[0])  # weights
    assert same(sem_before[1], sem_after[1])  # BN running statistics
    assert sem_after[2] == {}  # no Adam moments were created
    assert changed(depth_before[0], model) and changed(shared_before[0], model)

    set_counter(epoch=1)  # semantic phase
    depth_before = snapshot(model, optim, 'depth')
    shared_before = snapshot(model, optim, 'shared')
    log = model.train_step(batch(seed=1), wrapper)
    assert {k for k in log if k.startswith('depth.') or k.startswith('sem.')} == {
        'sem.loss_ce', 'sem.acc_seg'}  # mmseg logs the pixel accuracy with its loss
    depth_after = snapshot(model, optim, 'depth')
    assert same(depth_before[0], depth_after[0])
    assert same(depth_before[1], depth_after[1])
    assert all(same(depth_before[2][n], depth_after[2][n]) for n in depth_before[2])
    assert depth_before[2]  # the depth phase did create its moments
    assert changed(sem_before[0], model) and changed(shared_before[0], model)


def test_without_alternation_one_step_is_the_joint_step():
    alternating = build(alternation=dict(enabled=False))
    joint = MODELS.build(model_cfg(estimator='MultiTaskEstimator'))
    joint.load_state_dict(alternating.state_dict())
    data = batch()
    logs = []
    for model in (alternating, joint):
        model.train()
        optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
        logs.append(model.train_step(copy.deepcopy(data), optim))
    assert set(logs[0]) == set(logs[1]) and 'em_phase' not in logs[0]
    for (name, a), b in zip(alternating.state_dict().items(),
                            joint.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name
