"""Pure functions behind the depth metrics: evaluation crops, masks, median scaling, and
the per-image error sums from which every depth metric is computed.

All functions take torch tensors and return tensors or Python floats; they hold no state,
so the metric class, analysis tools and tests share one implementation.

The conventions follow ``docs/data_conventions.md`` and ``/work/shared/DATA_FORMATS.md``:
depth is in metres, ``0`` (and any non-finite value) in the ground truth means invalid,
and a pixel is evaluated when ``min_depth < gt <= max_depth`` and it lies inside the crop.
Monodepth2's ``evaluate_depth.py`` (which produced the KITTI tables of Monodepth2, FSRE
and SGRE) differs in two places, both options here: it keeps ``gt < max_depth``
(``strict_max_depth``), and it resizes the predicted *disparity* to the ground truth's
size before inverting it (``resize_as='disparity'``).

Metric definitions (``d`` prediction, ``d*`` ground truth, ``g = log d - log d*``, means
over the valid pixels)::

    abs_rel  = mean(|d - d*| / d*)
    sq_rel   = mean((d - d*)^2 / d*)
    rmse     = sqrt(mean((d - d*)^2))                      [m]
    mae      = mean(|d - d*|)                              [m]
    rmse_log = sqrt(mean(g^2))
    log10    = mean(|log10 d - log10 d*|)
    silog    = 100 * sqrt(mean(g^2) - mean(g)^2)
    deltaK   = mean(max(d / d*, d* / d) < 1.25^K),  K = 1, 2, 3

The formulas never assume metres: ``rmse`` and ``mae`` are in the units of the maps, so
on disparity maps (e.g. SOSD's Cityscapes evaluation) ``mae`` is the mean absolute
disparity error in pixels.

Every metric is a function of a handful of sums over the valid pixels (see
:func:`depth_error_sums`), so per-image results can be pooled over a whole data set
(``average='pixel'``) or averaged image by image (``average='image'``) after collecting
them from all ranks.
"""
import math
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

#: Names of the depth metrics, in the order they are reported.
DEPTH_METRICS: Tuple[str, ...] = ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10',
                                  'silog', 'delta1', 'delta2', 'delta3', 'mae')

#: Keys of the per-image sums returned by :func:`depth_error_sums`.
SUM_KEYS: Tuple[str, ...] = ('count', 'abs_rel', 'sq_rel', 'sq_err', 'sq_log_err',
                             'abs_log10_err', 'log_err', 'delta1', 'delta2', 'delta3',
                             'abs_err')

#: Evaluation crops as fractions ``(top, bottom, left, right)`` of the image height and
#: width. ``nyu_eigen`` is given as exact integer ratios of 480 x 640 (see
#: :func:`eval_crop_box`); the KITTI crops are the published fractions.
EVAL_CROPS: Dict[str, Tuple[float, float, float, float]] = {
    'nyu_eigen': (45 / 480, 471 / 480, 41 / 640, 601 / 640),
    'kitti_garg': (0.40810811, 0.99189189, 0.03594771, 0.96405229),
    'kitti_eigen': (0.3324324, 0.91351351, 0.03594771, 0.96405229),
}

# The NYU Eigen crop in integer pixels at its reference size (rows 45:471, cols 41:601 at
# 480 x 640); other sizes scale it with exact integer arithmetic.
_NYU_EIGEN_PIXELS = ((45, 471, 480), (41, 601, 640))

CropType = Union[None, str, Sequence[float]]


