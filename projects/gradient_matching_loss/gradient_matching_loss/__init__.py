"""Multi-scale (scale-and-shift-invariant) gradient matching loss of MiDaS, registered
into ``mmdepthsem.registry.MODELS`` as ``GradientMatchingLoss``."""
from .gradient_matching_loss import (GradientMatchingLoss, gradient_matching_loss,
                                     scale_shift_align)

__all__ = ['GradientMatchingLoss', 'gradient_matching_loss', 'scale_shift_align']
