"""The pipeline form shared by every mixing augmentation."""
from functools import partial
from typing import Callable, List, Optional, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from .mix_plan import (LABEL_SOURCES, MASK_SOURCES, MixPlan, MixView,
                       apply_plan_to_results, densify_nearest)

#: A view, or a zero-argument callable that builds it on demand.
ViewOrFactory = Union[MixView, Callable[[], MixView]]


class BaseMixTransform(BaseTransform):
    """A mixing augmentation as a pipeline transform (CPU data workers).

    Two-image mixes get their second sample from :class:`MixedSampleDataset`, which
    runs the wrapped dataset's pipeline (loading and geometry) on a second, uniformly
    drawn index and passes the result in ``results['mix_results']``; both samples
    therefore have the same size. Put the mix after the geometric and photometric
    transforms and before ``PackDepthSemInputs``.

    Subclasses implement :meth:`plan`. The same planner is used by the batch form
    (:class:`mmdepthsem.models.data_augments.BaseBatchMix`), so both forms give the
    same output for the same pair and random draws. Random numbers come from
    ``np.random`` as in mmcv's transforms (seeded per worker by mmengine).

    Added key: ``mix_info`` (method name, whether the sample changed, the sampled
    parameters, and why a mix was skipped), packed into the metainfo; the data
    preprocessor logs the applied/skipped fractions.

    Args:
        prob: Probability of mixing a sample.
        mask_source: Depth the planner reads (depth-based mixes): ``'gt'`` the
            ground truth, ``'densified'`` the ground truth with holes filled from the
            nearest valid pixel (sparse LiDAR), ``'estimate'`` a predicted map in
            ``est_depth_map`` (``LoadDepthEstimate``).
        label_source: Labels the planner reads (ClassMix): ``'gt'``, ``'pseudo'`` or
            ``'auto'`` (ground truth when present, else pseudo-labels).
    """

    #: Number of extra samples the transform needs (0 or 1).
    num_partners: int = 1
    #: Whether the planner reads a depth map (False: labels or boxes only).
    reads_depth: bool = True

    def __init__(self, prob: float = 1.0, mask_source: str = 'gt',
                 label_source: str = 'auto') -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'{type(self).__name__}: prob must be in [0, 1], got {prob}')
        if mask_source not in MASK_SOURCES:
            raise ValueError(f'{type(self).__name__}: mask_source must be one of '
                             f'{MASK_SOURCES}, got {mask_source!r}')
        if label_source not in LABEL_SOURCES:
            raise ValueError(f'{type(self).__name__}: label_source must be one of '
                             f'{LABEL_SOURCES}, got {label_source!r}')
        self.prob = prob
        self.mask_source = mask_source
        self.label_source = label_source

    @property
    def name(self) -> str:
        return type(self).__name__

    # --------------------------------------------------------------- planning
    def plan(self, first: MixView, second: Optional[MixView],
             rng=np.random) -> MixPlan:
        """Decide how the output is composed; see :class:`MixPlan`.

        Args:
            first: The sample being augmented.
            second: Its partner (``None`` for single-image transforms).
            rng: ``np.random`` or a ``np.random.RandomState``.
        """
        raise NotImplementedError

    def draw_plan(self, first: ViewOrFactory, second: Optional[ViewOrFactory],
                  rng=np.random) -> MixPlan:
        """Apply ``prob``, then :meth:`plan`; adds ``method`` to the plan's info.

        ``first`` / ``second`` may be zero-argument callables returning the view:
        they are then only built when the draw is not skipped by ``prob`` (a
        densified depth view costs a distance transform).
        """
        if self.prob < 1.0 and rng.rand() >= self.prob:
            plan = MixPlan.unchanged('prob')
        else:
            first, second = (v() if callable(v) else v for v in (first, second))
            plan = self.plan(first, second, rng)
            plan.info.setdefault('applied', plan.applied)
        plan.info['method'] = self.name
        return plan

    # ------------------------------------------------------------ the views
    def select_depth(self, maps: dict) -> Optional[torch.Tensor]:
        """The ``(H, W)`` depth the planner reads, by ``mask_source``."""
        key = 'est_depth_map' if self.mask_source == 'estimate' else 'gt_depth_map'
        depth = maps.get(key)
        if depth is None:
            return None
        depth = torch.as_tensor(depth).float()
        if self.mask_source == 'densified':
            depth = densify_nearest(depth)
        return depth

    def select_labels(self, maps: dict) -> Optional[torch.Tensor]:
        """The ``(H, W)`` labels the planner reads, by ``label_source``."""
        order = {'gt': ('gt_seg_map', ), 'pseudo': ('gt_pseudo_seg_map', ),
                 'auto': ('gt_seg_map', 'gt_pseudo_seg_map')}[self.label_source]
        for key in order:
            if maps.get(key) is not None:
                return torch.as_tensor(maps[key]).long()
        return None

    def view(self, maps: dict, hw, name: str) -> MixView:
        """A :class:`MixView` from a dict of ``(H, W)`` arrays or tensors."""
        return MixView(hw=tuple(hw), depth=self.select_depth(maps),
                       labels=self.select_labels(maps), name=name)

    # ------------------------------------------------------------ the pipeline
    def get_indexes(self, dataset) -> List[int]:
        """Indices of the partner samples, drawn uniformly (``MixedSampleDataset``)."""
        return [int(np.random.randint(len(dataset))) for _ in range(self.num_partners)]

    def transform(self, results: dict) -> dict:
        """Mix ``results`` with ``results['mix_results'][0]`` (removed afterwards)."""
        partners = results.pop('mix_results', None) or []
        if len(partners) < self.num_partners:
            raise KeyError(
                f'{self.name} needs a second sample in results["mix_results"]: wrap '
                "the training dataset in dict(type='MixedSampleDataset', "
                f'dataset=..., pipeline=[..., dict(type={self.name!r}, ...), ...]) '
                'or use the batch form in the data preprocessor.')
        second = partners[0] if self.num_partners else None
        first_view = partial(self.view, results, results['img'].shape[:2],
                             str(results.get('img_path', 'sample')))
        second_view = None
        if second is not None:
            second_view = partial(self.view, second, second['img'].shape[:2],
                                  str(second.get('img_path', 'second sample')))
        plan = self.draw_plan(first_view, second_view)
        apply_plan_to_results(results, second, plan)
        info = {k: v for k, v in plan.info.items()}
        if second is not None and plan.uses_partner:
            info['partner'] = second.get('img_path')
        results['mix_info'] = info
        return results

    def __repr__(self) -> str:
        return (f'{self.name}(prob={self.prob}, mask_source={self.mask_source!r}, '
                f'label_source={self.label_source!r})')
