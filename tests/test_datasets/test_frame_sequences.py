"""Source-domain sequence datasets (VIPER GTA sequences, SYNTHIA-SEQS) and the
source SDE configs (docs/sdeseg.md, SSDA table S11).

The frames are written here: a random texture shifted by a few pixels per frame (a
camera moving sideways), in each dataset's on-disk layout.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets import GTA5SequenceDataset, SynthiaSeqsDataset
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import model_cfg_without_downloads

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
W, H = 96, 48


@pytest.fixture(autouse=True, scope='module')
def _registry():
    register_all_modules()


def moving_frames(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    texture = cv2.resize(rng.integers(0, 255, (12, 40, 3), dtype=np.uint8),
                         (W + 4 * count, H), interpolation=cv2.INTER_LINEAR)
    return [texture[:, 4 * i:4 * i + W] for i in range(count)]


def write_viper(root, split='train', sequences=(('001', range(10, 15)),
                                               ('002', [0, 1, 2, 4]))):
    for seq, numbers in sequences:
        frames = moving_frames(max(numbers) + 1, seed=int(seq))
        for n in numbers:
            path = osp.join(root, split, 'img', seq, f'{seq}_{n:05d}.jpg')
            os.makedirs(osp.dirname(path), exist_ok=True)
            cv2.imwrite(path, frames[n])


def write_synthia(root):
    seq = osp.join(root, 'SYNTHIA-SEQS-01-DAWN')
    frames = moving_frames(4)
    for view in ('Stereo_Left/Omni_F', 'Stereo_Right/Omni_B'):
        for n in range(4):
            for kind in ('RGB', 'Depth'):  # Depth images must not be listed
                path = osp.join(seq, kind, view, f'{n:06d}.png')
                os.makedirs(osp.dirname(path), exist_ok=True)
                cv2.imwrite(path, frames[n])


def test_viper_lists_frames_with_both_neighbours(tmp_path):
    write_viper(str(tmp_path))
    ds = GTA5SequenceDataset(data_root=str(tmp_path), split='train')
    names = [ds.get_data_info(i)['sample_name'] for i in range(len(ds))]
    # sequence 001: 10..14 -> 11, 12, 13; sequence 002: 0, 1, 2, 4 -> only 1
    assert names == ['001/001_00011', '001/001_00012', '001/001_00013',
                     '002/002_00001']
    info = ds.get_data_info(0)
    assert info['frame_paths'][-1].endswith('001/001_00010.jpg')
    assert info['frame_paths'][1].endswith('001/001_00012.jpg')
    assert all(osp.isfile(p) for p in info['frame_paths'].values())
    # the release's normalised intrinsics in pixels of the stored frames
    np.testing.assert_allclose(
        info['intrinsics'],
        [[1.206285 * W, 0, 0.5 * W], [0, 2.144507 * H, 0.5 * H], [0, 0, 1]],
        rtol=1e-6)


def test_viper_wider_neighbourhood_and_pipeline(tmp_path):
    write_viper(str(tmp_path))
    ds = GTA5SequenceDataset(
        data_root=str(tmp_path), frame_ids=(-2, 2),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadNeighbourFrames'),
                  dict(type='PackDepthSemInputs')])
    # 002 has frames 0, 1, 2, 4: frame 2 has both neighbours 2 steps away
    assert [ds.get_data_info(i)['sample_name'] for i in range(len(ds))] == [
        '001/001_00012', '002/002_00002']
    sample = ds[0]
    assert sample['inputs'].shape == (3, H, W)
    packed = sample['data_samples']
    assert packed.metainfo['frame_ids'] == (-2, 2)
    # frame +2 is the target moved 8 pixels: aligned it matches far better
    target = sample['inputs'].float()
    after = packed.frames[1].float()
    shifted = (after[:, :, :W - 8] - target[:, :, 8:]).abs().mean()
    unshifted = (after - target).abs().mean()
    assert shifted < 0.5 * unshifted


def test_synthia_lists_rgb_views_as_separate_sequences(tmp_path):
    write_synthia(str(tmp_path))
    ds = SynthiaSeqsDataset(data_root=str(tmp_path))
    names = [ds.get_data_info(i)['sample_name'] for i in range(len(ds))]
    assert names == [
        'SYNTHIA-SEQS-01-DAWN/RGB/Stereo_Left/Omni_F/000001',
        'SYNTHIA-SEQS-01-DAWN/RGB/Stereo_Left/Omni_F/000002',
        'SYNTHIA-SEQS-01-DAWN/RGB/Stereo_Right/Omni_B/000001',
        'SYNTHIA-SEQS-01-DAWN/RGB/Stereo_Right/Omni_B/000002']
    K = ds.get_data_info(0)['intrinsics']
    assert K[0, 0] == pytest.approx(532.740352 / 1280 * W)
    assert K[1, 1] == pytest.approx(532.740352 / 760 * H)
    # without the filter the Depth folders count as sequences too
    assert len(SynthiaSeqsDataset(data_root=str(tmp_path), sequence_filter=None)) == 8


def test_bad_input_names_the_folder_or_argument(tmp_path):
    (tmp_path / 'train' / 'img').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='no frame under .*train/img'):
        GTA5SequenceDataset(data_root=str(tmp_path))
    write_viper(str(tmp_path))
    with pytest.raises(ValueError, match='frame_ids must not contain 0'):
        GTA5SequenceDataset(data_root=str(tmp_path), frame_ids=(0, 1))
    with pytest.raises(ValueError, match='intrinsics must be four positive'):
        GTA5SequenceDataset(data_root=str(tmp_path), intrinsics=(1.0, 2.0, 0.5))
    with pytest.raises(FileNotFoundError):
        GTA5SequenceDataset(data_root=str(tmp_path / 'missing'))


@pytest.mark.parametrize('name, dataset', [
    ('sde_source_resnet101_gta5_sequences.py', 'GTA5SequenceDataset'),
    ('sde_source_resnet101_synthia_seqs.py', 'SynthiaSeqsDataset')])
def test_source_sde_configs_follow_the_release(name, dataset):
    """configs/sde_dec11.yml: ResNet-101 without dilation, ASPP 3/6/9, widths
    16-256, Adam 1e-4 (encoder 1e-5), /10 at 160k of 350k, batch 4, 512 crops."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name))
    m = cfg.model
    assert m.backbone.output_stride == 32 and m.freeze_backbone is False
    assert tuple(m.depth_decoder.channels) == (16, 32, 64, 128, 256)
    assert tuple(m.depth_decoder.aspp_dilations) == (3, 6, 9)
    assert m.depth_decoder.aspp_skip_conv is True
    assert tuple(m.frame_ids) == (-1, 1) and tuple(m.scales) == (0, 1, 2, 3)
    assert m.smoothness_loss.loss_weight == pytest.approx(1e-3)
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-4)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == \
        pytest.approx(0.1)
    assert cfg.train_cfg.max_iters == 350000
    assert cfg.param_scheduler[0].milestones == [160000]
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.dataset.type == dataset
    steps = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    crop = cfg.train_dataloader.dataset.pipeline[steps.index('RandomCrop')]
    assert tuple(crop.crop_size) == (512, 512)
    # provide_uncropped_for_pose: the pose views are kept after the resize, before
    # the crop
    assert steps.index('Resize') < steps.index('KeepUncroppedPoseViews') < \
        steps.index('RandomCrop')
    assert cfg.val_cfg is None and cfg.val_dataloader is None


