"""SDE-Seg SDE models -> mmdepthsem (tools/model_converters/sdeseg_to_mmdepthsem.py).

No official file is downloaded. The fake official folder of a released SDE model
(``mono_cityscapes_1024x512_r101dil_aspp_dec{5,6}_*``) is built here, with random
values, from the official layer definitions
(``lhoyer/improving_segmentation_with_selfsupervised_depth``):

- ``encoder.pth``: ``ResnetEncoder`` = ``encoder.`` + a torchvision ResNet-101 with
  ``replace_stride_with_dilation=[False, False, True]``, ``fc`` replaced by
  ``nn.Identity`` before saving (``models/utils.py``); ``pose_encoder.pth`` the same
  for a ResNet-18 over 6 channels; no non-tensor entries (``save_monodepth_models``
  saves bare state dicts, and no ``encoder.pth`` when the encoder was frozen);
- ``depth.pth``: ``DepthDecoder(intermediate_aspp=True, aspp_rates=[6, 12, 18],
  num_ch_dec=[64, 128, 128, 256, 256])``: ``convs`` per block ``i = 4 .. 0`` =
  ``('upconv', i, 0)``, ``('skip_proj', i)`` (``i > 0``, an ``nn.Identity``: a
  position without tensors), ``('upconv', i, 1)``, then ``('dispconv', s)``, saved as
  ``decoder.<position>``. ``('upconv', 4, 0)`` is ``models/model_parts.py``'s ``ASPP``
  (``convs.0`` 1×1 + BN, ``convs.1-3`` torchvision ``ASPPConv``, ``convs.4``
  ``ASPPPooling``, ``project`` = 1×1 conv without bias + BN + ReLU + Dropout); a
  ``ConvBlock`` stores ``block.0.conv.*``, a ``Conv3x3`` ``conv.*``;
- ``pose.pth``: ``PoseDecoder(num_frames_to_predict_for=2)``, ``net.0`` .. ``net.3``.

The reference forward passes follow ``DepthDecoder.forward`` (no upsampling before
``('upconv', i, 1)`` when the ASPP output already has the skip's width), the ASPP
above and torchvision's ResNet.
"""
import shutil

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmengine.config import Config
from torch import nn

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.checkpoint import load_checkpoint_weights_only
from mmdepthsem.utils.tool_config import model_cfg_without_downloads

from ..conftest import REPO, load_tool
from .test_model_converters import (official_pose_decoder, prefixed, randomise_bn,
                                     reference_features, reference_pose)

torch.set_num_threads(1)

SCRIPT = 'tools/model_converters/sdeseg_to_mmdepthsem.py'
CONFIG = REPO / 'configs' / 'sdeseg' / 'sde_stage_a_resnet101_cityscapes.py'
NUM_CH_ENC = (64, 256, 512, 1024, 2048)
NUM_CH_DEC = (64, 128, 128, 256, 256)  # dec5 / dec6, blocks i = 0 .. 4
ASPP_RATES = (6, 12, 18)
SCALES = (0, 1, 2, 3)


@pytest.fixture(scope='module')
def tool():
    return load_tool(SCRIPT)


@pytest.fixture(scope='module')
def model():
    """The target model of the official config, without downloads, in eval mode."""
    register_all_modules()
    cfg = Config.fromfile(str(CONFIG))
    return MODELS.build(model_cfg_without_downloads(cfg.model)).eval()


# ------------------------------------------------------------ fake official files
def official_encoder(arch: str, in_chans: int, seed: int, **kwargs) -> nn.Module:
    """A torchvision ResNet as the official ``ResnetEncoder`` holds it."""
    torch.manual_seed(seed)
    net = getattr(torchvision.models, arch)(weights=None, **kwargs)
    if in_chans != 3:
        net.conv1 = nn.Conv2d(in_chans, 64, 7, stride=2, padding=3, bias=False)
    return randomise_bn(net)


def official_depth_positions() -> dict:
    order = []
    for i in range(4, -1, -1):
        order += [('upconv', i, 0)] + ([('skip_proj', i)] if i > 0 else []) \
            + [('upconv', i, 1)]
    order += [('dispconv', s) for s in SCALES]
    return {name: n for n, name in enumerate(order)}


