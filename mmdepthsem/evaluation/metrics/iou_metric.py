"""mmseg's IoU metric with a class subset for the summary and a choice of label field.

Registered as ``IoUMetric`` in the ``mmdepthsem`` scope, so configs that name
``IoUMetric`` get this class; with the default arguments it reports exactly what mmseg's
does. ``mmseg.IoUMetric`` still selects the original.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric as MMSegIoUMetric
from prettytable import PrettyTable

from mmdepthsem.registry import METRICS


@METRICS.register_module(name='IoUMetric')
class IoUMetric(MMSegIoUMetric):
    """mIoU / mAcc / aAcc (and mDice, mFscore) with an evaluated class subset.

    The confusion areas come from mmseg's ``intersect_and_union`` over all classes, and
    the per-class values from ``total_area_to_metrics``; only the summary changes:

    - ``eval_classes``: the ``m*`` summaries (``mIoU``, ``mAcc``, ``mDice``, ...) average
      the per-class values of these classes only (NaN classes, absent from both
      prediction and label, are left out as in mmseg). Predictions of the other classes
      still count as errors. ``aAcc`` stays over all labelled pixels. The all-class
      summaries are reported as well with an ``_all`` suffix (``mIoU_all``, ...), e.g.
      for Synthia's 13- and 16-class mIoU from one run.
    - ``gt_key``: the data-sample field compared with ``pred_sem_seg``; e.g.
      ``'gt_pseudo_sem_seg'`` scores agreement with a teacher's pseudo-labels, which the
      printed table states.

    Args:
        eval_classes: Class indices or names (from ``dataset_meta['classes']``) of the
            summary; ``None`` for all classes.
        gt_key: Field holding the reference labels, ``(1, H, W)`` class ids.
        ignore_index: Label value excluded from evaluation. Defaults to 255.
        iou_metrics: Any of ``'mIoU'``, ``'mDice'``, ``'mFscore'``.
        nan_to_num: Replace NaN per-class values by this number (also in summaries).
        beta: Weight of recall in the F-score.
        collect_device: ``'cpu'`` or ``'gpu'``.
        output_dir: Write predictions as PNG files here (mmseg behaviour).
        format_only: Only write predictions, do not evaluate.
        prefix: Prefix of the result keys (``'iou'`` gives ``'iou/mIoU'``); ``None``
            for the bare names.

    Example:
        >>> # Synthia: 16 training classes, mIoU over the usual 13.
        >>> metric = dict(type='IoUMetric', eval_classes=[
        ...     'road', 'sidewalk', 'building', 'traffic light', 'traffic sign',
        ...     'vegetation', 'sky', 'person', 'rider', 'car', 'bus', 'motorcycle',
        ...     'bicycle'])
    """

    #: Results are reported under their bare names (``mIoU``, ``aAcc``, ...), which
    #: the configs' ``save_best`` and the logs use. An empty string says so to
    #: mmengine's ``BaseMetric``, which warns "The prefix is not set" for ``None``
    #: and adds ``<prefix>/`` only for a non-empty prefix; ``prefix='iou'`` still
    #: gives ``iou/mIoU``.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 eval_classes: Optional[Sequence[Union[int, str]]] = None,
                 gt_key: str = 'gt_sem_seg',
                 ignore_index: int = 255,
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[int] = None,
                 beta: int = 1,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(
            ignore_index=ignore_index,
            iou_metrics=list(iou_metrics),
            nan_to_num=nan_to_num,
            beta=beta,
            collect_device=collect_device,
            output_dir=output_dir,
            format_only=format_only,
            prefix=prefix,
            **kwargs)
        if eval_classes is not None:
            if isinstance(eval_classes, (str, int)):
                eval_classes = [eval_classes]
            eval_classes = list(eval_classes)
            if not eval_classes:
                raise ValueError('IoUMetric eval_classes must not be empty; use None '
                                 'for all classes.')
        self.eval_classes = eval_classes
        self.gt_key = gt_key

    def eval_class_indices(self) -> Optional[List[int]]:
        """Resolve ``eval_classes`` against ``dataset_meta['classes']``.

        Returns:
            Sorted class indices, or ``None`` when all classes are evaluated.

        Raises:
            ValueError: For an unknown class name or an out-of-range index.
        """
        if self.eval_classes is None:
            return None
        classes = list(self.dataset_meta['classes'])
        indices = []
        for item in self.eval_classes:
            if isinstance(item, str):
                if item not in classes:
                    raise ValueError(f'IoUMetric eval_classes: unknown class {item!r}; '
                                     f'the dataset classes are {classes}.')
                indices.append(classes.index(item))
            else:
                index = int(item)
                if not 0 <= index < len(classes):
                    raise ValueError(f'IoUMetric eval_classes: index {index} is outside '
                                     f'0..{len(classes) - 1} ({len(classes)} classes).')
                indices.append(index)
        return sorted(set(indices))

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Compute the confusion areas of each sample against ``gt_key``.

        Args:
            data_batch: The batch from the data loader (unused).
            data_samples: Model outputs as dicts with ``pred_sem_seg`` and ``gt_key``,
                both ``(1, H, W)``.

        Raises:
            KeyError: If a sample has no ``gt_key`` field.
            ValueError: If a prediction's ``(H, W)`` differs from its labels'.
        """
        if not self.format_only:
            for data_sample in data_samples:
                img_path = data_sample.get('img_path', 'a sample')
                if self.gt_key not in data_sample:
                    raise KeyError(
                        f'IoUMetric(gt_key={self.gt_key!r}): '
                        f'{img_path} has no such field; '
                        f'it has {sorted(data_sample)}. Set format_only=True to only '
                        'write predictions.')
                pred_hw = tuple(data_sample['pred_sem_seg']['data'].shape[-2:])
                gt_hw = tuple(data_sample[self.gt_key]['data'].shape[-2:])
                if pred_hw != gt_hw:
                    # mmseg would fail with an IndexError on the boolean mask.
                    raise ValueError(
                        f'IoUMetric(gt_key={self.gt_key!r}): {img_path}: the '
                        f'prediction is {pred_hw[0]}x{pred_hw[1]} but the labels are '
                        f'{gt_hw[0]}x{gt_hw[1]} (ori_shape '
                        f'{data_sample.get("ori_shape")}, img_shape '
                        f'{data_sample.get("img_shape")}); predictions must be '
                        'returned at the size of the labels (mmdepthsem estimators '
                        'follow the labels in the data sample: prediction_size in '
                        'models/estimators/multitask_estimator.py).')
            if self.gt_key != 'gt_sem_seg':
                data_samples = [
                    dict(data_sample, gt_sem_seg=data_sample[self.gt_key])
                    for data_sample in data_samples
                ]
        super().process(data_batch, data_samples)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Per-class metrics over all classes; summaries over ``eval_classes``.

        Args:
            results: Per-sample ``(intersect, union, pred_area, label_area)`` tuples of
                ``(num_classes,)`` tensors, gathered from all ranks.

        Returns:
            ``aAcc`` and the ``m*`` summaries in percent, rounded to 2 decimals, plus the
            ``m*_all`` summaries when ``eval_classes`` is set.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            return super().compute_metrics(results)
        subset = self.eval_class_indices()
        intersect, union, pred_area, label_area = (sum(r) for r in zip(*results))
        per_class = self.total_area_to_metrics(intersect, union, pred_area, label_area,
                                               self.metrics, self.nan_to_num, self.beta)

        def summarise(indices: Optional[List[int]], suffix: str) -> Dict[str, float]:
            out = {}
            for name, values in per_class.items():
                if name == 'aAcc':
                    continue
                selected = values if indices is None else values[indices]
                if np.all(np.isnan(selected)):
                    value = float('nan')
                else:
                    value = float(np.round(np.nanmean(selected) * 100, 2))
                out[f'm{name}{suffix}'] = value
            return out

        metrics = OrderedDict(aAcc=float(np.round(per_class['aAcc'] * 100, 2)))
        metrics.update(summarise(subset, ''))
        if subset is not None:
            metrics.update(summarise(None, '_all'))

        class_names = list(self.dataset_meta['classes'])
        table = PrettyTable()
        table.add_column('Class', class_names)
        for name, values in per_class.items():
            if name != 'aAcc':
                table.add_column(name, np.round(values * 100, 2).tolist())
        if subset is not None:
            table.add_column('in summary', [
                'yes' if i in subset else '-' for i in range(len(class_names))
            ])
        against = ('ground truth (gt_sem_seg)' if self.gt_key == 'gt_sem_seg' else
                   f'{self.gt_key}, not the ground truth')
        print_log(f'per class results, predictions scored against {against}:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        if subset is not None:
            print_log(f'summary over {len(subset)} of {len(class_names)} classes: '
                      + ', '.join(f'{k}={v}' for k, v in metrics.items()), logger)
        return dict(metrics)
