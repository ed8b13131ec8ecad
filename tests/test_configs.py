"""Every config loads, names only registered modules, and builds its model."""
import pathlib

import pytest
from mmengine.config import Config

from mmdepthsem.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmdepthsem.utils import register_all_modules

register_all_modules()
CONFIGS = sorted(p for p in (pathlib.Path(__file__).parents[1] / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)


def _registered(registry, name):
    return registry.get(name) is not None


def _datasets(dataset):
    """A dataset config and the configs of the datasets it wraps (the branches of
    ``SemiSupervisedDataset``, the source and target of
    ``MatchingGeometrySourceDataset``, the ``dataset`` of ``MixedSampleDataset``)."""
    yield dataset
    for key in ('dataset', 'labelled', 'unlabelled', 'source', 'target'):
        if isinstance(dataset.get(key), dict) and 'type' in dataset[key]:
            yield from _datasets(dataset[key])


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmdepthsem'
    for phase in ('train', 'val', 'test'):
        loader = cfg.get(f'{phase}_dataloader')
        if phase != 'train' and cfg.get(f'{phase}_cfg', 'unset') is None:
            # a train-only config (no labels to score, e.g. SDE-Seg's source SDE
            # networks): mmengine needs the loop, loader and evaluator all None
            assert loader is None and cfg.get(f'{phase}_evaluator') is None, phase
            continue
        assert loader is not None, phase
        for dataset in _datasets(loader.dataset):
            assert _registered(DATASETS, dataset.type), dataset.type
            for step in dataset.get('pipeline', ()):
                assert _registered(TRANSFORMS, step.type), step.type
    evaluators = cfg.test_evaluator or []
    for metric in evaluators if isinstance(evaluators, list) else [evaluators]:
        assert _registered(METRICS, metric.type), metric.type
    model_cfg = cfg.model.copy()
    if 'pretrained' in model_cfg.backbone:
        model_cfg.backbone.pretrained = False  # no downloads in tests
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_demo_config_states_its_choices():
    cfg = Config.fromfile(str(pathlib.Path(__file__).parents[1] /
                              'configs/multitask/resnet18_synthetic_nyu.py'))
    assert cfg.model.backbone.pretrained is False  # runs offline
    assert cfg.model.sem_head.num_classes == 40
    assert cfg.model.depth_head.loss_decode.lambd == 0.85
    depth_metric = cfg.test_evaluator[0]
    assert depth_metric.crop == 'nyu_eigen' and depth_metric.max_depth == 10.0
    assert cfg.default_hooks.checkpoint.backend_args == dict(backend='atomic_local')
    assert dict(type='RandomStateHook') in cfg.custom_hooks


def test_unknown_config_key_is_named():
    cfg = Config.fromfile(str(CONFIGS[0]))
    cfg.model.depth_head.not_an_argument = 1
    with pytest.raises(TypeError, match='not_an_argument'):
        MODELS.build(cfg.model)
