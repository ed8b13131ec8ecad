from .affine_mix import AffineMix
from .base_mix import BaseMixTransform
from .class_mix import ClassMix
from .cut_depth import CutDepth, VCutDepth
from .cut_mix import CutMix
from .depth_mix import DepthMix, closer_mask, normalised_disparity
from .mix_plan import (MixPlan, MixView, apply_plan_to_results,
                       apply_plan_to_tensors)
from .near_far_mix import NearFarMix

__all__ = [
    'AffineMix', 'BaseMixTransform', 'ClassMix', 'CutDepth', 'CutMix', 'DepthMix',
    'MixPlan', 'MixView', 'NearFarMix', 'VCutDepth', 'apply_plan_to_results',
    'apply_plan_to_tensors', 'closer_mask', 'normalised_disparity'
]
