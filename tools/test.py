"""Evaluate a checkpoint, optionally writing pictures and prediction files.

    python tools/test.py CONFIG CHECKPOINT [--show-dir DIR] [--out DIR]
                         [--work-dir DIR] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmdepthsem.registry import RUNNERS
from mmdepthsem.utils.dist import prepare_distributed
from mmdepthsem.utils.preflight import check_data_roots
from mmdepthsem.utils.tool_config import load_tool_config


def parse_args():
    parser = argparse.ArgumentParser(
        description='Evaluate a depth + semantics model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir for the evaluation log')
    parser.add_argument(
        '--show-dir',
        help='write one picture per test image (image | depth | segmentation '
        'panels) into this dir')
    parser.add_argument(
        '--out',
        help='write each prediction as <name>_depth.png (uint16 mm), '
        '<name>_depth.npy (float metres) and <name>_sem.png into this dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_pictures(cfg: Config, show_dir: str) -> None:
    """Make the visualisation hook draw every test image into ``show_dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError('--show-dir needs default_hooks.visualization '
                       '(DepthSemVisualizationHook) in the config')
    hook['draw'] = True
    hook['interval'] = 1
    hook['test_out_dir'] = show_dir


def main():
    args = parse_args()
    cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                           args.launcher)
    check_data_roots(cfg, phases=('test', ))
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_pictures(cfg, osp.abspath(args.show_dir))
    if args.out:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='PredictionWriterHook', out_dir=osp.abspath(args.out))]
    prepare_distributed(cfg, args.launcher)

    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
