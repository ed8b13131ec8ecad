"""ClassMix (Olsson et al., WACV 2021): the pixels of half of image 1's classes."""
import math
from typing import Optional

import numpy as np
import torch

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .mix_plan import MixPlan, MixView, require_labels


@TRANSFORMS.register_module()
class ClassMix(BaseMixTransform):
    """Keep the pixels of half of the classes present in sample 1; the rest from 2.

    The classes present in sample 1's labels (``ignore_index`` excluded) are shuffled
    and ``ceil(n / 2)`` of them kept (ClassMix keeps half; rounding up keeps a
    single-class image whole). Image, labels, depth and confidence follow the mask.
    Pixels with the ignore label in sample 1 are not kept (they take sample 2).
    Labels come from ``label_source`` (ground truth, else pseudo-labels); depth is not
    needed. With no labelled pixel in sample 1, the mix is skipped.

    Args:
        ignore_index: Label value that is not a class.
        prob: Probability of mixing.
        label_source: ``'auto'``, ``'gt'`` or ``'pseudo'``.
    """

    def __init__(self, ignore_index: int = 255, prob: float = 1.0,
                 label_source: str = 'auto') -> None:
        super().__init__(prob=prob, label_source=label_source)
        self.ignore_index = ignore_index

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        labels = require_labels(first, self.name)
        classes = torch.unique(labels)
        classes = classes[classes != self.ignore_index]
        if classes.numel() == 0:
            return MixPlan.unchanged('no_classes')
        order = rng.permutation(classes.numel())
        keep = classes[torch.as_tensor(order[:math.ceil(classes.numel() / 2)])]
        mask = torch.isin(labels, keep)
        return MixPlan(mask=mask, info=dict(classes=sorted(int(c) for c in keep)))

    def __repr__(self) -> str:
        return (f'{self.name}(ignore_index={self.ignore_index}, prob={self.prob}, '
                f'label_source={self.label_source!r})')
