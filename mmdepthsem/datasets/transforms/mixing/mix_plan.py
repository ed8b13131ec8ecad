"""What a two-image mix does, computed once and applied to every field of a sample.

Every mixing augmentation of the family (NearFarMix, DepthMix, CutMix, ClassMix,
AffineMix, CutDepth, V-CutDepth) is split into two steps:

1. a *planner* looks at the depth and labels of the two samples (:class:`MixView`)
   and returns a :class:`MixPlan` — which pixels come from which sample, and
   optionally a warp of the second sample and pixels painted into the image;
2. the plan is applied to every field the same way: by
   :func:`apply_plan_to_results` in the CPU pipeline (numpy ``results`` dicts) or by
   :func:`apply_plan_to_tensors` in the batch form (torch tensors on the device).

Planners work on torch tensors in both forms, so the pipeline transform and the
batch augment produce the same output for the same pair and the same random draws.
Selections are ``where``-style choices, never weighted sums, so uint8 images and
label maps keep their exact values (255 included).
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..geometric import IMAGE_KEYS, LABEL_KEYS, ZERO_PAD_KEYS

# The fields a mix changes are the ones geometric transforms move: images, label
# maps (255 where a warp leaves no source) and continuous maps (0 there).
MIX_IMAGE_KEYS = IMAGE_KEYS
MIX_LABEL_KEYS = LABEL_KEYS
MIX_ZERO_KEYS = ZERO_PAD_KEYS
#: Maps holding metric depth, which a zooming warp divides by its scale.
DEPTH_KEYS = ('gt_depth_map', 'est_depth_map')
#: Where a planner reads depth from (``mask_source`` of the depth-based mixes).
MASK_SOURCES = ('gt', 'densified', 'estimate')
LABEL_SOURCES = ('gt', 'pseudo', 'auto')


@dataclass
class MixView:
    """Read-only torch views of the parts of one sample a planner may look at.

    Attributes:
        hw: ``(H, W)`` of the sample, pixels.
        depth: ``(H, W)`` float depth in metres, ``0`` = invalid, or ``None``.
        labels: ``(H, W)`` int64 class ids, ``255`` = ignore, or ``None``.
        name: What the sample is (its image path), for error messages.
    """

    hw: Tuple[int, int]
    depth: Optional[Tensor] = None
    labels: Optional[Tensor] = None
    name: str = 'sample'


@dataclass
class MixPlan:
    """How one output sample is composed.

    The output takes the (optionally warped) second sample everywhere, except where
    ``mask`` is ``True``, where it keeps the first sample; afterwards ``paint``
    (if any) overwrites image pixels only.

    Attributes:
        mask: ``(H, W)`` bool, ``True`` = pixel of the first sample. ``None`` when
            the second sample is not used at all.
        affine: ``(2, 3)`` float matrix mapping **output** pixel coordinates
            ``(x, y, 1)`` to the second sample's pixel coordinates (pixel centres at
            integers), or ``None``. Used by AffineMix.
        depth_gain: Depth values of the warped second sample are multiplied by
            this (AffineMix: ``1 / scale``).
        paint: ``(region, gray)``: ``(H, W)`` bool and ``(H, W)`` float in
            ``[0, 255]``; image pixels in ``region`` become ``gray`` on every
            channel (CutDepth). ``None`` for no painting.
        info: Sampled parameters and the outcome, for logs and the metainfo
            (``applied``: whether the sample changed; ``skipped``: the reason it
            did not, e.g. ``'empty_interval'``).
    """

    mask: Optional[Tensor] = None
    affine: Optional[Tensor] = None
    depth_gain: float = 1.0
    paint: Optional[Tuple[Tensor, Tensor]] = None
    info: Dict = field(default_factory=dict)
    _warp_cache: Optional[tuple] = field(default=None, repr=False, compare=False)

    def warp_geometry(self, hw: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """``grid_sample`` grid and the mask of output pixels with a source,
        computed once per plan and shared by every warped field."""
        cached = self._warp_cache
        if cached is None or cached[0] != tuple(hw):
            grid = _sampling_grid(self.affine, tuple(hw))
            inside = F.grid_sample(torch.ones((1, 1) + tuple(hw), device=grid.device),
                                   grid, mode='nearest', padding_mode='zeros',
                                   align_corners=False)[0] > 0.5
            cached = (tuple(hw), grid, inside)
            self._warp_cache = cached
        return cached[1], cached[2]

    @property
    def uses_partner(self) -> bool:
        return self.mask is not None

    @property
    def applied(self) -> bool:
        return self.mask is not None or self.paint is not None

    @classmethod
    def unchanged(cls, reason: str, **info) -> 'MixPlan':
        """A plan that returns the first sample as it is."""
        return cls(info=dict(info, applied=False, skipped=reason))


# --------------------------------------------------------------------------- #
# Helpers planners share.
# --------------------------------------------------------------------------- #
def valid_depth(depth: Tensor) -> Tensor:
    """``(H, W)`` bool: finite and ``> 0``."""
    return torch.isfinite(depth) & (depth > 0)


def require_depth(view: MixView, method: str, source: str) -> Tensor:
    """The view's depth, or a clear error when the sample has none."""
    if view.depth is None:
        hint = {'gt': 'load ground-truth depth (LoadDepthAnnotation) before mixing',
                'densified': 'load ground-truth depth before mixing',
                'estimate': 'load an estimated depth map (LoadDepthEstimate) before '
                            'mixing'}[source]
        raise KeyError(f'{method} mixes by depth but {view.name} has no depth map '
                       f'for mask_source={source!r}: {hint}.')
    return view.depth


