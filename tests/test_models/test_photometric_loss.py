import numpy as np
import pytest
import torch

from mmdepthsem.models.losses import (PhotometricReprojectionLoss,
                                      automask_min_reprojection, min_reprojection,
                                      photometric_error, ssim_map)
from mmdepthsem.registry import MODELS

C1, C2 = 0.01 ** 2, 0.03 ** 2


def _ssim_reference(x, y):
    """Loop-over-windows SSIM dissimilarity of one channel (float64 numpy)."""
    xp, yp = np.pad(x, 1, mode='reflect'), np.pad(y, 1, mode='reflect')
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            wx, wy = xp[i:i + 3, j:j + 3], yp[i:i + 3, j:j + 3]
            mx, my = wx.mean(), wy.mean()
            vx, vy = wx.var(), wy.var()
            cov = ((wx - mx) * (wy - my)).mean()
            ssim = ((2 * mx * my + C1) * (2 * cov + C2) /
                    ((mx ** 2 + my ** 2 + C1) * (vx + vy + C2)))
            out[i, j] = np.clip((1 - ssim) / 2, 0, 1)
    return out


def test_ssim_of_constant_patches():
    a = torch.full((1, 3, 5, 6), 0.2)
    assert torch.allclose(ssim_map(a, a.clone()), torch.zeros_like(a), atol=1e-6)
    b = torch.full((1, 3, 5, 6), 0.6)
    # no variance: SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    expected = (1 - (2 * 0.2 * 0.6 + C1) / (0.2 ** 2 + 0.6 ** 2 + C1)) / 2
    assert abs(expected - 0.19995) < 1e-4
    assert torch.allclose(ssim_map(a.double(), b.double()),
                          torch.full_like(a.double(), expected), atol=1e-12)
    # float32: the variances pool(x^2) - mu^2 cancel to ~1e-8, relative to C2 = 9e-4
    assert torch.allclose(ssim_map(a, b), torch.full_like(a, expected), atol=5e-5)


def test_ssim_of_a_single_bright_pixel_by_hand():
    x = torch.full((1, 1, 3, 3), 0.5)
    y = x.clone()
    y[0, 0, 1, 1] = 0.8
    # centre window = the whole image: mu_x = 0.5, var_x = 0, cov = 0,
    # mu_y = 0.5 + 0.3 / 9, var_y = 8 * 0.3^2 / 81
    mu_y = 0.5 + 0.3 / 9
    var_y = 8 * 0.09 / 81
    ssim = (2 * 0.5 * mu_y + C1) * C2 / ((0.25 + mu_y ** 2 + C1) * (var_y + C2))
    assert abs(ssim - 0.09175) < 1e-4
    assert abs(ssim_map(x, y)[0, 0, 1, 1].item() - (1 - ssim) / 2) < 1e-5


def test_ssim_of_a_shifted_patch_matches_the_window_definition():
    rng = np.random.default_rng(0)
    x = rng.random((6, 7))
    y = np.roll(x, 1, axis=1)
    got = ssim_map(torch.from_numpy(x)[None, None], torch.from_numpy(y)[None, None])
    assert np.allclose(got[0, 0].numpy(), _ssim_reference(x, y), atol=1e-10)
    assert got.mean() > 0.1  # a shift is not similar
    # float32 images give the same map to float precision, per channel
    stack = torch.from_numpy(np.stack([x, y])).float()[None]
    got32 = ssim_map(stack, stack.flip(1))
    assert torch.allclose(got32[0, 0].double(), got[0, 0], atol=1e-5)


def test_photometric_error_mixes_ssim_and_l1_over_channels():
    pred = torch.zeros(1, 3, 4, 4)
    target = torch.zeros(1, 3, 4, 4)
    pred[:, 0] = 0.2
    target[:, 0] = 0.6  # channel 0 differs by 0.4, channels 1, 2 agree
    # L1 part: mean over channels of |0.2 - 0.6|, 0, 0
    l1 = photometric_error(pred, target, alpha=0.0)
    assert l1.shape == (1, 1, 4, 4)
    assert torch.allclose(l1, torch.full_like(l1, 0.4 / 3))
    dssim_c0 = (1 - (2 * 0.2 * 0.6 + C1) / (0.04 + 0.36 + C1)) / 2
    # channels 1, 2: both zero -> SSIM = C1 C2 / (C1 C2) = 1 -> 0
    expected = 0.85 * dssim_c0 / 3 + 0.15 * 0.4 / 3
    assert torch.allclose(photometric_error(pred, target),
                          torch.full_like(l1, expected), atol=1e-5)
    assert torch.allclose(photometric_error(target, target), torch.zeros_like(l1),
                          atol=1e-6)


