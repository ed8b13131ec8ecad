"""Render the embedded synthetic data in the formats of the real datasets.

Command::

    python tools/dataset_converters/generate_synthetic.py \\
        {nyu,kitti,cityscapes,gta5,synthia,gta5_sequences,synthia_seqs,all} \\
        --out data/synthetic --seed 0 [--preset {default,tiny,paper}]
        [--height H --width W]
        [--sequences N] [--frames N] [--workers N] [--force]

Each dataset goes to ``<out>/<dataset>`` with a ``synthetic_manifest.json``; a folder made
with the same arguments and generator version is skipped in milliseconds. Size options
apply to every selected dataset: ``--sequences`` is rooms (NYU), drives (KITTI) or
snippets per train city (Cityscapes; val cities get half as many); ``--frames`` is frames
per room (NYU), per drive (KITTI) or per sequence (the VIPER / SYNTHIA-SEQS
sequences, ``gta5_sequences`` / ``synthia_seqs``); for GTA5 and Synthia ``--sequences``
is the number of images. ``--preset paper`` renders each dataset at its real size (NYU 480x640, KITTI
375x1242, Cityscapes 1024x2048, GTA5 1052x1914, Synthia 760x1280) with a few frames, for
``tools/analysis_tools/benchmark_paper_configs.py``; the size options still apply on
top of any preset. The layouts are documented in the module docstrings of
``mmdepthsem/datasets/synthetic/{nyu,kitti,cityscapes,gta5,synthia}_format.py`` and
``source_sequences.py``.
"""
import argparse
import os
import sys
from typing import Optional, Sequence

from mmdepthsem.datasets.synthetic import PRESETS, generate_dataset, override_config
from mmdepthsem.datasets.synthetic.generate import DATASETS

DATASET_NAMES = tuple(DATASETS)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dataset', choices=DATASET_NAMES + ('all', ))
    parser.add_argument('--out', default='data/synthetic', help='parent output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--preset',
        choices=tuple(PRESETS),
        default='default',
        help='set size to start from (tiny: a few small frames, for tests; paper: '
        "a few frames at each dataset's real image size, for benchmarks)")
    parser.add_argument('--height', type=int, help='image height in pixels')
    parser.add_argument('--width', type=int, help='image width in pixels')
    parser.add_argument(
        '--sequences', type=int, help='rooms / drives / snippets per train city')
    parser.add_argument('--frames', type=int, help='frames per room / drive')
    parser.add_argument(
        '--workers',
        type=int,
        default=min(2,
                    os.cpu_count() or 1),
        help='rendering processes (default: min(2, CPUs))')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if up to date; replace foreign folders')
    return parser.parse_args(argv)


def build_config(dataset: str, args: argparse.Namespace):
    """The dataset's config from the preset and the size options."""
    base = PRESETS[args.preset][dataset]
    size = dict(height=args.height, width=args.width)
    if dataset == 'nyu':
        count = dict(num_scenes=args.sequences, frames_per_scene=args.frames)
        if args.sequences is not None:
            count['num_test_scenes'] = max(1, args.sequences // 5)
    elif dataset == 'kitti':
        count = dict(num_drives=args.sequences, frames_per_drive=args.frames)
        if args.sequences is not None:
            count['num_test_drives'] = max(1, args.sequences // 6)
    elif dataset in ('gta5_sequences', 'synthia_seqs'):
        count = dict(num_sequences=args.sequences, frames_per_sequence=args.frames)
    elif dataset in ('gta5', 'synthia'):
        count = dict(num_images=args.sequences)
        if args.frames is not None:
            raise SystemExit(f'--frames does not apply to {dataset} (single views; '
                             '--sequences sets the number of images)')
    else:
        count = dict(train_sequences_per_city=args.sequences)
        if args.sequences is not None:
            count['val_sequences_per_city'] = max(1, args.sequences // 2)
        if args.frames is not None:
            raise SystemExit('--frames does not apply to cityscapes (snippets have their '
                             'annotated frame and the offsets of its neighbours)')
    return override_config(base, **size, **count)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    datasets = DATASET_NAMES if args.dataset == 'all' else (args.dataset, )
    for dataset in datasets:
        try:
            config = build_config(dataset, args)
        except ValueError as err:
            print(f'{dataset}: bad size options: {err}', file=sys.stderr)
            return 2
        result = generate_dataset(dataset, args.out, args.seed, config, args.workers,
                                  args.force)
        if result.skipped:
            print(
                f'{dataset}: up to date in {result.root} ({result.num_files} files, seed '
                f'{args.seed}); skipped')
        else:
            print(f'{dataset}: wrote {result.num_files} files to {result.root} in '
                  f'{result.seconds:.1f} s ({config.height}x{config.width}, '
                  f'seed {args.seed})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
