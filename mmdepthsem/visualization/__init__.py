from .colormap import colorize_depth, overlay_sem_seg
from .depth_sem_visualizer import DepthSemLocalVisualizer

__all__ = ['DepthSemLocalVisualizer', 'colorize_depth', 'overlay_sem_seg']
