"""DepthMix (Hoyer et al., IJCV 2023 / CVPR 2021, sec. 3.4, eq. 8–10)."""
from typing import Optional

import numpy as np
import torch
from torch import Tensor

from mmdepthsem.registry import TRANSFORMS
from .base_mix import BaseMixTransform
from .mix_plan import MixPlan, MixView, require_depth, valid_depth

SPACES = ('disparity', 'depth')
DISPARITY_NORMS = ('per_image', 'none')


def normalised_disparity(depth: Tensor) -> Tensor:
    """``1 / depth`` min–max normalised to ``[0, 1]`` over valid pixels; NaN elsewhere.

    A map with a single valid depth value normalises to 0 everywhere it is valid.
    """
    valid = valid_depth(depth)
    disp = torch.full_like(depth, float('nan'), dtype=torch.float32)
    if bool(valid.any()):
        inv = 1.0 / depth[valid].float()
        lo, hi = inv.min(), inv.max()
        disp[valid] = (inv - lo) / (hi - lo).clamp_min(1e-12)
    return disp


def closer_mask(depth_i: Tensor, depth_j: Tensor, epsilon: float,
                space: str = 'disparity', disparity_norm: str = 'per_image') -> Tensor:
    """Eq. 10: ``True`` where image ``i`` is closer than image ``j`` (within ε).

    ``space='disparity'`` compares per-image normalised disparity,
    ``M = [disp_i >= disp_j - ε]``; ``space='depth'`` compares metric depth,
    ``M = [D_i < D_j + ε]`` (ε in metres; the paper's literal form). Both say
    "pixel of ``i`` wins when it is nearer, ties within ε go to ``i``" — since
    disparity decreases with depth they coincide for ε = 0 up to the per-image
    normalisation, which makes ε scale-free (0.03 = 3 % of each image's disparity
    range) and compares the two scenes' layouts rather than their absolute scale.

    ``disparity_norm='none'`` compares ``1 / depth`` as it is, for maps whose
    disparity was normalised before (SDE-Seg's released pre-computed estimates: the
    full image's disparity min–max normalised and stored with 8 bits, then cropped;
    ``LoadDepthEstimate(encoding='normalised_disparity')``).

    Invalid pixels: where only one image has valid depth that image wins; where
    neither has, image ``i`` is kept.
    """
    valid_i, valid_j = valid_depth(depth_i), valid_depth(depth_j)
    if space == 'disparity' and disparity_norm == 'none':
        closer = 1.0 / depth_i.float() >= 1.0 / depth_j.float() - epsilon
    elif space == 'disparity':
        closer = normalised_disparity(depth_i) >= normalised_disparity(depth_j) - epsilon
    else:
        closer = depth_i < depth_j + epsilon
    return torch.where(valid_i & valid_j, closer, ~valid_j)


@TRANSFORMS.register_module()
class DepthMix(BaseMixTransform):
    """Mix two samples so that only nearer objects occlude farther ones.

    Eq. 8–9: ``I' = M ⊙ I_i + (1 − M) ⊙ I_j``, ``S' = M ⊙ S_i + (1 − M) ⊙ S_j``
    with eq. 10's ``M`` (:func:`closer_mask`), applied as a selection to the image,
    labels, pseudo-labels, depth and — for mean-teacher training (eq. 15–16) — the
    confidence maps ``gt_pseudo_conf``. The mask is exposed in the batch form as
    ``mix_mask`` so a teacher's confidence computed later can be mixed the same way.

    The paper mixes with self-supervised depth estimates (``mask_source='estimate'``,
    loaded by ``LoadDepthEstimate`` or written by an online depth network); the
    ground truth works as well (``'gt'``, ``'densified'``).

    Args:
        epsilon: ε of eq. 10 (0.03, in normalised disparity; metres for
            ``space='depth'``).
        space: ``'disparity'`` (default, see :func:`closer_mask`) or ``'depth'``.
        disparity_norm: ``'per_image'`` (min–max normalise each map's disparity
            before comparing) or ``'none'`` (the maps' disparity is normalised
            already; see :func:`closer_mask`).
        prob: Probability of mixing.
        mask_source: Depth source, see :class:`BaseMixTransform`.
    """

    def __init__(self, epsilon: float = 0.03, space: str = 'disparity',
                 prob: float = 1.0, mask_source: str = 'estimate',
                 disparity_norm: str = 'per_image') -> None:
        super().__init__(prob=prob, mask_source=mask_source)
        if space not in SPACES:
            raise ValueError(f'DepthMix: space must be one of {SPACES}, got {space!r}')
        if disparity_norm not in DISPARITY_NORMS:
            raise ValueError(f'DepthMix: disparity_norm must be one of '
                             f'{DISPARITY_NORMS}, got {disparity_norm!r}')
        self.disparity_norm = disparity_norm
        if epsilon < 0:
            raise ValueError(f'DepthMix: epsilon must be >= 0, got {epsilon}')
        self.epsilon = float(epsilon)
        self.space = space

    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        d_i = require_depth(first, self.name, self.mask_source)
        d_j = require_depth(second, self.name, self.mask_source)
        mask = closer_mask(d_i, d_j, self.epsilon, self.space, self.disparity_norm)
        return MixPlan(mask=mask, info=dict(epsilon=self.epsilon,
                                            kept=float(mask.float().mean())))

    def __repr__(self) -> str:
        return (f'{self.name}(epsilon={self.epsilon}, space={self.space!r}, '
                f'disparity_norm={self.disparity_norm!r}, prob={self.prob}, '
                f'mask_source={self.mask_source!r})')
