"""The DSS configs build, state the paper's values, and the demo model trains."""
import pathlib
import warnings
from itertools import pairwise

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

from mmdepthsem.models.backbones import MaxViTBackbone
from mmdepthsem.models.necks import DSSNeck
from mmdepthsem.registry import MODELS, PARAM_SCHEDULERS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()
ROOT = pathlib.Path(__file__).parents[2] / 'configs' / 'dss'
CONFIGS = sorted(p for p in ROOT.glob('*.py'))
PAPER = {'maxvit_nyu.py': ((480, 640), 10.0), 'maxvit_kitti.py': ((352, 704), 80.0)}


def _load(name):
    return Config.fromfile(str(ROOT / name))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_every_dss_config_builds_its_model(path):
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.pretrained = False  # no downloads in tests
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, MaxViTBackbone)
    assert isinstance(model.task_neck, DSSNeck)
    crop = next(s.crop_size for s in cfg.train_dataloader.dataset.pipeline
                if s.type == 'RandomCrop')
    assert tuple(cfg.model.backbone.img_size) == tuple(crop)  # windows fit the crop
    params = sum(p.numel() for p in model.parameters())
    if path.name in PAPER:  # MaxViT-L (210.4M) + decoder (9.3M) + DSS neck (3.6M)
        assert 222e6 < params < 225e6, params
        assert model.backbone.out_channels == [128, 256, 512, 1024]


@pytest.mark.parametrize('name', sorted(PAPER))
def test_paper_configs_state_the_paper_values(name):
    cfg = _load(name)
    crop, max_depth = PAPER[name]
    model = cfg.model
    assert model.backbone.model_name == 'maxvit_large_tf_512'
    assert tuple(model.backbone.img_size) == crop
    assert model.backbone.out_indices == (1, 2, 3, 4)
    assert model.decode_neck.channels == [128, 256, 512]
    assert model.decode_neck.norm_cfg.type == 'LN2d'
    assert model.decode_neck.act_cfg.type == 'GELU'
    neck = model.task_neck
    assert (neck.channels, neck.num_heads, neck.window_size, neck.num_repeats) == \
        (128, 4, 7, 2)
    assert neck.symbiosis is True and neck.mlp_ratio == 4.0
    depth = model.depth_head
    assert depth.activation == 'sigmoid' and depth.upsample_factor == 4
    assert depth.max_depth == max_depth
    assert (depth.loss_decode.alpha, depth.loss_decode.lambd) == (10.0, 0.85)
    sem = model.sem_head
    assert sem.type == 'DSSSemHead' and sem.num_classes == 150
    assert sem.upsample_factor == 4 and sem.loss_decode.type == 'JaccardLoss'
    assert sem.label_field == 'gt_pseudo_sem_seg'
    assert len(cfg.train_dataloader.dataset.metainfo.classes) == 150
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.train_cfg.max_epochs == 20
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and tuple(optimizer.betas) == (0.9, 0.999)
    steps = [s.type for s in cfg.train_dataloader.dataset.pipeline]
    assert {'RandomFlip', 'RandomGrayscale', 'ColorJitter', 'LoadPseudoLabel'} <= \
        set(steps)
    jitter = cfg.train_dataloader.dataset.pipeline[steps.index('ColorJitter')]
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue,
            jitter.prob) == (0.2, 0.2, 0.2, 0.05, 0.8)
    gray = cfg.train_dataloader.dataset.pipeline[steps.index('RandomGrayscale')]
    flip = cfg.train_dataloader.dataset.pipeline[steps.index('RandomFlip')]
    assert gray.prob == 0.1 and flip.prob == 0.5
    # NearFarMix with the paper's dataset bounds, in the batch form
    mix, = cfg.model.data_preprocessor.batch_augments
    assert mix.type == 'BatchNearFarMix' and mix.prob == 0.5
    assert tuple(mix.depth_range) == {'maxvit_nyu.py': (1.5, 6.5),
                                      'maxvit_kitti.py': (20.0, 60.0)}[name]


