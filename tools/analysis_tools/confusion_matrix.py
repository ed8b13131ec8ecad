"""Confusion matrix of the semantic branch over a config's test set.

    python tools/analysis_tools/confusion_matrix.py CONFIG CHECKPOINT --out-dir DIR
        [--normalize] [--device cpu] [--cfg-options KEY=VALUE ...]

Runs the checkpoint over the config's test data loader (``model.test_step``, the
predictions ``tools/test.py`` evaluates) and counts, over all labelled pixels, how
often ground-truth class ``i`` (row) is predicted as class ``j`` (column). Pixels
labelled ``ignore_index`` (the config's ``IoUMetric`` setting, default 255) and
labels outside ``0..C-1`` are left out, as mmseg's ``IoUMetric`` does.

Writes into DIR:

- ``confusion_matrix.npy``: the ``(C, C)`` int64 pixel counts (never normalised);
- ``confusion_matrix.png``: the matrix as a picture; with ``--normalize`` each row is
  divided by its sum (the share of class ``i``'s pixels predicted as ``j``; the
  diagonal is the per-class accuracy).

It prints the per-class IoU ``M[i, i] / (sum_j M[i, j] + sum_j M[j, i] - M[i, i])``
and accuracy from the matrix, with mIoU (mean over the classes that occur in the
ground truth or the prediction, as mmseg) and aAcc.
"""
import argparse
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import nn

from mmdepthsem.utils.preflight import check_data_roots
from mmdepthsem.utils.tool_config import build_model_with_weights, load_tool_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='test config')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument('--out-dir', required=True,
                        help='folder for confusion_matrix.npy / .png')
    parser.add_argument('--normalize', action='store_true',
                        help='plot each row divided by its sum')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu', 'cuda:0'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def build_model(cfg: Config, checkpoint: Optional[str], device: str = 'cpu'
                ) -> nn.Module:
    """The config's model with ``checkpoint``'s weights (weights-only loading), in
    eval mode on ``device``; nothing is downloaded."""
    return build_model_with_weights(cfg.model, checkpoint, device)


def predict_test_set(model: nn.Module, loader) -> Iterator[Tuple[dict, list]]:
    """``(batch, data samples with predictions)`` for each batch of ``loader``."""
    with torch.no_grad():
        for batch in loader:
            yield batch, model.test_step(batch)


def evaluator_entry(cfg: Config, metric_type: str) -> Optional[dict]:
    """The first entry of ``cfg.test_evaluator`` whose type is ``metric_type``."""
    evaluator = cfg.get('test_evaluator') or []
    if isinstance(evaluator, dict):
        evaluator = evaluator.get('metrics', [evaluator])
        evaluator = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for entry in evaluator:
        name = str(entry.get('type', ''))
        if name == metric_type or name.endswith(f'.{metric_type}'):
            return entry
    return None


def num_classes_of(model: nn.Module, dataset_meta: dict) -> int:
    """Classes of the semantic head, else of the data set."""
    head = getattr(model, 'sem_head', None)
    if head is None:
        raise SystemExit('the model has no semantic head (sem_head)')
    if getattr(head, 'num_classes', None):
        return int(head.num_classes)
    classes = dataset_meta.get('classes')
    if not classes:
        raise SystemExit('neither the semantic head nor the data set names the '
                         'number of classes')
    return len(classes)


def update_confusion(matrix: np.ndarray, pred: torch.Tensor, gt: torch.Tensor,
                     ignore_index: int = 255) -> int:
    """Add one image's pixels to ``matrix`` (rows: ground truth, cols: prediction).

    Args:
        matrix: ``(C, C)`` int64 counts, updated in place.
        pred: Predicted class ids, ``(H, W)`` or ``(1, H, W)``.
        gt: Ground-truth class ids of the same size.
        ignore_index: Label left out.

    Returns:
        The number of ground-truth pixels outside ``0..C-1`` (other than
        ``ignore_index``) that were left out.
    """
    num_classes = matrix.shape[0]
    pred = torch.as_tensor(pred).reshape(-1).to('cpu', torch.int64)
    gt = torch.as_tensor(gt).reshape(-1).to('cpu', torch.int64)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction ({pred.numel()} pixels) and label '
                         f'({gt.numel()} pixels) differ in size')
    labelled = gt != ignore_index
    in_range = (gt >= 0) & (gt < num_classes) & (pred >= 0) & (pred < num_classes)
    keep = labelled & in_range
    counts = torch.bincount(gt[keep] * num_classes + pred[keep],
                            minlength=num_classes**2)
    matrix += counts.numpy().reshape(num_classes, num_classes)
    return int((labelled & ~in_range).sum())


def iou_from_confusion(matrix: np.ndarray) -> np.ndarray:
    """Per-class IoU; NaN for a class absent from both the labels and predictions."""
    matrix = matrix.astype(np.float64)
    intersect = np.diag(matrix)
    union = matrix.sum(0) + matrix.sum(1) - intersect
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(union > 0, intersect / union, np.nan)


def accuracy_from_confusion(matrix: np.ndarray) -> np.ndarray:
    """Per-class accuracy (recall); NaN for a class without labelled pixels."""
    matrix = matrix.astype(np.float64)
    label_area = matrix.sum(1)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(label_area > 0, np.diag(matrix) / label_area, np.nan)