def test_output_stride_32_decoder_gives_full_size_disparities():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/sdeseg/sde_source_resnet101_gta5_sequences.py'))
    m = cfg.model
    m.backbone.model_name = 'resnet18'
    m.depth_decoder.in_channels = (64, 64, 128, 256, 512)
    model = MODELS.build(model_cfg_without_downloads(m)).eval()
    feats = model.backbone(torch.randn(1, 3, 64, 128))
    assert [tuple(f.shape[-2:]) for f in feats][-2:] == [(4, 8), (2, 4)]  # stride 16, 32
    with torch.no_grad():
        out = model.depth_decoder(feats)
    disps = list(out['outputs'].values())  # {scale: (B, 1, h_s, w_s)}
    sizes = sorted(tuple(d.shape[-2:]) for d in disps)
    assert sizes == [(8, 16), (16, 32), (32, 64), (64, 128)]
    assert all(float(d.min()) >= 0 and float(d.max()) <= 1 for d in disps)


def test_source_sde_config_trains_on_viper_frames(tmp_path):
    """tools/train.py on the GTA-sequence SDE config (shrunk: ResNet-18, 64x64
    crops of 128x64 frames, 3 updates) on the synthetic VIPER drives (`make data`'s
    gta5_sequences) runs the Runner without a val loop, logs
    finite SDE losses and writes a checkpoint that loads weights-only."""
    import json
    import sys

    from ..conftest import run_tool
    from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
    data = generate_dataset('gta5_sequences', tmp_path, seed=0,
                            config=TINY_CONFIGS['gta5_sequences']).root
    work = tmp_path / 'work'
    run_tool([sys.executable, 'tools/train.py',
              'configs/sdeseg/sde_source_resnet101_gta5_sequences.py',
              '--work-dir', str(work), '--cfg-options',
              f'train_dataloader.dataset.data_root={data}',
              'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False',
              'train_dataloader.dataset.pipeline.2.scale=[128,64]',
              'train_dataloader.dataset.pipeline.4.crop_size=[64,64]',
              'model.backbone.model_name=resnet18', 'model.backbone.pretrained=False',
              'model.depth_decoder.in_channels=[64,64,128,256,512]',
              'model.pose_net.encoder.checkpoint=None',
              'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
              'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=3'],
             timeout=600)
    logs = [json.loads(line) for p in work.rglob('scalars.json')
            for line in p.read_text().splitlines()]
    losses = [entry['loss_photometric'] for entry in logs if 'loss_photometric' in entry]
    assert len(losses) == 3 and all(np.isfinite(losses)) and min(losses) > 0
    checkpoint = torch.load(str(work / 'iter_3.pth'), map_location='cpu',
                            weights_only=True)
    state = checkpoint['state_dict']
    assert state['depth_decoder.blocks.block4.conv_out.conv.weight'].shape[0] == 256
    assert any(k.startswith('pose_net.') for k in state)
    # the run's pipeline kept the uncropped pose views (test_uncropped_pose_views.py
    # checks what the pose net then reads)
    log = next(work.rglob('*.log')).read_text()
    assert 'KeepUncroppedPoseViews' in log


