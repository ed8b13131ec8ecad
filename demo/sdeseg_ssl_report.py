"""SDE-Seg's semi-supervised demo on the synthetic street set; one table.

    python demo/sdeseg_ssl_report.py [--work-dir work_dirs/demo_sdeseg] [--seeds 0 1]

Steps (all with ``tools/train.py`` / the project's tools, on ``make data``'s synthetic
Cityscapes-layout set: 40 training frames with sequences, 10 validation frames):

1. SDE pretraining, stage A (``configs/sdeseg/demo/sde_stage_a_resnet18_synthetic.py``)
   and stage B with the feature distance (``sde_stage_b_...``, from stage A).
2. Transfer: ``tools/model_converters/sde_to_segmentation.py`` — the segmentation
   decoder starts as the depth decoder (except its head).
3. For each seed: a random labelled split of 8 of the 40 frames
   (``tools/make_subset_split.py``), then three rows from the transfer checkpoint
   with the same iterations, split and seed: labelled-only (``ssl_baseline_``),
   pseudo-labels (``ssl_pseudo_labels_``) and DepthMix (``ssl_depthmix_``).

Reports the validation mIoU / aAcc of the student per row and seed (mean ± std),
the transferred network before SSL, and the logged ``q_prime`` / ``mix_ratio`` /
``pseudo_conf``. Exits non-zero if the DepthMix run logged zero ``q'`` or mixed no
pixels, or a trained row does not beat the transferred network's mIoU.
"""
import argparse
import os.path as osp
import subprocess
import sys

import numpy as np
from demo_report import REPO, evaluate, find_metric, train
from mmengine.config import Config
from selfsup_report import newest_checkpoint, training_scalars

from mmdepthsem.utils import register_all_modules

DEMO = 'configs/sdeseg/demo'
ROWS = [('baseline', 'labelled only', f'{DEMO}/ssl_baseline_resnet18_synthetic.py'),
        ('pseudo', 'pseudo-labels', f'{DEMO}/ssl_pseudo_labels_resnet18_synthetic.py'),
        ('depthmix', 'DepthMix', f'{DEMO}/ssl_depthmix_resnet18_synthetic.py')]
SCALARS = ('q_prime', 'mix_ratio', 'pseudo_conf', 'loss_sem_unlabelled')
NUM_LABELLED = 8


def run_tool(*args: str) -> None:
    command = [sys.executable, *args]
    print('+', ' '.join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo_sdeseg')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--skip-train', action='store_true',
                        help='only evaluate the checkpoints already in WORK_DIR')
    parser.add_argument('--skip-sde', action='store_true',
                        help='reuse the SDE stage A / B checkpoints in WORK_DIR')
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)
    work = osp.abspath(args.work_dir)
    stage_a, stage_b = osp.join(work, 'sde_stage_a'), osp.join(work, 'sde_stage_b')
    transfer = osp.join(work, 'transfer.pth')
    if not args.skip_train:
        if not args.skip_sde:
            train(f'{DEMO}/sde_stage_a_resnet18_synthetic.py', stage_a)
            train(f'{DEMO}/sde_stage_b_resnet18_synthetic.py', stage_b,
                  f'load_from={newest_checkpoint(stage_a)}')
        run_tool('tools/model_converters/sde_to_segmentation.py',
                 newest_checkpoint(stage_b), transfer, '--config', ROWS[-1][2])
    results = {key: [] for key, _, _ in ROWS}
    scalars = {}
    cfg = Config.fromfile(osp.join(REPO, ROWS[-1][2]))
    before = None
    for seed in args.seeds:
        split = osp.join(work, f'labelled_seed{seed}.txt')
        options = [f'load_from={transfer}', f'randomness.seed={seed}',
                   f'train_dataloader.dataset.labelled.subset_file={split}']
        if not args.skip_train:
            run_tool('tools/make_subset_split.py', ROWS[-1][2], '--num',
                     str(NUM_LABELLED), '--seed', str(seed), '--out', split)
        for key, _, config in ROWS:
            run_dir = osp.join(work, f'{key}_seed{seed}')
            if not args.skip_train:
                train(config, run_dir, *options)
            results[key].append(evaluate(cfg, run_dir, newest_checkpoint(run_dir),
                                         'trained'))
            scalars[(key, seed)] = training_scalars(run_dir, SCALARS)
    before = evaluate(cfg, osp.join(work, 'transfer_eval'), transfer, 'transferred')

    iters = cfg.train_cfg.max_iters
    print(f'\nSDE-Seg SSL demo: {NUM_LABELLED} of 40 synthetic frames labelled, '
          f'{iters} iterations per row, seeds {args.seeds}; student on the 10 '
          'validation frames')
    print(f'{"":<30}{"mIoU":>16}{"aAcc":>16}  per seed (mIoU)')
    print(f'{"transferred SDE net, no SSL":<30}'
          f'{find_metric(before, "mIoU"):>16.2f}{find_metric(before, "aAcc"):>16.2f}')
    for key, label, _ in ROWS:
        miou = np.array([find_metric(m, 'mIoU') for m in results[key]])
        aacc = np.array([find_metric(m, 'aAcc') for m in results[key]])
        print(f'{label:<30}{miou.mean():>9.2f} ± {miou.std():<4.2f}'
              f'{aacc.mean():>9.2f} ± {aacc.std():<4.2f}  '
              + ' '.join(f'{v:.2f}' for v in miou))
    print('\nlogged during training (mean over logged iterations; last value):')
    for (key, seed), values in scalars.items():
        text = ', '.join(f'{name} {np.mean(v):.3f} (last {v[-1]:.3f})'
                         for name, v in values.items() if v)
        print(f'  {key} seed {seed}: {text or "-"}')
    problems = []
    for seed in args.seeds:
        values = scalars[('depthmix', seed)]
        for name in ('q_prime', 'mix_ratio'):
            if not values[name] or max(values[name]) <= 0:
                problems.append(f'DepthMix seed {seed} logged no positive {name}')
    for key, label, _ in ROWS:
        if np.mean([find_metric(m, 'mIoU') for m in results[key]]) <= \
                find_metric(before, 'mIoU'):
            problems.append(f'{label} does not beat the transferred network')
    if problems:
        sys.exit('; '.join(problems))
    print("q' and the mixed-pixel share are positive in every DepthMix run; every row "
          'beats the transferred network.')


if __name__ == '__main__':
    main()
