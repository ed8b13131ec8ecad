"""Per-pixel depth error pictures of a checkpoint over a config's test set.

    python tools/analysis_tools/depth_error_map.py CONFIG CHECKPOINT --out-dir DIR
        [--max-rel 0.5] [--cmap turbo] [--num N] [--device cpu]
        [--cfg-options KEY=VALUE ...]

For each test image, writes ``DIR/<name>_error.png``: four panels side by side,

    image | ground-truth depth | predicted depth | absolute relative error

The error panel colours ``|d - d*| / d*`` per evaluated pixel from ``0`` (the colour
map's first colour) to ``--max-rel`` and above (its last colour); pixels that are not
evaluated are black. The depth panels share the ground truth's valid range.

The prediction is treated exactly as the config's ``DepthMetric`` (first one in
``test_evaluator``) treats it: resized bilinearly to the ground truth's size (as depth
or as disparity, the metric's ``resize_as``), the evaluated pixels are
``min_depth < d* <= max_depth`` (``< max_depth`` with ``strict_max_depth``) inside the
metric's ``crop``,
with ``median_scaling`` the prediction is multiplied by ``median(d*) / median(d)``
over those pixels, and it is clamped to ``[min_depth, max_depth]`` (the helpers of
:mod:`mmdepthsem.evaluation.functional`). The mean of the error panel over its
evaluated pixels is therefore the image's ``abs_rel``. Without a ``DepthMetric`` all
positive finite ground-truth pixels are evaluated, unscaled and unclamped.

``DIR/abs_rel.csv`` lists each image's ``abs_rel``, evaluated pixel count and median
ratio; the worst images are printed.
"""
import argparse
import csv
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from mmdepthsem.evaluation.functional import (depth_eval_mask, median_scaling_ratio,
                                              resize_depth)
from mmdepthsem.utils.preflight import check_data_roots
from mmdepthsem.utils.tool_config import build_model_with_weights, load_tool_config
from mmdepthsem.visualization.colormap import colorize_depth, depth_value_range
from mmdepthsem.visualization.error_map import abs_rel_error, abs_rel_error_map

#: Evaluation settings used when the config has no DepthMetric.
DEFAULT_SETTINGS = dict(min_depth=0.0, max_depth=math.inf, crop=None,
                        median_scaling=False, resize_as='depth',
                        strict_max_depth=False, pred_key='pred_depth_map',
                        gt_key='gt_depth_map', clamp=False)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='test config')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument('--out-dir', required=True, help='folder for the pictures')
    parser.add_argument('--max-rel', type=float, default=0.5,
                        help='relative error of the top colour (default 0.5)')
    parser.add_argument('--cmap', default='turbo', help='matplotlib colour map')
    parser.add_argument('--num', type=int, default=None,
                        help='stop after this many images (default: all)')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu', 'cuda:0'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)
    if not args.max_rel > 0:
        parser.error('--max-rel must be positive')
    return args


def build_model(cfg: Config, checkpoint: Optional[str], device: str = 'cpu'
                ) -> nn.Module:
    """The config's model with ``checkpoint``'s weights (weights-only loading), in
    eval mode on ``device``; nothing is downloaded."""
    return build_model_with_weights(cfg.model, checkpoint, device)


def depth_metric_settings(cfg: Config) -> Dict:
    """``min_depth``, ``max_depth``, ``crop``, ``median_scaling``, ``resize_as``,
    ``strict_max_depth``, ``pred_key``, ``gt_key`` and ``clamp`` of the first ``DepthMetric`` in ``cfg.test_evaluator``;
    :data:`DEFAULT_SETTINGS` without one."""
    evaluator = cfg.get('test_evaluator') or []
    if isinstance(evaluator, dict):
        evaluator = evaluator.get('metrics', [evaluator])
        evaluator = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for entry in evaluator:
        name = str(entry.get('type', ''))
        if name == 'DepthMetric' or name.endswith('.DepthMetric'):
            return dict(min_depth=float(entry.get('min_depth', 1e-3)),
                        max_depth=float(entry['max_depth']),
                        crop=entry.get('crop'),
                        median_scaling=bool(entry.get('median_scaling', False)),
                        resize_as=entry.get('resize_as', 'depth'),
                        strict_max_depth=bool(entry.get('strict_max_depth', False)),
                        pred_key=entry.get('pred_key', 'pred_depth_map'),
                        gt_key=entry.get('gt_key', 'gt_depth_map'), clamp=True)
    return dict(DEFAULT_SETTINGS)


