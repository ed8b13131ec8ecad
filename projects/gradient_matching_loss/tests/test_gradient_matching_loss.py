"""GradientMatchingLoss: hand-computed values and gradients, invalid pixels, the
scale-and-shift invariance of the ssi variant, the all-invalid case, registration
through custom_imports only, and a short training of the project config with
tools/train.py."""
import json
import math
import sys
import textwrap
import warnings

import pytest
import torch
from mmengine.config import Config

from projects.gradient_matching_loss.gradient_matching_loss import (
    GradientMatchingLoss, gradient_matching_loss, scale_shift_align)
from tests.conftest import DEMO_CONFIG, REPO, run_tool, small_demo_options

PROJECT = REPO / 'projects' / 'gradient_matching_loss'
CONFIG = PROJECT / 'configs' / 'gradmatch_resnet18_synthetic_nyu.py'
NAN = float('nan')
PLAIN = dict(space='depth', align_scale_shift=False)


def _ramp():
    """Target 1 everywhere, prediction 1 + x on a 4x4 image: R = x (a ramp in x)."""
    target = torch.ones(1, 1, 4, 4)
    pred = 1.0 + torch.arange(4.0).repeat(4, 1)[None, None]
    return pred, target


def test_multi_scale_value_by_hand():
    pred, target = _ramp()
    # scale 0: 4 rows x 3 pairs x |1| = 12; scale 1: R[::2, ::2] = [[0, 2], [0, 2]],
    # 2 rows x |2| = 4; scales 2, 3 are 1x1 (no pairs); no y-gradient; M = 16
    assert gradient_matching_loss(pred, target, **PLAIN).item() == pytest.approx(1.0)
    assert gradient_matching_loss(pred, target, num_scales=2,
                                  **PLAIN).item() == pytest.approx(1.0)
    assert gradient_matching_loss(pred, target, num_scales=1,
                                  **PLAIN).item() == pytest.approx(12 / 16)


def test_invalid_pixels_are_ignored():
    pred, target = _ramp()
    valid_mask = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    valid_mask[0, 0, 0, 2] = False      # masked out
    target[0, 0, 3, 1] = NAN            # non-finite target
    target[0, 0, 3, 3] = 0.0            # zero depth
    target[0, 0, 1, 3] = -2.0           # negative depth
    pred[0, 0, 0, 2] = pred[0, 0, 3, 1] = 1e4   # huge errors on invalid pixels
    # scale 0, x pairs with both ends valid: row 0 (0,1); row 1 (0,1),(1,2);
    # row 2 all three; row 3 none -> 6 x |1|; y pairs: R is constant in y -> 0.
    # scale 1: R[::2, ::2] = [[0, 2], [0, 2]], (0, 2) invalid -> row 1 only: |2|.
    # M = 16 - 4 valid pixels
    loss = gradient_matching_loss(pred, target, valid_mask, **PLAIN)
    assert loss.item() == pytest.approx((6 + 2) / 12)


def test_gradient_by_hand_and_shape_b_h_w():
    pred = torch.tensor([[[1.0, 3.0, 2.0]]], requires_grad=True)   # (B, H, W)
    target = torch.ones(1, 1, 3)
    # R = [0, 2, 1]; scale 0: |2| + |-1| = 3; scale 1: R[::2] = [0, 1]: 1; M = 3
    loss = gradient_matching_loss(pred, target, **PLAIN)
    assert loss.item() == pytest.approx(4 / 3)
    loss.backward()
    assert torch.allclose(pred.grad, torch.tensor([[[-2 / 3, 2 / 3, 0.0]]]))


def test_disparity_space_by_hand():
    target = torch.tensor([[[[1.0, 0.5]]]])   # disparity 1, 2
    pred = torch.tensor([[[[0.5, 0.25]]]])    # disparity 2, 4 -> R = [1, 2]
    loss = gradient_matching_loss(pred, target, space='disparity',
                                  align_scale_shift=False)
    assert loss.item() == pytest.approx(1 / 2)
    # pred disparity = 2 x target disparity: aligned exactly by s = 2, t = 0
    assert gradient_matching_loss(pred, target, space='disparity',
                                  align_scale_shift=True).item() == pytest.approx(0.0)


def _batch(dtype=torch.float64):
    gen = torch.Generator().manual_seed(0)
    target = torch.rand(2, 1, 16, 20, generator=gen, dtype=dtype) * 9 + 0.5
    valid_mask = torch.rand(2, 1, 16, 20, generator=gen) > 0.2
    target[:, :, 0, :5] = 0.0
    target[1, 0, 3, 3] = NAN
    return target, valid_mask


