from .silog_loss import ScaleInvariantLogLoss, silog_loss

__all__ = ['ScaleInvariantLogLoss', 'silog_loss']
