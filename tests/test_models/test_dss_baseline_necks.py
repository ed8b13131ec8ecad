"""DSS Table 4's comparison necks: Baseline, SW-Map, SIG, AG-MMD and CCAM."""
import pathlib

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmdepthsem.models.necks import (CCAMNeck, CrossTaskNeck, DSSNeck,
                                     PADNetDistillationNeck, SIGNeck, SWMapNeck)
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()
ROOT = pathlib.Path(__file__).parents[2] / 'configs' / 'dss'
NECK_CONFIGS = sorted((ROOT / 'ablations').glob('*_neck_*.py'))
METHODS = {'baseline': DSSNeck, 'swmap': SWMapNeck, 'sig': SIGNeck,
           'agmmd': PADNetDistillationNeck, 'ccam': CCAMNeck}
SMALL = dict(in_channels=6, channels=8, num_convs=2)
NECKS = {
    'ccam': dict(type='CCAMNeck', reduction=2, **SMALL),
    'agmmd': dict(type='PADNetDistillationNeck', **SMALL),
    'sig': dict(type='SIGNeck', **SMALL),
    'swmap': dict(type='SWMapNeck', num_classes=5, **SMALL),
}


def _build(name):
    torch.manual_seed(0)
    return MODELS.build(NECKS[name])


def _ln_gelu_conv(x, module):
    """Reference of a ConvModule(conv3x3 -> LN2d -> GELU)."""
    x = F.conv2d(x, module.conv.weight, module.conv.bias, padding=1)
    norm = module.norm
    x = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1], ), norm.weight, norm.bias,
                     norm.eps).permute(0, 3, 1, 2)
    return F.gelu(x)


@pytest.mark.parametrize('name', sorted(NECKS))
def test_shapes_task_necks_and_gradients(name):
    neck = _build(name)
    assert isinstance(neck, CrossTaskNeck)
    for stack in (neck.depth_neck, neck.sem_neck):  # DSSNeck's task necks
        assert len(stack) == 2
        assert all(layer.conv.kernel_size == (3, 3) for layer in stack)
    x = torch.randn(2, 6, 10, 12, requires_grad=True)
    depth, sem = neck([x])
    assert isinstance(depth, tuple) and isinstance(sem, tuple)
    assert len(depth) == len(sem) == 1
    assert depth[0].shape == sem[0].shape == (2, 8, 10, 12)
    (depth[0].square().mean() + sem[0].square().mean()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, param in neck.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), pname
        assert param.grad.abs().sum() > 0, pname
    # The task necks keep DSSNeck's parameter names (stage-1 checkpoints load).
    dss_keys = {k for k in DSSNeck(**SMALL, symbiosis=False).state_dict()}
    assert dss_keys <= set(neck.state_dict())


def test_forward_is_task_necks_then_interaction():
    neck = _build('agmmd').eval()
    x = torch.randn(1, 6, 5, 7)
    with torch.no_grad():
        (depth, ), (sem, ) = neck(x)
        ref = neck.interact(neck.depth_neck(x), neck.sem_neck(x))
    torch.testing.assert_close(depth, ref[0])
    torch.testing.assert_close(sem, ref[1])


def test_ccam_equals_cross_task_se_weights():
    neck = _build('ccam').eval()
    d, s = torch.randn(2, 8, 4, 5), torch.randn(2, 8, 4, 5)

    def weights(gate, x):  # sigmoid(MLP(avgpool(x))), written out
        _, fc1, _, fc2, _ = gate
        pooled = x.mean(dim=(2, 3))
        hidden = torch.relu(pooled @ fc1.weight[:, :, 0, 0].T + fc1.bias)
        return torch.sigmoid(hidden @ fc2.weight[:, :, 0, 0].T + fc2.bias)

    with torch.no_grad():
        out_d, out_s = neck.interact(d, s)
        w_from_s, w_from_d = weights(neck.sem_gate, s), weights(neck.depth_gate, d)
    assert neck.sem_gate[1].out_channels == 4  # C / r
    torch.testing.assert_close(out_d, d * w_from_s[:, :, None, None])
    torch.testing.assert_close(out_s, s * w_from_d[:, :, None, None])
    neck.residual = True
    with torch.no_grad():
        res_d, _ = neck.interact(d, s)
    torch.testing.assert_close(res_d, d + d * w_from_s[:, :, None, None])


