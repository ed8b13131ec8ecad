"""Train SOSD-Net's demo and its baselines on the synthetic rooms; one table.

    python demo/sosd_ablation_report.py [--work-dir work_dirs/demo_sosd] [--skip-train]

Variants (same synthetic NYU-format data, iterations, seed and learning rate):

- ``MTL``: shared encoder and decoder, plain task heads, joint training;
- ``SOSD-Net``: plus the semantic-to-depth and depth-to-semantic units, joint;
- ``ESOSD-Net``: SOSD-Net trained with the EM-style alternation
  (``configs/sosd/resnet18_synthetic_nyu.py``).

Each is trained with ``tools/train.py`` into ``WORK_DIR/<variant>`` and its newest
checkpoint tested on the 50 frames of the 5 held-out rooms: depth errors pooled over all
valid pixels (Eigen crop, 10 m cap), mIoU, mean and pixel accuracy. The untrained ESOSD
network is the floor. Exits non-zero when a trained variant does not beat the untrained
network on δ<1.25 and mIoU.
"""
import argparse
import os.path as osp
import sys

from demo_report import evaluate, find_metric, train
from mmengine.config import Config
from selfsup_report import newest_checkpoint

from mmdepthsem.utils import register_all_modules

VARIANTS = [
    ('mtl', 'MTL', 'configs/sosd/demo/resnet18_synthetic_nyu_mtl.py'),
    ('sosd', 'SOSD-Net (joint)', 'configs/sosd/demo/resnet18_synthetic_nyu_joint.py'),
    ('esosd', 'ESOSD-Net (EM)', 'configs/sosd/resnet18_synthetic_nyu.py'),
]
COLUMNS = [('abs_rel', 'rel', '{:.4f}'), ('rmse', 'rms', '{:.4f}'),
           ('log10', 'log10', '{:.4f}'), ('delta1', 'δ<1.25', '{:.4f}'),
           ('mIoU', 'mIoU', '{:.2f}'), ('mAcc', 'mAcc', '{:.2f}'),
           ('aAcc', 'aAcc', '{:.2f}')]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo_sosd')
    parser.add_argument('--skip-train', action='store_true',
                        help='only evaluate the checkpoints already in WORK_DIR')
    args = parser.parse_args()

    register_all_modules(init_default_scope=False)
    work_dirs = {key: osp.join(args.work_dir, key) for key, _, _ in VARIANTS}
    if not args.skip_train:
        for key, _, config in VARIANTS:
            train(config, work_dirs[key])
    configs = {key: Config.fromfile(config) for key, _, config in VARIANTS}
    rows = [('untrained ESOSD-Net',
             evaluate(configs['esosd'], work_dirs['esosd'], None, 'untrained'))]
    for key, label, _ in VARIANTS:
        rows.append((label, evaluate(configs[key], work_dirs[key],
                                     newest_checkpoint(work_dirs[key]), 'trained')))

    iters = configs['esosd'].train_cfg.max_iters
    print(f'\nSOSD demo on the synthetic test rooms ({iters} iterations each, same '
          'data and seed; depth errors pooled over valid pixels, Eigen crop, 10 m)')
    print(f'{"":<22}' + ''.join(f'{label:>9}' for _, label, _ in COLUMNS))
    for name, metrics in rows:
        print(f'{name:<22}' + ''.join(f'{fmt.format(find_metric(metrics, key)):>9}'
                                      for key, _, fmt in COLUMNS))
    floor = rows[0][1]
    failures = [name for name, metrics in rows[1:]
                if not all(find_metric(metrics, key) > find_metric(floor, key)
                           for key in ('delta1', 'mIoU'))]
    if failures:
        sys.exit(f'{", ".join(failures)} did NOT beat the untrained network on '
                 'δ<1.25 and mIoU.')
    print('Every trained variant beats the untrained network on δ<1.25 and mIoU.')


if __name__ == '__main__':
    main()
