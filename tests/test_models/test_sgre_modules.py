"""SGRE's self-attention (eq. 7-8), SEEM (eq. 5-6, Table 4) and the fused decoder."""
import pytest
import torch

from mmdepthsem.models.decode_heads import SemanticFusedDepthDecoder
from mmdepthsem.models.necks import (SemanticEdgeEnhancement,
                                     SemanticGuidedSelfAttention)
from mmdepthsem.models.necks.seem import sample_point_features, write_point_features
from mmdepthsem.utils import register_all_modules

register_all_modules()


# ------------------------------------------------------------------ attention
def test_attention_with_gamma_one_is_softmax_qk_v_plus_input():
    torch.manual_seed(0)
    attn = SemanticGuidedSelfAttention(channels=16, qk_reduction=8)
    with torch.no_grad():
        attn.gamma.fill_(1.0)
    x = torch.randn(2, 16, 3, 5)
    q = attn.query(x).flatten(2).transpose(1, 2)        # (B, L, 2)
    k = attn.key(x).flatten(2)                          # (B, 2, L)
    v = attn.value(x).flatten(2).transpose(1, 2)        # (B, L, 16)
    a = torch.softmax(q @ k, dim=-1)                    # eq. 7: no 1/sqrt(d)
    expected = (a @ v).transpose(1, 2).reshape(2, 16, 3, 5) + x
    assert torch.allclose(attn(x), expected, atol=1e-5)
    # the scaled variant differs, so the test can tell the two apart
    scaled = torch.softmax(q @ k / 2 ** 0.5, dim=-1)
    assert not torch.allclose((scaled @ v).transpose(1, 2).reshape(2, 16, 3, 5) + x,
                              expected, atol=1e-3)


def test_attention_is_identity_at_start_and_gamma_gets_a_gradient():
    torch.manual_seed(0)
    attn = SemanticGuidedSelfAttention(channels=8)
    x = torch.randn(1, 8, 4, 4)
    out = attn(x)
    assert torch.equal(out, x)  # gamma = 0
    (out * torch.randn_like(out)).sum().backward()
    assert attn.gamma.grad is not None and attn.gamma.grad.abs().item() > 0
    # the query/key/value weights only start learning once gamma moved
    assert attn.query.weight.grad.abs().sum() == 0


def test_attention_checks_channels():
    with pytest.raises(ValueError, match='channels'):
        SemanticGuidedSelfAttention(channels=8)(torch.randn(1, 4, 2, 2))


# ------------------------------------------------------------------ SEEM
def test_point_features_are_bilinear_interpolation_by_hand():
    # a 2x2 map sampled for a 4x4 image: pixel centre (x + 0.5) / 4 * 2 - 1 maps to
    # feature coordinate (x + 0.5) / 2 - 0.5 = x / 2 - 0.25
    feat = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    points = torch.tensor([[[1, 1], [2, 1], [0, 0], [3, 3]]])
    out = sample_point_features(feat, points, (4, 4))
    # (x, y) = (1, 1) -> (0.25, 0.25): bilinear of the four values
    p11 = 0.75 * 0.75 * 1 + 0.25 * 0.75 * 2 + 0.75 * 0.25 * 3 + 0.25 * 0.25 * 4
    # (2, 1) -> (0.75, 0.25)
    p21 = 0.25 * 0.75 * 1 + 0.75 * 0.75 * 2 + 0.25 * 0.25 * 3 + 0.75 * 0.25 * 4
    # (0, 0) -> (-0.25, -0.25): border padding -> the corner value; (3, 3) -> 4
    expected = torch.tensor([[[p11, p21, 1.0, 4.0]]])
    assert torch.allclose(out, expected, atol=1e-6)


