"""BerHuLoss: hand-computed values and gradients, registration through custom_imports
only, and a short end-to-end training of the project config with tools/train.py."""
import json
import math
import sys
import textwrap

import pytest
import torch

from projects.berhu_loss.berhu_loss import BerHuLoss, berhu_loss
from tests.conftest import REPO, run_tool, small_demo_options

CONFIG = REPO / 'projects' / 'berhu_loss' / 'configs' / 'berhu_resnet18_synthetic_nyu.py'
NAN = float('nan')


def _example():
    """Four valid pixels with errors 0.5, 1, 10, 4 (max 10, so c = 0.2 * 10 = 2) and
    four invalid ones: target 0, NaN, negative, and masked out by ``valid_mask``.
    Their errors (195, 103) would dominate max(e) if they were not ignored."""
    pred = torch.tensor([[[[2.5, 3.0, 11.0, 1.0],
                           [200.0, 5.0, 5.0, 105.0]]]], requires_grad=True)
    target = torch.tensor([[[[2.0, 4.0, 1.0, 5.0],
                             [0.0, NAN, -1.0, 2.0]]]])
    valid_mask = torch.tensor([[[[True, True, True, True],
                                 [True, True, True, False]]]])
    return pred, target, valid_mask


def test_hand_computed_value_covers_both_branches():
    pred, target, valid_mask = _example()
    loss = berhu_loss(pred, target, valid_mask)
    # L1 branch: 0.5, 1; quadratic branch: (100 + 4) / 4 = 26, (16 + 4) / 4 = 5
    assert loss.item() == pytest.approx((0.5 + 1.0 + 26.0 + 5.0) / 4)


def test_gradient_is_sign_over_n_then_error_over_c_n():
    pred, target, valid_mask = _example()
    berhu_loss(pred, target, valid_mask).backward()
    n, c = 4, 2.0
    expected = torch.tensor([[[[1 / n, -1 / n, 10.0 / (c * n), -4.0 / (c * n)],
                               [0.0, 0.0, 0.0, 0.0]]]])
    assert torch.allclose(pred.grad, expected)


def test_module_weight_name_and_threshold_ratio():
    pred, target, valid_mask = _example()
    loss_fn = BerHuLoss(threshold_ratio=0.5, loss_weight=2.0, loss_name='loss_x')
    assert loss_fn.loss_name == 'loss_x'
    assert BerHuLoss().loss_name == 'loss_berhu'
    # c = 5: 0.5, 1, 4 in the L1 branch; (100 + 25) / 10 = 12.5
    value = loss_fn(pred, target, valid_mask)
    assert value.item() == pytest.approx(2.0 * (0.5 + 1.0 + 12.5 + 4.0) / 4)
    with pytest.raises(ValueError):
        BerHuLoss(threshold_ratio=0.0)


def test_default_mask_is_positive_finite_target():
    pred = torch.tensor([[3.0, 7.0, 1.0]])
    target = torch.tensor([[1.0, 0.0, math.inf]])
    # one valid pixel: e = 2 = max(e) > c = 0.4 -> (4 + 0.16) / 0.8
    assert berhu_loss(pred, target).item() == pytest.approx(4.16 / 0.8)


def test_all_invalid_is_zero_and_keeps_the_graph():
    pred = torch.rand(2, 1, 3, 4, requires_grad=True)
    for target in (torch.zeros(2, 1, 3, 4), torch.full((2, 1, 3, 4), NAN)):
        loss = BerHuLoss()(pred, target)
        assert loss.item() == 0.0 and loss.requires_grad
        loss.backward()
        assert torch.equal(pred.grad, torch.zeros_like(pred))
        pred.grad = None


def test_zero_threshold_gives_zero_loss_and_finite_gradient():
    target = torch.rand(2, 1, 3, 4) + 0.5
    pred = target.clone().requires_grad_(True)
    loss = berhu_loss(pred, target)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match='differ in shape'):
        berhu_loss(torch.ones(1, 1, 2, 2), torch.ones(1, 2, 2))


def test_config_builds_only_after_custom_imports():
    """In a fresh interpreter: ``import mmdepthsem`` does not pull the project in, and
    the registry knows BerHuLoss only once the project config has been loaded."""
    script = textwrap.dedent(f'''
        import sys
        import mmdepthsem
        from mmengine.config import Config
        from mmdepthsem.registry import MODELS
        from mmdepthsem.utils import register_all_modules
        register_all_modules()
        assert not any(m.startswith('projects') for m in sys.modules), \\
            [m for m in sys.modules if m.startswith('projects')]
        assert 'BerHuLoss' not in MODELS.module_dict
        cfg = Config.fromfile({str(CONFIG)!r})
        assert 'projects.berhu_loss.berhu_loss' in sys.modules
        assert cfg.model.depth_head.loss_decode == dict(
            type='BerHuLoss', threshold_ratio=0.2, loss_weight=1.0)
        model = MODELS.build(cfg.model)
        (loss,) = model.depth_head.loss_decode
        cls = sys.modules['projects.berhu_loss.berhu_loss'].BerHuLoss
        assert type(loss) is cls and loss.loss_name == 'loss_berhu'
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
    assert (work_dir / f'iter_{max_iters}.pth').is_file()
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert scalars, 'no scalars.json in the work dir'
    records = [json.loads(line) for line in scalars[-1].read_text().splitlines()
               if line.strip()]
    values = [r['depth.loss_berhu'] for r in records if 'depth.loss_berhu' in r]
    assert len(values) == max_iters, records
    assert all(math.isfinite(v) for v in values)
    assert not any('loss_silog' in key for r in records for key in r)

