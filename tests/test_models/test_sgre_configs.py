"""SGRE's configs state the paper's settings (specs/sgre.md), its ablations change only
their row, and the demo pipeline feeds the model binary labels and SEEM points."""
import pathlib

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
from mmdepthsem.registry import DATASETS, MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.edge_points import seem_point_counts

register_all_modules()
ROOT = pathlib.Path(__file__).resolve().parents[2] / 'configs' / 'sgre'
PAPER = Config.fromfile(str(ROOT / 'resnet50_kitti.py'))
FOREGROUND = ('traffic light', 'traffic sign', 'person', 'rider', 'car', 'truck', 'bus',
              'train', 'motorcycle', 'bicycle')


def steps(cfg, phase='train'):
    return {s.type: s for s in cfg[f'{phase}_dataloader'].dataset.pipeline}


def test_paper_config_states_the_paper_values():
    model = PAPER.model
    assert model.type == 'SemanticGuidedDepthEstimator'
    assert model.backbone.model_name == 'resnet50'
    assert model.pose_net.encoder.model_name == 'resnet18'
    decoder = model.depth_decoder
    assert decoder.type == 'SemanticFusedDepthDecoder'
    assert tuple(decoder.in_channels) == (64, 256, 512, 1024, 2048)
    assert tuple(decoder.channels) == (16, 32, 64, 128, 256)
    assert tuple(decoder.attention_blocks) == (4, 3, 2)
    assert decoder.attention.qk_reduction == 8
    assert tuple(decoder.seem.proj_channels) == (128, 112, 112)
    assert tuple(decoder.seem.hidden_channels) == (256, 256, 256)
    assert tuple(decoder.seem_enc_index) == (1, 0)  # econv1, econv0
    assert tuple(decoder.seem_blocks) == (2, 1, 0)
    sem = model.sem_decoder
    assert (sem.out_channels, sem.out_activation) == (1, None)
    assert tuple(sem.scales) == (0, 1, 2, 3)  # S_disp3..0
    assert model.sem_loss.use_sigmoid and model.sem_loss.loss_weight == 1.0  # L_m
    assert model.smoothness_loss.loss_weight == 1e-3  # omega of eq. 9
    assert model.photometric_loss.automask and model.photometric_loss.alpha == 0.85
    assert (model.min_depth, model.max_depth) == (0.1, 100.0)
    assert model.point_sampler == dict(num_points=3000, edge_ratio=0.4, max_offset=3,
                                       ref_size=(192, 640), scale_with_size=True)
    # schedule: Adam 1e-4, 19 epochs, x0.1 after 15, batch 12, 192x640
    assert PAPER.optim_wrapper.optimizer.type == 'Adam'
    assert PAPER.optim_wrapper.optimizer.lr == 1e-4
    assert PAPER.train_cfg.max_epochs == 19
    (step, ) = PAPER.param_scheduler
    assert (step.type, tuple(step.milestones), step.gamma) == ('MultiStepLR', (15, ),
                                                                0.1)
    assert PAPER.train_dataloader.batch_size == 12
    assert tuple(steps(PAPER)['Resize'].scale) == (640, 192)
    # model selection on the Eigen-Zhou validation frames, test on Eigen
    assert PAPER.val_dataloader.dataset.ann_file == 'splits/eigen_zhou/val_files.txt'
    assert PAPER.test_dataloader.dataset.ann_file == 'splits/eigen/test_files.txt'
    assert PAPER.default_hooks.checkpoint.save_best == 'abs_rel'


@pytest.mark.parametrize('name', ['resnet50_kitti.py', 'resnet18_synthetic_kitti.py',
                                  'ablations/resnet50_kitti_64x224_attn432.py'])