def test_kitti_tests_the_full_crop_with_sliding_training_crops():
    cfg = _load('maxvit_kitti.py')
    assert cfg.model.backbone.pad_to_partition is True
    test_cfg = cfg.model.test_cfg
    assert (test_cfg.mode, tuple(test_cfg.crop_size)) == ('slide', (352, 704))
    # two windows (left 0 and 512) cover the 1216-pixel width exactly
    assert 512 + 704 == 1216 and tuple(test_cfg.stride) == (352, 512)
    kb = next(s for s in cfg.test_dataloader.dataset.pipeline if s.type == 'KBCrop')
    assert (kb.height, kb.width) == (352, 1216)


def test_schedule_warms_up_then_cosines_lr_and_weight_decay():
    cfg = _load('maxvit_nyu.py')
    optim = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    epoch = 10  # iterations per epoch
    schedulers = [PARAM_SCHEDULERS.build(dict(s), default_args=dict(
        optimizer=optim, epoch_length=epoch)) for s in cfg.param_scheduler]
    lr, wd = [], []
    with warnings.catch_warnings():  # no optimizer.step() in this simulation
        warnings.simplefilter('ignore', UserWarning)
        for _ in range(20 * epoch):
            group = optim.optimizer.param_groups[0]
            lr.append(group['lr'])
            wd.append(group['weight_decay'])
            for scheduler in schedulers:
                scheduler.step()
    assert lr[0] == pytest.approx(4e-6) and lr[epoch - 1] == pytest.approx(3e-5)
    assert all(a < b for a, b in pairwise(lr[:epoch]))  # linear warm-up
    assert lr[epoch + 95] == pytest.approx(1.5e-5, rel=1e-6)  # cosine mid-point
    assert lr[-1] < 1e-8 and all(a >= b for a, b in pairwise(lr[epoch:]))
    assert wd[:epoch + 1] == [0.05] * (epoch + 1)
    assert wd[epoch + 95] == pytest.approx((0.05 + 0.005) / 2, rel=1e-6)
    assert wd[-1] == pytest.approx(0.005, abs=1e-5)


def _batch(num, height=120, width=160, classes=40):
    inputs, samples = [], []
    for _ in range(num):
        inputs.append(torch.randint(0, 256, (3, height, width), dtype=torch.uint8))
        sample = DepthSemDataSample(metainfo=dict(ori_shape=(height, width),
                                                  img_shape=(height, width)))
        depth = torch.rand(1, height, width) * 9 + 0.5
        depth[:, :10] = 0  # invalid rows
        sample.gt_depth_map = PixelData(data=depth)
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, classes, (1, height, width)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_demo_model_trains_and_predicts():
    torch.manual_seed(0)
    cfg = _load('maxvit_pico_synthetic_nyu.py')
    assert cfg.model.backbone.pretrained is False
    # stage 2 of the demo: init_weights would load the stage-1 run's checkpoint
    assert cfg.model.init_cfg.checkpoint == 'work_dirs/demo_dss/stage1/iter_400.pth'
    cfg.model.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    data = model.data_preprocessor(_batch(2), training=True)
    assert data['inputs'].shape == (2, 3, 128, 160)
    losses = model(**data, mode='loss')
    assert set(losses) == {'depth.loss_silog', 'sem.loss_jaccard', 'sem.acc_seg'}
    total = losses['depth.loss_silog'] + losses['sem.loss_jaccard']
    assert torch.isfinite(total) and 0 < losses['sem.loss_jaccard'] < 1
    total.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    for transformer in (model.task_neck.depth_guided, model.task_neck.semantics_guided):
        assert all(p.grad.abs().sum() > 0 for p in transformer.parameters())
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_batch(1), training=False)
        (pred, ) = model(**data, mode='predict')
    assert pred.pred_depth_map.shape == (120, 160)
    depth = pred.pred_depth_map.data
    assert depth.min() > 0 and depth.max() <= 10.0
    assert pred.pred_sem_seg.shape == (120, 160)
    assert pred.pred_sem_seg.data.max() < 40
