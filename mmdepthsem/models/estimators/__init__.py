from .multitask_estimator import MultiTaskEstimator
from .alternating_estimator import AlternatingMultiTaskEstimator
from .self_supervised_estimator import SelfSupervisedDepthEstimator
from .semantic_guided_estimator import SemanticGuidedDepthEstimator
from .sde_pretrain_estimator import SDEPretrainEstimator
from .mean_teacher_estimator import MeanTeacherDepthSegEstimator

__all__ = ['SDEPretrainEstimator', 'MeanTeacherDepthSegEstimator',
           'MultiTaskEstimator', 'AlternatingMultiTaskEstimator',
           'SelfSupervisedDepthEstimator', 'SemanticGuidedDepthEstimator']