def test_pipeline_binarises_table_7_and_samples_as_the_model(name):
    cfg = Config.fromfile(str(ROOT / name))
    pipeline = [s.type for s in cfg.train_dataloader.dataset.pipeline]
    # the points are pixels of the final image: after every geometric transform
    assert pipeline.index('SampleSEEMPoints') > pipeline.index('RandomFlip')
    assert pipeline.index('SampleSEEMPoints') > pipeline.index('BinaryForegroundMap')
    binary = steps(cfg)['BinaryForegroundMap']
    assert tuple(binary.foreground_classes) == FOREGROUND
    sampler = steps(cfg)['SampleSEEMPoints']
    assert {k: sampler[k] for k in cfg.model.point_sampler} == cfg.model.point_sampler


def test_point_count_scales_with_the_image_side():
    assert seem_point_counts(192, 640) == (1200, 600)  # N = 3000, mu = 0.4
    edge, rand = seem_point_counts(64, 224)
    assert 2 * edge + rand == 1025 and edge == 410


# name -> (estimator, attention blocks, SEEM, image size (W, H))
ROWS = {
    'baseline': ('SelfSupervisedDepthEstimator', None, False, (640, 192)),
    'seem': ('SemanticGuidedDepthEstimator', (), True, (640, 192)),
    'sa': ('SemanticGuidedDepthEstimator', (4, 3, 2), False, (640, 192)),
    '64x224_attn4': ('SemanticGuidedDepthEstimator', (4, ), True, (224, 64)),
    '64x224_attn432': ('SemanticGuidedDepthEstimator', (4, 3, 2), True, (224, 64)),
    '64x224_attn4321': ('SemanticGuidedDepthEstimator', (4, 3, 2, 1), True, (224, 64)),
    '64x224_attn43210': ('SemanticGuidedDepthEstimator', (4, 3, 2, 1, 0), True,
                         (224, 64)),
    'tab9_binary_concat': ('SemanticGuidedDepthEstimator', (), False, (640, 192)),
    'tab9_full_concat': ('SemanticGuidedDepthEstimator', (), False, (640, 192)),
}
#: rows whose semantic branch differs from the paper model's (Table 9, full labels)
FULL_LABEL_ROWS = {'tab9_full_concat'}


def test_every_ablation_config_is_checked_and_documented():
    on_disk = {p.stem[len('resnet50_kitti_'):] for p in (ROOT / 'ablations').glob('*.py')}
    assert on_disk == set(ROWS)
    readme = (ROOT / 'ablations' / 'README.md').read_text()
    for name in ROWS:
        assert f'resnet50_kitti_{name}.py' in readme, name


@pytest.mark.parametrize('name', sorted(ROWS))
def test_ablation_config_changes_only_its_row(name):
    estimator, blocks, seem, size = ROWS[name]
    cfg = Config.fromfile(str(ROOT / 'ablations' / f'resnet50_kitti_{name}.py'))
    assert cfg.model.type == estimator
    assert cfg.model.backbone.model_name == 'resnet50'
    if blocks is None:  # Monodepth2 ResNet-50: no semantic branch at all
        assert 'sem_decoder' not in cfg.model
        assert cfg.model.depth_decoder.type == 'MonodepthDepthDecoder'
        assert cfg.model.photometric_loss == PAPER.model.photometric_loss
        assert cfg.model.pose_net == PAPER.model.pose_net
    else:
        assert tuple(cfg.model.depth_decoder.attention_blocks) == blocks
        assert bool(cfg.model.depth_decoder.seem) == seem
        changed = {'depth_decoder'}
        if name in FULL_LABEL_ROWS:
            changed |= {'sem_decoder', 'sem_loss'}
            assert cfg.model.sem_decoder.out_channels == 19
            assert not cfg.model.sem_loss.use_sigmoid
            pipeline = [s.type for s in cfg.train_dataloader.dataset.pipeline]
            assert 'BinaryForegroundMap' not in pipeline
        for key in set(PAPER.model) | set(cfg.model):
            if key not in changed:
                assert cfg.model.get(key) == PAPER.model.get(key), key
    assert tuple(steps(cfg)['Resize'].scale) == size
    assert tuple(steps(cfg, 'test')['Resize'].scale) == size
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert cfg[key] == PAPER[key], key
    assert cfg.train_dataloader.batch_size == 12


