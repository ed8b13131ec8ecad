"""FSRE ablation configs (Tables 1b, 3, 4 of the paper) state their rows and train.

Each config under ``configs/fsre/ablations`` inherits ``configs/fsre/resnet18_kitti.py``
and changes only what its row changes; block indices follow the spec (decoder block
``b = 4 - l`` for the paper's level ``l``).
"""
import pathlib

import pytest
import torch
from mmengine.config import Config

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from tests.test_models.test_self_supervised_estimator import run_loss, sample

register_all_modules()
ROOT = pathlib.Path(__file__).resolve().parents[2] / 'configs' / 'fsre' / 'ablations'
FULL = Config.fromfile(str(ROOT.parent / 'resnet18_kitti.py'))
CMA_BLOCKS = {4: 256, 3: 128, 2: 64}

# name -> (semantic decoder, CMA (targets, H) or None, SGT (blocks, K) or None,
#          image size (H, W))
ROWS = {
    'tab1b_baseline_no_ce': (False, None, None, (192, 640)),
    'tab1b_ce': (True, None, None, (192, 640)),
    'tab1b_ce_sgt': (True, None, ((3, 2, 1), 5), (192, 640)),
    'tab1b_ce_cma': (True, (('depth', 'seg'), 4), None, (192, 640)),
    'tab1b_ce_sgt_cma': (True, (('depth', 'seg'), 4), ((3, 2, 1), 5), (192, 640)),
    'tab1b_highres_320x1024': (True, (('depth', 'seg'), 4), ((3, 2, 1), 5),
                               (320, 1024)),
    'tab3a_sgt_l0to3': (True, None, ((4, 3, 2, 1), 5), (192, 640)),
    'tab3a_sgt_l1to4': (True, None, ((3, 2, 1, 0), 5), (192, 640)),
    'tab3b_sgt_k3': (True, None, ((3, 2, 1), 3), (192, 640)),
    'tab3b_sgt_k7': (True, None, ((3, 2, 1), 7), (192, 640)),
    'tab4a_cma_target_depth': (True, (('depth', ), 4), None, (192, 640)),
    'tab4a_cma_target_seg': (True, (('seg', ), 4), None, (192, 640)),
    'tab4b_cma_h1': (True, (('depth', 'seg'), 1), None, (192, 640)),
    'tab4b_cma_h2': (True, (('depth', 'seg'), 2), None, (192, 640)),
}


def path(name):
    return ROOT / f'resnet18_kitti_{name}.py'


def test_every_ablation_config_is_checked_and_documented():
    on_disk = {p.stem[len('resnet18_kitti_'):] for p in ROOT.glob('*.py')}
    assert on_disk == set(ROWS)
    readme = (ROOT / 'README.md').read_text()
    for name in ROWS:
        assert f'resnet18_kitti_{name}.py' in readme, name
    for path_ in ROOT.glob('*.py'):
        assert "_base_ = ['../resnet18_kitti.py']" in path_.read_text(), path_.name


@pytest.mark.parametrize('name', sorted(ROWS))
def test_ablation_config_states_its_row(name):
    sem, cma, sgt, size = ROWS[name]
    cfg = Config.fromfile(str(path(name)))
    model = cfg.model
    if sem:
        assert model.sem_decoder.out_channels == 19
        assert model.sem_loss.loss_weight == 0.3  # gamma
    else:
        assert model.sem_decoder is None and model.sem_loss is None
    if cma is None:
        assert not model.cross_task_blocks
    else:
        targets, heads = cma
        blocks = model.cross_task_blocks
        assert {b: c.channels for b, c in blocks.items()} == CMA_BLOCKS
        for c in blocks.values():
            assert c.type == 'BidirectionalCMA' and c.num_embeddings == heads
            assert tuple(c.get('targets', ('depth', 'seg'))) == targets
    if sgt is None:
        assert model.triplet_loss is None
    else:
        blocks, kernel = sgt
        assert tuple(model.triplet_blocks) == blocks
        loss = model.triplet_loss
        assert (loss.kernel_size, loss.margin, loss.loss_weight) == (kernel, 0.3, 0.1)
        assert loss.get('threshold', -1) < 0  # T = K - 1, set by the loss
    for phase in ('train', 'val', 'test'):
        resize, = [s for s in cfg[f'{phase}_dataloader'].dataset.pipeline
                   if s.type == 'Resize']
        assert tuple(resize.scale) == size[::-1] and not resize.keep_ratio, phase
    # everything else is the paper config's
    for key in ('backbone', 'depth_decoder', 'pose_net', 'photometric_loss',
                'smoothness_loss', 'frame_ids', 'scales', 'min_depth', 'max_depth',
                'data_preprocessor'):
        assert model[key] == FULL.model[key], key
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_evaluator'):
        assert cfg[key] == FULL[key], key
    train, full_train = cfg.train_dataloader, FULL.train_dataloader
    assert train.batch_size == full_train.batch_size == 12
    assert {k: v for k, v in train.dataset.items() if k != 'pipeline'} == \
        {k: v for k, v in full_train.dataset.items() if k != 'pipeline'}
    if size == (192, 640):
        assert train.dataset.pipeline == full_train.dataset.pipeline


def test_paper_config_is_the_full_row():
    both = Config.fromfile(str(path('tab1b_ce_sgt_cma')))
    assert both.model == FULL.model
    assert both.train_dataloader == FULL.train_dataloader


@pytest.mark.parametrize('name', sorted(ROWS))
def test_ablation_model_builds_and_computes_its_losses(name):
    cfg = Config.fromfile(str(path(name)))
    cfg.model.backbone.pretrained = False  # no downloads in tests
    cfg.model.pose_net.encoder.checkpoint = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # no init_weights: it would load checkpoints
    sem, cma, sgt, _ = ROWS[name]
    assert (model.sem_decoder is not None) == sem
    assert sorted(int(b) for b in model.cross_task) == ([] if cma is None else
                                                        sorted(CMA_BLOCKS))
    if cma is not None:
        targets, heads = cma
        for module in model.cross_task.values():
            assert (module.depth_cma is not None) == ('depth' in targets)
            assert (module.seg_cma is not None) == ('seg' in targets)
            built = module.depth_cma or module.seg_cma
            assert built.num_embeddings == heads
    assert (model.triplet_loss is not None) == (sgt is not None)
    if sgt is not None:
        assert model.triplet_loss.kernel_size == sgt[1]
    with torch.no_grad():  # ~1-2 s per config on a CPU
        losses = run_loss(model, [sample(labels=True)])  # 64x96, batch 1
    expected = {'loss_photometric', 'loss_smooth', 'automask_ratio'}
    if sem:
        expected.add('loss_sem')
    if sgt is not None:
        expected |= {'loss_sgt', 'sgt_patches'}
    assert set(losses) == expected
    assert all(torch.isfinite(v) for v in losses.values())
