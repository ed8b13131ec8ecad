"""Model converters: official checkpoints -> mmdepthsem checkpoints.

No official file is downloaded. The fake official state dicts are built here from the
official layer definitions, with random values:

- Monodepth2's ``ResnetEncoder`` wraps a torchvision ResNet (its multi-frame pose
  encoder subclasses ``torchvision.models.ResNet`` and only widens ``conv1``), so its
  ``encoder.pth`` is ``encoder.`` + a torchvision ResNet state dict;
- ``DepthDecoder`` saves ``nn.ModuleList(list(convs.values()))`` with ``convs``
  filled as ``('upconv', i, 0)``, ``('upconv', i, 1)`` for ``i = 4 .. 0`` then
  ``('dispconv', s)``, so ``depth.pth`` holds ``decoder.<position>`` keys; a
  ``ConvBlock`` stores ``conv.conv.{weight,bias}`` and a ``Conv3x3``
  ``conv.{weight,bias}``; widths ``num_ch_dec = 16, 32, 64, 128, 256``;
- ``PoseDecoder(num_ch_enc, num_input_features=1, num_frames_to_predict_for=2)``
  saves ``net.0`` (squeeze 1×1 to 256), ``net.1``, ``net.2`` (3×3, 256) and ``net.3``
  (1×1 to 12 = 6 per predicted frame); only frame 0 is used.

The converted state dict must load into the model built from the config with
``strict=True``, and the converted networks must reproduce reference forward passes
written here from the same definitions.
"""
import sys

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

from ..conftest import REPO, load_tool, run_tool

SCRIPT = 'tools/model_converters/monodepth2_to_mmdepthsem.py'
CONFIG = REPO / 'configs' / 'selfsup' / 'monodepth2_resnet18_synthetic_kitti.py'
NUM_CH_DEC = (16, 32, 64, 128, 256)


@pytest.fixture(scope='module')
def tool():
    return load_tool(SCRIPT)


def build_model(overrides=None) -> nn.Module:
    """The target model of the Monodepth2 config, without downloads."""
    register_all_modules()
    cfg = Config.fromfile(str(CONFIG))
    if overrides:
        cfg.merge_from_dict(dict(overrides))
    return MODELS.build(model_cfg_without_downloads(cfg.model)).eval()


# ------------------------------------------------------------ fake official files
def randomise_bn(net: nn.Module) -> nn.Module:
    """Random BatchNorm affine parameters and statistics, as a trained net has."""
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
            module.num_batches_tracked.fill_(1000)
    return net.eval()


def official_resnet(arch: str, in_chans: int, seed: int) -> nn.Module:
    """A torchvision ResNet as Monodepth2's encoders hold it, random weights and
    BatchNorm statistics (the pose encoder's conv1 takes 6 channels)."""
    torch.manual_seed(seed)
    net = getattr(torchvision.models, arch)(weights=None)
    if in_chans != 3:
        net.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3,
                              bias=False)
    return randomise_bn(net)


def official_depth_decoder(num_ch_enc, scales=(0, 1, 2, 3), seed=0) -> dict:
    """``depth.pth`` keys and shapes from Monodepth2's channel numbers."""
    gen = torch.Generator().manual_seed(seed)
    state, position = {}, 0

    def add(name, out_ch, in_ch):
        state[f'{name}.weight'] = 0.1 * torch.randn(out_ch, in_ch, 3, 3, generator=gen)
        state[f'{name}.bias'] = 0.1 * torch.randn(out_ch, generator=gen)

    for i in range(4, -1, -1):
        add(f'decoder.{position}.conv.conv', NUM_CH_DEC[i],
            num_ch_enc[-1] if i == 4 else NUM_CH_DEC[i + 1])
        add(f'decoder.{position + 1}.conv.conv', NUM_CH_DEC[i],
            NUM_CH_DEC[i] + (num_ch_enc[i - 1] if i > 0 else 0))
        position += 2
    for s in scales:
        add(f'decoder.{position}.conv', 1, NUM_CH_DEC[s])
        position += 1
    return state


def official_pose_decoder(enc_channels=512, seed=1) -> dict:
    """``pose.pth``: squeeze, two 3×3 convs, 1×1 conv to 6 × 2 frames."""
    gen = torch.Generator().manual_seed(seed)
    shapes = [(256, enc_channels, 1, 1), (256, 256, 3, 3), (256, 256, 3, 3),
              (12, 256, 1, 1)]
    state = {}
    for n, shape in enumerate(shapes):
        state[f'net.{n}.weight'] = 0.02 * torch.randn(*shape, generator=gen)
        state[f'net.{n}.bias'] = 0.02 * torch.randn(shape[0], generator=gen)
    return state


