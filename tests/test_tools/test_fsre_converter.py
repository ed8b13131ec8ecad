"""FSRE-Depth checkpoints -> mmdepthsem (tools/model_converters/fsre_to_mmdepthsem.py).

No official file is downloaded. The fake official folder is built here, with random
values, from the official layer definitions (docs/model_converters.md names the file
each fact comes from):

- ``encoder.pth`` / ``pose_encoder.pth``: ``encoder.`` + a torchvision ResNet state
  dict (``ResnetEncoder``; the pose encoder has a 6-channel ``conv1``); the trainer
  adds ``height``, ``width``, ``epoch`` and ``step`` to ``encoder.pth``;
- ``decoder.pth``: the ``CMA`` module. ``depth_decoder`` and ``seg_decoder`` keep their
  convs in ``self.decoder = nn.ModuleList(convs)`` appended as upconv (i, 0), (i, 1)
  for i = 4 .. 0 then one ``Conv3x3`` per scale: Monodepth2's positional keys
  (``ConvBlock`` -> ``conv.conv.*``, ``Conv3x3`` -> ``conv.*``); the segmentation
  decoder has one 19-channel head. ``att_d_to_s.<l>`` / ``att_s_to_d.<l>`` are
  ``MultiEmbedding(C, num_head=4, ratio=2)``: ``query_conv``, ``key_conv``,
  ``value_conv`` (1x1, C -> 8C, bias), ``W = Sequential(Conv2d(2C, C, 1, bias=False),
  BatchNorm2d(C))``, ``fuse = Sequential(ConvBlock(2C, C), Conv2d(C, C, 1))``, for
  ``l`` in ``cma_layers = [3, 2, 1]`` (C = 256, 128, 64);
- ``pose.pth``: ``PoseDecoder(num_ch_enc)`` with one predicted frame, ``net.0`` ..
  ``net.3`` (the last 1x1 conv has 6 outputs).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import nn

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.checkpoint import load_checkpoint_weights_only
from mmdepthsem.utils.tool_config import model_cfg_without_downloads

from ..conftest import REPO, load_tool
from .test_model_converters import (official_depth_decoder, official_pose_decoder,
                                     official_resnet, prefixed, reference_features)

SCRIPT = 'tools/model_converters/fsre_to_mmdepthsem.py'
CONFIG = REPO / 'configs' / 'fsre' / 'resnet18_kitti_official.py'
PAPER_CONFIG = REPO / 'configs' / 'fsre' / 'resnet18_kitti.py'
ENC_CH = (64, 64, 128, 256, 512)
NUM_CH_DEC = (16, 32, 64, 128, 256)
CMA_LAYERS = (3, 2, 1)


@pytest.fixture(scope='module')
def tool():
    return load_tool(SCRIPT)


def build_model(config=CONFIG) -> nn.Module:
    """The target model of an FSRE config, without downloads, in eval mode."""
    register_all_modules()
    cfg = Config.fromfile(str(config))
    return MODELS.build(model_cfg_without_downloads(cfg.model)).eval()


# ------------------------------------------------------------ fake official files
def multi_embedding_state(channels, num_head=4, ratio=2, seed=0) -> dict:
    """``MultiEmbedding(channels, num_head, ratio).state_dict()`` shapes, random."""
    gen = torch.Generator().manual_seed(seed)
    width, embed = num_head * ratio * channels, ratio * channels

    def rand(*shape, scale=0.1):
        return scale * torch.randn(*shape, generator=gen)

    state = {}
    for name in ('query_conv', 'key_conv', 'value_conv'):
        state[f'{name}.weight'] = rand(width, channels, 1, 1, scale=0.3)
        state[f'{name}.bias'] = rand(width)
    state['W.0.weight'] = rand(channels, embed, 1, 1)
    state['W.1.weight'] = 1.0 + rand(channels)
    state['W.1.bias'] = rand(channels)
    state['W.1.running_mean'] = rand(channels)
    state['W.1.running_var'] = 1.0 + rand(channels).abs()
    state['W.1.num_batches_tracked'] = torch.tensor(500)
    state['fuse.0.conv.conv.weight'] = rand(channels, 2 * channels, 3, 3)
    state['fuse.0.conv.conv.bias'] = rand(channels)
    state['fuse.1.weight'] = rand(channels, channels, 1, 1)
    state['fuse.1.bias'] = rand(channels)
    return state


def official_cma_state(num_head=4, ratio=2) -> dict:
    """``decoder.pth``: the CMA module with both decoders and the attention."""
    state = {f'depth_decoder.{k}': v for k, v in
             official_depth_decoder(ENC_CH, scales=(0, 1, 2, 3), seed=3).items()}
    seg = official_depth_decoder(ENC_CH, scales=(0, ), seed=4)
    gen = torch.Generator().manual_seed(5)
    seg['decoder.10.conv.weight'] = 0.1 * torch.randn(19, 16, 3, 3, generator=gen)
    seg['decoder.10.conv.bias'] = 0.1 * torch.randn(19, generator=gen)
    state.update({f'seg_decoder.{k}': v for k, v in seg.items()})
    for layer in CMA_LAYERS:
        channels = NUM_CH_DEC[layer + 1]  # in_channels_list[l] of the official CMA
        for n, direction in enumerate(('att_d_to_s', 'att_s_to_d')):
            me = multi_embedding_state(channels, num_head, ratio, seed=10 * layer + n)
            state.update({f'{direction}.{layer}.{k}': v for k, v in me.items()})
    return state


def write_official_folder(folder, num_head=4, ratio=2):
    """Write the four files of an FSRE-Depth ``weights_<epoch>`` folder."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder = official_resnet('resnet18', 3, seed=0)
    pose_encoder = official_resnet('resnet18', 6, seed=1)
    pose = official_pose_decoder(512, seed=2)
    pose['net.3.weight'], pose['net.3.bias'] = pose['net.3.weight'][:6].clone(), \
        pose['net.3.bias'][:6].clone()  # num_frames_to_predict_for=1
    files = dict(
        encoder=dict(prefixed(encoder), height=192, width=640, epoch=19, step=1000),
        decoder=official_cma_state(num_head, ratio),
        pose_encoder=prefixed(pose_encoder), pose=pose)
    for part, state in files.items():
        torch.save(state, folder / f'{part}.pth')
    return dict(encoder=encoder, pose_encoder=pose_encoder, decoder=files['decoder'],
                pose=pose)