@pytest.mark.parametrize('name, cls, per_sequence', [
    ('gta5_sequences', GTA5SequenceDataset, 4), ('synthia_seqs', SynthiaSeqsDataset, 4)])
def test_synthetic_source_sequences_load(tmp_path, name, cls, per_sequence):
    """The generator's VIPER / SYNTHIA-SEQS layouts: every frame but the two ends of
    each drive is a target, neighbours are the adjacent frames of the same drive,
    and the intrinsics are those the frames were rendered with."""
    from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
    config = TINY_CONFIGS[name]
    root = generate_dataset(name, tmp_path, seed=0, config=config).root
    ds = cls(data_root=str(root))
    assert len(ds) == config.num_sequences * (per_sequence - 2)
    info = ds.get_data_info(0)
    w, h = config.width, config.height
    ratio = 1.206285 if name == 'gta5_sequences' else 532.740352 / 1280
    assert info['intrinsics'][0, 0] == pytest.approx(ratio * w, rel=1e-6)
    # square pixels: fy (a fraction of H in the release) equals fx in pixels
    assert info['intrinsics'][1, 1] == pytest.approx(ratio * w, rel=2e-2)
    a, b, c = (cv2.imread(p).astype(np.float32) for p in (
        info['frame_paths'][-1], info['img_path'], info['frame_paths'][1]))
    assert 0 < np.abs(a - b).mean() < 40 and 0 < np.abs(b - c).mean() < 40
