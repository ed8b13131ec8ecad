"""DSS's two training stages: the stage-1 ADE20K config (encoder, decoder, both necks,
semantic head) and stage 2 initialised from its checkpoint, where only the Symbiotic
Transformer (LG-CAT) and the depth head are new (specs/dss.md, "Training")."""
import logging
import pathlib
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import save_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.structures import PixelData

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()
ROOT = pathlib.Path(__file__).parents[2] / 'configs' / 'dss'
STAGE1 = 'maxvit_ade20k_pretrain.py'
STAGE2 = ('maxvit_nyu.py', 'maxvit_kitti.py')
# the CPU demo's two stages (make demo-dss)
DEMO_STAGE1 = 'demo/maxvit_pico_synthetic_rooms_stage1.py'
DEMO_STAGE2 = ('maxvit_pico_synthetic_nyu.py',
               'demo/maxvit_pico_synthetic_nyu_no_nearfarmix.py',
               'demo/maxvit_pico_synthetic_nyu_no_symbiosis.py')
PAIRS = [(STAGE1, name) for name in STAGE2] + [(DEMO_STAGE1, DEMO_STAGE2[0])]
# Keys stage 2 adds to stage 1: the two LG-CAT transformers and the depth head.
NEW_IN_STAGE2 = ('task_neck.depth_guided.', 'task_neck.semantics_guided.',
                 'depth_head.')
# MaxViT-pico and the widths of configs/dss/maxvit_pico_synthetic_nyu.py, at a 64x64
# crop (window/grid 2x2), so that the models build and run in a second.
TINY = {
    'model.backbone.model_name': 'maxvit_pico_rw_256',
    'model.backbone.img_size': (64, 64),
    'model.backbone.pretrained': False,
    'model.decode_neck.in_channels': [32, 64, 128, 256],
    'model.decode_neck.channels': [64, 96, 128],
    'model.task_neck.in_channels': 64,
    'model.task_neck.channels': 64,
    'model.sem_head.in_channels': 64,
}


def _load(name):
    return Config.fromfile(str(ROOT / name))


def _tiny_model(name, **options):
    cfg = _load(name)
    cfg.merge_from_dict({**TINY, **options})
    if cfg.model.get('depth_head'):
        cfg.merge_from_dict({'model.depth_head.in_channels': 64})
    return MODELS.build(cfg.model)


def test_stage1_config_states_the_paper_values():
    cfg, nyu = _load(STAGE1), _load('maxvit_nyu.py')
    model = cfg.model
    assert model.backbone.model_name == nyu.model.backbone.model_name == \
        'maxvit_large_tf_512'
    for key in ('out_indices', 'pretrained', 'drop_path_rate'):
        assert model.backbone[key] == nyu.model.backbone[key], key
    assert tuple(model.backbone.img_size) == (512, 512)  # timm built for the crop
    assert model.decode_neck == nyu.model.decode_neck
    # both necks, without the Symbiotic Transformer, otherwise as in stage 2
    assert model.task_neck.type == 'DSSNeck' and model.task_neck.symbiosis is False
    assert {k: v for k, v in model.task_neck.items() if k != 'symbiosis'} == \
        {k: v for k, v in nyu.model.task_neck.items() if k != 'symbiosis'}
    assert model.depth_head is None
    sem = model.sem_head
    assert sem.type == 'DSSSemHead' and sem.num_classes == 150
    assert sem.label_field == 'gt_sem_seg'
    assert {loss.type for loss in sem.loss_decode} == {'CrossEntropyLoss',
                                                      'JaccardLoss'}
    # ADE20K through mmseg's dataset, 0 = "other" ignored, 512x512 crops
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'ADE20KDataset'
    steps = {s.type: s for s in dataset.pipeline}
    assert steps['LoadAnnotations'].reduce_zero_label is True
    assert tuple(steps['RandomCrop'].crop_size) == (512, 512)
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'  # epochs end
    # 30 epochs, AdamW (0.9, 0.999) and the lr / weight-decay schedule over them
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.train_cfg.max_epochs == 30
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and tuple(optimizer.betas) == (0.9, 0.999)
    assert max(s.end for s in cfg.param_scheduler) == 30
    assert cfg.model_wrapper_cfg.find_unused_parameters is True  # unused depth neck


@pytest.mark.parametrize('name', STAGE2)
def test_stage2_configs_start_from_the_stage1_checkpoint(name):
    cfg = _load(name)
    assert cfg.model.init_cfg == dict(
        type='Pretrained', checkpoint='work_dirs/maxvit_ade20k_pretrain/epoch_30.pth')
    assert cfg.load_from is None  # resuming stays tools/train.py's --resume


@pytest.mark.parametrize('name', DEMO_STAGE2)
def test_demo_stage2_configs_start_from_the_demo_stage1_run(name):
    stage1, cfg = _load(DEMO_STAGE1), _load(name)
    # the file the stage-1 run writes last: WORK_DIR/iter_<max_iters>.pth
    assert stage1.train_cfg.max_iters % stage1.default_hooks.checkpoint.interval == 0
    assert cfg.model.init_cfg == dict(
        type='Pretrained',
        checkpoint=f'work_dirs/demo_dss/stage1/iter_{stage1.train_cfg.max_iters}.pth')
    assert cfg.load_from is None