def evaluated_prediction(pred: Tensor, gt: Tensor, min_depth: float, max_depth: float,
                         crop=None, median_scaling: bool = False, clamp: bool = True,
                         resize_as: str = 'depth', strict_max_depth: bool = False
                         ) -> Tuple[Tensor, Tensor, Optional[float]]:
    """The prediction as the depth metric scores it, as a full map.

    Args:
        pred: Predicted depth ``(H', W')`` or ``(1, H', W')``.
        gt: Ground-truth depth ``(H, W)`` or ``(1, H, W)``, ``0`` = invalid.
        min_depth, max_depth, crop, median_scaling: As for ``DepthMetric``.
        clamp: Clamp the prediction to ``[min_depth, max_depth]``.
        resize_as, strict_max_depth: As for ``DepthMetric``.

    Returns:
        ``(pred, mask, ratio)``: the ``(H, W)`` float64 prediction (resized,
        median-scaled, clamped), the ``(H, W)`` bool mask of evaluated pixels and the
        median-scaling ratio (None without median scaling or evaluated pixels; NaN
        when the prediction's median is not positive: it is then left unscaled).
    """
    gt = gt.reshape(gt.shape[-2:]).cpu()
    pred = pred.reshape(pred.shape[-2:]).cpu()
    if pred.shape != gt.shape:
        pred = resize_depth(pred, tuple(gt.shape), resize_as)
    pred = pred.double()
    mask = depth_eval_mask(gt, min_depth, max_depth, crop, strict_max_depth)
    ratio = None
    if median_scaling and mask.any():
        ratio = median_scaling_ratio(pred[mask], gt[mask].double())
        if math.isfinite(ratio):
            pred = pred * ratio
    if clamp:
        pred = pred.clamp(min_depth, max_depth)
    return pred, mask, ratio


def image_rgb(sample, inputs: Tensor, size: Tuple[int, int]) -> np.ndarray:
    """The test image as ``(H, W, 3)`` uint8 RGB at ``size``: read from the sample's
    ``img_path`` when it exists, else the loader's (BGR) input tensor."""
    path = sample.metainfo.get('img_path')
    image = cv2.imread(path, cv2.IMREAD_COLOR) if path and osp.isfile(path) else None
    if image is None:
        image = inputs.permute(1, 2, 0).cpu().numpy().astype(np.uint8)
    image = np.ascontiguousarray(image[..., ::-1])
    if image.shape[:2] != tuple(size):
        image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return image


