"""Write a random labelled subset of a dataset as a split file of sample names.

The file lists one ``sample_name`` per line, the format of the datasets'
``subset_file`` option (and of ``tools/select_annotations.py``), e.g. SDE-Seg's
random 1/30, 1/8 and 1/4 Cityscapes subsets (100, 372, 744 images) per seed::

    python tools/make_subset_split.py configs/sdeseg/ssl_ours_resnet101_cityscapes.py \\
        --num 372 --seed 0 --out data/cityscapes/splits/train_1-8_seed0.txt

The pool is the config's labelled training dataset
(``train_dataloader.dataset.labelled``, or ``train_dataloader.dataset`` for plain
configs) without its own ``subset_file``.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
from mmengine.config import DictAction

from mmdepthsem.utils.tool_config import load_tool_config


def pool_names(cfg) -> list:
    """Sample names of the config's (labelled) training dataset, in dataset order."""
    from mmdepthsem.registry import DATASETS
    dataset_cfg = cfg.train_dataloader.dataset
    if 'labelled' in dataset_cfg:
        dataset_cfg = dataset_cfg.labelled
    dataset_cfg = dataset_cfg.copy()
    dataset_cfg.pop('subset_file', None)
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    return [dataset.get_data_info(i)['sample_name'] for i in range(len(dataset))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config whose training set is the pool')
    parser.add_argument('--num', type=int, required=True, help='subset size')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='split file to write')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = load_tool_config(args.config, args.cfg_options)
    names = pool_names(cfg)
    if not 0 < args.num <= len(names):
        print(f'error: --num {args.num} must be in 1..{len(names)} (the pool size)',
              file=sys.stderr)
        return 1
    chosen = np.random.default_rng(args.seed).choice(len(names), args.num,
                                                     replace=False)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write(''.join(names[i] + '\n' for i in sorted(chosen)))
    os.replace(tmp, args.out)
    print(f'wrote {args.num} of {len(names)} sample names to {args.out} '
          f'(seed {args.seed})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