def require_labels(view: MixView, method: str) -> Tensor:
    if view.labels is None:
        raise KeyError(f'{method} mixes by classes but {view.name} has no label map '
                       '(gt_seg_map or gt_pseudo_seg_map); load labels before mixing.')
    return view.labels


def densify_nearest(depth: Tensor) -> Tensor:
    """Fill invalid pixels of a sparse ``(H, W)`` depth map from the nearest valid one.

    Uses the Euclidean distance transform of scipy (exact nearest valid pixel) on the
    CPU; a map without valid pixels is returned unchanged.
    """
    from scipy import ndimage
    valid = valid_depth(depth)
    if bool(valid.all()) or not bool(valid.any()):
        return depth
    arr = depth.detach().cpu().numpy()
    _, (iy, ix) = ndimage.distance_transform_edt(~valid.cpu().numpy(),
                                                 return_indices=True)
    return torch.from_numpy(arr[iy, ix]).to(depth)


def rectangle_mask(hw: Tuple[int, int], box: Tuple[int, int, int, int],
                   device=None) -> Tensor:
    """``(H, W)`` bool, ``True`` inside ``box = (x0, y0, x1, y1)`` (end exclusive)."""
    mask = torch.zeros(hw, dtype=torch.bool, device=device)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = True
    return mask


def normalised_depth_gray(depth: Tensor) -> Tensor:
    """Depth min–max normalised over valid pixels to ``[0, 255]`` and rounded.

    Invalid pixels become 0. Rounding makes the pipeline (uint8 image) and the batch
    form (float image) paint identical values.
    """
    valid = valid_depth(depth)
    gray = torch.zeros_like(depth, dtype=torch.float32)
    if bool(valid.any()):
        lo, hi = depth[valid].min(), depth[valid].max()
        scale = (hi - lo).clamp_min(1e-12)
        gray[valid] = ((depth[valid] - lo) / scale * 255.0).float()
    return gray.round()


# --------------------------------------------------------------------------- #
# Warping the second sample (AffineMix).
# --------------------------------------------------------------------------- #
def _sampling_grid(affine: Tensor, hw: Tuple[int, int]) -> Tensor:
    """``(1, H, W, 2)`` grid for ``grid_sample(align_corners=False)``."""
    h, w = hw
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=affine.device),
                            torch.arange(w, dtype=torch.float32, device=affine.device),
                            indexing='ij')
    ones = torch.ones_like(xs)
    src = torch.stack([xs, ys, ones], -1) @ affine.float().t()  # (H, W, 2) pixels
    # pixel centre x -> normalised (2x + 1) / W - 1 (align_corners=False)
    gx = (2 * src[..., 0] + 1) / w - 1
    gy = (2 * src[..., 1] + 1) / h - 1
    return torch.stack([gx, gy], -1)[None]


def warp_tensor(x: Tensor, grid: Tensor, inside: Tensor, mode: str,
                fill: float) -> Tensor:
    """Resample a ``(C, H, W)`` tensor at ``grid`` (see :meth:`MixPlan.warp_geometry`).

    ``mode`` is ``'bilinear'`` (images; rounded back to integers) or ``'nearest'``
    (labels, depth). Output pixels outside ``inside`` get ``fill``.
    """
    out = F.grid_sample(x[None].float(), grid, mode=mode, padding_mode='zeros',
                        align_corners=False)[0]
    if mode == 'bilinear':
        out = out.round()
    out = torch.where(inside, out, torch.full_like(out, fill))
    return out.to(x.dtype)