@pytest.mark.parametrize('dtype, tol', [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_ssi_variant_is_scale_and_shift_invariant(dtype, tol):
    target, valid_mask = _batch(dtype)
    a = torch.tensor([0.3, 4.0], dtype=dtype)[:, None, None, None]
    b = torch.tensor([2.0, -1.5], dtype=dtype)[:, None, None, None]
    pred = a * torch.nan_to_num(target) + b   # per-image scale and shift
    pred[:, :, 0, :5] = 123.0                 # invalid pixels: anything
    pred.requires_grad_(True)
    loss = gradient_matching_loss(pred, target, valid_mask, space='depth',
                                  align_scale_shift=True)
    assert abs(loss.item()) < tol
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    # without the alignment the same prediction is penalised
    assert gradient_matching_loss(pred, target, valid_mask, **PLAIN).item() > 0.1
    # in disparity space: pred disparity = a * target disparity + b
    disp_pred = 1.0 / (a * (1.0 / torch.nan_to_num(target, 1.0).clamp(min=0.5)) + 2.0)
    loss = gradient_matching_loss(disp_pred, target, valid_mask, space='disparity',
                                  align_scale_shift=True)
    assert abs(loss.item()) < tol


def test_alignment_is_the_least_squares_solution():
    target, valid_mask = _batch()
    valid = (torch.isfinite(target) & (target > 0) & valid_mask)[:, 0]
    pred = torch.rand(2, 16, 20, dtype=torch.float64, generator=torch.Generator()
                      .manual_seed(1)) * 5
    aligned = scale_shift_align(pred, torch.nan_to_num(target[:, 0]), valid)
    for i in range(2):
        p, d = pred[i][valid[i]], target[i, 0][valid[i]]
        design = torch.stack([p, torch.ones_like(p)], dim=1)
        s, t = torch.linalg.lstsq(design, d[:, None]).solution[:, 0]
        assert torch.allclose(aligned[i][valid[i]], s * p + t)


def test_gradients_finite_including_degenerate_alignment():
    target, valid_mask = _batch(torch.float32)
    for pred in (torch.rand(2, 1, 16, 20) * 10,           # random, incl. near 0
                 torch.full((2, 1, 16, 20), 3.0)):         # constant: scale undefined
        pred.requires_grad_(True)
        for space in ('depth', 'disparity'):
            for align in (False, True):
                loss = gradient_matching_loss(pred, target, valid_mask, space=space,
                                              align_scale_shift=align)
                assert torch.isfinite(loss)
                (grad,) = torch.autograd.grad(loss, pred)
                assert torch.isfinite(grad).all()
    # one valid pixel per image: no neighbour pair, loss 0 with a finite gradient
    pred = torch.rand(2, 1, 4, 4, requires_grad=True)
    target = torch.zeros(2, 1, 4, 4)
    target[:, :, 1, 2] = 2.0
    loss = gradient_matching_loss(pred, target)
    assert loss.item() == 0.0
    (grad,) = torch.autograd.grad(loss, pred)
    assert torch.isfinite(grad).all()


def test_all_invalid_is_zero_with_a_warning_and_keeps_the_graph():
    pred = torch.rand(2, 1, 3, 4, requires_grad=True)
    for target in (torch.zeros(2, 1, 3, 4), torch.full((2, 1, 3, 4), NAN)):
        with pytest.warns(UserWarning, match='no valid target pixel'):
            loss = GradientMatchingLoss()(pred, target)
        assert loss.item() == 0.0 and loss.requires_grad
        loss.backward()
        assert torch.equal(pred.grad, torch.zeros_like(pred))
        pred.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter('error')   # a valid batch does not warn
        GradientMatchingLoss()(pred, torch.ones(2, 1, 3, 4))


def test_module_weight_name_and_arguments():
    pred, target = _ramp()
    loss_fn = GradientMatchingLoss(loss_weight=0.5, loss_name='loss_x', **PLAIN)
    assert loss_fn.loss_name == 'loss_x'
    assert GradientMatchingLoss().loss_name == 'loss_grad_match'
    assert loss_fn(pred, target).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match='space'):
        GradientMatchingLoss(space='log')
    with pytest.raises(ValueError, match='num_scales'):
        GradientMatchingLoss(num_scales=0)
    with pytest.raises(ValueError, match='differ in shape'):
        gradient_matching_loss(torch.ones(1, 1, 2, 2), torch.ones(1, 2, 2))


def test_config_keeps_the_base_silog_loss():
    base = Config.fromfile(str(DEMO_CONFIG)).model.depth_head.loss_decode
    cfg = Config.fromfile(str(CONFIG)).model.depth_head.loss_decode
    assert cfg[0] == base and cfg[0].type == 'ScaleInvariantLogLoss'
    assert cfg[1] == dict(type='GradientMatchingLoss', num_scales=4, space='disparity',
                          align_scale_shift=True, loss_weight=0.5)


def test_config_builds_only_after_custom_imports():
    """In a fresh interpreter: ``import mmdepthsem`` does not pull the project in, and
    the registry knows GradientMatchingLoss only once the config has been loaded."""
    module = 'projects.gradient_matching_loss.gradient_matching_loss'
    script = textwrap.dedent(f'''
        import sys
        import mmdepthsem
        from mmengine.config import Config
        from mmdepthsem.registry import MODELS
        from mmdepthsem.utils import register_all_modules
        register_all_modules()
        assert not any(m.startswith('projects') for m in sys.modules), \\
            [m for m in sys.modules if m.startswith('projects')]
        assert 'GradientMatchingLoss' not in MODELS.module_dict
        cfg = Config.fromfile({str(CONFIG)!r})
        assert {module!r} in sys.modules
        model = MODELS.build(cfg.model)
        silog, grad = model.depth_head.loss_decode
        cls = sys.modules[{module!r}].GradientMatchingLoss
        assert type(grad) is cls and grad.loss_name == 'loss_grad_match'
        assert silog.loss_name == 'loss_silog'
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
    for key in ('depth.loss_grad_match', 'depth.loss_silog'):
        values = [r[key] for r in records if key in r]
        assert len(values) == max_iters, (key, records)
        assert all(math.isfinite(v) for v in values)
