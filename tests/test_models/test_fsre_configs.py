"""FSRE's paper configs state the paper's settings (specs/selfsup_fsre.md)."""
import pathlib

import pytest
from mmengine.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2] / 'configs' / 'fsre'


@pytest.mark.parametrize('name,encoder', [('resnet18_kitti.py', 'resnet18'),
                                          ('resnet50_kitti.py', 'resnet50')])
def test_fsre_config_states_the_paper_values(name, encoder):
    cfg = Config.fromfile(str(ROOT / name))
    model = cfg.model
    assert model.backbone.model_name == encoder
    assert model.pose_net.encoder.model_name == 'resnet18'
    assert (model.min_depth, model.max_depth) == (0.1, 100.0)
    assert tuple(model.frame_ids) == (-1, 1) and tuple(model.scales) == (0, 1, 2, 3)
    assert model.photometric_loss.alpha == 0.85 and model.photometric_loss.automask
    assert model.smoothness_loss.loss_weight == 1e-3  # beta
    assert model.sem_loss.loss_weight == 0.3  # gamma
    assert model.sem_decoder.out_channels == 19
    # CMA after decoder blocks 4, 3, 2 (the paper's l = 0, 1, 2), H = 4 embeddings
    cma = model.cross_task_blocks
    assert sorted(cma) == [2, 3, 4]
    assert {b: c.channels for b, c in cma.items()} == {4: 256, 3: 128, 2: 64}
    assert all(c.num_embeddings == 4 and c.type == 'BidirectionalCMA'
               for c in cma.values())
    # SGT on blocks 3, 2, 1 (the paper's l = 1, 2, 3), K = 5, m = 0.3, delta = 0.1
    assert tuple(model.triplet_blocks) == (3, 2, 1)
    sgt = model.triplet_loss
    assert (sgt.kernel_size, sgt.margin, sgt.loss_weight) == (5, 0.3, 0.1)
    # data: 192x640, batch 12, frames -1/+1, Monodepth2 intrinsics, jitter p 0.5
    loader = cfg.train_dataloader
    assert loader.batch_size == 12
    assert tuple(loader.dataset.frame_ids) == (-1, 1)
    assert loader.dataset.intrinsics_mode == 'monodepth2'
    steps = {s.type: s for s in loader.dataset.pipeline}
    assert tuple(steps['Resize'].scale) == (640, 192)
    jitter = steps['ColorJitter']
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue,
            jitter.prob, jitter.keep_clean) == (0.2, 0.2, 0.2, 0.1, 0.5, True)
    # Adam 1.5e-4, 20 epochs, x0.1 at 10 and 15
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 1.5e-4
    assert cfg.train_cfg.max_epochs == 20
    scheduler, = cfg.param_scheduler
    assert scheduler.milestones == [10, 15] and scheduler.gamma == 0.1
    metric, = cfg.val_evaluator
    assert (metric.crop, metric.max_depth, metric.median_scaling) == (
        'kitti_garg', 80.0, True)
