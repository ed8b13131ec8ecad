"""Train a model from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import logging
import os

import torch
from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmdepthsem.registry import RUNNERS
from mmdepthsem.utils.dist import prepare_distributed
from mmdepthsem.utils.preflight import check_data_roots
from mmdepthsem.utils.resume import find_resumable_checkpoint, remove_torn_writes
from mmdepthsem.utils.tool_config import load_tool_config


def parse_args():
    parser = argparse.ArgumentParser(description='Train a depth + semantics model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or with no value from the latest '
        'complete checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision training (GPU)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'train_dataloader.batch_size=2 model.backbone.pretrained=False')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                           args.launcher)

    check_data_roots(cfg)

    if args.amp:
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU: mmengine\'s AmpOptimWrapper does '
                             'not run on CPU.')
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        # fp32 wrapper -> its AMP counterpart (the guarded one keeps its policy)
        amp_types = {'OptimWrapper': 'AmpOptimWrapper',
                     'NonFiniteGuardOptimWrapper': 'NonFiniteGuardAmpOptimWrapper'}
        if optim_type in amp_types.values():
            print_log('AMP is already enabled in the config.', logger='current',
                      level=logging.WARNING)
        else:
            if optim_type not in amp_types:
                raise SystemExit(f'--amp replaces OptimWrapper, but the config uses '
                                 f'{optim_type}')
            cfg.optim_wrapper.type = amp_types[optim_type]
            cfg.optim_wrapper.loss_scale = 'dynamic'

    prepare_distributed(cfg, args.launcher)

    if args.resume is not None:
        # one process cleans up (RANK is set by torchrun; the group may not exist yet)
        if int(os.environ.get('RANK', 0)) == 0 and os.path.isdir(cfg.work_dir):
            remove_torn_writes(cfg.work_dir)
        if args.resume == 'auto':
            checkpoint = find_resumable_checkpoint(cfg.work_dir)
            if checkpoint is None:
                print_log(f'--resume: no checkpoint in {cfg.work_dir}; training '
                          'starts from scratch.', logger='current',
                          level=logging.WARNING)
            else:
                cfg.resume, cfg.load_from = True, checkpoint
        else:
            cfg.resume, cfg.load_from = True, args.resume

    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
