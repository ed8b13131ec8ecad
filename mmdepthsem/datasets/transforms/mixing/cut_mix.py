"""CutMix (Yun et al., ICCV 2019) for dense prediction: a rectangle from image 2."""
import math
from typing import Optional, Tuple

import numpy as np

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .mix_plan import MixPlan, MixView, rectangle_mask


def sample_box(hw: Tuple[int, int], area_ratio: float,
               rng=np.random) -> Tuple[int, int, int, int]:
    """A rectangle of ``area_ratio`` of the image with the image's aspect ratio.

    As in CutMix: side fractions ``sqrt(area_ratio)``, a uniformly drawn centre, and
    the box clipped to the image (so a box near the border covers less area).

    Returns:
        ``(x0, y0, x1, y1)`` pixels, end exclusive.
    """
    h, w = hw
    cut_w = int(round(w * math.sqrt(area_ratio)))
    cut_h = int(round(h * math.sqrt(area_ratio)))
    cx, cy = int(rng.randint(w)), int(rng.randint(h))
    x0, x1 = max(cx - cut_w // 2, 0), min(cx + cut_w - cut_w // 2, w)
    y0, y1 = max(cy - cut_h // 2, 0), min(cy + cut_h - cut_h // 2, h)
    return x0, y0, x1, y1


@TRANSFORMS.register_module()
class CutMix(BaseMixTransform):
    """Paste a random rectangle of sample 2 (image, labels, depth) into sample 1.

    The area ratio is drawn from ``Beta(alpha, alpha)`` (``alpha = 1``: uniform on
    ``[0, 1]``), the centre uniformly, and the box is clipped to the image. Needs no
    depth.

    Args:
        alpha: Beta-distribution parameter of the pasted area ratio.
        prob: Probability of mixing.
    """

    reads_depth = False

    def __init__(self, alpha: float = 1.0, prob: float = 1.0) -> None:
        super().__init__(prob=prob)
        if alpha <= 0:
            raise ValueError(f'CutMix: alpha must be > 0, got {alpha}')
        self.alpha = float(alpha)

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        ratio = float(rng.beta(self.alpha, self.alpha))
        box = sample_box(first.hw, ratio, rng)
        mask = ~rectangle_mask(first.hw, box)
        return MixPlan(mask=mask, info=dict(area_ratio=ratio, box=box))

    def __repr__(self) -> str:
        return f'{self.name}(alpha={self.alpha}, prob={self.prob})'
