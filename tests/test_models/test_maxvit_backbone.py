"""MaxViTBackbone: timm features, the window/size contract and weight loading."""
import math

import pytest
import timm
import torch
from mmengine.runner import load_checkpoint
from timm.layers.pos_embed_rel import resize_rel_pos_bias_table

from mmdepthsem.models.backbones import MaxViTBackbone
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()
NAME = 'maxvit_pico_rw_256'  # flat (2w-1)^2 x heads tables, like the paper's rel-pos
TABLE = 'relative_position_bias_table'


def test_outputs_are_e1_to_e4_at_strides_4_to_32():
    backbone = MODELS.build(dict(type='MaxViTBackbone', model_name=NAME,
                                 img_size=(64, 96)))
    assert backbone.strides == [4, 8, 16, 32]
    assert backbone.out_channels == [32, 64, 128, 256]
    feats = backbone(torch.randn(2, 3, 64, 96))
    assert [tuple(f.shape) for f in feats] == [(2, 32, 16, 24), (2, 64, 8, 12),
                                               (2, 128, 4, 6), (2, 256, 2, 3)]


def test_feature_index_zero_is_the_stride_2_stem():
    backbone = MaxViTBackbone(NAME, img_size=(64, 96), out_indices=(0, 1))
    assert backbone.strides == [2, 4]
    assert [n for n, _ in backbone.model.named_children()] == ['stem', 'stages_0']


def test_window_and_grid_follow_img_size():
    small = MaxViTBackbone(NAME, img_size=(64, 96))
    assert small.partition_size == (2, 3) and small.size_multiple == (64, 96)
    other = MaxViTBackbone('maxvit_rmlp_pico_rw_256', img_size=(96, 128))
    assert other.partition_size == (3, 4) and other.size_multiple == (96, 128)
    for module in other.modules():
        if hasattr(module, 'partition_size'):
            assert tuple(module.partition_size) == (3, 4)


def test_incompatible_input_names_the_size_and_the_fix():
    backbone = MaxViTBackbone(NAME, img_size=(64, 96))
    with pytest.raises(ValueError) as err:
        backbone(torch.randn(1, 3, 64, 64))
    message = str(err.value)
    for text in ('64x64', 'img_size=(64, 96)', 'multiple of 96', 'pad_to_partition'):
        assert text in message


def test_pad_to_partition_crops_features_of_the_zero_padded_input():
    backbone = MaxViTBackbone(NAME, img_size=(64, 96), pad_to_partition=True).eval()
    x = torch.randn(1, 3, 70, 100)
    with torch.no_grad():
        feats = backbone(x)
        padded = backbone.model(torch.nn.functional.pad(x, (0, 92, 0, 58)))
    for feat, full, stride in zip(feats, padded, backbone.strides):
        assert feat.shape[-2:] == (math.ceil(70 / stride), math.ceil(100 / stride))
        torch.testing.assert_close(feat, full[..., :feat.shape[2], :feat.shape[3]])
    exact = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        for a, b in zip(backbone(exact), backbone.model(exact)):
            torch.testing.assert_close(a, b)


def _tables(state):
    return {k: v for k, v in state.items() if k.endswith(TABLE)}


@pytest.fixture(scope='module')
def timm_checkpoint(tmp_path_factory):
    """A timm classifier's state dict at 64x64 (square 2x2 windows)."""
    torch.manual_seed(0)
    source = timm.create_model(NAME, img_size=(64, 64))
    path = tmp_path_factory.mktemp('ckpt') / 'maxvit_64.pth'
    torch.save(source.state_dict(), path)
    return path, source.state_dict()


