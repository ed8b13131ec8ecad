from .multitask_estimator import MultiTaskEstimator
from .alternating_estimator import AlternatingMultiTaskEstimator
from .self_supervised_estimator import SelfSupervisedDepthEstimator
from .semantic_guided_estimator import SemanticGuidedDepthEstimator

__all__ = ['MultiTaskEstimator', 'AlternatingMultiTaskEstimator',
           'SelfSupervisedDepthEstimator', 'SemanticGuidedDepthEstimator']
