"""configs/_base_/vis_tensorboard.py: TensorBoard logging composed into configs.

mmengine refuses two sibling bases that define the same key, and the TensorBoard base
redefines `vis_backends` / `visualizer` of default_runtime.py, so it is used in place
of default_runtime.py (or an existing config is extended by a child config or by
--cfg-options). The visualizer itself is not built: `tensorboard` is not installed in
the tested environment.
"""
import argparse
import pathlib

import pytest
from mmengine.config import Config, DictAction
from mmengine.registry import VISBACKENDS

REPO = pathlib.Path(__file__).resolve().parents[1]
BASE = REPO / 'configs' / '_base_'
TB_BASE = BASE / 'vis_tensorboard.py'
DEMO = REPO / 'configs' / 'multitask' / 'resnet18_synthetic_nyu.py'
BOTH = ['LocalVisBackend', 'TensorboardVisBackend']


def _write(tmp_path, text, name='cfg.py'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _types(backends):
    return [b['type'] for b in backends]


def test_tensorboard_base_in_place_of_default_runtime(tmp_path):
    """resnet18_synthetic_nyu.py's bases, vis_tensorboard.py for default_runtime.py."""
    bases = [BASE / 'models' / 'multitask_resnet.py',
             BASE / 'datasets' / 'synthetic_nyu.py', TB_BASE,
             BASE / 'schedules' / 'schedule_adamw_2k.py']
    cfg = Config.fromfile(_write(tmp_path, f'_base_ = {[str(b) for b in bases]!r}\n'))
    runtime = Config.fromfile(str(BASE / 'default_runtime.py'))
    demo = Config.fromfile(str(DEMO))

    assert _types(cfg.visualizer.vis_backends) == BOTH
    assert _types(cfg.vis_backends) == BOTH
    # same visualizer as default_runtime.py, only the backends differ
    assert cfg.visualizer.type == runtime.visualizer.type == 'DepthSemLocalVisualizer'
    assert cfg.visualizer.name == runtime.visualizer.name == 'visualizer'
    # the rest of the runtime is inherited unchanged
    for key in ('default_scope', 'env_cfg', 'log_processor', 'custom_hooks',
                'randomness', 'load_from', 'resume'):
        assert cfg[key] == runtime[key], key
    assert cfg.train_dataloader == demo.train_dataloader


def test_child_of_existing_config(tmp_path):
    """resnet18_synthetic_nyu.py + the TensorBoard base's visualizer, as a child config:
    the way documented for a config that already inherits default_runtime.py."""
    visualizer = Config.fromfile(str(TB_BASE)).visualizer.to_dict()
    cfg = Config.fromfile(_write(
        tmp_path, f"_base_ = ['{DEMO}']\nvisualizer = {visualizer!r}\n"))
    demo = Config.fromfile(str(DEMO))

    assert _types(cfg.visualizer.vis_backends) == BOTH
    assert cfg.visualizer.type == demo.visualizer.type == 'DepthSemLocalVisualizer'
    assert cfg.visualizer.name == demo.visualizer.name == 'visualizer'
    assert cfg.model == demo.model
    assert cfg.train_cfg == demo.train_cfg


def test_sibling_of_default_runtime_is_refused(tmp_path):
    """Listing the TensorBoard base next to a config that has default_runtime.py fails
    (the reason the reference says to use it *instead of* default_runtime.py)."""
    path = _write(tmp_path, f"_base_ = ['{DEMO}', '{TB_BASE}']\n")
    with pytest.raises(KeyError, match='Duplicate key'):
        Config.fromfile(path)


def test_cfg_options_switch_the_backend():
    """`--cfg-options visualizer.vis_backends.0.type=TensorboardVisBackend` as
    tools/train.py parses and merges it (replaces the local backend)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(
        ['--cfg-options', 'visualizer.vis_backends.0.type=TensorboardVisBackend'])
    cfg = Config.fromfile(str(DEMO))
    cfg.merge_from_dict(args.cfg_options)
    assert _types(cfg.visualizer.vis_backends) == ['TensorboardVisBackend']


def test_tensorboard_backend_is_registered():
    # mmengine's backends register when mmengine.visualization is imported (the
    # Runner imports it); the class is importable without the tensorboard package.
    import mmengine.visualization  # noqa: F401
    assert VISBACKENDS.get('TensorboardVisBackend') is not None
    assert VISBACKENDS.get('LocalVisBackend') is not None
    # configs run in the mmdepthsem scope, whose registry falls back to mmengine's
    from mmdepthsem.registry import VISBACKENDS as MMDEPTHSEM_VISBACKENDS
    assert MMDEPTHSEM_VISBACKENDS.get('TensorboardVisBackend') is \
        VISBACKENDS.get('TensorboardVisBackend')
