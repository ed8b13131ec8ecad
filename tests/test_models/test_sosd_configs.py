"""SOSD-Net's configs state the paper's settings (specs/sosd.md); the demo trains
through the Runner in alternating phases and a resumed run continues its phase."""
import json
import pathlib
import sys

import pytest
from mmengine.config import Config

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

from ..conftest import run_tool

register_all_modules()
ROOT = pathlib.Path(__file__).resolve().parents[2] / 'configs' / 'sosd'


def steps(cfg):
    return {s.type: s for s in cfg.train_dataloader.dataset.pipeline}


@pytest.mark.parametrize('dataset,classes,epochs,ratios,size,target', [
    ('nyu', 40, 60, (1.0, 1.2, 1.5), (480, 640), 'gt_depth_map'),
    ('cityscapes', 19, 40, (0.5, 0.75, 1.0, 1.25, 1.5, 1.75), (256, 512),
     'gt_disparity_map'),
])
def test_paper_configs_state_the_paper_values(dataset, classes, epochs, ratios, size,
                                              target):
    cfg = Config.fromfile(str(ROOT / f'xception65_{dataset}.py'))
    model = cfg.model
    assert model.type == 'AlternatingMultiTaskEstimator'
    assert model.backbone.model_name == 'xception65'
    assert model.backbone.output_stride == 16
    neck = model.decode_neck
    assert tuple(neck.dilations) == (1, 6, 12, 18) and neck.channels == 256
    assert neck.low_level_channels == 48 and tuple(neck.num_convs) == (1, 1, 2)
    assert neck.task_init_std == 0.1  # "Gaussian with zero mean and 0.01 variance"
    assert model.depth_head.loss_decode.type == 'DepthL1Loss'  # eq. 7
    assert model.depth_head.get('target_key', 'gt_depth_map') == target
    assert model.sem_head.num_classes == classes
    assert model.sem_head.loss_decode.avg_non_ignore  # eq. 6 over labelled pixels
    assert model.depth_head.loss_decode.loss_weight == \
        model.sem_head.loss_decode.loss_weight == 1.0
    alternation = model.alternation
    assert alternation.enabled and alternation.by_epoch and alternation.period == 1
    assert alternation.start == 'depth'
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 1e-4 and cfg.param_scheduler == []
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'
    assert tuple(steps(cfg)['RandomResize'].ratios) == ratios
    assert tuple(steps(cfg)['RandomCrop'].crop_size) == size
    assert steps(cfg)['RandomFlip'].prob == 0.5
    assert cfg.model_wrapper_cfg.find_unused_parameters


ROWS = {  # suffix -> (estimator alternates, units, depth head, semantic head)
    '': (True, True, True, True),
    '_joint': (False, True, True, True),
    '_mtl': (False, False, True, True),
    '_depth_only': (False, False, True, False),
    '_sem_only': (False, False, False, True),
}


@pytest.mark.parametrize('dataset', ['nyu', 'cityscapes'])
@pytest.mark.parametrize('suffix', sorted(ROWS))
def test_table_rows_differ_only_in_their_row(dataset, suffix):
    alternates, units, depth, sem = ROWS[suffix]
    cfg = Config.fromfile(str(ROOT / f'xception65_{dataset}{suffix}.py'))
    full = Config.fromfile(str(ROOT / f'xception65_{dataset}.py'))
    model = cfg.model
    assert model.alternation.enabled == alternates
    assert (model.depth_head is not None) == depth
    assert (model.sem_head is not None) == sem
    for head in (model.depth_head, model.sem_head):
        if head is not None:
            assert head.with_unit == units
    for key in ('backbone', 'decode_neck', 'data_preprocessor'):
        assert model[key] == full.model[key], key
    for key in ('optim_wrapper', 'train_cfg', 'train_dataloader'):
        assert cfg[key] == full[key], key
    cfg.model.backbone.pretrained = False
    built = MODELS.build(cfg.model)  # the groups still cover every parameter
    assert len(built.group_of) == len(list(built.parameters()))


def _train(config, data_root, work_dir, max_iters, extra=()):
    run_tool([
        sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir),
        '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.image_size=[96,64]',
        'val_dataloader.dataset.image_size=[96,64]',
        'test_dataloader.dataset.image_size=[96,64]',
        'train_dataloader.dataset.pipeline.4.crop_size=[64,96]',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=3', 'model.alternation.period=2',
        *extra])
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    return [json.loads(line) for line in logs[-1].read_text().splitlines()]


def test_demo_alternates_through_the_runner_and_resume_keeps_the_phase(
        synthetic_nyu, tmp_path):
    config = ROOT / 'resnet18_synthetic_nyu.py'
    work_dir = tmp_path / 'work'
    records = _train(config, synthetic_nyu, work_dir, 3)
    train = [r for r in records if 'em_phase' in r]
    # period 2: iterations 0, 1 depth; 2 semantic
    assert [r['em_phase'] for r in train] == [0.0, 0.0, 1.0]
    assert 'sem.loss_ce' not in train[0] and 'depth.loss_l1' in train[0]
    assert any('delta1' in r for r in records)  # evaluation ran
    # resume from iter_3: iteration 3 is still in the semantic phase, 4 is depth
    resumed = _train(config, synthetic_nyu, work_dir, 5, extra=('resume=True', ))
    train = [r for r in resumed if 'em_phase' in r]
    assert [r['em_phase'] for r in train] == [1.0, 0.0]
