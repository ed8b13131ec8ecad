"""Compare a self-supervised method with its baseline, an untrained network and a
constant depth, on the synthetic test drive; print one table.

    python demo/selfsup_report.py METHOD_CONFIG METHOD_WORK_DIR \
        --baseline BASELINE_CONFIG BASELINE_WORK_DIR [--seg-config SEG_CONFIG]

Rows (median-scaled depth metrics of the config's test split):

- ``constant depth``: every pixel the same depth; after per-image median scaling it
  predicts the median of the ground truth everywhere — the floor any trained network
  must beat;
- ``untrained``: the method's network as training started (same config and seed);
- ``baseline`` / ``method``: the newest checkpoints of the two work dirs.

With ``--seg-config`` (a test config on labelled images) the method's mIoU before
and after training is added. From the method's training log (``scalars.json``) the
report takes the semantics-guided triplet loss's counted patches (``sgt_patches``)
and the gradient norm reaching the CMA modules (``grad_norm_cross_task``, logged by
:class:`ModuleGradNormHook`) when they were logged. Exits non-zero when the trained
method does not beat both the untrained network and the constant depth on AbsRel.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Sequence

import torch
from demo_report import evaluate, find_metric
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.resume import find_resumable_checkpoint

# (metric key, label)
DEPTH_COLUMNS = [('abs_rel', 'AbsRel'), ('sq_rel', 'SqRel'), ('rmse', 'RMSE'),
                 ('rmse_log', 'RMSElog'), ('delta1', 'δ<1.25')]
TRAINING_SCALARS = ('sgt_patches', 'grad_norm_cross_task')


def constant_depth_metrics(cfg: Config, depth: float = 10.0) -> dict:
    """The test evaluator's metrics for a prediction of ``depth`` at every pixel."""
    init_default_scope(cfg.get('default_scope', 'mmdepthsem'))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    for batch in loader:
        samples = []
        for sample in batch['data_samples']:
            out = sample.to_dict()
            gt = out['gt_depth_map']['data']
            out['pred_depth_map'] = dict(data=torch.full_like(gt, depth))
            samples.append(out)
        evaluator.process(samples, batch)
    return evaluator.evaluate(len(loader.dataset))


def training_scalars(work_dir: str, names: Sequence[str] = TRAINING_SCALARS) -> dict:
    """``{name: [values per logged iteration]}`` from the newest ``scalars.json``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    found = {name: [] for name in names}
    if not logs:
        return found
    with open(logs[-1]) as f:
        for line in f:
            record = json.loads(line)
            for name in names:
                if name in record:
                    found[name].append(float(record[name]))
    return found


def newest_checkpoint(work_dir: str) -> str:
    checkpoint = find_resumable_checkpoint(work_dir)
    if checkpoint is None:
        sys.exit(f'no checkpoint in {work_dir}: run tools/train.py first')
    return checkpoint


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('work_dir')
    parser.add_argument('--baseline', nargs=2, metavar=('CONFIG', 'WORK_DIR'),
                        required=True)
    parser.add_argument('--seg-config', default=None)
    args = parser.parse_args()

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    base_cfg = Config.fromfile(args.baseline[0])
    checkpoint = newest_checkpoint(args.work_dir)
    base_checkpoint = newest_checkpoint(args.baseline[1])

    rows = [
        ('constant depth', constant_depth_metrics(cfg)),
        ('untrained', evaluate(cfg, args.work_dir, None, 'untrained')),
        (f'baseline ({osp.basename(args.baseline[0])})',
         evaluate(base_cfg, args.baseline[1], base_checkpoint, 'baseline')),
        (f'method ({osp.basename(args.config)})',
         evaluate(cfg, args.work_dir, checkpoint, 'method')),
    ]
    print('\nSelf-supervised demo on the synthetic test drive (median scaling, '
          'Garg crop, 80 m cap)')
    print(f'{"":<48}' + ''.join(f'{label:>9}' for _, label in DEPTH_COLUMNS))
    for name, metrics in rows:
        print(f'{name:<48}' + ''.join(f'{find_metric(metrics, key):>9.4f}'
                                      for key, _ in DEPTH_COLUMNS))

    if args.seg_config:
        seg_cfg = Config.fromfile(args.seg_config)
        before = evaluate(seg_cfg, args.work_dir, None, 'seg_untrained')
        after = evaluate(seg_cfg, args.work_dir, checkpoint, 'seg_trained')
        print(f'\nmIoU on {osp.basename(args.seg_config)}: untrained '
              f'{find_metric(before, "mIoU"):.2f}, trained '
              f'{find_metric(after, "mIoU"):.2f}')

    for name, values in training_scalars(args.work_dir).items():
        if values:
            print(f'{name} over {len(values)} logged iterations: min {min(values):.4g}, '
                  f'mean {sum(values) / len(values):.4g}, max {max(values):.4g}')
    print(f'\nmethod checkpoint: {checkpoint}\nbaseline checkpoint: {base_checkpoint}')

    abs_rel = {name: find_metric(m, 'abs_rel') for name, m in rows}
    method = abs_rel[rows[3][0]]
    if not (method < abs_rel['untrained'] and method < abs_rel['constant depth']):
        sys.exit('The trained method does NOT beat the untrained network and the '
                 'constant depth on AbsRel.')
    print('The trained method beats the untrained network and the constant depth on '
          'AbsRel.')


if __name__ == '__main__':
    main()
