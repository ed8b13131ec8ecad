from .depth_head import DepthHead
from .monodepth_decoder import MonodepthDepthDecoder
from .pose_decoder import PoseDecoder, PoseNet
from .dss_sem_head import DSSSemHead

__all__ = ['DepthHead', 'MonodepthDepthDecoder', 'PoseDecoder', 'PoseNet', 'DSSSemHead']
