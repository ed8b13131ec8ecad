"""Evaluate the demo model before and after training and print one table.

    python demo/demo_report.py CONFIG WORK_DIR [--show-dir DIR]

The untrained model is the one training started from (same config, same seed, so the
same initial weights); the trained one is the newest checkpoint in WORK_DIR. The
test split is the synthetic set's held-out frames.
"""
import argparse
import os.path as osp
import subprocess
import sys

from mmengine.config import Config
from mmengine.runner import Runner

from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.resume import find_resumable_checkpoint

# (metric key, label)
ROWS = [
    ('delta1', 'δ<1.25'),
    ('delta2', 'δ<1.25²'),
    ('delta3', 'δ<1.25³'),
    ('abs_rel', 'AbsRel'),
    ('sq_rel', 'SqRel'),
    ('rmse', 'RMSE (m)'),
    ('rmse_log', 'RMSE log'),
    ('log10', 'log10'),
    ('silog', 'SILog'),
    ('mIoU', 'mIoU (%)'),
    ('mAcc', 'mAcc (%)'),
    ('aAcc', 'aAcc (%)'),
]


REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def train(config: str, work_dir: str, *cfg_options: str) -> None:
    """Run ``tools/train.py CONFIG --work-dir WORK_DIR [--cfg-options ...]``."""
    command = [sys.executable, osp.join(REPO, 'tools', 'train.py'),
               osp.join(REPO, config), '--work-dir', work_dir]
    if cfg_options:
        command += ['--cfg-options', *cfg_options]
    print('+', ' '.join(command), flush=True)
    subprocess.run(command, check=True)


def evaluate(cfg: Config, work_dir: str, checkpoint, tag: str, show_dir=None):
    cfg = cfg.copy()
    cfg.work_dir = osp.join(work_dir, f'eval_{tag}')
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.experiment_name = f'demo_eval_{tag}'
    cfg.visualizer.name = f'visualizer_{tag}'
    if show_dir:
        cfg.default_hooks.visualization.update(
            draw=True, interval=1, test_out_dir=osp.abspath(show_dir))
    runner = Runner.from_cfg(cfg)
    return runner.test()


def find_metric(metrics: dict, key: str):
    for name, value in metrics.items():
        if name == key or name.endswith('/' + key):
            return value
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('work_dir')
    parser.add_argument('--show-dir', default=None)
    args = parser.parse_args()

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    checkpoint = find_resumable_checkpoint(args.work_dir)
    if checkpoint is None:
        sys.exit(f'no checkpoint in {args.work_dir}: run tools/train.py first')

    untrained = evaluate(cfg, args.work_dir, None, 'untrained')
    trained = evaluate(cfg, args.work_dir, checkpoint, 'trained', args.show_dir)

    print()
    print(f'Demo: {osp.basename(args.config)} on the synthetic test split')
    print(f'{"metric":<12}{"untrained":>12}{"trained":>12}')
    print('-' * 36)
    for key, label in ROWS:
        before, after = find_metric(untrained, key), find_metric(trained, key)
        if before is None or after is None:
            continue
        print(f'{label:<12}{before:>12.4f}{after:>12.4f}')
    print(f'\ntrained checkpoint: {checkpoint}')
    if args.show_dir:
        print(f'prediction pictures: {args.show_dir}')

    improved = all(
        find_metric(trained, key) > find_metric(untrained, key)
        for key in ('delta1', 'mIoU'))
    if not improved:
        sys.exit('The trained model does NOT beat the untrained one on δ<1.25 '
                 'and mIoU.')
    print('The trained model beats the untrained one on δ<1.25 and mIoU.')


if __name__ == '__main__':
    main()