def test_ablation_models_build_and_train_one_step_on_small_inputs():
    from .test_self_supervised_estimator import run_loss
    from .test_sgre_estimator import sgre_sample
    for name in ('seem', '64x224_attn43210'):
        cfg = Config.fromfile(str(ROOT / 'ablations' / f'resnet50_kitti_{name}.py'))
        cfg.model.backbone.pretrained = False
        cfg.model.pose_net.encoder.checkpoint = None
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        losses = run_loss(model, [sgre_sample()])
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        assert torch.isfinite(total), name
        total.backward()
        assert model.depth_decoder.seem.enhance[0].weight.grad.abs().sum() > 0
    # Table 9's 19-class branch: softmax CE over all four scales
    cfg = Config.fromfile(str(ROOT / 'ablations' / 'resnet50_kitti_tab9_full_concat.py'))
    cfg.model.backbone.pretrained = False
    cfg.model.pose_net.encoder.checkpoint = None
    model = MODELS.build(cfg.model)
    losses = run_loss(model, [sgre_sample()])
    assert torch.isfinite(losses['loss_sem']) and losses['loss_sem'] > 0


@pytest.fixture(scope='module')
def tiny_kitti(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny_sgre')
    generate_dataset('kitti', str(root), seed=1, config=TINY_CONFIGS['kitti'])
    return root / 'kitti'


def test_demo_pipeline_packs_binary_labels_and_points(tiny_kitti):
    cfg = Config.fromfile(str(ROOT / 'resnet18_synthetic_kitti.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = str(tiny_kitti)
    packed = DATASETS.build(dataset_cfg)[0]['data_samples']
    labels = packed.gt_pseudo_sem_seg.data
    assert set(np.unique(labels.numpy())) <= {0, 1, 255}
    points = packed.seem_points
    assert points.dtype == torch.int64 and points.shape == (1025, 2)
    assert (points[:, 0] < 224).all() and (points[:, 1] < 64).all()
    assert 0 <= packed.metainfo['seem_num_edge_points'] <= 410


def test_per_class_test_config_reads_pseudo_labels_of_the_test_drive(tiny_kitti):
    cfg = Config.fromfile(str(ROOT / 'resnet18_synthetic_kitti_per_class.py'))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.data_root = str(tiny_kitti)
    packed = DATASETS.build(dataset_cfg)[0]['data_samples']
    assert packed.gt_pseudo_sem_seg.data.shape == packed.gt_depth_map.data.shape
    (metric, ) = cfg.test_evaluator
    assert metric.class_key == 'gt_pseudo_sem_seg' and len(metric.class_names) == 19


def test_demo_trains_with_the_runner_and_logs_points_and_gradient_norms(
        tiny_kitti, tmp_path):
    import json
    import sys

    from ..conftest import run_tool
    work_dir = tmp_path / 'work'
    run_tool([
        sys.executable, 'tools/train.py', str(ROOT / 'resnet18_synthetic_kitti.py'),
        '--work-dir', str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_kitti}',
        f'val_dataloader.dataset.data_root={tiny_kitti}',
        f'test_dataloader.dataset.data_root={tiny_kitti}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'train_cfg.max_iters=3',
        'train_cfg.val_interval=3', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=3'
    ])
    (log, ) = work_dir.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in log.read_text().splitlines()]
    train = [r for r in records if 'loss_sem' in r]
    assert len(train) == 3
    assert all(r['seem_points'] == 1025 for r in train)
    assert all(0 <= r['seem_edge_points'] <= 410 for r in train)
    assert all(r['grad_norm_depth_decoder_seem'] > 0 for r in train)
    assert all(r['grad_norm_depth_decoder_attention'] > 0 for r in train)
    assert any('abs_rel' in r for r in records)  # validation ran
    assert (work_dir / 'iter_3.pth').is_file()
