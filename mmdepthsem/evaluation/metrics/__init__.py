from .depth_metric import DepthMetric
from .iou_metric import IoUMetric

__all__ = ['DepthMetric', 'IoUMetric']