def official_depth_decoder(seed=0) -> dict:
    """``depth.pth`` of dec5 / dec6 with random values."""
    gen = torch.Generator().manual_seed(seed)
    pos, enc, dec = official_depth_positions(), NUM_CH_ENC, NUM_CH_DEC
    state = {}

    def rand(*shape, scale=0.05):
        return scale * torch.randn(*shape, generator=gen)

    def conv_bn(conv, bn, cout, cin, k):
        state[f'{conv}.weight'] = rand(cout, cin, k, k, scale=0.02)
        state[f'{bn}.weight'] = 1.0 + rand(cout, scale=0.2)
        state[f'{bn}.bias'] = rand(cout, scale=0.2)
        state[f'{bn}.running_mean'] = rand(cout, scale=0.2)
        state[f'{bn}.running_var'] = 1.0 + rand(cout, scale=0.2).abs()
        state[f'{bn}.num_batches_tracked'] = torch.tensor(300000)

    def conv3x3(name, cout, cin):
        state[f'{name}.weight'] = rand(cout, cin, 3, 3)
        state[f'{name}.bias'] = rand(cout)

    aspp = f'decoder.{pos[("upconv", 4, 0)]}'
    conv_bn(f'{aspp}.convs.0.0', f'{aspp}.convs.0.1', dec[4], enc[4], 1)
    for r in range(1, len(ASPP_RATES) + 1):
        conv_bn(f'{aspp}.convs.{r}.0', f'{aspp}.convs.{r}.1', dec[4], enc[4], 3)
    pool = len(ASPP_RATES) + 1
    conv_bn(f'{aspp}.convs.{pool}.1', f'{aspp}.convs.{pool}.2', dec[4], enc[4], 1)
    conv_bn(f'{aspp}.project.0', f'{aspp}.project.1', dec[4], (pool + 1) * dec[4], 1)
    for i in range(4, -1, -1):
        if i < 4:
            conv3x3(f'decoder.{pos[("upconv", i, 0)]}.block.0.conv', dec[i], dec[i + 1])
        conv3x3(f'decoder.{pos[("upconv", i, 1)]}.block.0.conv', dec[i],
                dec[i] + (enc[i - 1] if i > 0 else 0))
    for s in SCALES:
        conv3x3(f'decoder.{pos[("dispconv", s)]}.conv', 1, dec[s])
    return state


def without_fc(net: nn.Module) -> dict:
    """``encoder.*`` as saved: the trainer set ``fc = nn.Identity()`` first."""
    return {k: v for k, v in prefixed(net).items() if not k.startswith('encoder.fc.')}


def write_official_folder(folder, with_encoder=True):
    """Write an SDE model folder; returns the official networks / state dicts."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder = official_encoder('resnet101', 3, seed=0,
                               replace_stride_with_dilation=[False, False, True])
    pose_encoder = official_encoder('resnet18', 6, seed=1)
    files = dict(depth=official_depth_decoder(), pose_encoder=without_fc(pose_encoder),
                 pose=official_pose_decoder(512, seed=2))
    if with_encoder:
        files['encoder'] = without_fc(encoder)
    for part, state in files.items():
        torch.save(state, folder / f'{part}.pth')
    return dict(encoder=encoder, pose_encoder=pose_encoder, depth=files['depth'],
                pose=files['pose'])


# ------------------------------------------------- reference forward passes
def _conv3x3_reflect(x, state, name):
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), state[f'{name}.weight'],
                    state[f'{name}.bias'])


def _bn_relu(x, state, name):
    x = F.batch_norm(x, state[f'{name}.running_mean'], state[f'{name}.running_var'],
                     state[f'{name}.weight'], state[f'{name}.bias'], training=False,
                     eps=1e-5)
    return F.relu(x)


def reference_aspp(state, prefix, x):
    """``models/model_parts.py`` ``ASPP.forward`` in eval mode (Dropout is off)."""
    out = [_bn_relu(F.conv2d(x, state[f'{prefix}convs.0.0.weight']), state,
                    f'{prefix}convs.0.1')]
    for r, rate in enumerate(ASPP_RATES, start=1):
        y = F.conv2d(x, state[f'{prefix}convs.{r}.0.weight'], padding=rate,
                     dilation=rate)
        out.append(_bn_relu(y, state, f'{prefix}convs.{r}.1'))
    pool = len(ASPP_RATES) + 1
    y = F.conv2d(F.adaptive_avg_pool2d(x, 1), state[f'{prefix}convs.{pool}.1.weight'])
    y = _bn_relu(y, state, f'{prefix}convs.{pool}.2')
    out.append(F.interpolate(y, size=x.shape[-2:], mode='bilinear',
                             align_corners=False))
    y = F.conv2d(torch.cat(out, 1), state[f'{prefix}project.0.weight'])
    return _bn_relu(y, state, f'{prefix}project.1')


def reference_depth_decoder(state, feats):
    """The official ``DepthDecoder.forward`` (``use_skips``, ``intermediate_aspp``):
    disparities per scale and each block's output."""
    pos = official_depth_positions()
    disp, blocks, x = {}, {}, feats[-1]
    for i in range(4, -1, -1):
        if i == 4:
            x = reference_aspp(state, f'decoder.{pos[("upconv", 4, 0)]}.', x)
        else:
            x = F.elu(_conv3x3_reflect(
                x, state, f'decoder.{pos[("upconv", i, 0)]}.block.0.conv'))
        if i == 0 or x.shape[-1] < feats[i - 1].shape[-1]:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = torch.cat([x, feats[i - 1]], 1) if i > 0 else x
        x = F.elu(_conv3x3_reflect(
            x, state, f'decoder.{pos[("upconv", i, 1)]}.block.0.conv'))
        blocks[i] = x
        if i in SCALES:
            disp[i] = torch.sigmoid(_conv3x3_reflect(
                x, state, f'decoder.{pos[("dispconv", i)]}.conv'))
    return disp, blocks


