"""NearFarMix (Rahman & Fattah, WACV 2024, sec. 3.4, eq. 7)."""
from typing import Optional, Sequence

import numpy as np

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .mix_plan import MixPlan, MixView, require_depth, valid_depth


@TRANSFORMS.register_module()
class NearFarMix(BaseMixTransform):
    """Keep the *near* part of image 1 and fill everything else from image 2.

    Eq. 7 defines ``M1 = [D1 <= thr]``, ``M2 = [D2 > thr]``, ``Mo = -(M1 ⊙ M2)``,
    ``Me = (1 - M1) ⊙ (1 - M2)`` and ``I' = I1 M1 + I2 M2 + I2 Mo + I2 Me``. Adding the
    terms, ``M2 + Mo + Me = 1 - M1`` for binary masks, so

        ``I' = M1 · I1 + (1 − M1) · I2``  with  ``M1 = valid1 ∧ (D1 ≤ thr)``

    — image 2 (and its mask) only matters through the threshold. It is implemented
    as a selection, not the sum (which would overflow uint8 images and label maps).
    Image, labels, pseudo-labels, confidence, depth and its validity all follow
    ``M1``. Invalid pixels of image 1 (depth 0) never count as near.

    The threshold is drawn per pair, ``thr ~ U(lo, hi)`` with
    ``lo = max(min valid D1, D_min)`` and ``hi = min(max valid D2, D_max)``
    (``D_min, D_max`` = ``depth_range``: NYUv2 1.5–6.5 m, KITTI 20–60 m in the paper).
    When ``lo >= hi`` (or a sample has no valid depth) the interval is empty, the
    mix is skipped and image 1 is returned unchanged (``mix_info['skipped']`` =
    ``'empty_interval'``, counted in the training log).

    Args:
        depth_range: ``(D_min, D_max)`` in metres.
        prob: Probability of mixing.
        mask_source: ``'gt'`` (default), ``'densified'`` (sparse LiDAR with holes
            filled) or ``'estimate'`` (``est_depth_map``); see
            :class:`BaseMixTransform`.
    """

    def __init__(self, depth_range: Sequence[float], prob: float = 1.0,
                 mask_source: str = 'gt') -> None:
        super().__init__(prob=prob, mask_source=mask_source)
        d_min, d_max = (float(v) for v in depth_range)
        if not 0 <= d_min < d_max:
            raise ValueError(f'NearFarMix: depth_range must be (D_min, D_max) with '
                             f'0 <= D_min < D_max metres, got {tuple(depth_range)}')
        self.depth_range = (d_min, d_max)

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        d1 = require_depth(first, self.name, self.mask_source)
        d2 = require_depth(second, self.name, self.mask_source)
        v1, v2 = valid_depth(d1), valid_depth(d2)
        if not bool(v1.any()) or not bool(v2.any()):
            return MixPlan.unchanged('empty_interval')
        lo = max(float(d1[v1].min()), self.depth_range[0])
        hi = min(float(d2[v2].max()), self.depth_range[1])
        if lo >= hi:
            return MixPlan.unchanged('empty_interval')
        thr = float(rng.uniform(lo, hi))
        # eq. 7's M1: valid near pixels of image 1
        return MixPlan(mask=v1 & (d1 <= thr), info=dict(thr=thr, lo=lo, hi=hi))

    def __repr__(self) -> str:
        return (f'{self.name}(depth_range={self.depth_range}, prob={self.prob}, '
                f'mask_source={self.mask_source!r})')