def eval_crop_box(height: int, width: int,
                  crop: CropType) -> Tuple[int, int, int, int]:
    """The evaluation crop of an image as a half-open pixel box.

    - ``None``: the whole image.
    - ``'nyu_eigen'``: rows ``45:471``, cols ``41:601`` at 480 x 640. At other sizes each
      bound is ``floor(bound * size / reference)``, computed in integers so that 480 x 640
      gives exactly those numbers.
    - ``'kitti_garg'``: rows ``0.40810811 H : 0.99189189 H``, cols
      ``0.03594771 W : 0.96405229 W``; ``'kitti_eigen'``: rows
      ``0.3324324 H : 0.91351351 H``, same cols. Bounds are truncated to integers, as
      in the evaluation code the KITTI numbers are reported with (``[153:371, 44:1197]``
      at 375 x 1242).
    - a sequence of four fractions ``(top, bottom, left, right)``, truncated like KITTI's.

    Args:
        height: Image height ``H`` in pixels.
        width: Image width ``W`` in pixels.
        crop: One of the above.

    Returns:
        ``(top, bottom, left, right)``: the crop is ``[top:bottom, left:right]``.

    Raises:
        ValueError: For an unknown crop name or a malformed fraction tuple.
    """
    if crop is None:
        return 0, height, 0, width
    if isinstance(crop, str):
        if crop not in EVAL_CROPS:
            raise ValueError(f'Unknown depth evaluation crop {crop!r}; valid crops '
                             f'are None, {sorted(EVAL_CROPS)} or a (top, bottom, left, '
                             'right) tuple of fractions.')
        if crop == 'nyu_eigen':
            (top, bottom, ref_h), (left, right, ref_w) = _NYU_EIGEN_PIXELS
            return (top * height // ref_h, bottom * height // ref_h,
                    left * width // ref_w, right * width // ref_w)
        fractions = EVAL_CROPS[crop]
    else:
        fractions = tuple(float(f) for f in crop)
        if len(fractions) != 4 or not all(0.0 <= f <= 1.0 for f in fractions) \
                or fractions[0] >= fractions[1] or fractions[2] >= fractions[3]:
            raise ValueError('A custom depth evaluation crop must be four fractions '
                             '(top, bottom, left, right) in [0, 1] with top < bottom '
                             f'and left < right, got {crop!r}.')
    top, bottom, left, right = fractions
    return (int(top * height), int(bottom * height), int(left * width),
            int(right * width))


def depth_eval_mask(gt: Tensor,
                    min_depth: float,
                    max_depth: float,
                    crop: CropType = None,
                    strict_max_depth: bool = False) -> Tensor:
    """The pixels of one ground-truth depth map that take part in the evaluation.

    Args:
        gt: Ground-truth depth, ``(H, W)`` or ``(1, H, W)``, metres; ``0`` or non-finite
            means invalid.
        min_depth: Pixels with ``gt <= min_depth`` are excluded (metres).
        max_depth: Pixels with ``gt > max_depth`` are excluded (metres).
        crop: Evaluation crop, see :func:`eval_crop_box`.
        strict_max_depth: Exclude ``gt == max_depth`` too (``gt < max_depth``, as
            Monodepth2's evaluation).

    Returns:
        Bool tensor of ``gt``'s shape.
    """
    height, width = gt.shape[-2:]
    below_max = gt < max_depth if strict_max_depth else gt <= max_depth
    mask = torch.isfinite(gt) & (gt > min_depth) & below_max
    if crop is not None:
        top, bottom, left, right = eval_crop_box(height, width, crop)
        in_crop = torch.zeros_like(mask)
        in_crop[..., top:bottom, left:right] = True
        mask &= in_crop
    return mask


#: What a prediction is resized as before it is compared with the ground truth.
RESIZE_MODES = ('depth', 'disparity')


def resize_depth(depth: Tensor, size: Tuple[int, int],
                 resize_as: str = 'depth') -> Tensor:
    """Bilinearly resize a depth map (``align_corners=False``).

    With ``resize_as='disparity'`` the map is inverted, resized and inverted back:
    ``1 / resize(1 / d)``, as Monodepth2's evaluation resizes the network's disparity
    (``cv2.resize``, whose bilinear float interpolation is the same half-pixel-centre
    rule) and only then takes ``depth = 1 / disparity``.

    Args:
        depth: ``(H, W)`` or ``(1, H, W)`` metres (positive for ``'disparity'``).
        size: Target ``(H', W')``.
        resize_as: ``'depth'`` or ``'disparity'``.

    Returns:
        The resized map, ``(H', W')`` or ``(1, H', W')`` like the input.
    """
    if resize_as not in RESIZE_MODES:
        raise ValueError(f'resize_as must be one of {RESIZE_MODES}, got {resize_as!r}')
    squeeze = depth.dim() == 2
    x = depth.reshape(1, 1, *depth.shape[-2:]).float()
    if resize_as == 'disparity':
        x = 1.0 / x
    x = F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)
    if resize_as == 'disparity':
        x = 1.0 / x
    return x[0, 0] if squeeze else x[0]