def warp_partner_field(key: str, x: Tensor, plan: MixPlan) -> Tensor:
    """The partner's ``(C, H, W)`` field ``key`` as the plan's warp sees it."""
    if plan.affine is None:
        return x
    grid, inside = plan.warp_geometry(tuple(x.shape[-2:]))
    is_image = key in MIX_IMAGE_KEYS
    fill = 0.0 if (is_image or key in MIX_ZERO_KEYS) else 255.0
    out = warp_tensor(x, grid, inside, 'bilinear' if is_image else 'nearest', fill)
    if key in DEPTH_KEYS and plan.depth_gain != 1.0:
        out = out * plan.depth_gain
    return out


# --------------------------------------------------------------------------- #
# Applying a plan: numpy results dicts (pipeline) and tensors (batch).
# --------------------------------------------------------------------------- #
def _as_chw(arr: np.ndarray) -> Tensor:
    t = torch.from_numpy(np.ascontiguousarray(arr))
    return t[None] if t.ndim == 2 else t.permute(2, 0, 1)


def _from_chw(t: Tensor, like: np.ndarray) -> np.ndarray:
    arr = t[0] if like.ndim == 2 else t.permute(1, 2, 0)
    return arr.cpu().numpy().astype(like.dtype, copy=False)


def _warped_second(key: str, arr: np.ndarray, plan: MixPlan) -> np.ndarray:
    if plan.affine is None:
        return arr
    return _from_chw(warp_partner_field(key, _as_chw(arr), plan), arr)


def mix_field_keys(results: dict) -> Sequence[str]:
    """Every per-pixel key of ``results`` that a mix changes."""
    keys = list(MIX_IMAGE_KEYS) + list(MIX_LABEL_KEYS) + list(MIX_ZERO_KEYS)
    keys += [k for k in results.get('seg_fields', []) if k not in keys]
    return [k for k in keys if results.get(k) is not None]


def apply_plan_to_results(first: dict, second: Optional[dict], plan: MixPlan) -> dict:
    """Apply ``plan`` to a pipeline ``results`` dict in place (numpy arrays).

    Every image, label and depth-like field of ``first`` is mixed with the same field
    of ``second``. A field present in only one of the two samples is an error — a
    mixed sample with half its labels would silently train on wrong targets.

    Raises:
        KeyError: If the two samples do not carry the same fields.
        ValueError: If the two samples differ in size.
    """
    if plan.uses_partner:
        mask = plan.mask.cpu().numpy()
        keys_first, keys_second = set(mix_field_keys(first)), set(mix_field_keys(second))
        if keys_first != keys_second:
            raise KeyError(
                f'cannot mix {first.get("img_path")} with {second.get("img_path")}: '
                f'fields {sorted(keys_first ^ keys_second)} are present in only one '
                'of them. Give every sample of the dataset the same annotations.')
        for key in sorted(keys_first):
            a, b = first[key], _warped_second(key, second[key], plan)
            if a.shape != b.shape:
                raise ValueError(
                    f'cannot mix `{key}` of {first.get("img_path")} {a.shape} with '
                    f'{second.get("img_path")} {b.shape}: both samples must go through '
                    'the same geometric pipeline (e.g. a fixed-size RandomCrop) first.')
            sel = mask if a.ndim == 2 else mask[..., None]
            first[key] = np.where(sel, a, b)
    if plan.paint is not None:
        region, gray = (t.cpu().numpy() for t in plan.paint)
        for key in MIX_IMAGE_KEYS:
            if first.get(key) is not None:
                img = first[key]
                value = gray.astype(img.dtype)
                first[key] = np.where(region[..., None], value[..., None], img)
    return first


def apply_plan_to_tensors(first: Dict[str, Tensor], second: Dict[str, Tensor],
                          plan: MixPlan) -> Dict[str, Tensor]:
    """Apply ``plan`` to ``(C, H, W)`` tensors of one batch element.

    Args:
        first: Field name -> ``(C, H, W)`` tensor of the sample being augmented;
            image fields are named as in :data:`MIX_IMAGE_KEYS` (``'img'``).
        second: The same fields of its partner.
        plan: The plan.

    Returns:
        New tensors for every field of ``first``.
    """
    out = dict(first)
    if plan.uses_partner:
        mask = plan.mask
        for key, a in first.items():
            b = warp_partner_field(key, second[key], plan)
            out[key] = torch.where(mask.expand_as(a), a, b)
    if plan.paint is not None:
        region, gray = plan.paint
        for key in MIX_IMAGE_KEYS:
            if key in out:
                img = out[key]
                out[key] = torch.where(region.expand_as(img),
                                       gray.to(img.dtype).expand_as(img), img)
    return out
