"""Predict depth and semantics for images, a folder or a video, and save the results.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir DIR] [--device cpu]
                          [--batch-size N] [--no-pictures]

INPUT is an image, a folder of images (sorted, not recursive) or a video file. For each
image ``<name>`` (video frames: ``<video stem>_<frame:06d>``) the output folder gets
``<name>_depth.png`` (uint16 millimetres, 0 = invalid, clipped at 65.535 m),
``<name>_depth.npy`` (float32 metres), ``<name>_sem.png`` (class ids) and, unless
``--no-pictures``, ``<name>_depth_color.png`` and ``<name>_overlay.png``.
"""
import argparse
import os.path as osp
import sys


def parse_args():
    parser = argparse.ArgumentParser(
        description='Predict depth + semantics for images, a folder or a video')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='image file, folder of images or video file')
    parser.add_argument('--out-dir', default='outputs/infer',
                        help='folder for the predictions (default: outputs/infer)')
    parser.add_argument('--device', default=None,
                        help="device, e.g. 'cpu' or 'cuda:0' (default: auto)")
    parser.add_argument('--batch-size', type=int, default=1,
                        help='images per forward pass')
    parser.add_argument('--no-pictures', action='store_true',
                        help='skip the _depth_color.png and _overlay.png pictures')
    parser.add_argument('--depth-range', type=float, nargs=2, default=None,
                        metavar=('VMIN', 'VMAX'),
                        help='fixed depth colour range in metres (default: per image)')
    return parser.parse_args()


def main():
    args = parse_args()
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint'),
                       (args.input, 'input')):
        if not osp.exists(path):
            sys.exit(f'error: {what} {path} does not exist')
    if args.batch_size < 1:
        sys.exit(f'error: --batch-size must be >= 1, got {args.batch_size}')

    from mmdepthsem.apis import DepthSemInferencer
    inferencer = DepthSemInferencer(args.config, args.checkpoint, device=args.device,
                                    depth_range=args.depth_range)
    results = inferencer(args.input, batch_size=args.batch_size, out_dir=args.out_dir,
                         save_pictures=not args.no_pictures)
    print(f'Wrote the predictions of {len(results["predictions"])} input(s) to '
          f'{osp.abspath(args.out_dir)}')


if __name__ == '__main__':
    main()
