"""BerHu (reverse Huber) depth loss, registered into ``mmdepthsem.registry.MODELS``."""
from .berhu_loss import BerHuLoss, berhu_loss

__all__ = ['BerHuLoss', 'berhu_loss']
