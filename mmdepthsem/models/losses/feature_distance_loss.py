"""ImageNet feature distance of SDE-Seg's depth pretraining (eq. 6)."""
import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS


def feature_distance(feat: Tensor, ref_feat: Tensor) -> Tensor:
    """L2 norm of ``feat - ref_feat`` over the whole tensor (batch included).

    ``L_F = ||f_θ - f_I||_2 = sqrt(sum_{b,c,h,w} (f_θ - f_I)^2)``: one norm of the
    flattened batch tensor, not a mean of per-image or per-pixel norms, so it grows
    with the batch size and the feature size. ``ref_feat`` is detached. At
    ``feat == ref_feat`` the value and PyTorch's gradient are exactly 0.

    Args:
        feat: Current features, e.g. the ``(B, C, H / 32, W / 32)`` bottleneck.
        ref_feat: Reference features of the same shape.

    Returns:
        Scalar, in the features' units.
    """
    if feat.shape != ref_feat.shape:
        raise ValueError(f'feature_distance: feat {tuple(feat.shape)} and ref_feat '
                         f'{tuple(ref_feat.shape)} differ in shape')
    return torch.linalg.vector_norm(feat - ref_feat.detach().to(feat.dtype))


@MODELS.register_module()
class FeatureDistanceLoss(nn.Module):
    """``λ_F · L_F`` (SDE-Seg eq. 6-7), see :func:`feature_distance`.

    Keeps a fine-tuned encoder's bottleneck close to a frozen reference encoder's
    (the ImageNet weights) so that SDE pretraining does not erase its semantics.

    Args:
        loss_weight: ``λ_F`` (SDE-Seg: ``1e-2``).
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self, loss_weight: float = 1e-2,
                 loss_name: str = 'loss_feat_dist') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, feat: Tensor, ref_feat: Tensor) -> Tensor:
        """Weighted distance of ``feat`` (any shape, e.g. ``(B, C, h, w)``) to the
        detached ``ref_feat`` of the same shape; a scalar."""
        return self.loss_weight * feature_distance(feat, ref_feat)

    @property
    def loss_name(self) -> str:
        return self._loss_name
