"""Turn an SDE-pretraining checkpoint into the initial weights of a segmentation model.

SDE-Seg (§3.3) initialises the semi-supervised multi-task model from the SDE model:
encoder, depth decoder and pose net as trained, and the segmentation decoder as a
copy of the depth decoder apart from its head (which keeps its fresh initialisation).
Command::

    python tools/model_converters/sde_to_segmentation.py \\
        work_dirs/sde_stage_b/iter_50000.pth checkpoints/sde_seg_init.pth \\
        --config configs/<ssl config>.py

then ``load_from='checkpoints/sde_seg_init.pth'`` in (or ``--cfg-options`` of) the
segmentation config. The source is read with ``weights_only=True`` and the project's
allow-list; the target model is built from ``--config`` without downloading weights.
The output ``{'state_dict': ..., 'meta': ...}`` holds only the transferred tensors, so
the Runner's non-strict ``load_from`` leaves the rest (the class head, modules the SDE
model lacks) at their initialisation.
"""
import argparse
import io
import os.path as osp
import sys
from collections import Counter
from typing import Optional, Sequence

import torch

from mmdepthsem.registry import MODELS
from mmdepthsem.utils.checkpoint import (UnsafeCheckpointError, atomic_write_bytes,
                                         load_checkpoint_weights_only)
from mmdepthsem.utils.decoder_transfer import (KEEP_PREFIXES,
                                               transfer_depth_decoder_to_sem)
from mmdepthsem.utils.tool_config import load_tool_config, model_cfg_without_downloads

__all__ = ['convert', 'main']


def convert(src: str, config: str, cfg_options: Optional[dict] = None,
            src_prefix: str = 'depth_decoder.', dst_prefix: str = 'sem_decoder.',
            keep_prefixes: Sequence[str] = KEEP_PREFIXES) -> tuple:
    """The transferred checkpoint and the report.

    Args:
        src: SDE checkpoint (a Runner checkpoint or a bare state dict).
        config: Config of the segmentation model.
        cfg_options: ``--cfg-options`` for ``config``.
        src_prefix, dst_prefix, keep_prefixes: See
            :func:`~mmdepthsem.utils.decoder_transfer.transfer_depth_decoder_to_sem`.

    Returns:
        ``(dict(state_dict=..., meta=...), report)``.
    """
    cfg = load_tool_config(config, cfg_options)
    model = MODELS.build(model_cfg_without_downloads(cfg.model))
    checkpoint = load_checkpoint_weights_only(src, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise TypeError(f'{src} holds a {type(checkpoint).__name__}, not a dict')
    state_dict, report = transfer_depth_decoder_to_sem(
        checkpoint.get('state_dict', checkpoint), model, src_prefix=src_prefix,
        dst_prefix=dst_prefix, keep_prefixes=keep_prefixes)
    meta = dict(
        source=osp.abspath(src), config=osp.abspath(config),
        transfer=dict(src_prefix=src_prefix, dst_prefix=dst_prefix,
                      keep_prefixes=list(keep_prefixes)),
        num_copied=len(report.copied), left_at_init=list(report.skipped),
        num_dropped=len(report.dropped))
    return dict(state_dict=state_dict, meta=meta), report


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Initialise a segmentation model from an SDE-pretraining '
        'checkpoint: encoder, depth decoder and pose net as they are, the '
        'segmentation decoder from the depth decoder except its head.')
    parser.add_argument('src', help='SDE checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth), for `load_from`')
    parser.add_argument('--config', required=True,
                        help='config of the segmentation (target) model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of --config (key=value)')
    parser.add_argument('--src-prefix', default='depth_decoder.')
    parser.add_argument('--dst-prefix', default='sem_decoder.')
    args = parser.parse_args(argv)
    from mmdepthsem.utils import register_all_modules
    register_all_modules()  # the model's data preprocessor is built by scope
    try:
        checkpoint, report = convert(
            args.src, args.config, args.cfg_options, args.src_prefix, args.dst_prefix)
    except (FileNotFoundError, ValueError, TypeError, UnsafeCheckpointError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(buffer.getvalue(), args.dst)
    sem = sum(k.startswith(args.dst_prefix) for k in report.copied)
    print(f'Saved {args.dst}: copied {len(report.copied)} tensors ({sem} into '
          f'{args.dst_prefix}* from {args.src_prefix}*), skipped '
          f'{len(report.skipped)} target keys (they keep their initialisation), '
          f'dropped {len(report.dropped)} source keys.')
    for key, reason in report.skipped.items():
        print(f'  skipped {key}: {reason}')
    dropped = Counter(k.split('.')[0] for k in report.dropped)
    if dropped:
        print('  dropped: ' + ', '.join(
            f'{part} ({count})' for part, count in sorted(dropped.items())))
    return 0


if __name__ == '__main__':
    sys.exit(main())