# ------------------------------------------------- reference forward passes
def _conv3x3_reflect(x, state, name):
    x = F.pad(x, (1, 1, 1, 1), mode='reflect')
    return F.conv2d(x, state[f'{name}.weight'], state[f'{name}.bias'])


def reference_multi_embedding(state, prefix, key, query, num_head=4):
    """Official ``MultiEmbedding.forward(key, query)`` on its state dict keys."""
    def conv(x, name):
        return F.conv2d(x, state[f'{prefix}{name}.weight'],
                        state[f'{prefix}{name}.bias'])

    b, _, h, w = query.shape
    q = conv(query, 'query_conv').view(b, num_head, -1, h, w)
    k = conv(key, 'key_conv').view(b, num_head, -1, h, w)
    v = conv(key, 'value_conv').view(b, num_head, -1, h, w)
    out_channel = state[f'{prefix}query_conv.weight'].shape[0]
    att = (q * k).sum(dim=2) / math.sqrt(out_channel)
    weighted = (v * F.softmax(att, dim=1).unsqueeze(2)).sum(dim=1)
    out = F.conv2d(weighted, state[f'{prefix}W.0.weight'])
    out = F.batch_norm(out, state[f'{prefix}W.1.running_mean'],
                       state[f'{prefix}W.1.running_var'], state[f'{prefix}W.1.weight'],
                       state[f'{prefix}W.1.bias'], training=False, eps=1e-5)
    x = torch.cat([key, out], dim=1)
    x = F.elu(_conv3x3_reflect(x, state, f'{prefix}fuse.0.conv.conv'))
    return conv(x, 'fuse.1')


def reference_cma_decoder(state, feats, scales=(0, 1, 2, 3)):
    """Official ``CMA.forward``: both decoders in lockstep, MultiEmbedding after
    block ``i`` when ``i - 1`` is a CMA layer; disparities and scale-0 logits."""
    disp, x_d, x_s = {}, feats[-1], feats[-1]
    for i in range(4, -1, -1):
        xs = []
        for x, dec in ((x_d, 'depth_decoder'), (x_s, 'seg_decoder')):
            x = F.elu(_conv3x3_reflect(x, state, f'{dec}.decoder.{8 - 2 * i}.conv.conv'))
            x = [F.interpolate(x, scale_factor=2, mode='nearest')]
            if i > 0:
                x.append(feats[i - 1])
            xs.append(F.elu(_conv3x3_reflect(torch.cat(x, 1), state,
                                              f'{dec}.decoder.{9 - 2 * i}.conv.conv')))
        x_d, x_s = xs
        if i - 1 in CMA_LAYERS:
            x_d, x_s = (
                reference_multi_embedding(state, f'att_d_to_s.{i - 1}.', x_d, x_s),
                reference_multi_embedding(state, f'att_s_to_d.{i - 1}.', x_s, x_d))
        if i in scales:
            disp[i] = torch.sigmoid(
                _conv3x3_reflect(x_d, state, f'depth_decoder.decoder.{10 + i}.conv'))
    logits = _conv3x3_reflect(x_s, state, 'seg_decoder.decoder.10.conv')
    return disp, logits


