"""CrossStitchNeck: the stitch on known tensors, the whole neck with identity-like task
convs, gradients of every alpha, shapes/dtypes, initial values, registration through
custom_imports only, and a short training of the project config with tools/train.py."""
import json
import math
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config

from mmdepthsem.utils.checkpoint import load_checkpoint_weights_only
from projects.example_project.example_project import (CrossStitchNeck,
                                                      CrossStitchUnit, cross_stitch)
from tests.conftest import DEMO_CONFIG, REPO, run_tool, small_demo_options

PROJECT = REPO / 'projects' / 'example_project'
CONFIG = PROJECT / 'configs' / 'cross_stitch_resnet18_synthetic_nyu.py'
ALPHA_KEY = 'task_neck.stitches.0.alpha'


def test_stitch_on_known_tensors():
    depth = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1).expand(2, 2, 3, 4)
    sem = torch.tensor([10.0, 20.0]).view(1, 2, 1, 1).expand(2, 2, 3, 4)
    # channel 0: [[0.5, 0.25], [0.75, 1.0]]; channel 1: [[2.0, 0.0], [-1.0, 0.5]]
    alpha = torch.tensor([[[0.5, 2.0], [0.25, 0.0]], [[0.75, -1.0], [1.0, 0.5]]])
    out_d, out_s = cross_stitch(depth, sem, alpha)
    # d' = a_dd d + a_ds s: 0.5 + 2.5 = 3, 4 + 0 = 4; s' = a_sd d + a_ss s: 0.75 + 10,
    # -2 + 10 = 8
    expected_d = torch.tensor([3.0, 4.0]).view(1, 2, 1, 1).expand(2, 2, 3, 4)
    expected_s = torch.tensor([10.75, 8.0]).view(1, 2, 1, 1).expand(2, 2, 3, 4)
    assert torch.equal(out_d, expected_d) and torch.equal(out_s, expected_s)
    with pytest.raises(ValueError, match='alpha must be'):
        cross_stitch(depth, sem, alpha[..., :1])
    with pytest.raises(ValueError, match='differ in shape'):
        cross_stitch(depth, sem[:1], alpha)


def test_initial_values_and_configurable_init():
    neck = CrossStitchNeck(in_channels=[3, 5])
    for stitch, c in zip(neck.stitches, (3, 5)):
        expected = torch.tensor([[0.9, 0.1], [0.1, 0.9]])[..., None].expand(2, 2, c)
        assert stitch.alpha.shape == (2, 2, c)
        assert torch.equal(stitch.alpha.data, expected)
    unit = CrossStitchUnit(4, init=(0.5, 0.5))
    assert torch.equal(unit.alpha.data, torch.full((2, 2, 4), 0.5))
    neck.init_weights()   # mmengine's weight init must leave the stitches alone
    assert torch.equal(neck.stitches[0].alpha.data[0, 0], torch.full((3, ), 0.9))
    with pytest.raises(ValueError, match='init'):
        CrossStitchNeck(4, init=(0.9, 0.1, 0.0))


def _identity_like(neck: CrossStitchNeck, depth_gain: float, sem_gain: float) -> None:
    """Task convs -> ``gain * x`` (centre tap on the diagonal, eval BN = identity)."""
    eps = None
    for convs, gain in ((neck.depth_convs, depth_gain), (neck.sem_convs, sem_gain)):
        for module in convs:
            c = module.conv.out_channels
            weight = torch.zeros_like(module.conv.weight)
            weight[range(c), range(c), 1, 1] = gain
            module.conv.weight.data.copy_(weight)
            eps = module.bn.eps
            module.bn.running_mean.zero_()
            module.bn.running_var.fill_(1.0 - eps)
            module.bn.weight.data.fill_(1.0)
            module.bn.bias.data.zero_()
    neck.eval()


def test_neck_with_identity_like_convs_by_hand():
    neck = CrossStitchNeck(in_channels=4).double()
    _identity_like(neck, depth_gain=1.0, sem_gain=2.0)
    x = torch.rand(2, 4, 5, 6, dtype=torch.float64) + 0.1   # > 0: ReLU is identity
    (d, ), (s, ) = neck(x)
    # F_d = x, F_s = 2x: d' = 0.9 x + 0.1 * 2x = 1.1 x, s' = 0.1 x + 0.9 * 2x = 1.9 x
    assert torch.allclose(d, 1.1 * x, atol=1e-12)
    assert torch.allclose(s, 1.9 * x, atol=1e-12)
    # per channel: channel 2 of the depth output takes only the semantic map
    neck.stitches[0].alpha.data[0, :, 2] = torch.tensor([0.0, 1.0])
    (d, ), _ = neck(x)
    assert torch.allclose(d[:, 2], 2 * x[:, 2], atol=1e-12)
    assert torch.allclose(d[:, 1], 1.1 * x[:, 1], atol=1e-12)
    # a negative input is cut by the task conv's ReLU before the stitch
    (d, ), (s, ) = neck(-x)
    assert torch.equal(d, torch.zeros_like(d)) and torch.equal(s, torch.zeros_like(s))


