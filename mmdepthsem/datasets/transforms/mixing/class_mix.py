"""ClassMix (Olsson et al., WACV 2021): the pixels of half of image 1's classes."""
import math
from typing import Optional

import numpy as np
import torch

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .mix_plan import MixPlan, MixView, require_labels

ROUNDINGS = ('floor', 'ceil')


@TRANSFORMS.register_module()
class ClassMix(BaseMixTransform):
    """Keep the pixels of half of the classes present in sample 1; the rest from 2.

    The classes present in sample 1's labels (``ignore_index`` excluded) are shuffled
    and half of them kept: ``floor(n / 2)`` (``rounding='floor'``, what the released
    code of ClassMix and of SDE-Seg draws: ``(n - n % 2) / 2`` classes, so a
    single-class image is replaced by its partner) or ``ceil(n / 2)`` (``'ceil'``,
    keeps a single-class image whole). Image, labels, depth and confidence follow the mask.
    Pixels with the ignore label in sample 1 are not kept (they take sample 2).
    Labels come from ``label_source`` (ground truth, else pseudo-labels); depth is not
    needed. With no labelled pixel in sample 1, the mix is skipped.

    Args:
        ignore_index: Label value that is not a class.
        prob: Probability of mixing.
        label_source: ``'auto'``, ``'gt'`` or ``'pseudo'``.
        rounding: ``'floor'`` or ``'ceil'`` of ``n / 2``.
    """

    reads_depth = False

    def __init__(self, ignore_index: int = 255, prob: float = 1.0,
                 label_source: str = 'auto', rounding: str = 'floor') -> None:
        super().__init__(prob=prob, label_source=label_source)
        if rounding not in ROUNDINGS:
            raise ValueError(f'ClassMix: rounding must be one of {ROUNDINGS}, '
                             f'got {rounding!r}')
        self.ignore_index = ignore_index
        self.rounding = rounding

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        labels = require_labels(first, self.name)
        classes = torch.unique(labels)
        classes = classes[classes != self.ignore_index]
        if classes.numel() == 0:
            return MixPlan.unchanged('no_classes')
        order = rng.permutation(classes.numel())
        count = classes.numel()
        num_kept = count // 2 if self.rounding == 'floor' else math.ceil(count / 2)
        keep = classes[torch.as_tensor(order[:num_kept], dtype=torch.long)]
        mask = torch.isin(labels, keep)
        return MixPlan(mask=mask, info=dict(classes=sorted(int(c) for c in keep)))

    def __repr__(self) -> str:
        return (f'{self.name}(ignore_index={self.ignore_index}, prob={self.prob}, '
                f'label_source={self.label_source!r}, rounding={self.rounding!r})')
