"""Train the DSS demo and its two baselines with several seeds; print mean ± std.

    python demo/dss_ablation_report.py [--seeds 0 1 2] [--work-dir work_dirs/demo_dss]
        [--skip-train] [--from-scratch]

Variants (same synthetic NYU data, schedule, iterations and seeds):

- ``DSS``: ``configs/dss/maxvit_pico_synthetic_nyu.py`` (Symbiotic Transformer,
  NearFarMix);
- ``Table 3 baseline``: the same without NearFarMix;
- ``Table 4 baseline``: the Symbiotic Transformer replaced by identity, NearFarMix on.

Two stages, as in the paper: stage 1
(``configs/dss/demo/maxvit_pico_synthetic_rooms_stage1.py``, semantics only, no
Symbiotic Transformer, 100 other synthetic rooms from ``make data-dss``) is trained
once, seed 0, into ``WORK_DIR/stage1`` (a checkpoint already there is reused, so more
seeds can be added later); every variant then starts from its checkpoint.
``--from-scratch`` skips stage 1 and trains the variants from random weights.

Each run is ``tools/train.py CONFIG --cfg-options randomness.seed=S
model.init_cfg.checkpoint=STAGE1`` into ``WORK_DIR/<variant>/seed<S>``. The newest
checkpoint is then tested twice:

- on the demo data's own test split: 50 frames of 5 held-out rooms;
- on the evaluation rooms of ``make data-dss``: 200 frames of 40 rooms rendered
  with a third seed, so none of them was seen in either stage.

Five test rooms leave an evaluation noise of a few mIoU points, so the verdict is
taken on the 40 evaluation rooms. For each test set the script prints δ<1.25, AbsRel
and mIoU as mean ± std over the seeds. It exits non-zero when DSS does not beat both
baselines on the mean δ<1.25 and mIoU of the evaluation rooms.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys

from demo_report import evaluate, find_metric, train
from mmengine.config import Config

from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.resume import find_resumable_checkpoint

VARIANTS = [
    ('DSS', 'configs/dss/maxvit_pico_synthetic_nyu.py'),
    ('Table 3 baseline (no NearFarMix)',
     'configs/dss/demo/maxvit_pico_synthetic_nyu_no_nearfarmix.py'),
    ('Table 4 baseline (no Symbiotic Transformer)',
     'configs/dss/demo/maxvit_pico_synthetic_nyu_no_symbiosis.py'),
]
STAGE1 = 'configs/dss/demo/maxvit_pico_synthetic_rooms_stage1.py'
EVAL_ROOMS = 'data/synthetic_rooms_eval/nyu_converted'
# (name, test dataset overrides); the last one gives the verdict
TEST_SETS = [
    ('demo test split, 5 rooms', {}),
    ('evaluation rooms, 40 rooms', dict(data_root=EVAL_ROOMS, ann_file='all.txt')),
]
METRICS = [('delta1', 'δ<1.25'), ('abs_rel', 'AbsRel'), ('mIoU', 'mIoU (%)')]


def on_test_set(cfg: Config, overrides: dict) -> Config:
    """A copy of ``cfg`` whose test dataset takes ``overrides``."""
    cfg = copy.deepcopy(cfg)
    cfg.test_dataloader.dataset.update(overrides)
    return cfg


def print_table(title: str, results: dict) -> None:
    print(f'\n{title}')
    print(f'{"":<46}' + ''.join(f'{label:>18}' for _, label in METRICS))
    for name, runs in results.items():
        cells = []
        for key, _ in METRICS:
            mean, std = mean_std([r[key] for r in runs])
            cells.append(f'{mean:.4f} ± {std:.4f}' if key != 'mIoU' else
                         f'{mean:.2f} ± {std:.2f}')
        print(f'{name:<46}' + ''.join(f'{c:>18}' for c in cells))
    for name, runs in results.items():
        per_seed = ', '.join(f'{r["delta1"]:.4f}/{r["mIoU"]:.2f}' for r in runs)
        print(f'  {name}: δ<1.25/mIoU per seed: {per_seed}')


def mean_std(values):
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.mean(values), std


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/demo_dss')
    parser.add_argument('--skip-train', action='store_true',
                        help='only evaluate the checkpoints already in WORK_DIR')
    parser.add_argument('--from-scratch', action='store_true',
                        help='no stage 1: train every variant from random weights')
    args = parser.parse_args()

    register_all_modules(init_default_scope=False)
    if args.from_scratch:
        start = 'model.init_cfg=None'
    else:
        stage1_dir = osp.join(args.work_dir, 'stage1')
        stage1_rooms = Config.fromfile(STAGE1).train_dataloader.dataset.data_root
        stage1 = find_resumable_checkpoint(stage1_dir)
        if stage1 is not None:
            print(f'stage 1: reusing {stage1} (delete {stage1_dir} to retrain it)')
        elif not args.skip_train:
            if not osp.isdir(stage1_rooms):
                sys.exit(f'stage 1 data missing: {stage1_rooms} (run `make data-dss`)')
            train(STAGE1, stage1_dir, 'randomness.seed=0')
            stage1 = find_resumable_checkpoint(stage1_dir)
        if stage1 is None:
            sys.exit(f'no stage-1 checkpoint in {stage1_dir}')
        start = f'model.init_cfg.checkpoint={stage1}'
    if not osp.isfile(osp.join(EVAL_ROOMS, 'all.txt')):
        sys.exit(f'evaluation rooms missing: {EVAL_ROOMS}/all.txt (run `make data-dss`)')
    results = {test_set[0]: {} for test_set in TEST_SETS}
    for index, (name, config) in enumerate(VARIANTS):
        cfg = Config.fromfile(config)
        for seed in args.seeds:
            work_dir = osp.join(args.work_dir, f'variant{index}', f'seed{seed}')
            if not args.skip_train:
                train(config, work_dir, f'randomness.seed={seed}', start)
            checkpoint = find_resumable_checkpoint(work_dir)
            if checkpoint is None:
                sys.exit(f'no checkpoint in {work_dir}')
            for set_index, (set_name, overrides) in enumerate(TEST_SETS):
                metrics = evaluate(on_test_set(cfg, overrides), work_dir,
                                   checkpoint, f'v{index}_s{seed}_t{set_index}')
                results[set_name].setdefault(name, []).append(
                    {key: find_metric(metrics, key) for key, _ in METRICS})

    where = 'from scratch' if args.from_scratch else 'from the stage-1 checkpoint'
    for set_name, _ in TEST_SETS:
        print_table(f'DSS demo vs. its baselines, {len(args.seeds)} seeds '
                    f'({", ".join(map(str, args.seeds))}), {where}, {set_name}',
                    results[set_name])

    verdict_set = TEST_SETS[-1][0]
    dss = results[verdict_set][VARIANTS[0][0]]
    wins = all(
        mean_std([r[key] for r in dss])[0] > mean_std([r[key] for r in runs])[0]
        for name, runs in results[verdict_set].items() if name != VARIANTS[0][0]
        for key in ('delta1', 'mIoU'))
    verdict = f'on mean δ<1.25 and mIoU of the {verdict_set}'
    if not wins:
        sys.exit(f'DSS does NOT beat both baselines {verdict}.')
    print(f'DSS beats both baselines {verdict}.')


if __name__ == '__main__':
    main()