def test_padnet_distillation_equals_the_formula():
    neck = _build('agmmd').eval()
    d, s = torch.randn(1, 8, 4, 5), torch.randn(1, 8, 4, 5)

    def conv(m, x):
        return F.conv2d(x, m.weight, m.bias, padding=1)

    with torch.no_grad():
        out_d, out_s = neck.interact(d, s)
        m = neck.distillation
        ref_d = d + torch.sigmoid(conv(m.depth_gate, d)) * conv(m.sem_to_depth, s)
        ref_s = s + torch.sigmoid(conv(m.sem_gate, s)) * conv(m.depth_to_sem, d)
    torch.testing.assert_close(out_d, ref_d)
    torch.testing.assert_close(out_s, ref_s)


def test_sig_adds_semantic_guidance_to_depth():
    neck = _build('sig').eval()
    d, s = torch.randn(1, 8, 4, 5), torch.randn(1, 8, 4, 5)
    with torch.no_grad():
        out_d, out_s = neck.interact(d, s)
        ref_d = d + _ln_gelu_conv(torch.cat([d, s], 1), neck.guide)
    torch.testing.assert_close(out_d, ref_d)
    torch.testing.assert_close(out_s, s)


def test_swmap_fuses_the_soft_semantic_map_into_depth():
    neck = _build('swmap').eval()
    d, s = torch.randn(1, 8, 4, 5), torch.randn(1, 8, 4, 5)
    with torch.no_grad():
        out_d, out_s = neck.interact(d, s)
        logits = torch.einsum('bchw,kc->bkhw', s, neck.sem_map.weight[:, :, 0, 0])
        prob = torch.softmax(logits + neck.sem_map.bias[None, :, None, None], dim=1)
        ref_d = _ln_gelu_conv(torch.cat([d, prob], 1), neck.fuse)
    assert prob.shape[1] == 5
    torch.testing.assert_close(out_d, ref_d)
    torch.testing.assert_close(out_s, s)


@pytest.mark.parametrize('name', sorted(NECKS))
def test_outputs_depend_on_the_other_task(name):
    """Perturbing the other stream changes the output (both ways where the method is
    bidirectional; SIG and SW-Map only guide depth)."""
    neck = _build(name).eval()
    d, s = torch.randn(1, 8, 4, 5), torch.randn(1, 8, 4, 5)
    with torch.no_grad():
        out_d, out_s = neck.interact(d, s)
        new_d, _ = neck.interact(d, s + torch.randn_like(s))
        _, new_s = neck.interact(d + torch.randn_like(d), s)
    assert not torch.allclose(out_d, new_d)  # semantics reach depth
    if name in ('ccam', 'agmmd'):
        assert not torch.allclose(out_s, new_s)  # depth reaches semantics
    else:
        torch.testing.assert_close(out_s, new_s)


def test_table4_baseline_has_no_cross_task_path():
    torch.manual_seed(0)
    neck = DSSNeck(**SMALL, symbiosis=False).eval()
    x = torch.randn(1, 6, 4, 5)
    with torch.no_grad():
        (depth, ), (sem, ) = neck(x)
        # Perturbing what reaches the semantic neck leaves depth unchanged.
        for p in neck.sem_neck.parameters():
            p.add_(torch.randn_like(p))
        (new_depth, ), (new_sem, ) = neck(x)
    torch.testing.assert_close(depth, new_depth)
    assert not torch.allclose(sem, new_sem)
    torch.testing.assert_close(depth, neck.depth_neck(x))


def test_every_table4_method_has_a_config_per_dataset():
    names = {p.name for p in NECK_CONFIGS}
    assert names == {f'maxvit_{ds}_neck_{m}.py' for ds in ('nyu', 'kitti')
                     for m in METHODS}


@pytest.mark.parametrize('path', NECK_CONFIGS, ids=lambda p: p.name)
def test_neck_configs_change_only_the_task_neck(path):
    ds, method = path.stem.split('_')[1], path.stem.split('_neck_')[1]
    cfg = Config.fromfile(str(path)).to_dict()
    main = Config.fromfile(str(ROOT / f'maxvit_{ds}.py')).to_dict()
    neck_cfg = cfg['model'].pop('task_neck')
    main_neck = main['model'].pop('task_neck')
    assert cfg == main
    assert neck_cfg != main_neck
    if method == 'baseline':
        assert neck_cfg == dict(main_neck, symbiosis=False)
    neck = MODELS.build(neck_cfg)
    assert type(neck) is METHODS[method]
    assert neck.depth_neck[0].conv.in_channels == 128
    (depth, ), (sem, ) = neck(torch.randn(1, 128, 7, 7))
    assert depth.shape == sem.shape == (1, 128, 7, 7)
