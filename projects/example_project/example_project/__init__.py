"""Template project: the cross-stitch task neck of Misra et al. (CVPR 2016), registered
into ``mmdepthsem.registry.MODELS`` as ``CrossStitchNeck``."""
from .cross_stitch_neck import CrossStitchNeck, CrossStitchUnit, cross_stitch

__all__ = ['CrossStitchNeck', 'CrossStitchUnit', 'cross_stitch']
