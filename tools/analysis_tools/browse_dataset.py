"""Render what a config's data pipeline produces, one PNG per sample.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR
        [--phase train|val|test] [--num N] [--batch-augments] [--cfg-options k=v ...]

Each picture shows the (augmented) image, its ground-truth depth and segmentation as
the model would receive them, so geometric and mixing transforms can be checked.
Pipeline mixes (``MixedSampleDataset`` configs) appear as they are. With
``--batch-augments`` the samples are also batched and passed through the model's
data preprocessor in training mode, so batch mixes (``BatchNearFarMix``, ...) are
rendered too; images are shown un-normalised.
"""
import argparse
import os
import os.path as osp

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmdepthsem.registry import DATASETS, MODELS, VISUALIZERS
from mmdepthsem.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Browse a dataset pipeline')
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--phase', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=10, help='samples to render')
    parser.add_argument('--batch-augments', action='store_true',
                        help="also apply the data preprocessor's batch augments")
    parser.add_argument('--batch-size', type=int, default=None,
                        help='batch size for --batch-augments (default: the '
                        "config's train batch size)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def sample_name(sample, index: int) -> str:
    path = sample.metainfo.get('img_path', str(index))
    return osp.splitext(osp.basename(path))[0]


def pipeline_items(dataset, num: int):
    """``(index, image RGB (H, W, 3) uint8, data sample)`` from the pipeline."""
    for index in range(num):
        item = dataset[index]
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR -> RGB
        yield index, np.ascontiguousarray(image), item['data_samples']


def batch_augmented_items(dataset, num: int, preprocessor, batch_size: int):
    """Like :func:`pipeline_items`, after the preprocessor's batch augments."""
    for start in range(0, num, batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, num))]
        batch = preprocessor(dict(inputs=[it['inputs'] for it in items],
                                  data_samples=[it['data_samples'] for it in items]),
                             training=True)
        images = preprocessor.denormalize(batch['inputs']).clamp(0, 255).round().byte()
        for offset, (image, sample) in enumerate(zip(images, batch['data_samples'])):
            yield start + offset, image.permute(1, 2, 0).numpy(), sample


def main():
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader_cfg = cfg[f'{args.phase}_dataloader']
    dataset = DATASETS.build(loader_cfg.dataset)
    cfg.visualizer.name = 'browse_dataset'
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(args.output_dir, exist_ok=True)
    num = min(args.num, len(dataset))
    if args.batch_augments:
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
        items = batch_augmented_items(dataset, num, preprocessor,
                                      args.batch_size or loader_cfg.batch_size)
    else:
        items = pipeline_items(dataset, num)
    progress = ProgressBar(num)
    mixed = 0
    for index, image, sample in items:
        mixed += bool(sample.metainfo.get('mix_info', {}).get('applied'))
        name = sample_name(sample, index)
        visualizer.add_datasample(
            name, image, sample, draw_gt=True, draw_pred=False,
            out_file=osp.join(args.output_dir, f'{index:04d}_{name}.png'))
        progress.update()
    print(f'\nwrote {num} pictures to {args.output_dir} ({mixed} mixed)')


if __name__ == '__main__':
    main()