def prefixed(net: nn.Module) -> dict:
    return {f'encoder.{k}': v.clone() for k, v in net.state_dict().items()}


def write_official_folder(folder, depth_arch='resnet18', pose_arch='resnet18',
                          drop_counters=False):
    """Write the four files of a Monodepth2 model folder."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder = official_resnet(depth_arch, 3, seed=0)
    pose_encoder = official_resnet(pose_arch, 6, seed=1)
    enc_ch = [64, 64, 128, 256, 512] if depth_arch in ('resnet18', 'resnet34') \
        else [64, 256, 512, 1024, 2048]
    files = dict(
        encoder=dict(prefixed(encoder), height=192, width=640, use_stereo=False),
        depth=official_depth_decoder(enc_ch),
        pose_encoder=prefixed(pose_encoder),
        pose=official_pose_decoder(pose_encoder.fc.in_features))
    if drop_counters:
        for part in ('encoder', 'pose_encoder'):
            files[part] = {k: v for k, v in files[part].items()
                           if not k.endswith('num_batches_tracked')}
    for part, state in files.items():
        torch.save(state, folder / f'{part}.pth')
    # the encoders as networks (for reference forward passes), the decoders as files
    return dict(encoder=encoder, pose_encoder=pose_encoder, depth=files['depth'],
                pose=files['pose'])


# ------------------------------------------------- reference forward passes
def reference_features(net: nn.Module, x: torch.Tensor) -> list:
    """Monodepth2's ResnetEncoder.forward after its input normalisation."""
    f0 = net.relu(net.bn1(net.conv1(x)))
    f1 = net.layer1(net.maxpool(f0))
    f2 = net.layer2(f1)
    f3 = net.layer3(f2)
    return [f0, f1, f2, f3, net.layer4(f3)]


def reference_disparities(state: dict, feats: list, scales=(0, 1, 2, 3)) -> dict:
    """Monodepth2's DepthDecoder.forward on the official (positional) keys."""
    def conv3x3(x, name):
        x = F.pad(x, (1, 1, 1, 1), mode='reflect')
        return F.conv2d(x, state[f'{name}.weight'], state[f'{name}.bias'])

    outputs, x = {}, feats[-1]
    for i in range(4, -1, -1):
        position = 2 * (4 - i)  # ('upconv', i, 0); ('upconv', i, 1) follows
        x = F.elu(conv3x3(x, f'decoder.{position}.conv.conv'))
        x = [F.interpolate(x, scale_factor=2, mode='nearest')]
        if i > 0:
            x.append(feats[i - 1])
        x = F.elu(conv3x3(torch.cat(x, 1), f'decoder.{position + 1}.conv.conv'))
        if i in scales:
            name = f'decoder.{10 + list(scales).index(i)}.conv'
            outputs[i] = torch.sigmoid(conv3x3(x, name))
    return outputs


def reference_pose(state: dict, feature: torch.Tensor):
    """Monodepth2's PoseDecoder.forward; the trainer keeps frame 0."""
    def conv(x, n, padding):
        return F.conv2d(x, state[f'net.{n}.weight'], state[f'net.{n}.bias'],
                        padding=padding)

    out = F.relu(conv(feature, 0, 0))
    out = F.relu(conv(out, 1, 1))
    out = F.relu(conv(out, 2, 1))
    out = 0.01 * conv(out, 3, 0).mean(3).mean(2).view(-1, 2, 1, 6)
    return out[:, 0, 0, :3], out[:, 0, 0, 3:]


# ------------------------------------------------------------------ tests
@pytest.fixture(scope='module')
def converted_r18(tool, tmp_path_factory):
    folder = tmp_path_factory.mktemp('monodepth2') / 'mono_640x192'
    official = write_official_folder(folder)
    return folder, official, tool.convert_folder(str(folder), str(CONFIG))


def test_table_covers_exactly_the_model(tool):
    """The mapping table, generated from Monodepth2's naming scheme, targets exactly
    the keys of the model built from the config: renaming a layer of the model (or
    of the table) fails here."""
    model = build_model()
    table = tool.build_key_map('resnet18', 'resnet18', (0, 1, 2, 3))
    targets = [rule.target for rule in table.values()]
    assert len(targets) == len(set(targets))
    assert set(targets) == set(model.state_dict())
    # spot checks of the positional decoder keys
    assert table['depth/decoder.0.conv.conv.weight'].target == \
        'depth_decoder.blocks.block4.conv_in.conv.weight'
    assert table['depth/decoder.3.conv.conv.bias'].target == \
        'depth_decoder.blocks.block3.conv_out.conv.bias'
    assert table['depth/decoder.9.conv.conv.weight'].target == \
        'depth_decoder.blocks.block0.conv_out.conv.weight'
    assert table['depth/decoder.13.conv.weight'].target == \
        'depth_decoder.heads.scale3.weight'
    assert table['pose/net.0.weight'].target == 'pose_net.decoder.squeeze.weight'
    assert table['pose/net.3.bias'].target == 'pose_net.decoder.conv_pose.bias'
    assert table['encoder/encoder.layer2.0.downsample.1.running_var'].target == \
        'backbone.timm_model.layer2.0.downsample.1.running_var'