def median(values: Tensor) -> Tensor:
    """Median of a 1-D tensor; the mean of the two middle values for an even count
    (like ``numpy.median``, unlike ``torch.median``)."""
    ordered = values.flatten().sort().values
    n = ordered.numel()
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def median_scaling_ratio(pred: Tensor, gt: Tensor) -> float:
    """The per-image scale ``median(gt) / median(pred)`` of self-supervised evaluation.

    Args:
        pred: Predicted depth at the valid pixels, 1-D.
        gt: Ground-truth depth at the same pixels, 1-D, metres.

    Returns:
        The ratio, or ``nan`` when ``median(pred)`` is not positive and finite (a
        degenerate prediction that no scale can fix).
    """
    pred_median = float(median(pred))
    if not math.isfinite(pred_median) or pred_median <= 0:
        return math.nan
    return float(median(gt)) / pred_median


def depth_error_sums(pred: Tensor, gt: Tensor) -> Dict[str, float]:
    """Sums over valid pixels from which every depth metric follows.

    Computed in float64 so pooling millions of pixels does not lose precision.

    Args:
        pred: Predicted depth at the valid pixels, 1-D, positive, metres.
        gt: Ground-truth depth at the same pixels, 1-D, positive, metres.

    Returns:
        Dict with the keys of :data:`SUM_KEYS`: ``count`` (number of pixels),
        ``abs_rel`` = Σ|d − d*|/d*, ``sq_rel`` = Σ(d − d*)²/d*,
        ``sq_err`` = Σ(d − d*)², ``sq_log_err`` = Σg²,
        ``abs_log10_err`` = Σ|log10 d − log10 d*|, ``log_err`` = Σg, and ``delta1..3``:
        the number of pixels with max(d/d*, d*/d) < 1.25^k, and ``abs_err`` =
        Σ|d − d*| (in the units of the maps).
    """
    pred = pred.detach().flatten().to('cpu', torch.float64)
    gt = gt.detach().flatten().to('cpu', torch.float64)
    if pred.shape != gt.shape:
        raise ValueError('pred and gt must hold the same pixels, got '
                         f'{tuple(pred.shape)} and {tuple(gt.shape)}.')
    diff = pred - gt
    log_diff = torch.log(pred) - torch.log(gt)
    ratio = torch.maximum(pred / gt, gt / pred)
    return {
        'count': int(gt.numel()),
        'abs_rel': float((diff.abs() / gt).sum()),
        'sq_rel': float((diff**2 / gt).sum()),
        'sq_err': float((diff**2).sum()),
        'sq_log_err': float((log_diff**2).sum()),
        'abs_log10_err': float((torch.log10(pred) - torch.log10(gt)).abs().sum()),
        'log_err': float(log_diff.sum()),
        'delta1': int((ratio < 1.25).sum()),
        'delta2': int((ratio < 1.25**2).sum()),
        'delta3': int((ratio < 1.25**3).sum()),
        'abs_err': float(diff.abs().sum()),
    }


def sum_error_sums(sums: Iterable[Dict[str, float]]) -> Dict[str, float]:
    """Add up per-image sums (pooling pixels over images)."""
    total = dict.fromkeys(SUM_KEYS, 0)
    for item in sums:
        for key in SUM_KEYS:
            total[key] += item[key]
    return total


def depth_metrics_from_sums(
        sums: Dict[str, float],
        metrics: Sequence[str] = DEPTH_METRICS) -> Dict[str, float]:
    """Turn error sums (of one image, or pooled) into metric values.

    Args:
        sums: As returned by :func:`depth_error_sums` or :func:`sum_error_sums`, with
            ``count > 0``.
        metrics: Names to compute, from :data:`DEPTH_METRICS`.

    Returns:
        ``{name: value}``; ``rmse`` and ``mae`` in the units of the maps (metres for
        depth, pixels for disparity), ``silog`` scaled by 100, ``delta*`` as fractions
        in ``[0, 1]``, the others unitless.
    """
    n = sums['count']
    if n <= 0:
        raise ValueError('Depth metrics need at least one valid pixel.')
    mean_log = sums['log_err'] / n
    formulas = {
        'abs_rel': lambda: sums['abs_rel'] / n,
        'sq_rel': lambda: sums['sq_rel'] / n,
        'rmse': lambda: math.sqrt(sums['sq_err'] / n),
        'rmse_log': lambda: math.sqrt(sums['sq_log_err'] / n),
        'log10': lambda: sums['abs_log10_err'] / n,
        # max(0, .) guards the rounding error of a difference of nearly equal numbers.
        'silog': lambda: 100 * math.sqrt(max(sums['sq_log_err'] / n - mean_log**2, 0.0)),
        'delta1': lambda: sums['delta1'] / n,
        'delta2': lambda: sums['delta2'] / n,
        'delta3': lambda: sums['delta3'] / n,
        'mae': lambda: sums['abs_err'] / n,
    }
    return {name: formulas[name]() for name in metrics}


