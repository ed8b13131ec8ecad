"""Edge-aware smoothness of mean-normalised disparity (Godard et al., FSRE eq. 3).

``L_sm = mean |∂x d*| e^{-|∂x I|} + mean |∂y d*| e^{-|∂y I|}`` with ``d* = d / mean(d)``
per image (Monodepth2's normalisation, which stops the loss from shrinking the depth
scale) and ``|∂I|`` the absolute image gradient averaged over colour channels.
Gradients are forward differences between neighbouring pixels, so the x term averages
over ``H × (W - 1)`` positions and the y term over ``(H - 1) × W``.
"""
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS

__all__ = ['edge_aware_smoothness', 'EdgeAwareSmoothnessLoss']


def edge_aware_smoothness(disp: Tensor, img: Tensor, eps: float = 1e-7) -> Tensor:
    """Edge-aware smoothness of one disparity map.

    Args:
        disp: ``(B, 1, H, W)`` disparity (any positive scale; it is normalised by its
            per-image mean).
        img: ``(B, C, H, W)`` image at the same resolution, in ``[0, 1]``.
        eps: Added to the mean before dividing.

    Returns:
        Scalar loss.
    """
    if disp.dim() != 4 or img.dim() != 4 or disp.shape[0] != img.shape[0] or \
            disp.shape[-2:] != img.shape[-2:]:
        raise ValueError(f'edge_aware_smoothness: disp {tuple(disp.shape)} and img '
                         f'{tuple(img.shape)} must be (B, 1, H, W) and (B, C, H, W) '
                         'of the same batch and size')
    disp = disp / (disp.mean(dim=(2, 3), keepdim=True) + eps)
    grad_disp_x = (disp[..., :, 1:] - disp[..., :, :-1]).abs()
    grad_disp_y = (disp[..., 1:, :] - disp[..., :-1, :]).abs()
    grad_img_x = (img[..., :, 1:] - img[..., :, :-1]).abs().mean(dim=1, keepdim=True)
    grad_img_y = (img[..., 1:, :] - img[..., :-1, :]).abs().mean(dim=1, keepdim=True)
    return ((grad_disp_x * (-grad_img_x).exp()).mean()
            + (grad_disp_y * (-grad_img_y).exp()).mean())


@MODELS.register_module()
class EdgeAwareSmoothnessLoss(nn.Module):
    """Registered wrapper of :func:`edge_aware_smoothness`.

    ``forward(disp, img, scale=s)`` returns ``loss_weight / 2**s · L_sm``: Monodepth2
    and FSRE weight the smoothness of output scale ``s`` (stride ``2**s``, computed at
    that scale's resolution with the image resized to it) by ``β / 2**s`` with
    ``β = 0.001`` set as ``loss_weight`` by configs. Callers pass ``scale`` and must
    not apply the ``1 / 2**s`` factor again.

    Args:
        loss_weight: β, multiplier of the loss.
        loss_name: Key of the loss in the loss dict (must start with ``loss_``).
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_smoothness') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, disp: Tensor, img: Tensor, scale: int = 0) -> Tensor:
        """Weighted smoothness loss.

        Args:
            disp: ``(B, 1, H, W)`` disparity at output scale ``scale``.
            img: ``(B, C, H, W)`` image resized to the same ``H × W``, in ``[0, 1]``.
            scale: Output scale index ``s`` (stride ``2**s``); weight ``1 / 2**s``.

        Returns:
            Scalar loss.
        """
        return self.loss_weight / 2 ** scale * edge_aware_smoothness(disp, img)

    @property
    def loss_name(self) -> str:
        return self._loss_name
