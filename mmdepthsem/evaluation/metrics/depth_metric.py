"""Monocular depth evaluation: crops, range, median scaling, per-image or pooled means.

Shadows mmseg's ``DepthMetric`` in the ``mmdepthsem`` scope: that one rejects explicit
metric lists, knows only the NYU crop and has no median scaling, which self-supervised
KITTI evaluation needs. The arithmetic lives in :mod:`mmdepthsem.evaluation.functional`.
"""
import logging
import math
import warnings
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmdepthsem.registry import METRICS
from ..functional import (DEPTH_METRICS, CropType, depth_error_sums,
                          depth_metrics_from_sums, eval_crop_box, prepare_depth_pair,
                          sum_error_sums)

AVERAGE_MODES = ('image', 'pixel')


def _warn(message: str, logger: MMLogger) -> None:
    """Raise a ``UserWarning`` and log it, so it shows in the run's log file too."""
    warnings.warn(message)
    print_log(message, logger=logger, level=logging.WARNING)


@METRICS.register_module()
class DepthMetric(BaseMetric):
    """Depth estimation metrics of the Eigen/KITTI/NYU literature.

    For each image: the prediction is resized bilinearly to the ground truth's size when
    the two differ (ground truth stays at its original resolution); pixels with
    ``min_depth < gt <= max_depth`` (finite) inside the evaluation crop are kept; with
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
    - with ``median_scaling``: ``median_ratio_mean`` and ``median_ratio_std`` (population
      standard deviation) of the per-image ratios.

    ``average='image'`` (default, as Monodepth2 and BTS) computes each metric per image
    and averages over images; ``average='pixel'`` pools all valid pixels of the data set
    (as SOSD reports), so ``rmse``, ``rmse_log`` and ``silog`` are square roots of pooled
    means.
    Both are computed from the same per-image sums, which :class:`BaseMetric` collects
    across ranks in distributed evaluation.

    Args:
        max_depth: Upper end of the evaluated depth range, metres (10 for NYU Depth V2,
            80 for KITTI). Required: it changes the numbers a paper reports.
        min_depth: Lower end of the evaluated range, metres (exclusive). Defaults to 1e-3.
        crop: ``None``, ``'nyu_eigen'``, ``'kitti_garg'``, ``'kitti_eigen'`` or a
            ``(top, bottom, left, right)`` tuple of fractions; see
            :func:`~mmdepthsem.evaluation.functional.eval_crop_box`.
        median_scaling: Per-image median scaling, for predictions known up to scale.
        average: ``'image'`` or ``'pixel'``.
        metrics: Names to report, a subset of :data:`DEPTH_METRICS`; ``None`` for all.
        pred_key: Data-sample field of the prediction, ``(1, H, W)`` metres.
        gt_key: Data-sample field of the ground truth, ``(1, H, W)`` metres, ``0`` =
            invalid.
        collect_device: ``'cpu'`` or ``'gpu'``, where results are gathered across ranks.
        prefix: Prefix of the result keys, e.g. ``'depth'`` gives ``'depth/abs_rel'``.

    Example:
        >>> metric = dict(type='DepthMetric', crop='kitti_garg', max_depth=80,
        ...               median_scaling=True)
    """

    def __init__(self,
                 max_depth: Optional[float] = None,
                 min_depth: float = 1e-3,
                 crop: CropType = None,
                 median_scaling: bool = False,
                 average: str = 'image',
                 metrics: Optional[Sequence[str]] = None,
                 pred_key: str = 'pred_depth_map',
                 gt_key: str = 'gt_depth_map',
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
        self.max_depth = float(max_depth)
        self.min_depth = float(min_depth)
        self.crop = crop
        self.median_scaling = median_scaling
        self.average = average
        self.metrics: List[str] = list(metrics)
        self.pred_key = pred_key
        self.gt_key = gt_key

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the error sums of each image of a batch in ``self.results``.

        Args:
            data_batch: The batch from the data loader (unused).
            data_samples: The model's outputs as dicts, each with ``pred_key`` and
                ``gt_key`` entries whose ``'data'`` is ``(1, H, W)`` metres.
        """
        for data_sample in data_samples:
            for key in (self.pred_key, self.gt_key):
                if key not in data_sample:
                    raise KeyError(f'DepthMetric needs {key!r} in every data sample; '
                                   f'{data_sample.get("img_path", "a sample")} has only '
                                   f'{sorted(data_sample)}.')
            img_path = data_sample.get('img_path')
            try:
                pred, gt, ratio = prepare_depth_pair(
                    data_sample[self.pred_key]['data'], data_sample[self.gt_key]['data'],
                    self.min_depth, self.max_depth, self.crop, self.median_scaling)
            except ValueError as error:
                raise ValueError(f'{img_path or "image"}: {error}') from error
            if gt.numel() == 0:
                self.results.append({'count': 0, 'img_path': img_path})
                continue
            result = depth_error_sums(pred, gt)
            if self.median_scaling:
                result['ratio'] = ratio
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
                       f'with no ground-truth depth in ({self.min_depth}, '
                       f'{self.max_depth}] m inside crop {self.crop!r}: {shown}'
                       f'{", ..." if len(skipped) > 5 else ""}')
            _warn(message, logger)
        if not valid:
            raise ValueError(
                f'DepthMetric: none of the {len(results)} images has a valid '
                f'ground-truth pixel in ({self.min_depth}, {self.max_depth}] m inside '
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

        table = PrettyTable()
        for name, value in metrics.items():
            table.add_column(name, [round(value, 4)])
        print_log(
            f'depth results over {len(valid)} images ({self.average} average, crop '
            f'{self.crop!r}, range ({self.min_depth}, {self.max_depth}] m'
            f'{", median scaling" if self.median_scaling else ""}):', logger=logger)
        print_log('\n' + table.get_string(), logger=logger)
        return metrics