def prepare_depth_pair(pred: Tensor,
                       gt: Tensor,
                       min_depth: float,
                       max_depth: float,
                       crop: CropType = None,
                       median_scaling: bool = False,
                       resize_as: str = 'depth',
                       strict_max_depth: bool = False
                       ) -> Tuple[Tensor, Tensor, Optional[float]]:
    """Select, scale and clamp the pixels of one image that the metrics are computed on.

    Steps: resize ``pred`` bilinearly to ``gt``'s size when they differ (as depth or
    as disparity, :func:`resize_depth`); keep the pixels
    of :func:`depth_eval_mask`; with ``median_scaling`` multiply ``pred`` by
    ``median(gt) / median(pred)`` over those pixels; clamp ``pred`` to
    ``[min_depth, max_depth]``.

    Args:
        pred: Predicted depth ``(H', W')`` or ``(1, H', W')``, metres (or up to scale).
        gt: Ground-truth depth ``(H, W)`` or ``(1, H, W)``, metres, ``0`` = invalid.
        min_depth: Lower bound of the evaluated range (metres, exclusive for ``gt``).
        max_depth: Upper bound of the evaluated range (metres, inclusive for ``gt``
            unless ``strict_max_depth``).
        crop: Evaluation crop, see :func:`eval_crop_box`.
        median_scaling: Apply per-image median scaling.
        resize_as: ``'depth'`` or ``'disparity'`` (Monodepth2's evaluation).
        strict_max_depth: Keep ``gt < max_depth`` only (Monodepth2's evaluation).

    Returns:
        ``(pred_valid, gt_valid, ratio)``: 1-D float64 tensors of the valid pixels (empty
        when there is none) and the median-scaling ratio (``None`` without median scaling
        or without valid pixels, ``nan`` when the prediction's median is not positive:
        the prediction is then left unscaled).

    Raises:
        ValueError: If the prediction is not finite at a valid pixel.
    """
    gt = gt.reshape(gt.shape[-2:])
    pred = pred.reshape(pred.shape[-2:])
    if pred.shape != gt.shape:
        pred = resize_depth(pred, tuple(gt.shape), resize_as)
    mask = depth_eval_mask(gt, min_depth, max_depth, crop, strict_max_depth)
    pred_valid = pred[mask].double()
    gt_valid = gt[mask].double()
    if pred_valid.numel() == 0:
        return pred_valid, gt_valid, None
    bad = (~torch.isfinite(pred_valid)).sum().item()
    if bad:
        raise ValueError(f'The depth prediction is NaN or infinite at {bad} of '
                         f'{pred_valid.numel()} evaluated pixels.')
    ratio = None
    if median_scaling:
        ratio = median_scaling_ratio(pred_valid, gt_valid)
        if math.isfinite(ratio):
            pred_valid = pred_valid * ratio
    pred_valid = pred_valid.clamp(min_depth, max_depth)
    return pred_valid, gt_valid, ratio


def compute_depth_metrics(pred: Tensor,
                          gt: Tensor,
                          min_depth: float,
                          max_depth: float,
                          crop: CropType = None,
                          median_scaling: bool = False,
                          metrics: Sequence[str] = DEPTH_METRICS,
                          resize_as: str = 'depth',
                          strict_max_depth: bool = False
                          ) -> Optional[Dict[str, float]]:
    """All depth metrics of one image (see :func:`prepare_depth_pair` for the steps
    and the arguments).

    Returns:
        ``{name: value}``, or ``None`` when the image has no valid pixel.
    """
    pred_valid, gt_valid, _ = prepare_depth_pair(pred, gt, min_depth, max_depth, crop,
                                                 median_scaling, resize_as,
                                                 strict_max_depth)
    if gt_valid.numel() == 0:
        return None
    return depth_metrics_from_sums(depth_error_sums(pred_valid, gt_valid), metrics)
