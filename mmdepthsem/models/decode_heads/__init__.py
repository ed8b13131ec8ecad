from .depth_head import DepthHead
from .monodepth_decoder import MonodepthDepthDecoder
from .aspp_unet_decoder import ASPPUNetDecoder
from .pose_decoder import PoseDecoder, PoseNet
from .dss_sem_head import DSSSemHead
from .semantic_fused_depth_decoder import SemanticFusedDepthDecoder
from .semantic_to_depth_head import SemanticToDepthHead
from .depth_to_semantic_head import DepthToSemanticHead

__all__ = ['DepthHead', 'MonodepthDepthDecoder', 'PoseDecoder', 'PoseNet', 'DSSSemHead',
           'SemanticFusedDepthDecoder', 'SemanticToDepthHead', 'DepthToSemanticHead',
           'ASPPUNetDecoder']
