"""An exponential moving average whose momentum starts as a true running mean."""
from mmengine.model import ExponentialMovingAverage
from torch import Tensor

from mmdepthsem.registry import MODELS


@MODELS.register_module()
class WarmupExponentialMovingAverage(ExponentialMovingAverage):
    """mmengine's EMA with the momentum ``max(1 / (n + 1), momentum)`` at update ``n``.

    mmengine's :class:`~mmengine.model.ExponentialMovingAverage` computes
    ``θ_avg ← (1 − m) θ_avg + m θ`` with a fixed ``m``. Here update ``n`` (``n = 1``
    is the first averaging update; update 0 copies the model, as in mmengine) uses
    ``m_n = max(1 / (n + 1), momentum)``: while ``1 / (n + 1)`` is larger, the
    average is the plain mean of the copies seen so far, and from
    ``n = 1 / momentum − 1`` on it is the usual EMA. With ``momentum = 0.01`` this is
    the mean teacher of SDE-Seg's released ``train.py`` (``alpha = min(1 − 1 /
    (iteration + 1), 0.99)``): 0.5 at the first update, 2/3 at the second, 0.99 from
    the 99th on.

    Args:
        model: The module to average.
        momentum: The final momentum ``m`` (``1 − α``).
        **kwargs: :class:`ExponentialMovingAverage` arguments (``interval``,
            ``device``, ``update_buffers``).
    """

    def warmup_momentum(self, steps: int) -> float:
        """The momentum of the update that follows ``steps`` earlier ones (>= 1)."""
        return max(1.0 / (steps + 1), self.momentum)

    def avg_func(self, averaged_param: Tensor, source_param: Tensor,
                 steps: int) -> None:
        averaged_param.lerp_(source_param, self.warmup_momentum(steps))