# ------------------------------------------------------------------ tests
@pytest.fixture(scope='module')
def converted(tool, tmp_path_factory):
    folder = tmp_path_factory.mktemp('fsre') / 'weights_19'
    official = write_official_folder(folder)
    return folder, official, tool.convert_folder(str(folder), str(CONFIG))


def test_table_covers_exactly_the_official_config_model(tool):
    """The table, generated from FSRE's naming scheme, targets exactly the keys of the
    model built from the official config: renaming a layer of the model (or of the
    table) fails here."""
    table = tool.build_key_map()
    targets = [rule.target for rule in table.values()]
    assert len(targets) == len(set(targets))
    assert set(targets) == set(build_model().state_dict())
    assert table['decoder/att_d_to_s.3.query_conv.weight'].target == \
        'cross_task.4.depth_cma.query.weight'
    assert table['decoder/att_s_to_d.1.W.1.running_var'].target == \
        'cross_task.2.seg_cma.project.1.running_var'
    assert table['decoder/att_d_to_s.2.fuse.0.conv.conv.bias'].target == \
        'cross_task.3.depth_cma.fuse.0.bias'
    assert table['decoder/att_d_to_s.2.fuse.1.weight'].target == \
        'cross_task.3.depth_cma.fuse.2.weight'
    assert table['decoder/seg_decoder.decoder.10.conv.weight'].target == \
        'sem_decoder.heads.scale0.weight'
    assert table['decoder/depth_decoder.decoder.1.conv.conv.weight'].target == \
        'depth_decoder.blocks.block4.conv_out.conv.weight'
    assert table['pose/net.3.weight'].transform is None  # one predicted frame


