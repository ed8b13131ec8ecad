"""Tests of FSRE's cross-task multi-embedding attention (eq. 9–14)."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmdepthsem.models.necks.cross_modal_attention import (BidirectionalCMA,
                                                           CrossModalAttention)
from mmdepthsem.registry import MODELS


def _module(channels: int = 3, heads: int = 4, seed: int = 0) -> CrossModalAttention:
    torch.manual_seed(seed)
    cma = CrossModalAttention(channels, num_embeddings=heads)
    bn = cma.project[1]
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    return cma.eval()


def _einsum_reference(cma: CrossModalAttention, target: torch.Tensor,
                      reference: torch.Tensor):
    """Eq. 11–14 plus φ_w and the fusion written out with the module's weights."""
    heads, width = cma.num_embeddings, cma.embed_channels
    w = {n: getattr(cma, n).weight.detach().clone()[..., 0, 0].view(heads, width, -1)
         for n in ('query', 'key', 'value')}
    b = {n: getattr(cma, n).bias.detach().clone().view(1, heads, width, 1, 1)
         for n in ('query', 'key', 'value')}
    q = torch.einsum('hdc,bcxy->bhdxy', w['query'], reference) + b['query']
    k = torch.einsum('hdc,bcxy->bhdxy', w['key'], target) + b['key']
    v = torch.einsum('hdc,bcxy->bhdxy', w['value'], target) + b['value']
    scores = torch.einsum('bhdxy,bhdxy->bhxy', k, q) / math.sqrt(width)
    rho = scores.softmax(dim=1) if heads > 1 else torch.ones_like(scores)
    refined = torch.einsum('bhxy,bhdxy->bdxy', rho, v)
    conv_w, bn = cma.project[0], cma.project[1]
    proj = torch.einsum('od,bdxy->boxy', conv_w.weight[..., 0, 0].detach(), refined)
    proj = proj + conv_w.bias.detach().view(1, -1, 1, 1)
    proj = (proj - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
        bn.running_var.view(1, -1, 1, 1) + bn.eps)
    proj = proj * bn.weight.detach().view(1, -1, 1, 1) + bn.bias.detach().view(
        1, -1, 1, 1)
    cat = torch.cat([proj, target], dim=1)
    c3, c1 = cma.fuse[0], cma.fuse[2]
    hid = F.elu(F.conv2d(cat, c3.weight.detach(), c3.bias.detach(), padding=1))
    out = torch.einsum('oc,bcxy->boxy', c1.weight[..., 0, 0].detach(), hid)
    return refined, out + c1.bias.detach().view(1, -1, 1, 1)


@pytest.mark.parametrize('heads', [1, 2, 4])
def test_matches_einsum(heads):
    cma = _module(heads=heads)
    target, reference = torch.randn(2, 3, 5, 6), torch.randn(2, 3, 5, 6)
    refined_ref, out_ref = _einsum_reference(cma, target, reference)
    with torch.no_grad():
        refined = cma.attend(target, reference)
        out = cma(target, reference)
    assert refined.shape == (2, 6, 5, 6) and out.shape == (2, 3, 5, 6)
    torch.testing.assert_close(refined, refined_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out, out_ref, rtol=1e-5, atol=1e-5)


def test_pixelwise_locality():
    cma = _module()
    target, reference = torch.randn(1, 3, 4, 5), torch.randn(1, 3, 4, 5)
    perturbed = reference.clone()
    perturbed[0, :, 2, 3] += torch.tensor([3.0, -2.0, 1.5])
    with torch.no_grad():
        delta = (cma.attend(target, perturbed) - cma.attend(target, reference)).abs()
    changed = delta.sum(dim=1)[0] > 1e-6
    expected = torch.zeros(4, 5, dtype=torch.bool)
    expected[2, 3] = True
    assert torch.equal(changed, expected)


def test_single_embedding_weights_are_one():
    cma = _module(heads=1)
    target, reference = torch.randn(2, 3, 4, 4) * 5, torch.randn(2, 3, 4, 4) * 5
    with torch.no_grad():
        weights = cma.embedding_weights(target, reference)
        refined = cma.attend(target, reference)
    assert weights.shape == (2, 1, 4, 4)
    assert torch.equal(weights, torch.ones_like(weights))
    # ρ ≡ 1 means the output is the value embedding itself, whatever the reference.
    torch.testing.assert_close(refined, cma.value(target).detach())


def test_multi_embedding_weights_softmax_over_embeddings():
    cma = _module(heads=4)
    target, reference = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    with torch.no_grad():
        weights = cma.embedding_weights(target, reference)
        scores = cma.embedding_scores(target, reference)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2, 4, 4))
    torch.testing.assert_close(weights, scores.softmax(dim=1))
    assert not torch.allclose(weights, torch.full_like(weights, 0.25))


def test_swapping_inputs_changes_output():
    cma = _module()
    a, b = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    with torch.no_grad():
        assert not torch.allclose(cma(a, b), cma(b, a), atol=1e-4)
        assert not torch.allclose(cma.attend(a, b), cma.attend(b, a), atol=1e-4)


def test_gradient_reaches_all_weights():
    cma = CrossModalAttention(4).train()
    target = torch.randn(2, 4, 5, 5, requires_grad=True)
    reference = torch.randn(2, 4, 5, 5, requires_grad=True)
    cma(target, reference).square().mean().backward()
    for name, param in cma.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert reference.grad.abs().sum() > 0 and target.grad.abs().sum() > 0


def test_bidirectional_directions():
    torch.manual_seed(0)
    depth, seg = torch.randn(2, 4, 3, 5), torch.randn(2, 4, 3, 5)
    both = MODELS.build(dict(type='BidirectionalCMA', channels=4)).eval()
    with torch.no_grad():
        d_out, s_out = both(depth, seg)
        torch.testing.assert_close(d_out, both.depth_cma(depth, seg))
        torch.testing.assert_close(s_out, both.seg_cma(seg, depth))
    only_depth = BidirectionalCMA(4, targets=('depth',)).eval()
    assert only_depth.seg_cma is None
    d_out, s_out = only_depth(depth, seg)
    assert s_out is seg and d_out.shape == depth.shape
    only_seg = BidirectionalCMA(4, num_embeddings=2, targets=['seg'])
    d_out, s_out = only_seg(depth, seg)
    assert d_out is depth and only_seg.seg_cma.num_embeddings == 2
    with pytest.raises(ValueError):
        BidirectionalCMA(4, targets=('normals',))


def test_shape_mismatch_raises():
    cma = CrossModalAttention(3)
    with pytest.raises(ValueError):
        cma(torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 5))
