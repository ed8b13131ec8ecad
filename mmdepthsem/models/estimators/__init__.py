from .multitask_estimator import MultiTaskEstimator
from .self_supervised_estimator import SelfSupervisedDepthEstimator

__all__ = ['MultiTaskEstimator', 'SelfSupervisedDepthEstimator']