def random_features(height=64, width=96, seed=0):
    """Encoder features of an output-stride-16 ResNet-101 (strides 2, 4, 8, 16, 16)."""
    gen = torch.Generator().manual_seed(seed)
    strides = (2, 4, 8, 16, 16)
    return [torch.randn(1, c, height // s, width // s, generator=gen)
            for c, s in zip(NUM_CH_ENC, strides)]


# ------------------------------------------------------------------ tests
@pytest.fixture(scope='module')
def converted(tool, tmp_path_factory):
    folder = tmp_path_factory.mktemp('sdeseg') / 'mono_cityscapes_dec6'
    official = write_official_folder(folder)
    return folder, official, tool.convert_folder(str(folder), str(CONFIG))


def test_positions_skip_the_identity_slots(tool):
    order = tool.depth_decoder_order()
    assert order == list(official_depth_positions())
    assert order.index(('upconv', 4, 1)) == 2 and order.index(('upconv', 0, 0)) == 12
    assert [order.index(('dispconv', s)) for s in SCALES] == [14, 15, 16, 17]


def test_table_covers_exactly_the_official_config_model(tool, model):
    """The table targets exactly the keys of the model built from the official
    config: renaming a layer of the model (or of the table) fails here."""
    table = tool.build_key_map()
    targets = [rule.target for rule in table.values()]
    assert len(targets) == len(set(targets))
    assert set(targets) == set(model.state_dict())
    depth = official_depth_decoder()
    assert {k for k in table if k.startswith('depth/')} == \
        {f'depth/{k}' for k in depth}
    aspp = 'blocks.block4.conv_in.'
    for official, ours in [
            ('decoder.0.convs.4.1.weight', f'{aspp}image_pool.1.conv.weight'),
            ('decoder.0.convs.2.1.running_var', f'{aspp}branches.2.bn.running_var'),
            ('decoder.0.project.0.weight', f'{aspp}fuse.conv.weight'),
            ('decoder.2.block.0.conv.weight', 'blocks.block4.conv_out.conv.weight'),
            ('decoder.3.block.0.conv.bias', 'blocks.block3.conv_in.conv.bias'),
            ('decoder.5.block.0.conv.weight', 'blocks.block3.conv_out.conv.weight'),
            ('decoder.13.block.0.conv.weight', 'blocks.block0.conv_out.conv.weight'),
            ('decoder.15.conv.weight', 'heads.scale1.weight')]:
        assert table[f'depth/{official}'].target == f'depth_decoder.{ours}'
    assert table['pose/net.3.weight'].transform is not None  # 2 frames -> frame 0


def test_the_default_decoder_lacks_the_official_block4():
    """The class defaults (the paper reading; the configs pass the release's):
    no ``conv_out`` in block 4 and a 3×3 fusion conv."""
    register_all_modules()
    official = MODELS.build(dict(type='ASPPUNetDecoder', channels=NUM_CH_DEC,
                                 aspp_skip_conv=True, aspp_fuse_kernel_size=1))
    default = MODELS.build(dict(type='ASPPUNetDecoder', channels=NUM_CH_DEC))
    ours, theirs = default.state_dict(), official.state_dict()
    assert sorted(set(theirs) - set(ours)) == [
        'blocks.block4.conv_out.conv.bias', 'blocks.block4.conv_out.conv.weight']
    assert ours['blocks.block4.conv_in.fuse.conv.weight'].shape == (256, 1280, 3, 3)
    assert theirs['blocks.block4.conv_out.conv.weight'].shape == (256, 256 + 1024, 3, 3)


def test_converted_model_loads_strictly_and_reproduces_the_official_forward(
        tool, model, converted):
    _, official, checkpoint = converted
    state, meta = checkpoint['state_dict'], checkpoint['meta']
    model.load_state_dict(state, strict=True)
    assert meta['scales'] == [0, 1, 2, 3] and meta['depth_encoder'] == 'resnet101'
    assert meta['encoder_source'].endswith('encoder.pth') and meta['dropped'] == []
    assert list(model.data_preprocessor.mean.flatten()) == [114.75] * 3
    fuse = official['depth']['decoder.0.project.0.weight']
    assert torch.equal(state['depth_decoder.blocks.block4.conv_in.fuse.conv.weight'],
                       torch.cat([fuse[:, 1024:], fuse[:, :1024]], 1))

    with torch.no_grad():
        # the dilated ResNet-101 (output stride 16) and the ResNet-18 pose net
        image = torch.randn(1, 3, 64, 64)
        for ours, ref in zip(model.backbone(image),
                             reference_features(official['encoder'], image)):
            assert ours.shape == ref.shape
            torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)
        frames = torch.randn(2, 6, 64, 96)
        ref_pose = reference_pose(
            official['pose'], reference_features(official['pose_encoder'], frames)[-1])
        for ours, ref in zip(model.pose_net(frames), ref_pose):
            torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6)

        # the depth decoder on random features: block 4 (ASPP + skip conv), the
        # up-blocks and the four disparity heads
        feats = random_features()
        out = model.depth_decoder(feats)
        ref_disp, ref_blocks = reference_depth_decoder(official['depth'], feats)
        for b in (4, 3, 0):
            torch.testing.assert_close(out['features'][b], ref_blocks[b],
                                       rtol=1e-4, atol=1e-4)
        assert sorted(out['outputs']) == [0, 1, 2, 3]
        for s, ref in ref_disp.items():
            assert out['outputs'][s].shape == (1, 1, 64 // 2**s, 96 // 2**s)
            torch.testing.assert_close(out['outputs'][s], ref, rtol=1e-4, atol=1e-5)

        # the branch order matters: the official fusion weight unrotated differs
        fuse_conv = model.depth_decoder.blocks.block4.conv_in.fuse.conv
        rotated = fuse_conv.weight.clone()
        fuse_conv.weight.copy_(fuse)
        try:
            wrong = model.depth_decoder(feats)['features'][4]
        finally:
            fuse_conv.weight.copy_(rotated)
        assert (wrong - ref_blocks[4]).abs().max() > 1e-2


def test_a_renamed_target_layer_fails_with_a_clear_error(tool, converted, model):
    folder, _, _ = converted
    tensors, _ = tool.load_official_folder(str(folder))
    shapes = {k.replace('block4.conv_out', 'block4.skip_conv'): v.shape
              for k, v in model.state_dict().items()}
    with pytest.raises(tool.ConversionError) as err:
        tool.convert_state_dict(tensors, tool.build_key_map(), shapes,
                                tool.dropped_keys(), source='SDE-Seg')
    message = str(err.value)
    assert message.startswith('SDE-Seg -> mmdepthsem conversion failed')
    assert 'depth/decoder.2.block.0.conv.weight -> ' \
        'depth_decoder.blocks.block4.conv_out.conv.weight' in message
    assert 'not filled' in message and \
        'depth_decoder.blocks.block4.skip_conv.conv.weight' in message


def test_cli_frozen_encoder_folder_needs_the_imagenet_encoder(
        tool, converted, model, tmp_path, capsys):
    """A dec5-style folder (encoder frozen, no ``encoder.pth``): refused with the
    reason, converted with ``--encoder-from-imagenet``. In-process: a subprocess
    costs about a minute here."""
    source, official, _ = converted
    folder = tmp_path / 'mono_cityscapes_dec5'
    folder.mkdir()
    for part in ('depth', 'pose_encoder', 'pose'):
        shutil.copy(source / f'{part}.pth', folder / f'{part}.pth')
    out = tmp_path / 'sde.pth'
    assert tool.main([str(folder), str(out)]) == 1
    err = capsys.readouterr().err
    assert 'lacks encoder.pth' in err and '--encoder-from-imagenet' in err

    imagenet = tmp_path / 'resnet101_imagenet.pth'
    torch.save(official['encoder'].state_dict(), imagenet)  # torchvision keys + fc
    assert tool.main([str(folder), str(out), '--config', str(CONFIG),
                      '--encoder-from-imagenet', str(imagenet)]) == 0
    assert 'Saved' in capsys.readouterr().out
    checkpoint = load_checkpoint_weights_only(out, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert checkpoint['meta']['dropped'] == ['encoder/encoder.fc.bias',
                                             'encoder/encoder.fc.weight']
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert torch.equal(checkpoint['state_dict']['backbone.timm_model.conv1.weight'],
                       official['encoder'].conv1.weight)

    assert tool.main([str(source), str(out), '--encoder-from-imagenet',
                      str(imagenet)]) == 1
    assert 'has its own encoder.pth' in capsys.readouterr().err
