import pytest
import timm
import torch
import torch.nn as nn

from mmdepthsem.models.decode_heads import MonodepthDepthDecoder
from mmdepthsem.registry import MODELS

R18 = (64, 64, 128, 256, 512)
R50 = (64, 256, 512, 1024, 2048)


def _features(channels, batch=2, size=(64, 96)):
    h, w = size
    return [torch.randn(batch, c, h // s, w // s)
            for c, s in zip(channels, (2, 4, 8, 16, 32))]


class _Record(nn.Module):
    """Test hook: remembers its input and adds a constant."""

    def __init__(self, value):
        super().__init__()
        self.value = value
        self.seen = None

    def forward(self, x):
        self.seen = x
        return x + self.value


@pytest.mark.parametrize('channels', [R18, R50])
def test_output_strides_shapes_and_sigmoid_range(channels):
    torch.manual_seed(0)
    decoder = MODELS.build(dict(type='MonodepthDepthDecoder', in_channels=channels))
    out = decoder(_features(channels))
    assert sorted(out['outputs']) == [0, 1, 2, 3]
    for s, disp in out['outputs'].items():
        assert disp.shape == (2, 1, 64 // 2 ** s, 96 // 2 ** s)
        assert disp.min() > 0 and disp.max() < 1
        # PyTorch's default initialisation keeps the sigmoid far from saturation
        assert disp.min() > 0.05 and disp.max() < 0.95
    widths = (16, 32, 64, 128, 256)
    assert sorted(out['features']) == [0, 1, 2, 3, 4]
    for b, feat in out['features'].items():
        assert feat.shape == (2, widths[b], 64 // 2 ** b, 96 // 2 ** b)


def test_block_layout_and_skip_widths():
    decoder = MonodepthDepthDecoder(in_channels=R50)
    # block 4 starts from the stride-32 feature; block b's second conv sees its own
    # width plus the stride-2**b skip (none for b = 0)
    assert decoder.blocks['block4'].conv_in.conv.in_channels == 2048
    assert decoder.blocks['block3'].conv_in.conv.in_channels == 256
    assert decoder.blocks['block3'].conv_out.conv.in_channels == 128 + 512
    assert decoder.blocks['block1'].conv_out.conv.in_channels == 32 + 64
    assert decoder.blocks['block0'].conv_out.conv.in_channels == 16
    block = decoder.blocks['block2'].conv_in
    assert block.conv.padding_mode == 'reflect' and block.conv.padding == (1, 1)
    assert block.conv.kernel_size == (3, 3)
    assert isinstance(block.act, nn.ELU)
    head = decoder.heads['scale1']
    assert head.padding_mode == 'reflect' and head.in_channels == 32


def test_decodes_a_timm_resnet18_at_a_size_not_divisible_by_32():
    encoder = timm.create_model('resnet18', features_only=True, pretrained=False)
    decoder = MonodepthDepthDecoder(in_channels=encoder.feature_info.channels())
    with torch.no_grad():
        out = decoder(encoder(torch.randn(1, 3, 48, 80)))
    assert out['outputs'][0].shape == (1, 1, 48, 80)
    assert out['outputs'][3].shape == (1, 1, 6, 10)


def test_block_hooks_run_after_the_skip_concat_conv():
    torch.manual_seed(0)
    plain = MonodepthDepthDecoder(scales=(0, 2))
    hook = _Record(1.0)
    hooked = MonodepthDepthDecoder(scales=(0, 2), block_hooks={3: hook})
    hooked.load_state_dict(plain.state_dict(), strict=False)
    assert list(hooked.block_hooks) == ['3']
    feats = _features(R18, batch=1)
    ref, out = plain(feats), hooked(feats)
    assert sorted(out['outputs']) == [0, 2]
    # the hook saw block 3's conv output and its result is what flows on
    assert hook.seen.shape == (1, 128, 8, 12)
    assert torch.allclose(hook.seen, ref['features'][3])
    assert torch.allclose(out['features'][3], ref['features'][3] + 1)
    assert torch.equal(out['features'][4], ref['features'][4])
    assert not torch.allclose(out['outputs'][0], ref['outputs'][0])
    # hooks can come from configs (any registered shape-preserving module)
    built = MonodepthDepthDecoder(block_hooks={'2': dict(type='ELU')})
    assert isinstance(built.block_hooks['2'], nn.ELU)
    with pytest.raises(ValueError, match='block_hooks'):
        MonodepthDepthDecoder(block_hooks={5: dict(type='ELU')})


def test_stepwise_api_reproduces_forward():
    torch.manual_seed(0)
    decoder = MonodepthDepthDecoder()
    feats = _features(R18, batch=1)
    out = decoder(feats)
    x = feats[4]
    for b in (4, 3, 2, 1, 0):
        x = decoder.forward_block(b, x, feats)
        assert torch.equal(x, out['features'][b])
        if b in decoder.scales:
            assert torch.equal(decoder.forward_head(b, x), out['outputs'][b])


def test_raw_outputs_for_a_semantic_decoder_of_the_same_architecture():
    decoder = MonodepthDepthDecoder(out_channels=19, out_activation=None, scales=(0,))
    logits = decoder(_features(R18, batch=1))['outputs'][0]
    assert logits.shape == (1, 19, 64, 96)
    assert logits.min() < 0 or logits.max() > 1


def test_gradients_reach_every_block_and_head():
    torch.manual_seed(0)
    decoder = MonodepthDepthDecoder()
    out = decoder(_features(R18, batch=1))
    sum(d.mean() for d in out['outputs'].values()).backward()
    for name, p in decoder.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_bad_configuration_and_inputs():
    with pytest.raises(ValueError, match='5 values'):
        MonodepthDepthDecoder(in_channels=(64, 128, 256, 512))
    with pytest.raises(ValueError, match='scales'):
        MonodepthDepthDecoder(scales=(0, 5))
    with pytest.raises(ValueError, match='in_channels'):
        MonodepthDepthDecoder()(_features(R50, batch=1))
