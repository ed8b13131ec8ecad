"""Checks run by the tools before anything slow (model building, weight downloads)."""
import os.path as osp
from typing import List

from mmengine.config import Config

DEMO_CONFIG = 'configs/multitask/resnet18_synthetic_nyu.py'


def _dataset_cfgs(dataset_cfg) -> List[dict]:
    """The leaf dataset configs of a (possibly wrapped) dataset config."""
    if dataset_cfg is None:
        return []
    if isinstance(dataset_cfg, (list, tuple)):
        return [leaf for cfg in dataset_cfg for leaf in _dataset_cfgs(cfg)]
    for key in ('dataset', 'datasets'):
        if key in dataset_cfg:
            return _dataset_cfgs(dataset_cfg[key])
    return [dataset_cfg]


def check_data_roots(cfg: Config, phases=('train', 'val', 'test')) -> None:
    """Stop with a helpful message when a configured ``data_root`` is missing.

    Args:
        cfg: The full config.
        phases: Which ``<phase>_dataloader`` entries to check.

    Raises:
        FileNotFoundError: Naming the config key, the expected folder, where the
            preparation instructions are, and the demo config that needs no data.
    """
    for phase in phases:
        loader = cfg.get(f'{phase}_dataloader')
        if not loader:
            continue
        for dataset in _dataset_cfgs(loader.get('dataset')):
            root = dataset.get('data_root')
            if root and not osp.isdir(root):
                raise FileNotFoundError(
                    f'{phase}_dataloader.dataset ({dataset.get("type")}): data_root '
                    f'"{root}" does not exist.\n'
                    f'  - Prepare the data as docs/dataset_prepare.md describes for '
                    f'{dataset.get("type")} (converters are in '
                    'tools/dataset_converters/), or point the config at it with\n'
                    f'    --cfg-options {phase}_dataloader.dataset.data_root=PATH\n'
                    f'  - To try mmdepthsem without any dataset, run `make demo` or\n'
                    f'    python tools/train.py {DEMO_CONFIG}\n'
                    '    which use the embedded synthetic data.')