def test_timm_checkpoint_through_init_cfg_resizes_tables(timm_checkpoint):
    path, source = timm_checkpoint
    backbone = MaxViTBackbone(NAME, img_size=(96, 128),
                              init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    loaded = backbone.model.state_dict()
    # the test is meaningful: plain loading would meet mismatched shapes
    assert source[f'stages.0.blocks.0.attn_block.attn.rel_pos.{TABLE}'].shape[0] == 9
    assert loaded[f'stages_0.blocks.0.attn_block.attn.rel_pos.{TABLE}'].shape[0] == 35
    backbone.init_weights()
    loaded = backbone.model.state_dict()
    tables = _tables(loaded)
    assert len(tables) == 2 * (2 + 2 + 5 + 2)  # block + grid in 11 MaxViT blocks
    for key, value in loaded.items():
        src = source[key.replace('stages_', 'stages.', 1)]
        if key.endswith(TABLE):
            expected = resize_rel_pos_bias_table(src, new_window_size=(3, 4),
                                                 new_bias_shape=value.shape)
            assert not torch.equal(value[:9], src)  # actually resampled
        else:
            expected = src
        torch.testing.assert_close(value, expected, rtol=0, atol=0, msg=key)
    with torch.no_grad():
        assert all(torch.isfinite(f).all() for f in backbone(torch.randn(1, 3, 96, 128)))


def test_both_weight_paths_equal_timms_own_pretrained_loading(timm_checkpoint):
    path, _ = timm_checkpoint
    reference = timm.create_model(NAME, features_only=True, img_size=(96, 128),
                                  pretrained=True,
                                  pretrained_cfg_overlay=dict(file=str(path)))
    via_init_cfg = MaxViTBackbone(NAME, img_size=(96, 128), init_cfg=dict(
        type='Pretrained', checkpoint=str(path)))
    via_timm = MaxViTBackbone(NAME, img_size=(96, 128), pretrained=True,
                              pretrained_cfg_overlay=dict(file=str(path)))
    # building loads nothing: weights come with init_weights (offline builds)
    first = f'stages_0.blocks.0.attn_block.attn.rel_pos.{TABLE}'
    assert not torch.equal(via_timm.model.state_dict()[first],
                           reference.state_dict()[first])
    expected = reference.state_dict()
    for backbone in (via_init_cfg, via_timm):
        backbone.init_weights()
        loaded = backbone.model.state_dict()
        assert set(loaded) == set(expected)
        for key in loaded:
            torch.testing.assert_close(loaded[key], expected[key], rtol=0, atol=0,
                                       msg=key)
    with pytest.raises(ValueError, match='not both'):
        MaxViTBackbone(NAME, pretrained=True, init_cfg=dict(type='Pretrained',
                                                            checkpoint=str(path)))


class _Wrapper(torch.nn.Module):

    def __init__(self, img_size):
        super().__init__()
        self.backbone = MaxViTBackbone(NAME, img_size=img_size)
        self.head = torch.nn.Linear(4, 4)


def test_whole_model_checkpoint_loads_into_another_img_size(tmp_path):
    torch.manual_seed(1)
    stage1 = _Wrapper((64, 64))
    path = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=stage1.state_dict()), path)
    stage2 = _Wrapper((96, 128))
    load_checkpoint(stage2, str(path), strict=True)  # load_from's mechanism
    source, loaded = stage1.state_dict(), stage2.state_dict()
    assert set(source) == set(loaded)
    for key, value in loaded.items():
        if key.endswith(TABLE):
            assert value.shape != source[key].shape
            expected = resize_rel_pos_bias_table(source[key], (3, 4), value.shape)
            torch.testing.assert_close(value, expected, rtol=0, atol=0)
        else:
            torch.testing.assert_close(value, source[key], rtol=0, atol=0)


def test_prefixed_whole_model_checkpoint_through_init_cfg(tmp_path):
    stage1 = _Wrapper((64, 64))
    path = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=stage1.state_dict()), path)
    backbone = MaxViTBackbone(NAME, img_size=(64, 64), init_cfg=dict(
        type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    backbone.init_weights()
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, stage1.backbone.state_dict()[key])


def test_same_window_roundtrip_is_exact_and_non_square_resize_is_refused():
    source = MaxViTBackbone(NAME, img_size=(64, 96))  # 2x3 windows: 15-entry tables
    same = MaxViTBackbone(NAME, img_size=(64, 96))
    same.load_state_dict(source.state_dict(), strict=True)
    for key, value in same.state_dict().items():
        assert torch.equal(value, source.state_dict()[key]), key
    other = MaxViTBackbone(NAME, img_size=(96, 128))
    with pytest.raises(ValueError, match='window'):
        other.load_state_dict(source.state_dict())


def test_non_maxvit_model_is_refused():
    with pytest.raises(ValueError, match='not a timm MaxViT'):
        MaxViTBackbone('resnet18')
