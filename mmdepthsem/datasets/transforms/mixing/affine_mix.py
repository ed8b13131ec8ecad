"""AffineMix (Bansal et al., "Semantics-Depth-Symbiosis", WACV 2023)."""
from typing import Optional, Sequence

import numpy as np
import torch

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .depth_mix import closer_mask
from .mix_plan import MixPlan, MixView, require_depth, warp_partner_field


@TRANSFORMS.register_module()
class AffineMix(BaseMixTransform):
    """Zoom and shift sample 2, scale its depth accordingly, then mix by depth order.

    Published description: sample 2 is transformed by a random affine map (a zoom
    and a translation) together with its labels and its (predicted) depth, the
    depth being rescaled to match the zoom, and the two samples are combined so that
    the nearer surface wins at each pixel. What the description leaves open, and
    what we chose:

    - the map: isotropic scale ``s ~ U(scale_range)`` about the image centre
      ``c``, then a shift ``t ~ U(-shift, shift)`` × (W, H); an output pixel ``x``
      reads sample 2 at ``(x − c − t) / s + c`` (no rotation or shear);
    - depth: a pinhole camera moving closer by ``s`` magnifies the image by ``s``,
      so the warped depth is ``D2 / s``;
    - resampling: image bilinear (rounded), labels and depth nearest; pixels the
      warp leaves without source get label 255, depth 0 and never win;
    - the mix: eq. 10 of DepthMix in metric depth, ``M = [D1 < D2' + ε]``
      (ε = 0 m by default), with DepthMix's rules for invalid depth;
    - defaults ``scale_range = (0.75, 1.5)``, ``shift = 0.2`` (ours).

    Args:
        scale_range: ``(lo, hi)`` of the zoom factor.
        shift: Largest translation as a fraction of the image size.
        epsilon: Tie tolerance in metres.
        prob: Probability of mixing.
        mask_source: Depth source, see :class:`BaseMixTransform`.
    """

    def __init__(self, scale_range: Sequence[float] = (0.75, 1.5), shift: float = 0.2,
                 epsilon: float = 0.0, prob: float = 1.0,
                 mask_source: str = 'gt') -> None:
        super().__init__(prob=prob, mask_source=mask_source)
        lo, hi = (float(v) for v in scale_range)
        if not 0 < lo <= hi:
            raise ValueError(f'AffineMix: scale_range must be 0 < lo <= hi, got '
                             f'{tuple(scale_range)}')
        if not 0 <= shift < 1:
            raise ValueError(f'AffineMix: shift must be in [0, 1), got {shift}')
        self.scale_range = (lo, hi)
        self.shift = float(shift)
        self.epsilon = float(epsilon)

    @staticmethod
    def affine_matrix(hw, scale: float, shift_xy) -> torch.Tensor:
        """``(2, 3)`` map from output pixels to sample-2 pixels (centres at ints)."""
        h, w = hw
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        tx, ty = shift_xy[0] * w, shift_xy[1] * h
        return torch.tensor([[1 / scale, 0.0, cx - (cx + tx) / scale],
                             [0.0, 1 / scale, cy - (cy + ty) / scale]],
                            dtype=torch.float32)

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        d1 = require_depth(first, self.name, self.mask_source)
        d2 = require_depth(second, self.name, self.mask_source)
        scale = float(rng.uniform(*self.scale_range))
        shift = (float(rng.uniform(-self.shift, self.shift)),
                 float(rng.uniform(-self.shift, self.shift)))
        plan = MixPlan(affine=self.affine_matrix(first.hw, scale, shift).to(d1.device),
                       depth_gain=1.0 / scale, info=dict(scale=scale, shift=shift))
        d2_warped = warp_partner_field('gt_depth_map', d2[None].float(), plan)[0]
        plan.mask = closer_mask(d1, d2_warped, self.epsilon, space='depth')
        return plan

    def __repr__(self) -> str:
        return (f'{self.name}(scale_range={self.scale_range}, shift={self.shift}, '
                f'epsilon={self.epsilon}, prob={self.prob}, '
                f'mask_source={self.mask_source!r})')