def test_demo_stage1_config_mirrors_the_paper_stage1():
    cfg, demo, paper = _load(DEMO_STAGE1), _load(DEMO_STAGE2[0]), _load(STAGE1)
    model = cfg.model
    assert model.init_cfg is None and model.depth_head is None
    assert model.task_neck.symbiosis is False
    assert {k: v for k, v in model.task_neck.items() if k != 'symbiosis'} == \
        {k: v for k, v in demo.model.task_neck.items() if k != 'symbiosis'}
    for part in ('backbone', 'decode_neck'):
        assert model[part] == demo.model[part], part
    assert model.sem_head.num_classes == demo.model.sem_head.num_classes == 40
    assert [loss.type for loss in model.sem_head.loss_decode] == \
        [loss.type for loss in paper.model.sem_head.loss_decode]
    assert model.data_preprocessor.batch_augments == []
    assert cfg.model_wrapper_cfg.find_unused_parameters is True
    # other rooms than the demo's: its own data root for training and validation
    rooms = cfg.train_dataloader.dataset.data_root
    assert rooms != demo.train_dataloader.dataset.data_root
    assert cfg.val_dataloader.dataset.data_root == rooms
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])


def test_stage1_model_trains_without_a_depth_head():
    torch.manual_seed(0)
    model = _tiny_model(STAGE1)
    assert model.depth_head is None and not model.task_neck.symbiosis
    model.train()
    sample = DepthSemDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
    labels = torch.randint(0, 150, (1, 64, 64))
    labels[:, :8] = 255  # ADE20K's reduced "other" class
    sample.gt_sem_seg = PixelData(data=labels)
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)],
             data_samples=[sample]), training=True)
    losses = model(**data, mode='loss')
    assert {'sem.loss_ce', 'sem.loss_jaccard'} <= set(losses)
    assert not any(key.startswith('depth.') for key in losses)
    total = losses['sem.loss_ce'] + losses['sem.loss_jaccard']
    assert torch.isfinite(total)
    total.backward()
    assert model.sem_head.conv_seg.weight.grad.abs().sum() > 0
    assert model.backbone.model.stem.conv1.weight.grad is not None


class _Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.mark.parametrize('first,name', PAIRS)
def test_stage2_loads_stage1_and_only_lgcat_and_depth_head_are_new(first, name,
                                                                   tmp_path):
    torch.manual_seed(0)
    stage1 = _tiny_model(first)
    checkpoint = tmp_path / 'epoch_30.pth'
    save_checkpoint(dict(state_dict=stage1.state_dict(),
                         meta=dict(epoch=30, iter=1000)), str(checkpoint))

    torch.manual_seed(1)  # other initial weights than stage 1's
    stage2 = _tiny_model(name, **{'model.init_cfg.checkpoint': str(checkpoint)})
    keys2 = set(stage2.state_dict())
    expected_missing = {k for k in keys2 if k.startswith(NEW_IN_STAGE2)}
    assert {k.split('.')[0] for k in expected_missing} == {'task_neck', 'depth_head'}
    assert any(k.startswith('task_neck.depth_guided.') for k in expected_missing)
    assert any(k.startswith('task_neck.semantics_guided.') for k in expected_missing)

    # the file read back by the project's weights-only loader (mmengine's scheme '')
    saved = _load_checkpoint(str(checkpoint), map_location='cpu')['state_dict']
    assert keys2 - set(saved) == expected_missing  # missing: exactly the new parts
    assert set(saved) - keys2 == set()  # unexpected: none

    # the config's mechanism: mmengine's Pretrained init of the whole model, as the
    # runner's init_weights runs it; it logs the missing keys
    shared = ('backbone.model.stem.conv1.weight', 'decode_neck.blocks.0.0.conv.weight',
              'task_neck.depth_neck.1.conv.weight', 'task_neck.sem_neck.0.conv.weight',
              'sem_head.conv_seg.weight')
    for key in shared:
        assert not torch.equal(stage2.state_dict()[key], saved[key]), key
    records = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(records)
    try:
        stage2.init_weights()  # children first (e.g. the head's Normal init), file last
    finally:
        logger.removeHandler(records)
    state, state1 = stage2.state_dict(), stage1.state_dict()
    for key in keys2 - expected_missing:
        assert torch.equal(state[key], saved[key]), key
    for key in shared:
        assert torch.equal(state[key], state1[key]), key
    logged = '\n'.join(records.messages)
    assert f'load model from: {checkpoint}' in logged
    match = re.search(r'missing keys in source state_dict: (.*)', logged)
    assert match, logged
    logged_missing = set(match.group(1).strip().split(', '))
    # mmengine leaves BatchNorm's num_batches_tracked out of the message
    assert logged_missing == {k for k in expected_missing
                              if not k.endswith('num_batches_tracked')}
    assert 'unexpected key in source state_dict' not in logged
