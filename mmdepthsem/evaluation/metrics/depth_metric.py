"""Monocular depth evaluation: crops, range, median scaling, per-image or pooled means.

Shadows mmseg's ``DepthMetric`` in the ``mmdepthsem`` scope: that one rejects explicit
metric lists, knows only the NYU crop and has no median scaling, which self-supervised
KITTI evaluation needs. The arithmetic lives in :mod:`mmdepthsem.evaluation.functional`.
"""
import logging
import math
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmdepthsem.registry import METRICS
from ..functional import (DEPTH_METRICS, RESIZE_MODES, CropType, depth_error_sums,
                          depth_eval_mask, depth_metrics_from_sums, eval_crop_box,
                          prepare_depth_pair, sum_error_sums)

AVERAGE_MODES = ('image', 'pixel')


def _warn(message: str, logger: MMLogger) -> None:
    """Raise a ``UserWarning`` and log it, so it shows in the run's log file too."""
    warnings.warn(message)
    print_log(message, logger=logger, level=logging.WARNING)


@METRICS.register_module()
class DepthMetric(BaseMetric):
    """Depth estimation metrics of the Eigen/KITTI/NYU literature.

    For each image: the prediction is resized bilinearly to the ground truth's size when
    the two differ (ground truth stays at its original resolution; ``resize_as``
    chooses whether depth or disparity is interpolated); pixels with
    ``min_depth < gt <= max_depth`` (``< max_depth`` with ``strict_max_depth``, finite)
    inside the evaluation crop are kept; with
    ``median_scaling`` the prediction is multiplied by ``median(gt) / median(pred)`` over
    those pixels; the prediction is clamped to ``[min_depth, max_depth]``; and the error
    sums of :func:`~mmdepthsem.evaluation.functional.depth_error_sums` are stored. An
    image without any valid pixel is skipped and counted in a warning. A prediction that
    is NaN or infinite at a valid pixel raises ``ValueError``.

    Result keys (before ``prefix``), in the units of the formulas in
    :mod:`mmdepthsem.evaluation.functional`:

    - ``abs_rel``, ``sq_rel``, ``rmse`` (metres), ``rmse_log``, ``log10``;
    - ``silog``: ``100 * sqrt(mean(g^2) - mean(g)^2)``, ``g = log d - log d*``;
    - ``delta1``, ``delta2``, ``delta3``: fraction of pixels with
      ``max(d/d*, d*/d) < 1.25, 1.25^2, 1.25^3`` (often written a1, a2, a3 or δ1..δ3);
    - ``mae``: ``mean(|d - d*|)`` in the units of the maps (metres for depth; on
      disparity maps, e.g. ``gt_key='gt_disparity_map'`` for SOSD's Cityscapes
      evaluation, the mean absolute disparity error in pixels);
    - with ``median_scaling``: ``median_ratio_mean`` and ``median_ratio_std`` (population
      standard deviation) of the per-image ratios.

    ``average='image'`` (default, as Monodepth2 and BTS) computes each metric per image
    and averages over images; ``average='pixel'`` pools all valid pixels of the data set
    (as SOSD reports), so ``rmse``, ``rmse_log`` and ``silog`` are square roots of pooled
    means and ``mae`` is the pooled mean absolute error.
    Both are computed from the same per-image sums, which :class:`BaseMetric` collects
    across ranks in distributed evaluation.

    With ``class_key`` (e.g. ``'gt_sem_seg'`` or ``'gt_pseudo_sem_seg'``), the metric
    also reports ``abs_rel/<class name>``: the AbsRel of each semantic class, pooled
    over the pixels of that class in the whole data set (``average`` does not apply).
    It is computed on exactly the pixels and the (median-scaled, clamped) predictions
    of the main metrics, leaving out pixels labelled ``ignore_index``; a class without
    any such pixel is left out of the results and named in a warning. This is the
    per-category AbsRel of SGRE (Li et al., ICLR 2021, Figure 5). Each image stores
    only a per-class sum and count, ``K`` numbers each.

    Args:
        max_depth: Upper end of the evaluated depth range, metres (10 for NYU Depth V2,
            80 for KITTI). Required: it changes the numbers a paper reports.
        min_depth: Lower end of the evaluated range, metres (exclusive). Defaults to 1e-3.
        crop: ``None``, ``'nyu_eigen'``, ``'kitti_garg'``, ``'kitti_eigen'`` or a
            ``(top, bottom, left, right)`` tuple of fractions; see
            :func:`~mmdepthsem.evaluation.functional.eval_crop_box`.
        median_scaling: Per-image median scaling, for predictions known up to scale.
        resize_as: ``'depth'`` (default) interpolates the predicted depth to the
            ground truth's size; ``'disparity'`` interpolates ``1 / depth`` and inverts
            the result, as Monodepth2's ``evaluate_depth.py`` (the KITTI protocol of
            Monodepth2, FSRE and SGRE) resizes the network's disparity.
        strict_max_depth: Keep ``gt < max_depth`` instead of ``gt <= max_depth``
            (Monodepth2's ``evaluate_depth.py``); it matters where the ground truth
            holds values of exactly ``max_depth``.
        average: ``'image'`` or ``'pixel'``.
        metrics: Names to report, a subset of :data:`DEPTH_METRICS`; ``None`` for all.
        pred_key: Data-sample field of the prediction, ``(1, H, W)`` metres.
        gt_key: Data-sample field of the ground truth, ``(1, H, W)`` metres, ``0`` =
            invalid. Disparity fields (``'gt_disparity_map'``, pixels, with the
            matching ``pred_key``) work too: ``min_depth``/``max_depth`` then bound the
            disparity and ``rmse``/``mae`` come out in pixels.
        class_key: Data-sample field of ``(1, H, W)`` integer class ids aligned with
            the ground truth, for the per-class AbsRel; ``None`` (default) for none.
        class_names: Names of the class ids ``0..K-1``, used in the result keys;
            ``None`` takes ``dataset_meta['classes']`` when the data set has them, else
            the keys are ``abs_rel/class_<id>``.
        ignore_index: Label value left out of the per-class AbsRel.
        collect_device: ``'cpu'`` or ``'gpu'``, where results are gathered across ranks.
        prefix: Prefix of the result keys, e.g. ``'depth'`` gives ``'depth/abs_rel'``.

    Example:
        >>> metric = dict(type='DepthMetric', crop='kitti_garg', max_depth=80,
        ...               median_scaling=True)
        >>> # per-class AbsRel over the Cityscapes classes of the pseudo-labels
        >>> metric = dict(type='DepthMetric', crop='kitti_garg', max_depth=80,
        ...               median_scaling=True, class_key='gt_pseudo_sem_seg')
    """

    #: Results keep their bare names (``abs_rel``, ...); an empty string tells
    #: mmengine's ``BaseMetric`` so (it warns "The prefix is not set" for ``None``),
    #: and ``prefix='depth'`` still gives ``depth/abs_rel``.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 max_depth: Optional[float] = None,
                 min_depth: float = 1e-3,
                 crop: CropType = None,
                 median_scaling: bool = False,
                 resize_as: str = 'depth',
                 strict_max_depth: bool = False,
                 average: str = 'image',
                 metrics: Optional[Sequence[str]] = None,
                 pred_key: str = 'pred_depth_map',
                 gt_key: str = 'gt_depth_map',
                 class_key: Optional[str] = None,
                 class_names: Optional[Sequence[str]] = None,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        if max_depth is None:
            raise TypeError('DepthMetric needs max_depth (metres): 10 for NYU Depth V2, '
                            '80 for KITTI.')
        if not 0 <= min_depth < max_depth:
            raise ValueError(f'DepthMetric needs 0 <= min_depth < max_depth, got '
                             f'min_depth={min_depth}, max_depth={max_depth}.')
        if average not in AVERAGE_MODES:
            raise ValueError(f'DepthMetric average={average!r} is not one of '
                             f'{list(AVERAGE_MODES)}.')
        if metrics is None:
            metrics = DEPTH_METRICS
        elif isinstance(metrics, str):
            metrics = [metrics]
        unknown = [m for m in metrics if m not in DEPTH_METRICS]
        if unknown or not metrics:
            raise ValueError(f'DepthMetric got unknown metric name(s) {unknown}; valid '
                             f'names are {list(DEPTH_METRICS)}.')
        eval_crop_box(480, 640, crop)  # fails early on a bad crop
        if resize_as not in RESIZE_MODES:
            raise ValueError(f'DepthMetric resize_as={resize_as!r} is not one of '
                             f'{list(RESIZE_MODES)}.')
        if class_names is not None:
            class_names = self._check_class_names(class_names)
        self.max_depth = float(max_depth)
        self.min_depth = float(min_depth)
        self.crop = crop
        self.median_scaling = median_scaling
        self.resize_as = resize_as
        self.strict_max_depth = bool(strict_max_depth)
        self.average = average
        self.metrics: List[str] = list(metrics)
        self.pred_key = pred_key
        self.gt_key = gt_key
        self.class_key = class_key
        self.class_names = class_names
        self.ignore_index = int(ignore_index)

    def _range(self) -> str:
        """The evaluated ground-truth interval, e.g. ``(0.001, 80.0)``."""
        close = ')' if self.strict_max_depth else ']'
        return f'({self.min_depth}, {self.max_depth}{close}'

    @staticmethod
    def _check_class_names(names: Sequence[str]) -> List[str]:
        """Reject an empty or repeated list of class names (their keys would clash)."""
        names = [names] if isinstance(names, str) else [str(n) for n in names]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if not names or duplicates:
            raise ValueError('DepthMetric class_names must be a non-empty list of '
                             f'distinct names, got {names!r}.')
        return names

    def _resolved_class_names(self) -> Optional[List[str]]:
        """``class_names``, else ``dataset_meta['classes']``, else ``None``."""
        if self.class_names is not None:
            return self.class_names
        classes = (self.dataset_meta or {}).get('classes')
        return None if classes is None else self._check_class_names(classes)

    def _class_labels(self, data_sample: dict, gt_shape: torch.Size,
                      num_classes: Optional[int]) -> torch.Tensor:
        """The checked ``(H, W)`` int64 class-id map of one data sample.

        Raises:
            KeyError: If the sample has no ``class_key`` field.
            ValueError: If the map's ``(H, W)`` differs from the ground truth's, or an id
                other than ``ignore_index`` is negative or ``>= num_classes``.
        """
        img_path = data_sample.get('img_path', 'a sample')
        if self.class_key not in data_sample:
            raise KeyError(f'DepthMetric(class_key={self.class_key!r}) needs '
                           f'{self.class_key!r} in every data sample; {img_path} has '
                           f'only {sorted(data_sample)}.')
        labels = torch.as_tensor(data_sample[self.class_key]['data'])
        if labels.dim() < 2 or labels.shape[-2:] != gt_shape[-2:] \
                or labels.numel() != gt_shape[-2] * gt_shape[-1]:
            raise ValueError(f'{img_path}: {self.class_key!r} has shape '
                             f'{tuple(labels.shape)} but {self.gt_key!r} has shape '
                             f'{tuple(gt_shape)}; the class ids must be aligned with '
                             'the ground-truth depth.')
        labels = labels.reshape(gt_shape[-2:]).to('cpu', torch.int64)
        ids = labels[labels != self.ignore_index]
        if ids.numel():
            bad = ids.min().item() if ids.min() < 0 else ids.max().item()
            if bad < 0 or (num_classes is not None and bad >= num_classes):
                valid_ids = 'ids >= 0' if num_classes is None else \
                    f'ids 0..{num_classes - 1} of {num_classes} class names'
                raise ValueError(f'{img_path}: {self.class_key!r} holds class id {bad}; '
                                 f'expected {valid_ids} or ignore_index='
                                 f'{self.ignore_index}.')
        return labels

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the error sums of each image of a batch in ``self.results``.

        Args:
            data_batch: The batch from the data loader (unused).
            data_samples: The model's outputs as dicts, each with ``pred_key`` and
                ``gt_key`` entries whose ``'data'`` is ``(1, H, W)`` metres, and with
                ``class_key`` (when set) whose ``'data'`` is ``(1, H, W)`` class ids.
        """
        class_names = self._resolved_class_names() if self.class_key else None
        num_classes = None if class_names is None else len(class_names)
        for data_sample in data_samples:
            for key in (self.pred_key, self.gt_key):
                if key not in data_sample:
                    raise KeyError(f'DepthMetric needs {key!r} in every data sample; '
                                   f'{data_sample.get("img_path", "a sample")} has only '
                                   f'{sorted(data_sample)}.')
            img_path = data_sample.get('img_path')
            gt_map = torch.as_tensor(data_sample[self.gt_key]['data'])
            labels = None
            if self.class_key is not None:
                labels = self._class_labels(data_sample, gt_map.shape, num_classes)
            try:
                pred, gt, ratio = prepare_depth_pair(
                    data_sample[self.pred_key]['data'], data_sample[self.gt_key]['data'],
                    self.min_depth, self.max_depth, self.crop, self.median_scaling,
                    self.resize_as, self.strict_max_depth)
            except ValueError as error:
                raise ValueError(f'{img_path or "image"}: {error}') from error
            if gt.numel() == 0:
                self.results.append({'count': 0, 'img_path': img_path})
                continue
            result = depth_error_sums(pred, gt)
            if self.median_scaling:
                result['ratio'] = ratio
            if labels is not None:
                # prepare_depth_pair keeps the pixels of this same mask, in this order.
                mask = depth_eval_mask(gt_map.reshape(labels.shape).cpu(),
                                       self.min_depth, self.max_depth, self.crop,
                                       self.strict_max_depth)
                ids = labels[mask]
                keep = ids != self.ignore_index
                abs_rel = ((pred - gt).abs() / gt).cpu()[keep].numpy()
                ids = ids[keep].numpy()
                length = num_classes or int(ids.max(initial=-1)) + 1
                result['class_abs_rel'] = np.bincount(ids, abs_rel, minlength=length)
                result['class_count'] = np.bincount(ids, minlength=length)
            self.results.append(result)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Average the collected per-image sums over the data set.

        Args:
            results: Per-image dicts from :meth:`process`, gathered from all ranks.

        Returns:
            ``{name: value}`` for the selected metrics, plus the median-ratio statistics
            when median scaling is on.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        valid = [r for r in results if r['count'] > 0]
        skipped = [r for r in results if r['count'] == 0]
        if skipped:
            shown = ', '.join(str(r.get('img_path')) for r in skipped[:5])
            message = (f'DepthMetric skipped {len(skipped)} of {len(results)} images '
                       f'with no ground-truth depth in {self._range()} m inside '
                       f'crop {self.crop!r}: {shown}'
                       f'{", ..." if len(skipped) > 5 else ""}')
            _warn(message, logger)
        if not valid:
            raise ValueError(
                f'DepthMetric: none of the {len(results)} images has a valid '
                f'ground-truth pixel in {self._range()} m inside '
                f'crop {self.crop!r}; check the depth units, max_depth and the crop.')

        if self.average == 'pixel':
            metrics = depth_metrics_from_sums(sum_error_sums(valid), self.metrics)
        else:
            per_image = [depth_metrics_from_sums(r, self.metrics) for r in valid]
            metrics = {
                name: sum(m[name] for m in per_image) / len(per_image)
                for name in self.metrics
            }

        if self.median_scaling:
            ratios = [r['ratio'] for r in valid if math.isfinite(r['ratio'])]
            degenerate = len(valid) - len(ratios)
            if degenerate:
                message = (f'DepthMetric: {degenerate} predictions had a non-positive '
                           'median and were evaluated without median scaling.')
                _warn(message, logger)
            if ratios:
                mean = sum(ratios) / len(ratios)
                std = math.sqrt(sum((r - mean)**2 for r in ratios) / len(ratios))
                metrics['median_ratio_mean'] = mean
                metrics['median_ratio_std'] = std

        if self.class_key is not None:
            metrics.update(self._class_metrics(valid, logger))

        table = PrettyTable()
        for name, value in metrics.items():
            if name.startswith('abs_rel/'):
                continue  # in the per-class table
            table.add_column(name, [round(value, 4)])
        print_log(
            f'depth results over {len(valid)} images ({self.average} average, crop '
            f'{self.crop!r}, range {self._range()} m'
            f'{", median scaling" if self.median_scaling else ""}):', logger=logger)
        print_log('\n' + table.get_string(), logger=logger)
        return metrics

    def _class_metrics(self, results: List[dict],
                       logger: MMLogger) -> Dict[str, float]:
        """Per-class AbsRel, pooled over the pixels of each class in all images.

        Args:
            results: Per-image dicts from :meth:`process` with ``count > 0``.
            logger: Where the per-class table and the absent classes are logged.

        Returns:
            ``{'abs_rel/<class name>': value}`` for the classes with a valid pixel.
        """
        length = max(len(r['class_count']) for r in results)
        abs_rel = np.zeros(length, dtype=np.float64)
        count = np.zeros(length, dtype=np.int64)
        for r in results:
            n = len(r['class_count'])
            abs_rel[:n] += r['class_abs_rel']
            count[:n] += r['class_count']
        names = self._resolved_class_names()
        if names is None:
            names = [f'class_{i}' for i in range(length)]
        length = max(length, len(names))
        count = np.pad(count, (0, length - len(count)))

        metrics = {}
        table = PrettyTable(['class', 'abs_rel', 'pixels'])
        for i, name in enumerate(names):
            if count[i] > 0:
                metrics[f'abs_rel/{name}'] = float(abs_rel[i] / count[i])
                table.add_row([name, round(metrics[f'abs_rel/{name}'], 4), count[i]])
        absent = [name for i, name in enumerate(names) if count[i] == 0]
        if absent:
            _warn(f'DepthMetric: no valid {self.class_key!r} pixel of class(es) '
                  f'{absent}; they are left out of the per-class abs_rel.', logger)
        print_log(f'per-class abs_rel ({self.class_key!r}):\n' + table.get_string(),
                  logger=logger)
        return metrics
