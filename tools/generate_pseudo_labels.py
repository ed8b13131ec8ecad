"""Write a frozen segmentation model's pseudo-labels for a dataset, once.

    python tools/generate_pseudo_labels.py TEACHER_CONFIG CHECKPOINT \
        --data-config CONFIG [--phase train val] [--out-dir DIR] [--with-conf]
        [--device cpu|cuda] [--cfg-options k=v ...]

``TEACHER_CONFIG`` is any config whose ``model`` the registry can build (an mmseg
segmentor config, e.g. an ADE20K model for DSS's 150 classes); ``CHECKPOINT`` its
weights (loaded weights-only). The images are those of ``CONFIG``'s
``<phase>_dataloader`` dataset. For every sample the tool writes
``<out-dir>/<sample_name>.png`` (uint8 class ids; with ``--with-conf`` also
``<sample_name>_conf.png``, uint16 = confidence × 65535), which is where the datasets'
``pseudo_label_dir`` / ``LoadPseudoLabel`` look for them. ``--out-dir`` defaults to
``<data_root>/pseudo_labels/<teacher config name>``.

Resumable: files that already exist are kept, so an interrupted run continues where
it stopped. Labels are computed on the full, un-augmented image with the teacher's own
normalisation (``model.data_preprocessor`` mean/std of the teacher config).
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmdepthsem.registry import DATASETS, MODELS
from mmdepthsem.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Write teacher pseudo-labels')
    parser.add_argument('teacher_config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data-config', required=True,
                        help='config whose dataloader lists the images')
    parser.add_argument('--phase', nargs='+', default=['train'],
                        choices=['train', 'val', 'test'])
    parser.add_argument('--out-dir', default=None)
    parser.add_argument('--with-conf', action='store_true',
                        help='also write the max-softmax confidence')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the data config')
    return parser.parse_args()


def unwrap_dataset_cfg(dataset_cfg):
    """The innermost dataset config (e.g. inside a ``MixedSampleDataset``)."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def image_dataset(data_cfg: Config, phase: str):
    """The phase's dataset with a loading-only pipeline (no augmentation)."""
    dataset_cfg = unwrap_dataset_cfg(data_cfg[f'{phase}_dataloader'].dataset).copy()
    dataset_cfg.pipeline = [dict(type='LoadImageFromFile'),
                            dict(type='PackDepthSemInputs')]
    for key in ('pseudo_label_dir', 'pseudo_conf_dir'):
        dataset_cfg.pop(key, None)
    return DATASETS.build(dataset_cfg), dataset_cfg.get('data_root', '')


def main():
    args = parse_args()
    register_all_modules()
    data_cfg = Config.fromfile(args.data_config)
    if args.cfg_options:
        data_cfg.merge_from_dict(args.cfg_options)
    teacher = MODELS.build(dict(type='SegTeacher', model=args.teacher_config,
                                checkpoint=args.checkpoint)).to(args.device)
    teacher_name = osp.splitext(osp.basename(args.teacher_config))[0]
    written = kept = 0
    for phase in args.phase:
        dataset, data_root = image_dataset(data_cfg, phase)
        out_dir = args.out_dir or osp.join(data_root, 'pseudo_labels', teacher_name)
        print(f'{phase}: {len(dataset)} images -> {out_dir}')
        progress = ProgressBar(len(dataset))
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            path = osp.join(out_dir, f'{info["sample_name"]}.png')
            conf_path = osp.join(out_dir, f'{info["sample_name"]}_conf.png')
            if osp.exists(path) and (not args.with_conf or osp.exists(conf_path)):
                kept += 1
                progress.update()
                continue
            item = dataset[index]
            image = item['inputs'].flip(0).float()[None].to(args.device)  # BGR->RGB
            labels, conf = teacher_labels(teacher, image)
            os.makedirs(osp.dirname(path), exist_ok=True)
            write_png(path, labels.astype(np.uint8))
            if args.with_conf:
                write_png(conf_path, np.round(conf * 65535).astype(np.uint16))
            written += 1
            progress.update()
    print(f'\nwrote {written} pseudo-label maps, kept {kept} existing ones')


def teacher_labels(teacher, image: torch.Tensor):
    """Labels and confidence ``(H, W)`` arrays of one ``(1, 3, H, W)`` RGB 0–255
    image, normalised with the teacher's own mean/std."""
    if teacher.mean is not None:
        image = (image - teacher.mean) / teacher.std
    labels, conf = teacher(image)
    if int(labels.max()) > 255:
        raise ValueError('pseudo-labels are written as uint8 PNGs; the teacher '
                         f'predicted class {int(labels.max())} > 255')
    return labels[0].cpu().numpy(), conf[0].cpu().numpy()


def write_png(path: str, array: np.ndarray) -> None:
    """Write through a temporary file so an interrupted run leaves no torn PNG."""
    tmp = f'{path}.tmp.png'
    if not cv2.imwrite(tmp, array):
        raise OSError(f'could not write {tmp}')
    os.replace(tmp, path)


if __name__ == '__main__':
    main()
