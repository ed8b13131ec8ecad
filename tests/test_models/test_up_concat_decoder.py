import pytest
import torch

from mmdepthsem.models.necks import UpConcatDecoder


def _features(batch=2, size=(32, 48)):
    h, w = size
    return [torch.randn(batch, c, h // s, w // s)
            for c, s in zip((8, 16, 32, 64), (4, 8, 16, 32))]


def test_shapes_all_levels_and_odd_sizes():
    decoder = UpConcatDecoder(in_channels=[8, 16, 32, 64], channels=[12, 24, 40])
    outs = decoder(_features())
    assert [o.shape[1] for o in outs] == [12, 24, 40, 64]
    assert outs[0].shape[-2:] == (8, 12)
    # odd sizes (e.g. 7x9 at stride 4 with 4x5 at stride 8) still fuse
    feats = [torch.randn(1, 8, 7, 9), torch.randn(1, 16, 4, 5),
             torch.randn(1, 32, 2, 3), torch.randn(1, 64, 1, 2)]
    assert decoder(feats)[0].shape == (1, 12, 7, 9)


def test_coarsest_level_is_the_encoder_feature_and_out_levels():
    decoder = UpConcatDecoder(in_channels=[8, 16, 32, 64], channels=[12, 24, 40],
                              out_levels=[0, 3])
    feats = _features()
    d1, d4 = decoder(feats)
    assert torch.equal(d4, feats[-1])
    assert decoder.out_channels == [12, 64]
    assert d1.shape[1] == 12


def test_skip_information_reaches_the_output():
    decoder = UpConcatDecoder(in_channels=[8, 16, 32, 64], channels=[12, 24, 40],
                              out_levels=[0]).eval()
    feats = [f.requires_grad_() for f in _features(batch=1)]
    decoder(feats)[0].sum().backward()
    assert all(f.grad.abs().sum() > 0 for f in feats)


def test_bad_configuration_and_inputs():
    with pytest.raises(ValueError, match='channels'):
        UpConcatDecoder(in_channels=[8, 16], channels=[4, 4])
    decoder = UpConcatDecoder(in_channels=[8, 16], channels=[4])
    with pytest.raises(ValueError, match='in_channels'):
        decoder([torch.randn(1, 9, 8, 8), torch.randn(1, 16, 4, 4)])