def test_gradients_reach_every_alpha():
    torch.manual_seed(0)
    neck = CrossStitchNeck(in_channels=[3, 2])
    maps = (torch.rand(2, 3, 8, 8), torch.rand(2, 2, 4, 4))
    (d0, d1), (s0, s1) = neck(maps)
    loss = d0.sum() + 2 * s0.sum() + 3 * d1.sum() + 4 * s1.sum()
    loss.backward()
    for level, (wd, ws) in enumerate(((1, 2), (3, 4))):
        alpha = neck.stitches[level].alpha
        assert alpha.grad is not None and (alpha.grad != 0).all()
        # d loss / d a_ij[c] = w_i * sum of task j's map in channel c
        depth_conv, sem_conv = neck.depth_convs[level], neck.sem_convs[level]
        with torch.no_grad():
            f_d = depth_conv(maps[level]).sum(dim=(0, 2, 3))
            f_s = sem_conv(maps[level]).sum(dim=(0, 2, 3))
        expected = torch.stack([torch.stack([wd * f_d, wd * f_s]),
                                torch.stack([ws * f_d, ws * f_s])])
        assert torch.allclose(alpha.grad, expected, rtol=1e-5)
    for conv in (*neck.depth_convs, *neck.sem_convs):
        assert conv.conv.weight.grad is not None and conv.conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_shapes_and_dtype(dtype):
    neck = CrossStitchNeck(in_channels=[8, 16, 4]).to(dtype)
    maps = (torch.rand(2, 8, 16, 24, dtype=dtype), torch.rand(2, 16, 8, 12, dtype=dtype),
            torch.rand(2, 4, 4, 6, dtype=dtype))
    depth_feats, sem_feats = neck(maps)
    assert isinstance(depth_feats, tuple) and isinstance(sem_feats, tuple)
    for feats in (depth_feats, sem_feats):
        assert [f.shape for f in feats] == [m.shape for m in maps]
        assert all(f.dtype == dtype for f in feats)
    # a single tensor is one level
    (d, ), (s, ) = CrossStitchNeck(8).to(dtype)(maps[0])
    assert d.shape == s.shape == maps[0].shape
    with pytest.raises(ValueError, match='expected 3 decoder maps'):
        neck(maps[:2])


def test_config_matches_the_demo_decoder():
    cfg = Config.fromfile(str(CONFIG))
    base = Config.fromfile(str(DEMO_CONFIG))
    assert cfg.model.task_neck == dict(type='CrossStitchNeck', in_channels=64,
                                       init=(0.9, 0.1))
    # one decoder map whose width both heads read, as in the base config
    assert base.model.decode_neck.out_levels == [0]
    assert base.model.decode_neck.channels[0] == 64
    assert base.model.depth_head.in_channels == base.model.sem_head.in_channels == 64
    assert cfg.custom_imports.imports == ['projects.example_project.example_project']


def test_config_builds_only_after_custom_imports():
    """In a fresh interpreter: ``import mmdepthsem`` does not pull the project in, and
    the registry knows CrossStitchNeck only once the config has been loaded; the built
    model's heads then read the neck's outputs."""
    module = 'projects.example_project.example_project'
    script = textwrap.dedent(f'''
        import sys
        import torch
        import mmdepthsem
        from mmengine.config import Config
        from mmdepthsem.registry import MODELS
        from mmdepthsem.utils import register_all_modules
        torch.set_num_threads(1)
        register_all_modules()
        assert not any(m.startswith('projects') for m in sys.modules), \\
            [m for m in sys.modules if m.startswith('projects')]
        assert 'CrossStitchNeck' not in MODELS.module_dict
        cfg = Config.fromfile({str(CONFIG)!r})
        assert {module!r} in sys.modules
        assert 'CrossStitchNeck' in MODELS.module_dict
        model = MODELS.build(cfg.model).eval()
        cls = sys.modules[{module!r}].CrossStitchNeck
        assert type(model.task_neck) is cls
        with torch.no_grad():
            (d, ), (s, ) = model.task_features(torch.rand(1, 3, 64, 96))
            depth, logits = model.whole_inference(
                torch.rand(1, 3, 64, 96), [dict(img_shape=(64, 96),
                                                pad_shape=(64, 96))])
        assert d.shape == s.shape == (1, 64, 16, 24), (d.shape, s.shape)
        assert depth.shape == (1, 1, 64, 96) and logits.shape == (1, 40, 64, 96)
        print('OK')
    ''')
    result = run_tool([sys.executable, '-c', script], timeout=300)
    assert result.stdout.strip().endswith('OK')


@pytest.mark.slow
def test_train_project_config_with_tools_train(synthetic_nyu, tmp_path):
    work_dir = tmp_path / 'work'
    max_iters = 4
    run_tool([sys.executable, 'tools/train.py', str(CONFIG), '--work-dir',
              str(work_dir), '--cfg-options',
              *small_demo_options(synthetic_nyu, max_iters=max_iters,
                                  checkpoint_interval=max_iters)])
    ckpt = load_checkpoint_weights_only(work_dir / f'iter_{max_iters}.pth',
                                        map_location='cpu')
    alpha = ckpt['state_dict'][ALPHA_KEY]
    init = torch.tensor([[0.9, 0.1], [0.1, 0.9]])[..., None].expand(2, 2, 64)
    assert alpha.shape == (2, 2, 64) and torch.isfinite(alpha).all()
    moved = (alpha - init).abs()
    assert moved.max() > 1e-5 and (moved > 0).float().mean() > 0.5, moved
    # the config's paramwise_cfg: the stitch is the only parameter without weight decay
    groups = ckpt['optimizer']['param_groups']
    assert sum(g['weight_decay'] == 0.0 for g in groups) == 1
    assert all(g['weight_decay'] == pytest.approx(1e-4) for g in groups
               if g['weight_decay'] != 0.0)
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert scalars, 'no scalars.json in the work dir'
    records = [json.loads(line) for line in scalars[-1].read_text().splitlines()
               if line.strip()]
    for key in ('depth.loss_silog', 'sem.loss_ce'):
        values = [r[key] for r in records if key in r]
        assert len(values) == max_iters, (key, records)
        assert all(math.isfinite(v) for v in values)
