"""Shared fixtures: small synthetic datasets rendered once per test session."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / 'configs' / 'multitask' / 'resnet18_synthetic_nyu.py'


def load_tool(relative_path):
    """Import a script under ``tools/`` (not a package) as a module, by its path."""
    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(args, timeout=600, check=True, **kwargs):
    """Run a project script with this interpreter and the checkout on PYTHONPATH."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHON=sys.executable)
    env.update(kwargs.pop('env', {}))
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} failed ({result.returncode}):\n'
                             f'{result.stdout[-4000:]}\n{result.stderr[-6000:]}')
    return result


@pytest.fixture(scope='session')
def synthetic_nyu(tmp_path_factory):
    """A small synthetic NYU set, rendered in the official .mat format and converted
    with the real converter: 8 train / 4 test frames of 64x96."""
    from mmdepthsem.datasets.synthetic import generate_dataset
    from mmdepthsem.datasets.synthetic.nyu_format import NYUConfig

    root = tmp_path_factory.mktemp('synthetic')
    generate_dataset('nyu', str(root), seed=0, config=NYUConfig(
        height=64, width=96, num_scenes=3, frames_per_scene=4, num_test_scenes=1))
    raw = root / 'nyu'
    converted = root / 'nyu_converted'
    run_tool([sys.executable, 'tools/dataset_converters/nyu.py',
              str(raw / 'nyu_depth_v2_labeled.mat'), str(raw / 'splits.mat'),
              '--mapping', str(raw / 'classMapping40.mat'), '-o', str(converted)])
    return converted


def small_demo_options(data_root, max_iters=8, checkpoint_interval=2):
    """--cfg-options that shrink the demo config to a seconds-long run."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.image_size=[96,64]',
        'val_dataloader.dataset.image_size=[96,64]',
        'test_dataloader.dataset.image_size=[96,64]',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'train_dataloader.dataset.pipeline.4.crop_size=[48,64]',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}',
        'default_hooks.logger.interval=1',
        f'default_hooks.checkpoint.interval={checkpoint_interval}',
        'default_hooks.checkpoint.max_keep_ckpts=10',
        'randomness.deterministic=True',
    ]