def test_monodepth2_r18_loads_strictly_and_reproduces_the_official_forward(
        converted_r18):
    folder, official, checkpoint = converted_r18
    state, meta = checkpoint['state_dict'], checkpoint['meta']
    model = build_model()
    model.load_state_dict(state, strict=True)
    assert (meta['height'], meta['width'], meta['use_stereo']) == (192, 640, False)
    assert (meta['depth_encoder'], meta['pose_encoder']) == ('resnet18', 'resnet18')
    assert meta['scales'] == [0, 1, 2, 3] and meta['filled_num_batches_tracked'] == 0
    assert sorted(meta['dropped']) == sorted(
        f'{p}/encoder.fc.{q}' for p in ('encoder', 'pose_encoder')
        for q in ('weight', 'bias'))
    # a specific official tensor ends up at the expected key
    assert torch.equal(state['depth_decoder.blocks.block4.conv_in.conv.weight'],
                       official['depth']['decoder.0.conv.conv.weight'])
    assert torch.equal(state['depth_decoder.heads.scale0.bias'],
                       official['depth']['decoder.10.conv.bias'])
    assert torch.equal(state['pose_net.decoder.conv_pose.weight'],
                       official['pose']['net.3.weight'][:6])
    assert torch.equal(state['pose_net.encoder.encoder.conv1.weight'],
                       official['pose_encoder'].conv1.weight)

    torch.manual_seed(0)
    image = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        feats = model.backbone(image)
        expected = reference_features(official['encoder'], image)
        for ours, ref in zip(feats, expected):
            torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)
        disp = model.depth_decoder(feats)['outputs']
        ref_disp = reference_disparities(official['depth'], expected)
        assert sorted(disp) == sorted(ref_disp) == [0, 1, 2, 3]
        for s in ref_disp:
            torch.testing.assert_close(disp[s], ref_disp[s], rtol=1e-4, atol=1e-5)

        frames = torch.randn(2, 6, 64, 96)
        axis_angle, translation = model.pose_net(frames)
        pose_feature = reference_features(official['pose_encoder'], frames)[-1]
        ref_axis, ref_trans = reference_pose(official['pose'], pose_feature)
        torch.testing.assert_close(axis_angle, ref_axis, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(translation, ref_trans, rtol=1e-4, atol=1e-6)


def test_cli_writes_a_checkpoint_the_safe_loader_reads(tmp_path):
    folder = tmp_path / 'mono_640x192'
    write_official_folder(folder, drop_counters=True)
    out = tmp_path / 'converted.pth'
    result = run_tool([sys.executable, SCRIPT, str(folder), str(out),
                       '--config', str(CONFIG)], timeout=300)
    assert 'Saved' in result.stdout and '--cfg-options' in result.stdout
    checkpoint = load_checkpoint_weights_only(out, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    meta = checkpoint['meta']
    assert (meta['height'], meta['width']) == (192, 640)
    # files of old PyTorch versions have no BatchNorm counters: filled with 0
    assert meta['filled_num_batches_tracked'] > 0
    model = build_model()
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert checkpoint['state_dict'][
        'backbone.timm_model.bn1.num_batches_tracked'].item() == 0
    # the KITTI Monodepth2 baseline config (FSRE Table 1b, row 1) takes it as well
    register_all_modules()
    kitti = Config.fromfile(str(
        REPO / 'configs/fsre/ablations/resnet18_kitti_tab1b_baseline_no_ce.py'))
    MODELS.build(model_cfg_without_downloads(kitti.model)).load_state_dict(
        checkpoint['state_dict'], strict=True)

    broken = tmp_path / 'broken'
    write_official_folder(broken)
    (broken / 'pose.pth').unlink()
    result = run_tool([sys.executable, SCRIPT, str(broken), str(tmp_path / 'x.pth')],
                      check=False, timeout=300)
    assert result.returncode == 1 and 'pose.pth' in result.stderr


def test_resnet50_depth_encoder_is_inferred_from_the_shapes(tool, tmp_path):
    """A ResNet-50 depth encoder (bottleneck blocks) and a pose encoder of basic
    blocks [3, 4, 6, 3] (what Monodepth2's multi-image ResNet-50 builds in some
    releases: a ResNet-34) are recognised and the config adapted."""
    folder = tmp_path / 'mono_resnet50'
    official = write_official_folder(folder, 'resnet50', 'resnet34')
    checkpoint = tool.convert_folder(str(folder), str(CONFIG))
    meta = checkpoint['meta']
    assert (meta['depth_encoder'], meta['pose_encoder']) == ('resnet50', 'resnet34')
    overrides = meta['model_overrides']
    assert overrides['model.depth_decoder.in_channels'] == [64, 256, 512, 1024, 2048]
    model = build_model(overrides)
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for ours, ref in zip(model.backbone(image),
                             reference_features(official['encoder'], image)):
            torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)


def test_a_renamed_target_layer_fails_with_a_clear_error(tool, converted_r18):
    folder, _, _ = converted_r18
    tensors, _ = tool.load_official_folder(str(folder))
    table = tool.build_key_map('resnet18', 'resnet18', (0, 1, 2, 3))
    model = build_model()
    block = model.depth_decoder.blocks.block4
    block.conv_first = block.conv_in  # a refactoring renames a layer
    del block.conv_in
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    with pytest.raises(tool.ConversionError) as err:
        tool.convert_state_dict(tensors, table, shapes, tool.dropped_keys())
    message = str(err.value)
    assert 'depth/decoder.0.conv.conv.weight -> ' \
        'depth_decoder.blocks.block4.conv_in.conv.weight' in message
    assert 'not filled' in message and \
        'depth_decoder.blocks.block4.conv_first.conv.weight' in message


def test_a_missing_rule_or_a_wrong_shape_fails_with_a_clear_error(
        tool, converted_r18, monkeypatch):
    folder, _, _ = converted_r18
    tensors, _ = tool.load_official_folder(str(folder))
    shapes = {k: v.shape for k, v in build_model().state_dict().items()}
    table = tool.build_key_map('resnet18', 'resnet18', (0, 1, 2, 3))

    # a rule dropped from the table: the official tensor and its target are named
    original = tool.pose_decoder_key_map

    def without_squeeze_bias(*args, **kwargs):
        rules = original(*args, **kwargs)
        del rules['pose/net.0.bias']
        return rules

    monkeypatch.setattr(tool, 'pose_decoder_key_map', without_squeeze_bias)
    with pytest.raises(tool.ConversionError, match=r'pose/net\.0\.bias') as err:
        tool.convert_state_dict(tensors, tool.build_key_map(), shapes,
                                tool.dropped_keys())
    assert 'pose_net.decoder.squeeze.bias' in str(err.value)
    monkeypatch.undo()

    # a tensor of the wrong shape: key and both shapes are named
    bad = dict(tensors)
    bad['depth/decoder.2.conv.conv.weight'] = torch.zeros(128, 255, 3, 3)
    with pytest.raises(tool.ConversionError) as err:
        tool.convert_state_dict(bad, table, shapes, tool.dropped_keys())
    assert 'depth/decoder.2.conv.conv.weight (128, 255, 3, 3)' in str(err.value)
    assert 'depth_decoder.blocks.block3.conv_in.conv.weight (128, 256, 3, 3)' in \
        str(err.value)

    # an official tensor nobody maps
    extra = dict(tensors, **{'depth/decoder.14.conv.weight': torch.zeros(1)})
    with pytest.raises(tool.ConversionError, match=r'have no rule: depth/decoder\.14'):
        tool.convert_state_dict(extra, table, shapes, tool.dropped_keys())


def test_architecture_inference(tool):
    tensors = {f'e/encoder.{k}': v for k, v in
               torchvision.models.resnet101(weights=None).state_dict().items()}
    assert tool.infer_resnet(tensors, 'e/encoder.') == 'resnet101'
    del tensors['e/encoder.layer3.22.conv1.weight']
    with pytest.raises(tool.ConversionError, match='no torchvision ResNet'):
        tool.infer_resnet(tensors, 'e/encoder.')
    depth = {f'depth/{k}': v for k, v in
             official_depth_decoder([64, 64, 128, 256, 512], scales=(0, 2)).items()}
    assert tool.infer_scales(depth) == [0, 2]
    assert [name for name in tool.depth_decoder_order((0, 1))] == [
        ('upconv', 4, 0), ('upconv', 4, 1), ('upconv', 3, 0), ('upconv', 3, 1),
        ('upconv', 2, 0), ('upconv', 2, 1), ('upconv', 1, 0), ('upconv', 1, 1),
        ('upconv', 0, 0), ('upconv', 0, 1), ('dispconv', 0), ('dispconv', 1)]
