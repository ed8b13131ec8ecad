from .camera_geometry import (backproject_depth, disp_to_depth, pixel_grid,
                              pose_vec_to_matrix, project_points, warp_frame)
from .lg_cat import (LGCAT, BlockCrossAttention, FusedMBConv, GridCrossAttention,
                     PartitionCrossAttention)
from .norm import LayerNorm2d
from .warmup_ema import WarmupExponentialMovingAverage

__all__ = [
    'backproject_depth', 'disp_to_depth', 'pixel_grid', 'pose_vec_to_matrix',
    'project_points', 'warp_frame', 'LGCAT', 'BlockCrossAttention', 'FusedMBConv',
    'GridCrossAttention', 'PartitionCrossAttention', 'LayerNorm2d',
    'WarmupExponentialMovingAverage'
]