def test_write_back_changes_exactly_the_sampled_pixels_and_averages_duplicates():
    feat = torch.arange(2 * 3 * 4, dtype=torch.float32).view(1, 2, 3, 4)
    points = torch.tensor([[[1, 0], [3, 2], [3, 2]]])
    values = torch.tensor([[[10.0, 20.0, 40.0], [-1.0, -2.0, -4.0]]])
    out = write_point_features(feat, points, values, (3, 4))
    changed = (out != feat).any(dim=1)[0]
    assert changed.nonzero().tolist() == [[0, 1], [2, 3]]
    assert out[0, :, 0, 1].tolist() == [10.0, -1.0]
    assert out[0, :, 2, 3].tolist() == [30.0, -3.0]  # mean of the duplicates
    # half-resolution map: image pixel (x, y) falls into (x // 2, y // 2)
    half = write_point_features(torch.zeros(1, 1, 2, 2), torch.tensor([[[3, 1]]]),
                                torch.ones(1, 1, 1), (4, 4))
    assert half[0, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_write_back_gradients_reach_values_and_only_unwritten_pixels():
    feat = torch.randn(1, 3, 4, 5, requires_grad=True)
    values = torch.randn(1, 3, 2, requires_grad=True)
    points = torch.tensor([[[0, 0], [4, 3]]])
    write_point_features(feat, points, values, (4, 5)).sum().backward()
    assert torch.equal(values.grad, torch.ones_like(values))
    assert feat.grad[0, :, 0, 0].abs().sum() == 0
    assert feat.grad[0, :, 3, 4].abs().sum() == 0
    assert feat.grad.sum() == 3 * (20 - 2)


def test_seem_follows_table_4_and_gets_gradients():
    torch.manual_seed(0)
    seem = SemanticEdgeEnhancement(enc_channels=(256, 64))
    assert (seem.enc_conv.in_channels, seem.enc_conv.out_channels) == (320, 128)
    assert (seem.dec_conv.in_channels, seem.dec_conv.out_channels) == (112, 112)
    assert (seem.sem_conv.in_channels, seem.sem_conv.out_channels) == (112, 112)
    convs = [m for m in seem.enhance if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [
        (352, 256), (256, 256), (256, 256), (256, 16)]
    assert isinstance(seem.enhance[-1], torch.nn.Conv1d)  # no final activation
    h, w = 16, 32
    enc = [torch.randn(2, 256, h // 4, w // 4), torch.randn(2, 64, h // 2, w // 2)]
    dec = [torch.randn(2, c, h // s, w // s) for c, s in ((64, 4), (32, 2), (16, 1))]
    sem = [torch.randn(2, c, h // s, w // s) for c, s in ((64, 4), (32, 2), (16, 1))]
    points = torch.randint(0, 16, (2, 7, 2))
    out = seem(enc, dec, sem, points, (h, w))
    assert out.shape == (2, 16, 7)
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in seem.parameters())
    with pytest.raises(ValueError, match='enc features have channels'):
        seem(enc[::-1], dec, sem, points, (h, w))


# ------------------------------------------------------------------ decoder
R18 = (64, 64, 128, 256, 512)


def encoder_features(batch=1, h=64, w=96):
    return [torch.randn(batch, c, h // 2 ** (i + 1), w // 2 ** (i + 1))
            for i, c in enumerate(R18)]


def sem_upconvs(batch=1, h=64, w=96, widths=(16, 32, 64, 128, 256)):
    return {b: torch.randn(batch, widths[b], h // 2 ** (b + 1), w // 2 ** (b + 1))
            for b in range(5)}


def test_fused_decoder_shapes_and_table_4_layers():
    torch.manual_seed(0)
    dec = SemanticFusedDepthDecoder(in_channels=R18, seem=dict(
        type='SemanticEdgeEnhancement'))
    assert sorted(dec.attention) == ['block2', 'block3', 'block4']
    assert dec.fuse['block4'].conv.in_channels == 512  # [D_upconv4, S_upconv4]
    assert dec.seem.enc_conv.in_channels == 128  # ResNet-18 econv1 + econv0
    out = dec(encoder_features(), sem_upconvs(), torch.randint(0, 64, (1, 30, 2)),
              (64, 96))
    assert {s: tuple(t.shape) for s, t in out['outputs'].items()} == {
        s: (1, 1, 64 // 2 ** s, 96 // 2 ** s) for s in range(4)}
    assert out['fused'][0].shape == (1, 16, 64, 96)  # the map SEEM writes into
    with pytest.raises(ValueError, match='points'):
        dec(encoder_features(), sem_upconvs())


def test_seem_points_change_the_depth_only_through_their_pixels():
    """Moving SEEM's points changes the final features only near them."""
    torch.manual_seed(0)
    dec = SemanticFusedDepthDecoder(in_channels=R18, attention_blocks=(),
                                    seem=dict(type='SemanticEdgeEnhancement')).eval()
    feats, sems = encoder_features(), sem_upconvs()
    a = dec(feats, sems, torch.tensor([[[10, 10]]]), (64, 96))['outputs'][0]
    b = dec(feats, sems, torch.tensor([[[80, 50]]]), (64, 96))['outputs'][0]
    diff = (a - b).abs()[0, 0] > 0
    rows, cols = diff.nonzero(as_tuple=True)
    # D_conv0 and the 3x3 output conv spread a pixel over a 5x5 window
    assert set(rows.tolist()) <= set(range(8, 13)) | set(range(48, 53))
    assert set(cols.tolist()) <= set(range(8, 13)) | set(range(78, 83))
    assert diff.any()


def test_fused_decoder_rejects_bad_settings():
    with pytest.raises(ValueError, match='attention_blocks'):
        SemanticFusedDepthDecoder(in_channels=R18, attention_blocks=(5, ))
    with pytest.raises(ValueError, match='seem_blocks'):
        SemanticFusedDepthDecoder(in_channels=R18, seem_blocks=(2, 1),
                                  seem=dict(type='SemanticEdgeEnhancement'))
    with pytest.raises(ValueError, match='16-channel'):
        SemanticFusedDepthDecoder(in_channels=R18, seem=dict(
            type='SemanticEdgeEnhancement', out_channels=8))
