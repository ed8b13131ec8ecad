"""DSS decoder (eq. 1) and neck (eq. 2-3): structure, wiring and the baseline."""
import torch
import torch.nn.functional as F
from timm.layers import LayerNorm2d

from mmdepthsem.models.necks import DSSNeck
from mmdepthsem.models.utils import LGCAT
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()


def _ln_channels(x, norm):
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1], ), norm.weight, norm.bias,
                        norm.eps).permute(0, 3, 1, 2)


def test_ln2d_normalises_over_channels():
    norm = MODELS.build(dict(type='LN2d', num_channels=6))
    assert isinstance(norm, LayerNorm2d)
    out = norm(torch.randn(2, 6, 3, 4) * 5 + 2)
    torch.testing.assert_close(out.mean(dim=1), torch.zeros(2, 3, 4), atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(out.var(dim=1, unbiased=False), torch.ones(2, 3, 4),
                               atol=1e-3, rtol=0)


def test_decoder_computes_eq1_with_the_paper_widths():
    torch.manual_seed(0)
    decoder = MODELS.build(dict(
        type='UpConcatDecoder', in_channels=[128, 256, 512, 1024],
        channels=[128, 256, 512], norm_cfg=dict(type='LN2d'),
        act_cfg=dict(type='GELU'), out_levels=[0])).eval()
    feats = [torch.randn(1, c, 16 // 2**i, 24 // 2**i)
             for i, c in enumerate([128, 256, 512, 1024])]
    with torch.no_grad():
        (d1, ) = decoder(feats)
        d = feats[3]  # D_4 = E_4
        for level in (2, 1, 0):  # D_3, D_2, D_1
            block = decoder.blocks[level][0]
            assert block.conv.kernel_size == (3, 3) and block.conv.bias is None
            up = F.interpolate(d, scale_factor=2, mode='bilinear', align_corners=False)
            x = F.conv2d(torch.cat([feats[level], up], 1), block.conv.weight, padding=1)
            d = F.gelu(_ln_channels(x, block.norm))
    assert d1.shape == (1, 128, 16, 24)  # stride 4 at a 64x96 input
    torch.testing.assert_close(d1, d)


def test_defaults_are_the_papers():
    neck = DSSNeck()
    for lgcat in (neck.depth_guided, neck.semantics_guided):
        assert isinstance(lgcat, LGCAT)
        assert len(lgcat.block_attns) == len(lgcat.grid_attns) == 2  # N_s
        attn = lgcat.grid_attns[0]
        assert attn.num_heads == 4 and attn.window_size == (7, 7)
        assert attn.embed_dims == 128 and attn.mlp.fc1.out_features == 512
    for stack in (neck.depth_neck, neck.sem_neck):
        assert len(stack) == 2
        for layer in stack:
            assert layer.conv.kernel_size == (3, 3) and layer.conv.out_channels == 128
            assert isinstance(layer.norm, LayerNorm2d)
            assert isinstance(layer.activate, torch.nn.GELU)


def _small_neck(**kwargs):
    torch.manual_seed(0)
    return DSSNeck(in_channels=12, channels=8, num_heads=2, window_size=3,
                   **kwargs).eval()


def test_necks_have_separate_weights():
    neck = _small_neck()
    depth = dict(neck.depth_neck.named_parameters())
    sem = dict(neck.sem_neck.named_parameters())
    assert depth.keys() == sem.keys()
    assert all(depth[k] is not sem[k] for k in depth)
    assert not torch.equal(depth['0.conv.weight'], sem['0.conv.weight'])


def test_symbiosis_wiring():
    neck = _small_neck()
    d1 = torch.randn(2, 12, 7, 9)
    with torch.no_grad():
        (depth_out, ), (sem_out, ) = neck((d1, ))
        f_d, f_s = neck.depth_neck(d1), neck.sem_neck(d1)
        # F_s' = LG-CAT(F_d^Q, F_s^KV) feeds the semantic head, and vice versa
        torch.testing.assert_close(sem_out, neck.depth_guided(f_d, f_s))
        torch.testing.assert_close(depth_out, neck.semantics_guided(f_s, f_d))
        assert not torch.allclose(sem_out, neck.depth_guided(f_s, f_d))
    assert depth_out.shape == sem_out.shape == (2, 8, 7, 9)


def test_baseline_without_symbiosis_is_necks_to_heads():
    full = _small_neck()
    baseline = _small_neck(symbiosis=False)
    missing = set(full.state_dict()) - set(baseline.state_dict())
    assert set(baseline.state_dict()) < set(full.state_dict())
    assert missing and all(k.startswith(('depth_guided.', 'semantics_guided.'))
                           for k in missing)
    d1 = torch.randn(1, 12, 5, 5)
    with torch.no_grad():
        (depth, ), (sem, ) = baseline(d1)
        torch.testing.assert_close(depth, baseline.depth_neck(d1))
        torch.testing.assert_close(sem, baseline.sem_neck(d1))


def test_gradients_flow_from_each_head_into_both_necks():
    neck = _small_neck().train()
    d1 = torch.randn(2, 12, 6, 6)
    (depth, ), _ = neck(d1)
    depth.mean().backward()
    # the depth output reads the semantic neck through the queries
    assert neck.sem_neck[0].conv.weight.grad.abs().sum() > 0
    assert neck.depth_neck[0].conv.weight.grad.abs().sum() > 0
    # ... and the semantic transformer does not take part in depth
    assert all(p.grad is None for p in neck.depth_guided.parameters())
