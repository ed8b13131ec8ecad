from .photometric_loss import (PhotometricReprojectionLoss,
                               automask_min_reprojection, min_reprojection,
                               photometric_error, ssim_map)
from .silog_loss import ScaleInvariantLogLoss, silog_loss
from .berhu_loss import BerHuLoss, berhu_loss
from .smoothness_loss import EdgeAwareSmoothnessLoss, edge_aware_smoothness
from .jaccard_loss import JaccardLoss, jaccard_loss
from .l1_depth_loss import DepthL1Loss, l1_depth_loss
from .feature_distance_loss import FeatureDistanceLoss, feature_distance
from .semantic_triplet_loss import (SemanticGuidedTripletLoss, semantic_triplet_loss,
                                    triplet_patch_masks)

__all__ = [
    'FeatureDistanceLoss', 'feature_distance',
    'BerHuLoss', 'berhu_loss',
    'SemanticGuidedTripletLoss', 'semantic_triplet_loss', 'triplet_patch_masks',
    'ScaleInvariantLogLoss', 'silog_loss', 'PhotometricReprojectionLoss',
    'automask_min_reprojection', 'min_reprojection', 'photometric_error', 'ssim_map',
    'EdgeAwareSmoothnessLoss', 'edge_aware_smoothness', 'JaccardLoss',
    'jaccard_loss', 'DepthL1Loss', 'l1_depth_loss'
]
