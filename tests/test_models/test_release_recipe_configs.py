"""The paper configs train and evaluate as the released code does (docs/selfsup.md).

FSRE's configs (paper, ablations, official-layout, synthetic demo) follow FSRE's
release; Monodepth2's and SGRE's (which builds on Monodepth2 and has no released
code) follow Monodepth2's; every KITTI evaluation follows Monodepth2's
``evaluate_depth.py``.
"""
import pathlib

import pytest
from mmengine.config import Config

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()
CONFIGS = pathlib.Path(__file__).resolve().parents[2] / 'configs'


def _names(*patterns):
    return sorted(str(p.relative_to(CONFIGS)) for pattern in patterns
                  for p in CONFIGS.glob(pattern) if not p.name.startswith('_'))


FSRE = _names('fsre/*.py', 'fsre/ablations/*.py')
MONODEPTH2_FAMILY = _names('selfsup/*.py', 'sgre/*.py', 'sgre/ablations/*.py',
                           'sgre/demo/*.py')
KITTI_DEPTH_EVAL = [n for n in FSRE + MONODEPTH2_FAMILY
                    if 'semantics' not in n and 'synthetic' not in n]
FSRE_RELEASE_SGT = dict(border='negative', include_anchor=True, count_rule='at_least',
                        level_weighting='halving', distance='affinity')


def test_the_config_lists_are_not_empty():
    assert len(FSRE) >= 18 and len(MONODEPTH2_FAMILY) >= 15
    assert 'fsre/resnet18_kitti.py' in KITTI_DEPTH_EVAL
    assert 'sgre/resnet50_kitti_per_class.py' in KITTI_DEPTH_EVAL


@pytest.mark.parametrize('name', FSRE)
def test_fsre_configs_follow_fsres_release(name):
    model = Config.fromfile(str(CONFIGS / name)).model
    assert model.scale_weighting == 'halving'
    assert model.align_corners is True
    if model.get('triplet_loss'):
        sgt = model.triplet_loss
        assert {key: sgt[key] for key in FSRE_RELEASE_SGT} == FSRE_RELEASE_SGT


@pytest.mark.parametrize('name', MONODEPTH2_FAMILY)
def test_monodepth2_family_configs_follow_monodepth2s_release(name):
    model = Config.fromfile(str(CONFIGS / name)).model
    assert model.scale_weighting == 'mean'
    assert model.align_corners is False


@pytest.mark.parametrize('name', KITTI_DEPTH_EVAL)
def test_kitti_evaluation_is_monodepth2s(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        metric, = [m for m in evaluator if m.type == 'DepthMetric']
        assert (metric.crop, metric.min_depth, metric.max_depth) == (
            'kitti_garg', 1e-3, 80.0)
        assert metric.median_scaling and metric.resize_as == 'disparity'
        assert metric.strict_max_depth is True


def test_built_fsre_model_carries_the_release_rules():
    cfg = Config.fromfile(str(CONFIGS / 'fsre/resnet18_kitti.py'))
    cfg.model.backbone.pretrained = False
    cfg.model.pose_net.encoder.checkpoint = None
    model = MODELS.build(cfg.model)
    assert (model.scale_weighting, model.align_corners) == ('halving', True)
    sgt = model.triplet_loss
    assert (sgt.border, sgt.include_anchor, sgt.count_rule, sgt.level_weighting,
            sgt.distance) == ('negative', True, 'at_least', 'halving', 'affinity')


def test_paper_literal_options_stay_available_through_cfg_options():
    cfg = Config.fromfile(str(CONFIGS / 'fsre/resnet18_kitti.py'))
    cfg.merge_from_dict({
        'model.scale_weighting': 'mean', 'model.triplet_loss.border': 'ignore',
        'model.triplet_loss.include_anchor': False,
        'model.triplet_loss.count_rule': 'greater',
        'model.triplet_loss.level_weighting': 'none',
        'model.triplet_loss.distance': 'euclidean'})
    cfg.model.backbone.pretrained = False
    cfg.model.pose_net.encoder.checkpoint = None
    model = MODELS.build(cfg.model)
    assert model.scale_weighting == 'mean'
    assert (model.triplet_loss.border, model.triplet_loss.count_rule) == (
        'ignore', 'greater')
