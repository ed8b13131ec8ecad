"""SDE-Seg's ASPP U-Net decoder and PAD-Net's attention-guided distillation."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdepthsem.models.decode_heads.monodepth_decoder import decode_in_lockstep
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()
B, H, W = 2, 64, 96
ENC = (8, 12, 16, 20, 24)
WIDTHS = (4, 6, 8, 10, 12)
STRIDES_OS16 = (2, 4, 8, 16, 16)


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def features(strides=STRIDES_OS16, grad=False):
    torch.manual_seed(1)
    return [torch.randn(B, c, H // s, W // s, requires_grad=grad)
            for c, s in zip(ENC, strides)]


def decoder(out_channels=1, scales=(0, 1, 2, 3), **kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='ASPPUNetDecoder', in_channels=ENC, channels=WIDTHS, scales=scales,
        out_channels=out_channels,
        out_activation='sigmoid' if out_channels == 1 else None, **kwargs))


def test_block_and_scale_shapes_for_an_output_stride_16_encoder():
    out = decoder()(features())
    # block 4 (ASPP) stays at stride 16; blocks 3..0 end at strides 8, 4, 2, 1
    for b, stride in ((4, 16), (3, 8), (2, 4), (1, 2), (0, 1)):
        assert out['features'][b].shape == (B, WIDTHS[b], H // stride, W // stride), b
    # the first conv of each up-block runs before its x2 upsampling
    for b in (3, 2, 1, 0):
        assert out['upconvs'][b].shape == (B, WIDTHS[b], H // 2 ** (b + 1),
                                           W // 2 ** (b + 1)), b
    assert out['upconvs'][4].shape == (B, WIDTHS[4], H // 16, W // 16)
    assert sorted(out['outputs']) == [0, 1, 2, 3]
    for s in (0, 1, 2, 3):
        disp = out['outputs'][s]
        assert disp.shape == (B, 1, H // 2 ** s, W // 2 ** s), s
        assert disp.min() > 0 and disp.max() < 1, s  # sigmoid disparity


def test_output_stride_32_encoder_is_upsampled_after_the_aspp():
    out = decoder()(features(strides=(2, 4, 8, 16, 32)))
    assert out['upconvs'][4].shape == (B, WIDTHS[4], H // 32, W // 32)
    assert out['features'][4].shape == (B, WIDTHS[4], H // 16, W // 16)
    assert out['outputs'][0].shape == (B, 1, H, W)


def test_aspp_block_structure():
    aspp = decoder().blocks['block4'].conv_in
    dilations = [m.conv.dilation[0] for m in aspp.branches]
    assert dilations == [1, 6, 12, 18]
    assert [m.conv.kernel_size[0] for m in aspp.branches] == [1, 3, 3, 3]
    assert aspp.fuse.conv.in_channels == 5 * WIDTHS[4]  # pool + 1x1 + three 3x3
    assert isinstance(aspp.fuse.bn, nn.BatchNorm2d)
    # image pooling is global: a change anywhere changes every output pixel
    aspp.eval()
    x = torch.randn(1, ENC[4], 4, 6)
    y = x.clone()
    y[..., 0, 0] += 10.0
    with torch.no_grad():
        pooled_x = aspp.image_pool(x)
        pooled_y = aspp.image_pool(y)
    assert not torch.allclose(pooled_x, pooled_y)


def test_semantic_decoder_matches_the_depth_decoder_except_the_heads():
    depth = decoder().state_dict()
    sem = decoder(out_channels=19, scales=(0, )).state_dict()
    body = {k: v.shape for k, v in depth.items() if not k.startswith('heads.')}
    assert body == {k: v.shape for k, v in sem.items() if not k.startswith('heads.')}
    assert sorted(k for k in sem if k.startswith('heads.')) == \
        ['heads.scale0.bias', 'heads.scale0.weight']
    assert sem['heads.scale0.weight'].shape == (19, WIDTHS[0], 3, 3)
    assert depth['heads.scale0.weight'].shape == (1, WIDTHS[0], 3, 3)
    assert {k for k in depth if k.startswith('heads.')} == {
        f'heads.scale{s}.{p}' for s in range(4) for p in ('weight', 'bias')}
    out = decoder(out_channels=19, scales=(0, ))(features())['outputs']
    assert list(out) == [0] and out[0].shape == (B, 19, H, W)
    assert out[0].min() < 0 or out[0].max() > 1  # raw logits, no sigmoid


# ------------------------------------------------------------- distillation
def distillation(channels=6):
    torch.manual_seed(3)
    module = MODELS.build(dict(type='AttentionGuidedDistillation', channels=channels))
    with torch.no_grad():  # non-zero biases so that a missing bias shows
        for conv in (module.depth_gate, module.sem_gate, module.sem_to_depth,
                     module.depth_to_sem):
            conv.bias.normal_()
    return module


def test_distillation_matches_the_formula_by_hand():
    module = distillation()
    depth, sem = torch.randn(B, 6, 10, 12), torch.randn(B, 6, 10, 12)

    def conv(x, layer):
        return F.conv2d(x, layer.weight, layer.bias, padding=1)

    gate_d, gate_s = module.gates(depth, sem)
    assert gate_d.shape == gate_s.shape == (B, 6, 10, 12)
    assert 0 < gate_d.min() and gate_d.max() < 1
    assert 0 < gate_s.min() and gate_s.max() < 1
    hand_gd = torch.sigmoid(conv(depth, module.depth_gate))
    hand_gs = torch.sigmoid(conv(sem, module.sem_gate))
    assert torch.allclose(gate_d, hand_gd, atol=1e-6)
    assert torch.allclose(gate_s, hand_gs, atol=1e-6)
    out_d, out_s = module(depth, sem)
    assert torch.allclose(out_d, depth + hand_gd * conv(sem, module.sem_to_depth),
                          atol=1e-5)
    assert torch.allclose(out_s, sem + hand_gs * conv(depth, module.depth_to_sem),
                          atol=1e-5)
    # the gate of each task is its own: changing the semantic features does not
    # change the depth gate, only the message
    gate_d2, _ = module.gates(depth, sem + 1.0)
    assert torch.equal(gate_d, gate_d2)


def grad_norms(module):
    return {n: float(p.grad.abs().sum()) if p.grad is not None else 0.0
            for n, p in module.named_parameters()}


def test_distillation_in_lockstep_passes_gradients_between_the_decoders():
    depth_dec, sem_dec = decoder(), decoder(out_channels=19, scales=(0, ))
    exchange = nn.ModuleDict({'1': distillation(WIDTHS[1])})
    feats = features()
    d_out, s_out = decode_in_lockstep((depth_dec, sem_dec), feats, exchange)

    # a loss on the semantic output reaches the depth decoder's blocks up to the
    # distillation (block 1), and neither its later block 0 nor its heads
    s_out['outputs'][0].square().mean().backward()
    g = grad_norms(depth_dec)
    for b in (4, 3, 2, 1):
        assert any(v > 0 for k, v in g.items() if k.startswith(f'blocks.block{b}.')), b
    assert all(v == 0 for k, v in g.items()
               if k.startswith('blocks.block0.') or k.startswith('heads.'))
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in sem_dec.parameters())
    gx = grad_norms(exchange)
    assert gx['1.depth_to_sem.weight'] > 0 and gx['1.sem_gate.weight'] > 0
    assert gx['1.sem_to_depth.weight'] == 0 and gx['1.depth_gate.weight'] == 0

    # and a loss on the depth output reaches the semantic decoder the same way
    for module in (depth_dec, sem_dec, exchange):
        module.zero_grad()
    d_out, s_out = decode_in_lockstep((depth_dec, sem_dec), feats, exchange)
    d_out['outputs'][0].mean().backward()
    g = grad_norms(sem_dec)
    for b in (4, 3, 2, 1):
        assert any(v > 0 for k, v in g.items() if k.startswith(f'blocks.block{b}.')), b
    assert all(v == 0 for k, v in g.items()
               if k.startswith('blocks.block0.') or k.startswith('heads.'))
    gx = grad_norms(exchange)
    assert gx['1.sem_to_depth.weight'] > 0 and gx['1.depth_gate.weight'] > 0

    # without the exchange the decoders are independent
    for module in (depth_dec, sem_dec):
        module.zero_grad()
    d_out, s_out = decode_in_lockstep((depth_dec, sem_dec), feats, None)
    d_out['outputs'][0].mean().backward()
    assert all(v == 0 for v in grad_norms(sem_dec).values())


def test_lockstep_features_are_the_distilled_ones():
    depth_dec, sem_dec = decoder(), decoder(out_channels=19, scales=(0, ))
    module = distillation(WIDTHS[1])
    feats = features()
    with torch.no_grad():
        plain_d, plain_s = decode_in_lockstep((depth_dec, sem_dec), feats, None)
        d, s = decode_in_lockstep((depth_dec, sem_dec), feats,
                                  nn.ModuleDict({'1': module}))
        hand_d, hand_s = module(plain_d['features'][1], plain_s['features'][1])
    for b in (4, 3, 2):  # before the distillation: unchanged
        assert torch.equal(d['features'][b], plain_d['features'][b])
    assert torch.allclose(d['features'][1], hand_d, atol=1e-6)
    assert torch.allclose(s['features'][1], hand_s, atol=1e-6)
    assert not torch.allclose(d['outputs'][0], plain_d['outputs'][0])
