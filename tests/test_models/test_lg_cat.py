"""LG-CAT cross-attention against a per-pixel reference of DSS eq. 4–5."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmdepthsem.models.utils import lg_cat
from mmdepthsem.models.utils.lg_cat import (LGCAT, BlockCrossAttention, FusedMBConv,
                                            GridCrossAttention)


def _cell(row, col, mode, w, padded_hw):
    """(partition id, (row, col) inside the partition) of a pixel."""
    if mode == 'block':
        return (row // w, col // w), (row % w, col % w)
    step_h, step_w = padded_hw[0] // w, padded_hw[1] // w
    return (row % step_h, col % step_w), (row // step_h, col // step_w)


def reference(attn, x, y):
    """Eq. 4 written pixel by pixel, with the module's weights: for each query pixel,
    softmax over the *real* pixels of its window / grid set of
    ``q.k / sqrt(d) + table[(dy + w - 1) * (2w - 1) + dx + w - 1]``, then the output
    projection, the residual onto ``y`` and the MLP."""
    channels, height, width = y.shape[1:]
    w = attn.window_size[0]
    padded = (math.ceil(height / w) * w, math.ceil(width / w) * w)
    xs, ys = x[0].permute(1, 2, 0), y[0].permute(1, 2, 0)
    xn = F.layer_norm(xs, (channels, ), attn.norm_query.weight, attn.norm_query.bias,
                      attn.norm_query.eps)
    yn = F.layer_norm(ys, (channels, ), attn.norm_kv.weight, attn.norm_kv.bias,
                      attn.norm_kv.eps)
    q = F.linear(xn, attn.q.weight, attn.q.bias)
    kv = F.linear(yn, attn.kv.weight, attn.kv.bias)
    k, v = kv[..., :channels], kv[..., channels:]
    heads, dim = attn.num_heads, channels // attn.num_heads
    table = attn.rel_pos.relative_position_bias_table
    mode = attn.partition_type
    out = torch.zeros_like(ys)
    pixels = [(r, c) for r in range(height) for c in range(width)]
    for r, c in pixels:
        pid, (qi, qj) = _cell(r, c, mode, w, padded)
        keys = [(r2, c2) for r2, c2 in pixels if _cell(r2, c2, mode, w, padded)[0] == pid]
        for h in range(heads):
            sl = slice(h * dim, (h + 1) * dim)
            logits = []
            for r2, c2 in keys:
                _, (ki, kj) = _cell(r2, c2, mode, w, padded)
                index = (qi - ki + w - 1) * (2 * w - 1) + (qj - kj + w - 1)
                logits.append(q[r, c, sl] @ k[r2, c2, sl] / math.sqrt(dim) +
                              table[index, h])
            weights = torch.softmax(torch.stack(logits), dim=0)
            out[r, c, sl] = sum(a * v[r2, c2, sl] for a, (r2, c2) in zip(weights, keys))
    y1 = ys + F.linear(out, attn.proj.weight, attn.proj.bias)
    hidden = F.layer_norm(y1, (channels, ), attn.norm_mlp.weight, attn.norm_mlp.bias,
                          attn.norm_mlp.eps)
    hidden = F.linear(F.gelu(F.linear(hidden, attn.mlp.fc1.weight, attn.mlp.fc1.bias)),
                      attn.mlp.fc2.weight, attn.mlp.fc2.bias)
    return (y1 + hidden).permute(2, 0, 1)[None]


def _attention(cls, channels=8, heads=2, window=3, seed=0):
    torch.manual_seed(seed)
    attn = cls(channels, num_heads=heads, window_size=window).double().eval()
    with torch.no_grad():  # a bias large enough to matter, distinct norms
        attn.rel_pos.relative_position_bias_table.normal_()
        for norm in (attn.norm_query, attn.norm_kv, attn.norm_mlp):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(std=0.1)
    return attn


@pytest.mark.parametrize('cls', [BlockCrossAttention, GridCrossAttention])
@pytest.mark.parametrize('size', [(6, 6), (5, 7)], ids=['divisible', 'padded'])
def test_matches_per_pixel_reference(cls, size):
    attn = _attention(cls)
    x = torch.randn(1, 8, *size, dtype=torch.float64)
    y = torch.randn(1, 8, *size, dtype=torch.float64)
    with torch.no_grad():
        out = attn(x, y)
        expected = reference(attn, x, y)
    assert out.shape == y.shape
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)


def _support(attn, x, y, wrt):
    """(H, W, H, W) bool: output pixel p depends on input pixel q of ``wrt``."""
    if wrt == 'kv':
        jac = torch.autograd.functional.jacobian(lambda t: attn(x, t), y)
    else:
        jac = torch.autograd.functional.jacobian(lambda t: attn(t, y), x)
    return jac[0, :, :, :, 0].abs().sum(dim=(0, 3)) > 0


@pytest.mark.parametrize('size', [(4, 4), (5, 5)])
def test_block_support_is_the_window(size):
    attn = _attention(BlockCrossAttention, channels=4, heads=1, window=2)
    x = torch.randn(1, 4, *size, dtype=torch.float64)
    y = torch.randn(1, 4, *size, dtype=torch.float64)
    support = _support(attn, x, y, 'kv')
    own = _support(attn, x, y, 'query')
    height, width = size
    for r in range(height):
        for c in range(width):
            expected = torch.zeros(size, dtype=torch.bool)
            expected[r // 2 * 2:r // 2 * 2 + 2, c // 2 * 2:c // 2 * 2 + 2] = True
            assert torch.equal(support[r, c], expected), (r, c)
            # A pixel's query is its own; a window with one real key ignores it.
            only_p = torch.zeros(size, dtype=torch.bool)
            only_p[r, c] = bool(expected.sum() > 1)
            assert torch.equal(own[r, c], only_p), (r, c)


@pytest.mark.parametrize('size', [(4, 4), (5, 5)])
def test_grid_support_is_the_grid_set(size):
    attn = _attention(GridCrossAttention, channels=4, heads=1, window=2)
    x = torch.randn(1, 4, *size, dtype=torch.float64)
    y = torch.randn(1, 4, *size, dtype=torch.float64)
    support = _support(attn, x, y, 'kv')
    height, width = size
    step_h, step_w = math.ceil(height / 2), math.ceil(width / 2)  # padded side / w
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width),
                                indexing='ij')
    for r in range(height):
        for c in range(width):
            expected = (rows % step_h == r % step_h) & (cols % step_w == c % step_w)
            assert torch.equal(support[r, c], expected), (r, c)
    # sparse but global: pixel (0, 0) sees rows and columns {0, step}
    assert support[0, 0].sum() == 4
    assert support[0, 0, 0, step_w] and support[0, 0, step_h, step_w]


def test_zero_query_projection_removes_the_query_stream():
    attn = _attention(BlockCrossAttention)
    y = torch.randn(2, 8, 6, 6, dtype=torch.float64)
    x1, x2 = torch.randn(2, 2, 8, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        assert not torch.allclose(attn(x1, y), attn(x2, y))
        attn.q.weight.zero_()
        attn.q.bias.zero_()
        torch.testing.assert_close(attn(x1, y), attn(x2, y), rtol=0, atol=0)


def test_residual_comes_from_the_key_value_stream():
    attn = _attention(GridCrossAttention)
    x = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    y = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        for layer in (attn.proj, attn.mlp.fc2):
            layer.weight.zero_()
            layer.bias.zero_()
        torch.testing.assert_close(attn(x, y), y, rtol=0, atol=0)


def test_relative_position_bias_indexing():
    attn = BlockCrossAttention(8, num_heads=2, window_size=3)
    table = attn.rel_pos.relative_position_bias_table
    assert table.shape == (5 * 5, 2)  # (2w - 1)^2 x h
    with torch.no_grad():
        table.copy_(torch.arange(25.)[:, None] + torch.tensor([0., 100.]))
    bias = attn.rel_pos.get_bias()
    assert bias.shape == (1, 2, 9, 9)
    # query (0, 0) [token 0], key (2, 1) [token 7]: (dy, dx) = (-2, -1) -> 0 * 5 + 1
    assert bias[0, 0, 0, 7] == 1 and bias[0, 1, 0, 7] == 101
    # the reverse pair: (dy, dx) = (2, 1) -> 4 * 5 + 3
    assert bias[0, 0, 7, 0] == 23 and bias[0, 1, 7, 0] == 123
    # same position: the centre of the table
    assert torch.all(bias[0, 0].diagonal() == 12)


def test_padded_keys_are_masked_in_the_attention_mask():
    attn = BlockCrossAttention(8, num_heads=2, window_size=3)
    _, valid = lg_cat.pad_to_multiple(torch.zeros(1, 5, 4, 8), (3, 3))
    mask = attn.attention_mask(valid, batch=2)
    windows = lg_cat.partition(valid[None, :, :, None], (3, 3), 'block')[..., 0]
    assert mask.shape == (2 * 4, 2, 9, 9)
    expected = ~windows.repeat(2, 1)[:, None, None, :].expand_as(mask)
    assert torch.equal(torch.isinf(mask), expected)
    assert torch.all(mask[torch.isinf(mask)] < 0)


@pytest.mark.parametrize('cls', [BlockCrossAttention, GridCrossAttention])
def test_padded_positions_never_receive_attention_weight(cls, monkeypatch):
    attn = _attention(cls)
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    y = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    with torch.no_grad():
        zero_padded = attn(x, y)
    pad = lg_cat.pad_to_multiple

    def pad_with_garbage(t, size):
        padded, valid = pad(t, size)
        garbage = torch.randn_like(padded) * 1e3
        return torch.where(valid[None, :, :, None], padded, garbage), valid

    monkeypatch.setattr(lg_cat, 'pad_to_multiple', pad_with_garbage)
    with torch.no_grad():
        garbage_padded = attn(x, y)
    torch.testing.assert_close(garbage_padded, zero_padded, rtol=1e-12, atol=1e-12)


def test_batch_items_are_independent():
    attn = _attention(GridCrossAttention)
    x = torch.randn(3, 8, 5, 7, dtype=torch.float64)
    y = torch.randn(3, 8, 5, 7, dtype=torch.float64)
    with torch.no_grad():
        batched = attn(x, y)
        single = torch.cat([attn(x[i:i + 1], y[i:i + 1]) for i in range(3)])
    torch.testing.assert_close(batched, single)


def test_lgcat_is_ns_block_grid_pairs_with_a_fixed_query_then_fused_mbconv():
    torch.manual_seed(0)
    model = LGCAT(8, num_heads=2, window_size=3, num_repeats=2).double().eval()
    assert len(model.block_attns) == len(model.grid_attns) == 2
    assert all(isinstance(m, BlockCrossAttention) for m in model.block_attns)
    assert all(isinstance(m, GridCrossAttention) for m in model.grid_attns)
    x = torch.randn(2, 8, 7, 5, dtype=torch.float64)
    y = torch.randn(2, 8, 7, 5, dtype=torch.float64)
    with torch.no_grad():
        expected = y
        for block, grid in zip(model.block_attns, model.grid_attns):
            expected = grid(x, block(x, expected))
        expected = model.fused_mbconv(expected)
        torch.testing.assert_close(model(x, y), expected)


def test_fused_mbconv_layout_and_residual():
    block = FusedMBConv(8, expand_ratio=4, se_ratio=0.25).eval()
    assert block.expand.conv.kernel_size == (3, 3)
    assert block.expand.conv.out_channels == 32
    assert block.se.fc1.out_channels == 2  # 0.25 x the input channels
    assert block.project.conv.kernel_size == (1, 1)
    assert block.project.conv.out_channels == 8
    assert isinstance(block.project.norm, torch.nn.BatchNorm2d)
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        block.project.norm.weight.zero_()
        block.project.norm.bias.zero_()
        torch.testing.assert_close(block(x), x)
    no_se = FusedMBConv(8, se_ratio=None)
    assert isinstance(no_se.se, torch.nn.Identity)


def test_mismatched_streams_are_named():
    attn = BlockCrossAttention(8, num_heads=2, window_size=3)
    with pytest.raises(ValueError, match='differ in shape'):
        attn(torch.randn(1, 8, 6, 6), torch.randn(1, 8, 6, 7))
    with pytest.raises(ValueError, match='num_heads'):
        BlockCrossAttention(8, num_heads=3)


def test_gradients_reach_both_streams_and_every_parameter():
    model = LGCAT(8, num_heads=2, window_size=3, num_repeats=1)
    x = torch.randn(2, 8, 5, 7, requires_grad=True)
    y = torch.randn(2, 8, 5, 7, requires_grad=True)
    model(x, y).square().mean().backward()
    assert x.grad.abs().sum() > 0 and y.grad.abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in model.parameters())