def plot_confusion(matrix: np.ndarray, class_names: Sequence[str], out: str,
                   normalize: bool = False, title: Optional[str] = None) -> None:
    """Save the matrix as a picture (matplotlib, Agg backend)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    values = matrix.astype(np.float64)
    if normalize:
        rows = values.sum(1, keepdims=True)
        values = np.divide(values, rows, out=np.zeros_like(values), where=rows > 0)
    num = len(class_names)
    size = max(6.0, 0.28 * num + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    try:
        image = ax.imshow(values, cmap='Blues', interpolation='nearest',
                          vmin=0, vmax=1 if normalize else None)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                     label='share of the row' if normalize else 'pixels')
        ticks = np.arange(num)
        font = 8 if num <= 20 else 6
        ax.set_xticks(ticks, labels=class_names, rotation=90, fontsize=font)
        ax.set_yticks(ticks, labels=class_names, fontsize=font)
        ax.set_xlabel('prediction')
        ax.set_ylabel('ground truth')
        ax.set_title(title or ('confusion matrix (rows normalised)' if normalize
                               else 'confusion matrix (pixels)'))
        if num <= 20:
            threshold = values.max() / 2 if values.size else 0
            for i in range(num):
                for j in range(num):
                    text = f'{values[i, j]:.2f}' if normalize else f'{matrix[i, j]:d}'
                    ax.text(j, i, text, ha='center', va='center', fontsize=6,
                            color='white' if values[i, j] > threshold else 'black')
        fig.tight_layout()
        fig.savefig(out, dpi=100)
    finally:
        plt.close(fig)


def format_table(matrix: np.ndarray, class_names: Sequence[str]) -> str:
    """Per-class IoU and accuracy (percent) with mIoU and aAcc."""
    iou = iou_from_confusion(matrix)
    acc = accuracy_from_confusion(matrix)
    width = max([len('class')] + [len(n) for n in class_names])
    lines = [f'{"class":<{width}} {"IoU":>7} {"Acc":>7} {"gt px":>10} {"pred px":>10}']
    for index, name in enumerate(class_names):
        lines.append(f'{name:<{width}} {iou[index] * 100:>7.2f} '
                     f'{acc[index] * 100:>7.2f} {matrix[index].sum():>10d} '
                     f'{matrix[:, index].sum():>10d}')
    total = matrix.sum()
    miou = np.nanmean(iou) * 100 if np.any(~np.isnan(iou)) else float('nan')
    a_acc = np.trace(matrix) / total * 100 if total else float('nan')
    lines.append(f'mIoU: {miou:.2f} (over {int(np.sum(~np.isnan(iou)))} classes '
                 f'present), aAcc: {a_acc:.2f}, labelled pixels: {total}')
    return '\n'.join(lines)


def compute_confusion(model: nn.Module, loader, num_classes: int,
                      ignore_index: int = 255, progress: bool = True
                      ) -> Tuple[np.ndarray, int]:
    """``(matrix, left_out)`` over ``loader``: the ``(C, C)`` counts and the number
    of labelled pixels with an id outside ``0..C-1``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    left_out = 0
    bar = ProgressBar(len(loader.dataset)) if progress else None
    for _, samples in predict_test_set(model, loader):
        for sample in samples:
            left_out += update_confusion(matrix, sample.pred_sem_seg.data,
                                         sample.gt_sem_seg.data, ignore_index)
            if bar is not None:
                bar.update()
    if bar is not None:
        print()
    return matrix, left_out


def class_names_of(dataset_meta: dict, num_classes: int) -> List[str]:
    classes = list(dataset_meta.get('classes') or [])
    if len(classes) != num_classes:
        classes = [f'class {i}' for i in range(num_classes)]
    return [str(c) for c in classes]


def main(argv: Optional[Sequence[str]] = None) -> np.ndarray:
    args = parse_args(argv)
    cfg = load_tool_config(args.config, args.cfg_options)
    check_data_roots(cfg, phases=('test', ))
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdepthsem'))
    model = build_model(cfg, args.checkpoint, args.device)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    dataset_meta = dict(getattr(loader.dataset, 'metainfo', {}) or {})
    num_classes = num_classes_of(model, dataset_meta)
    iou_cfg = evaluator_entry(cfg, 'IoUMetric') or {}
    ignore_index = int(iou_cfg.get('ignore_index', 255))
    matrix, left_out = compute_confusion(model, loader, num_classes, ignore_index)
    names = class_names_of(dataset_meta, num_classes)

    os.makedirs(args.out_dir, exist_ok=True)
    npy_path = osp.join(args.out_dir, 'confusion_matrix.npy')
    png_path = osp.join(args.out_dir, 'confusion_matrix.png')
    np.save(npy_path, matrix)
    plot_confusion(matrix, names, png_path, args.normalize)
    print(format_table(matrix, names))
    if left_out:
        print(f'left out {left_out} labelled pixels with a class id outside '
              f'0..{num_classes - 1}')
    print(f'saved {npy_path} and {png_path}')
    return matrix


if __name__ == '__main__':
    main()
