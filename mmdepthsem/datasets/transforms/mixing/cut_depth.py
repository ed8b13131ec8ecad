"""CutDepth (Ishii & Yamashita, 2021) and vertical CutDepth (Kim et al., GLPDepth)."""
from typing import Optional, Sequence, Tuple

import numpy as np

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .mix_plan import (MixPlan, MixView, normalised_depth_gray, rectangle_mask,
                       require_depth)


def _fraction_range(value: Sequence[float], name: str) -> Tuple[float, float]:
    lo, hi = (float(v) for v in value)
    if not 0 < lo <= hi <= 1:
        raise ValueError(f'{name} must be (lo, hi) with 0 < lo <= hi <= 1, got {value}')
    return lo, hi


@TRANSFORMS.register_module()
class CutDepth(BaseMixTransform):
    """Replace a random rectangle of the RGB input by the sample's own depth map.

    The depth is min–max normalised over valid pixels to ``[0, 255]`` (invalid
    pixels 0), rounded, and repeated over the three channels. Only the image
    changes: labels and depth targets stay as they are. Single-image: needs no
    partner sample.

    Chosen ranges (CutDepth's description draws the box position and size uniformly
    with a probability parameter; the exact ranges are ours): width and height
    fractions ``~ U(size_range)`` (default ``0.25–0.75``) of the image, top-left
    corner uniform over the positions where the box fits.

    Args:
        size_range: ``(lo, hi)`` side fractions of the rectangle.
        prob: Probability of applying.
        mask_source: Depth that is painted (``'gt'``, ``'densified'``,
            ``'estimate'``).
    """

    num_partners = 0

    def __init__(self, size_range: Sequence[float] = (0.25, 0.75), prob: float = 1.0,
                 mask_source: str = 'gt') -> None:
        super().__init__(prob=prob, mask_source=mask_source)
        self.size_range = _fraction_range(size_range, f'{self.name}: size_range')

    def sample_box(self, hw: Tuple[int, int], rng) -> Tuple[int, int, int, int]:
        h, w = hw
        bw = max(1, int(round(w * rng.uniform(*self.size_range))))
        bh = max(1, int(round(h * rng.uniform(*self.size_range))))
        x0 = int(rng.randint(w - bw + 1))
        y0 = int(rng.randint(h - bh + 1))
        return x0, y0, x0 + bw, y0 + bh

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        depth = require_depth(first, self.name, self.mask_source)
        box = self.sample_box(first.hw, rng)
        region = rectangle_mask(first.hw, box, depth.device)
        return MixPlan(paint=(region, normalised_depth_gray(depth)),
                       info=dict(box=box))

    def __repr__(self) -> str:
        return (f'{self.name}(size_range={self.size_range}, prob={self.prob}, '
                f'mask_source={self.mask_source!r})')


@TRANSFORMS.register_module()
class VCutDepth(CutDepth):
    """CutDepth with a full-height vertical strip (GLPDepth's vertical CutDepth).

    The strip's width fraction is drawn from ``size_range`` (default
    ``0.25–0.75``, ours), its left edge uniformly; it spans every row.
    """

    def sample_box(self, hw: Tuple[int, int], rng) -> Tuple[int, int, int, int]:
        h, w = hw
        bw = max(1, int(round(w * rng.uniform(*self.size_range))))
        x0 = int(rng.randint(w - bw + 1))
        return x0, 0, x0 + bw, h