def test_converted_fsre_loads_strictly_and_reproduces_the_official_forward(converted):
    _, official, checkpoint = converted
    state, meta = checkpoint['state_dict'], checkpoint['meta']
    model = build_model()
    model.load_state_dict(state, strict=True)
    assert (meta['height'], meta['width'], meta['epoch']) == (192, 640, 19)
    assert meta['cma_blocks'] == [2, 3, 4]
    assert (meta['num_embeddings'], meta['expansion']) == (4, 2)
    assert meta['scales'] == [0, 1, 2, 3] and meta['sem_scales'] == [0]
    assert meta['input_mean'] == [114.75] * 3
    assert list(model.data_preprocessor.mean.flatten()) == [114.75] * 3
    assert torch.equal(state['cross_task.4.seg_cma.key.weight'],
                       official['decoder']['att_s_to_d.3.key_conv.weight'])

    torch.manual_seed(0)
    image = torch.randn(2, 3, 64, 96)
    dec = official['decoder']
    with torch.no_grad():
        feats = model.backbone(image)
        ref_feats = reference_features(official['encoder'], image)
        for ours, ref in zip(feats, ref_feats):
            torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)

        # one CMA block on its own: official MultiEmbedding vs CrossModalAttention
        x_d, x_s = torch.randn(2, 128, 8, 12), torch.randn(2, 128, 8, 12)
        cma = model.cross_task['3']
        torch.testing.assert_close(
            cma.depth_cma(x_d, x_s),
            reference_multi_embedding(dec, 'att_d_to_s.2.', x_d, x_s),
            rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(
            cma.seg_cma(x_s, x_d),
            reference_multi_embedding(dec, 'att_s_to_d.2.', x_s, x_d),
            rtol=1e-4, atol=1e-5)

        # both decoders with the three CMA placements
        depth, sem = model.decode(image)
        ref_disp, ref_logits = reference_cma_decoder(dec, ref_feats)
        assert sorted(depth['outputs']) == [0, 1, 2, 3]
        for s, ref in ref_disp.items():
            torch.testing.assert_close(depth['outputs'][s], ref, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(sem['outputs'][0], ref_logits, rtol=1e-4, atol=1e-4)

        frames = torch.randn(2, 6, 64, 96)
        axis_angle, translation = model.pose_net(frames)
        pose = official['pose']
        x = reference_features(official['pose_encoder'], frames)[-1]
        for n, pad in ((0, 0), (1, 1), (2, 1)):
            x = F.relu(F.conv2d(x, pose[f'net.{n}.weight'], pose[f'net.{n}.bias'],
                                padding=pad))
        out = 0.01 * F.conv2d(x, pose['net.3.weight'], pose['net.3.bias']).mean((2, 3))
        torch.testing.assert_close(axis_angle, out[:, :3], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(translation, out[:, 3:], rtol=1e-4, atol=1e-6)


def test_the_paper_form_differs_from_the_official_code(converted):
    """With the paper config's CMA (default options) the same weights compute
    something else, and its W projection has a bias the official files lack."""
    _, official, checkpoint = converted
    paper = build_model(PAPER_CONFIG)
    missing, unexpected = paper.load_state_dict(checkpoint['state_dict'], strict=False)
    assert not unexpected
    assert sorted(missing) == sorted(
        f'cross_task.{b}.{d}.project.0.bias' for b in (2, 3, 4)
        for d in ('depth_cma', 'seg_cma'))
    for b in (2, 3, 4):
        for d in ('depth_cma', 'seg_cma'):
            getattr(paper.cross_task[str(b)], d).project[0].bias.data.zero_()
    x_d, x_s = torch.randn(1, 128, 8, 12), torch.randn(1, 128, 8, 12)
    with torch.no_grad():
        ours = paper.cross_task['3'].depth_cma(x_d, x_s)
        ref = reference_multi_embedding(official['decoder'], 'att_d_to_s.2.', x_d, x_s)
    assert (ours - ref).abs().max() > 1e-2


def test_a_renamed_target_layer_fails_with_a_clear_error(tool, converted):
    folder, _, _ = converted
    tensors, _ = tool.load_official_folder(str(folder))
    model = build_model()
    cma = model.cross_task['3'].seg_cma
    cma.embed = cma.project  # a refactoring renames a layer
    del cma.project
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    with pytest.raises(tool.ConversionError) as err:
        tool.convert_state_dict(tensors, tool.build_key_map(), shapes,
                                tool.dropped_keys(), source='FSRE-Depth')
    message = str(err.value)
    assert message.startswith('FSRE-Depth -> mmdepthsem conversion failed')
    assert 'decoder/att_s_to_d.2.W.0.weight -> ' \
        'cross_task.3.seg_cma.project.0.weight' in message
    assert 'not filled' in message and 'cross_task.3.seg_cma.embed.0.weight' in message


def test_cma_shapes_are_inferred_and_h1_is_refused(tool):
    tensors = {f'decoder/{k}': v for k, v in official_cma_state().items()}
    assert tool.infer_cma(tensors) == ([1, 2, 3], 4, 2)
    two = {f'decoder/{k}': v for k, v in official_cma_state(num_head=2).items()}
    assert tool.infer_cma(two) == ([1, 2, 3], 2, 2)
    one = {f'decoder/{k}': v for k, v in official_cma_state(num_head=1).items()}
    with pytest.raises(tool.ConversionError, match='H = 1'):
        tool.infer_cma(one)
    with pytest.raises(tool.ConversionError, match='only FSRE models with CMA'):
        tool.infer_cma({k: v for k, v in tensors.items() if 'att_' not in k})


def test_cli_writes_a_checkpoint_the_safe_loader_reads(tool, tmp_path, capsys):
    """In-process: a subprocess costs ~1 min here; the Monodepth2 converter's test
    runs its script, with the same imports, as a subprocess."""
    folder = tmp_path / 'weights_19'
    write_official_folder(folder)
    out = tmp_path / 'fsre.pth'
    assert tool.main([str(folder), str(out), '--config', str(CONFIG)]) == 0
    stdout = capsys.readouterr().out
    assert 'Saved' in stdout and 'CMA after blocks [2, 3, 4]' in stdout
    checkpoint = load_checkpoint_weights_only(out, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    build_model().load_state_dict(checkpoint['state_dict'], strict=True)

    (folder / 'decoder.pth').unlink()  # a --no_cma model
    assert tool.main([str(folder), str(tmp_path / 'x.pth')]) == 1
    assert 'decoder.pth' in capsys.readouterr().err