def test_min_reprojection_picks_the_smaller_error_per_pixel():
    errors = torch.tensor([[[[0.5, 0.1], [0.3, 0.0]],
                            [[0.2, 0.4], [0.3, 0.7]]]])
    loss, index = min_reprojection(errors)
    assert torch.equal(loss, torch.tensor([[[[0.2, 0.1], [0.3, 0.0]]]]))
    assert torch.equal(index, torch.tensor([[[[1, 0], [0, 0]]]]))
    with pytest.raises(ValueError):
        min_reprojection(errors[0])


def test_automask_masks_pixels_where_the_identity_error_is_smaller():
    reprojection = torch.tensor([[[[0.5, 0.1, 0.4]], [[0.6, 0.2, 0.3]]]])
    identity = torch.tensor([[[[0.2, 0.3, 0.9]], [[0.25, 0.5, 0.8]]]])
    loss, mask = automask_min_reprojection(reprojection, identity)
    # pixel 0: identity 0.2 < warped 0.5; pixel 1: warped 0.1; pixel 2: warped 0.3
    assert torch.equal(mask, torch.tensor([[[[False, True, True]]]]))
    assert torch.allclose(loss, torch.tensor([[[[0.2, 0.1, 0.3]]]]), atol=1e-4)
    # exact ties are broken by the noise, not systematically towards the identity
    g = torch.Generator().manual_seed(0)
    tie = torch.full((4, 1, 16, 16), 0.3)
    _, mask = automask_min_reprojection(tie, tie.clone(), generator=g)
    assert 0.2 < mask.float().mean() < 0.8
    _, mask = automask_min_reprojection(tie, tie.clone(), noise_std=0.0)
    assert not mask.any()  # without noise the identity (listed first) wins
    with pytest.raises(ValueError):
        automask_min_reprojection(reprojection, identity[..., :2])


def test_loss_module_with_and_without_automask():
    torch.manual_seed(0)
    target = torch.rand(2, 3, 8, 10)
    good = (target + 0.01 * torch.randn_like(target)).clamp(0, 1)
    bad = torch.rand_like(target)
    loss = MODELS.build(dict(type='PhotometricReprojectionLoss', automask=False,
                             loss_weight=2.0, loss_name='loss_ph'))
    assert loss.loss_name == 'loss_ph'
    expected = torch.minimum(photometric_error(good, target),
                             photometric_error(bad, target)).mean()
    assert torch.allclose(loss(target, [good, bad]), 2 * expected)
    # a (B, N, C, H, W) tensor works as well as a list
    assert torch.allclose(loss(target, torch.stack([good, bad], 1)), 2 * expected)

    # static scene: the unwarped sources equal the target, so every pixel is masked
    automask = PhotometricReprojectionLoss()
    loss_map, mask = automask.loss_map(target, [good, bad], [target, target])
    assert not mask.any()
    assert loss_map.abs().max() < 1e-4
    # moving scene: sources far from the target, the warped frames win
    loss_map, mask = automask.loss_map(target, [good, bad], [bad, bad.flip(-1)])
    assert mask.float().mean() > 0.9
    with pytest.raises(ValueError, match='sources'):
        automask(target, [good, bad])


def test_loss_gradients_reach_the_warped_frames():
    torch.manual_seed(0)
    target = torch.rand(1, 3, 8, 8)
    warped = torch.rand(1, 2, 3, 8, 8, requires_grad=True)
    loss = PhotometricReprojectionLoss()(target, warped, torch.rand(1, 2, 3, 8, 8))
    loss.backward()
    assert torch.isfinite(warped.grad).all() and warped.grad.abs().sum() > 0


def test_target_without_the_source_dim_is_refused_not_paired_by_index():
    """(B, N, C, H, W) sources against a (B, C, H, W) target would broadcast when
    B == N and silently compare source n with target n; it must be an error."""
    sources, target = torch.rand(2, 2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    for fn in (photometric_error, ssim_map):
        with pytest.raises(ValueError, match='differ'):
            fn(sources, target)
    assert photometric_error(sources, target.unsqueeze(1)).shape == (2, 2, 8, 8)
