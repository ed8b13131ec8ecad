"""SDE -> segmentation transfer: the semantic decoder starts as the depth decoder."""
import pickle
import sys

import pytest
import torch

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.checkpoint import load_checkpoint_weights_only
from mmdepthsem.utils.decoder_transfer import transfer_depth_decoder_to_sem

from ..conftest import load_tool, run_tool

register_all_modules()
SCRIPT = 'tools/model_converters/sde_to_segmentation.py'
NUM_CLASSES = 19
BACKBONE = dict(type='mmseg.TIMMBackbone', model_name='resnet18', features_only=True,
                pretrained=False, out_indices=(0, 1, 2, 3, 4))
SOURCE_CFG = dict(
    type='SDEPretrainEstimator', backbone=BACKBONE,
    depth_decoder=dict(type='MonodepthDepthDecoder'), pose_net=dict(type='PoseNet'),
    feature_distance_loss=dict(type='FeatureDistanceLoss'))
TARGET_CFG = dict(
    type='SelfSupervisedDepthEstimator', backbone=BACKBONE,
    depth_decoder=dict(type='MonodepthDepthDecoder'), pose_net=dict(type='PoseNet'),
    sem_decoder=dict(type='MonodepthDepthDecoder', out_channels=NUM_CLASSES,
                     out_activation=None, scales=(0, )),
    sem_loss=dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True))
HEAD = ('sem_decoder.heads.scale0.weight', 'sem_decoder.heads.scale0.bias')


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """One intra-op thread: these small models only lose to thread contention on
    the shared test machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(cfg, seed):
    torch.manual_seed(seed)
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def source():
    model = build(SOURCE_CFG, seed=0)
    model.init_reference()
    with torch.no_grad():  # non-default BN statistics must travel too
        for name, buf in model.backbone.named_buffers():
            if 'running_mean' in name:
                buf.uniform_(-1, 1)
    return model


def check_transferred(target, source, init_state):
    """Every sem_decoder tensor but the head is the depth decoder's; the head keeps
    the target's init; encoder, depth decoder and pose net are the source's."""
    state, src = target.state_dict(), source.state_dict()
    sem_keys = [k for k in state if k.startswith('sem_decoder.')]
    assert len(sem_keys) > len(HEAD)
    for key in sem_keys:
        if key in HEAD:
            assert torch.equal(state[key], init_state[key]), key
        else:
            twin = 'depth_decoder.' + key[len('sem_decoder.'):]
            assert torch.equal(state[key], src[twin]), key
            assert not torch.equal(init_state[key], src[twin]), key
    for key in state:
        if key.startswith(('backbone.', 'depth_decoder.', 'pose_net.')):
            assert torch.equal(state[key], src[key]), key
    assert state['sem_decoder.heads.scale0.weight'].shape[0] == NUM_CLASSES


def test_transfer_copies_everything_but_the_head(source):
    target = build(TARGET_CFG, seed=1)
    init_state = {k: v.clone() for k, v in target.state_dict().items()}
    # DDP-wrapped source keys are accepted too
    ddp_state = {'module.' + k: v for k, v in source.state_dict().items()}
    new_state, report = transfer_depth_decoder_to_sem(ddp_state, target)

    assert set(report.skipped) == set(HEAD)
    assert 'differs from depth_decoder.heads.scale0.weight' in \
        report.skipped[HEAD[0]]
    assert report.copied['sem_decoder.blocks.block4.conv_in.conv.weight'] == \
        'depth_decoder.blocks.block4.conv_in.conv.weight'
    assert set(new_state) == set(report.copied)
    assert set(new_state) | set(report.skipped) == set(init_state)
    assert 'reference_ready' in report.dropped
    assert all(k.startswith('reference_') for k in report.dropped)

    missing = target.load_state_dict(new_state, strict=False).missing_keys
    assert sorted(missing) == sorted(HEAD)
    check_transferred(target, source, init_state)


def test_side_output_heads_without_target_are_reported(source):
    # a target with only a semantic decoder: the depth heads have nowhere to go
    shapes = {k: v.shape for k, v in build(TARGET_CFG, seed=1).state_dict().items()
              if not k.startswith('depth_decoder.')}
    new_state, report = transfer_depth_decoder_to_sem(source.state_dict(), shapes)
    for s in (1, 2, 3):
        key = f'depth_decoder.heads.scale{s}.weight'
        assert 'depth side output' in report.dropped[key]
    assert not any(k.startswith('depth_decoder.') for k in new_state)
    with pytest.raises(ValueError, match='no `sem_decoder.\\*` keys'):
        transfer_depth_decoder_to_sem(source.state_dict(), source)
    other = {k: torch.zeros(7, 7, 7) for k in shapes if k.startswith('sem_decoder.')}
    with pytest.raises(ValueError, match='same architecture'):
        transfer_depth_decoder_to_sem(source.state_dict(), other)


def test_cli_end_to_end(source, tmp_path):
    src = tmp_path / 'sde.pth'
    torch.save(dict(state_dict=source.state_dict(), meta=dict(iter=50000)), src)
    config = tmp_path / 'ssl.py'
    config.write_text(f'model = {TARGET_CFG!r}\n')
    dst = tmp_path / 'init.pth'
    result = run_tool([sys.executable, SCRIPT, str(src), str(dst), '--config',
                       str(config), '--cfg-options', 'model.backbone.pretrained=True'],
                      timeout=120, env=dict(OMP_NUM_THREADS='1'))
    # pretrained=True in the config: the tool must not try to download (no network)
    assert 'skipped 2 target keys' in result.stdout
    copied = sum(1 for k in source.state_dict() if not k.startswith('reference_'))
    copied += len([k for k in build(TARGET_CFG, 1).state_dict()
                   if k.startswith('sem_decoder.')]) - 2
    assert f'copied {copied} tensors' in result.stdout

    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert checkpoint['meta']['left_at_init'] == list(HEAD)
    assert load_checkpoint_weights_only(dst)['meta']['num_copied'] == copied
    target = build(TARGET_CFG, seed=2)
    init_state = {k: v.clone() for k, v in target.state_dict().items()}
    target.load_state_dict(checkpoint['state_dict'], strict=False)
    check_transferred(target, source, init_state)


class _Payload:
    def __reduce__(self):
        return (print, ('unsafe code ran',))


def test_cli_refuses_unsafe_checkpoints(tmp_path, capsys):
    src = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=_Payload()), src, pickle_module=pickle)
    config = tmp_path / 'ssl.py'
    config.write_text(f'model = {TARGET_CFG!r}\n')
    tool = load_tool(SCRIPT)
    assert tool.main([str(src), str(tmp_path / 'out.pth'), '--config',
                      str(config)]) == 1
    captured = capsys.readouterr()
    assert 'Refused' in captured.err and 'unsafe code ran' not in captured.out
    assert not (tmp_path / 'out.pth').exists()
