from .multitask_estimator import MultiTaskEstimator

__all__ = ['MultiTaskEstimator']
