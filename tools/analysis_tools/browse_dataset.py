"""Render what a config's data pipeline produces, one PNG per sample.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR
        [--phase train|val|test] [--num N] [--cfg-options k=v ...]

Each picture shows the (augmented) image, its ground-truth depth and segmentation as
the model would receive them, so geometric and mixing transforms can be checked.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmdepthsem.registry import DATASETS, VISUALIZERS
from mmdepthsem.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Browse a dataset pipeline')
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--phase', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=10, help='samples to render')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset = DATASETS.build(cfg[f'{args.phase}_dataloader'].dataset)
    cfg.visualizer.name = 'browse_dataset'
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(args.output_dir, exist_ok=True)
    num = min(args.num, len(dataset))
    progress = ProgressBar(num)
    for index in range(num):
        item = dataset[index]
        sample = item['data_samples']
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR -> RGB
        name = osp.splitext(osp.basename(sample.metainfo.get('img_path',
                                                             str(index))))[0]
        visualizer.add_datasample(
            name, image, sample, draw_gt=True, draw_pred=False,
            out_file=osp.join(args.output_dir, f'{index:04d}_{name}.png'))
        progress.update()
    print(f'\nwrote {num} pictures to {args.output_dir}')


if __name__ == '__main__':
    main()