def _with_title(panel: np.ndarray, title: str) -> np.ndarray:
    """``panel`` under a black strip holding ``title`` in white."""
    width = panel.shape[1]
    scale = float(np.clip(width / 400, 0.3, 0.8))
    height = int(round(24 * scale)) + 6
    strip = np.zeros((height, width, 3), dtype=np.uint8)
    cv2.putText(strip, title, (3, height - 5), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([strip, panel], axis=0)


def error_picture(image: np.ndarray, pred: Tensor, gt: Tensor, mask: Tensor,
                  max_rel: float = 0.5, cmap: str = 'turbo'
                  ) -> Tuple[np.ndarray, float, int]:
    """``(picture, abs_rel, pixels)``: the four-panel RGB picture, the mean error
    over the evaluated pixels (NaN without any) and their number."""
    error, defined = abs_rel_error(pred, gt, mask)
    pixels = int(defined.sum())
    abs_rel = float(error[defined].mean()) if pixels else math.nan
    value_range = depth_value_range(np.where(mask.numpy(), gt.numpy(), 0)) \
        or depth_value_range(gt) or (0.0, 1.0)
    gt_panel = colorize_depth(gt, *value_range)
    pred_panel = colorize_depth(pred, *value_range)
    error_panel = abs_rel_error_map(pred, gt, mask, max_rel, cmap)
    panels = [_with_title(image, 'image'), _with_title(gt_panel, 'gt depth'),
              _with_title(pred_panel, 'pred depth'),
              _with_title(error_panel, f'abs rel {abs_rel:.3f} (0-{max_rel:g})')]
    gap = np.zeros((panels[0].shape[0], 2, 3), dtype=np.uint8)
    pieces = [panels[0]]
    for panel in panels[1:]:
        pieces += [gap, panel]
    return np.concatenate(pieces, axis=1), abs_rel, pixels


def sample_name(sample, index: int, used: set) -> str:
    """The image's file stem, made unique with its index when repeated."""
    path = sample.metainfo.get('img_path')
    name = osp.splitext(osp.basename(path))[0] if path else f'{index:06d}'
    if name in used:
        name = f'{name}_{index:06d}'
    used.add(name)
    return name


def write_error_maps(model: nn.Module, loader, settings: Dict, out_dir: str,
                     max_rel: float = 0.5, cmap: str = 'turbo',
                     num: Optional[int] = None, progress: bool = True
                     ) -> List[Dict]:
    """Predict the loader's images and write one error picture each.

    Returns:
        One dict per image: ``name``, ``path`` (picture), ``abs_rel``, ``pixels``
        and ``ratio`` (median scaling; None without).
    """
    os.makedirs(out_dir, exist_ok=True)
    total = len(loader.dataset) if num is None else min(num, len(loader.dataset))
    bar = ProgressBar(total) if progress else None
    rows: List[Dict] = []
    used: set = set()
    keys = {k: settings[k] for k in ('min_depth', 'max_depth', 'crop',
                                     'median_scaling', 'clamp', 'resize_as',
                                     'strict_max_depth')}
    with torch.no_grad():
        for batch in loader:
            samples = model.test_step(batch)
            for inputs, sample in zip(batch['inputs'], samples):
                if len(rows) >= total:
                    break
                gt = sample.get(settings['gt_key']).data
                pred, mask, ratio = evaluated_prediction(
                    sample.get(settings['pred_key']).data, gt, **keys)
                gt = gt.reshape(gt.shape[-2:]).cpu().double()
                image = image_rgb(sample, inputs, tuple(gt.shape))
                picture, abs_rel, pixels = error_picture(image, pred, gt, mask,
                                                         max_rel, cmap)
                name = sample_name(sample, len(rows), used)
                path = osp.join(out_dir, f'{name}_error.png')
                if not cv2.imwrite(path, picture[..., ::-1]):
                    raise OSError(f'could not write {path}')
                rows.append(dict(name=name, path=path, abs_rel=abs_rel,
                                 pixels=pixels, ratio=ratio))
                if bar is not None:
                    bar.update()
            if len(rows) >= total:
                break
    if bar is not None:
        print()
    return rows


def write_csv(rows: Sequence[Dict], path: str) -> None:
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['name', 'abs_rel', 'pixels', 'median_ratio'])
        for row in rows:
            writer.writerow([row['name'], f'{row["abs_rel"]:.6f}', row['pixels'],
                             '' if row['ratio'] is None else f'{row["ratio"]:.6f}'])


def main(argv: Optional[Sequence[str]] = None) -> List[Dict]:
    args = parse_args(argv)
    cfg = load_tool_config(args.config, args.cfg_options)
    check_data_roots(cfg, phases=('test', ))
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdepthsem'))
    settings = depth_metric_settings(cfg)
    model = build_model(cfg, args.checkpoint, args.device)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    rows = write_error_maps(model, loader, settings, args.out_dir, args.max_rel,
                            args.cmap, args.num)
    csv_path = osp.join(args.out_dir, 'abs_rel.csv')
    write_csv(rows, csv_path)
    close = ')' if settings['strict_max_depth'] else ']'
    print(f'evaluated like DepthMetric: depth in ({settings["min_depth"]:g}, '
          f'{settings["max_depth"]:g}{close}, crop {settings["crop"]!r}, median scaling '
          f'{"on" if settings["median_scaling"] else "off"}')
    scored = sorted((r for r in rows if not math.isnan(r['abs_rel'])),
                    key=lambda r: -r['abs_rel'])
    if scored:
        print('worst images (abs_rel):')
        for row in scored[:10]:
            print(f'  {row["name"]}: {row["abs_rel"]:.4f} ({row["pixels"]} pixels)')
        mean = sum(r['abs_rel'] for r in scored) / len(scored)
        print(f'mean per-image abs_rel over {len(scored)} images: {mean:.4f}')
    print(f'wrote {len(rows)} pictures and {csv_path} to {args.out_dir}')
    return rows


if __name__ == '__main__':
    main()
