"""Soft Jaccard (IoU) loss over a batch (DSS eq. 9)."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthsem.registry import MODELS


def jaccard_loss(logits: Tensor,
                 target: Tensor,
                 ignore_index: Optional[int] = 255,
                 smooth: float = 1.0) -> Tensor:
    """``1 - mean_c IoU_c`` of softmax probabilities against one-hot labels.

    Over all labelled pixels of the batch (ignore pixels removed), for class ``c``
    with probabilities ``p`` and one-hot targets ``m``:
    ``I_c = sum(p * m)``, ``U_c = sum(p) + sum(m) - I_c`` and
    ``IoU_c = (I_c + smooth) / (U_c + smooth)``. The mean runs over the classes
    present in the target or **predicted** (the argmax of at least one labelled
    pixel) in the batch. specs/dss.md words the second condition as "predicted with
    mass > 0", meaning to drop classes that only add a constant; but a softmax gives
    every class some mass, so read literally it keeps all classes (150 with an ADE20K
    teacher), and the few present classes' terms would be diluted about 15-fold.
    Classes neither present nor predicted are left out; a false positive class still
    counts. Returns an exact zero that still depends on ``logits`` when no pixel is
    labelled.

    Args:
        logits: ``(B, C, H, W)`` class scores (before softmax).
        target: ``(B, H, W)`` class ids; ``ignore_index`` marks unlabelled pixels.
        ignore_index: Label without a target (``None``: every pixel counts).
        smooth: The ``epsilon`` added to intersection and union (1 in DSS).

    Returns:
        Scalar loss in ``[0, 1)``.
    """
    if logits.dim() != 4 or target.shape != (logits.shape[0], ) + logits.shape[2:]:
        raise ValueError(f'jaccard_loss: logits {tuple(logits.shape)} need (B, C, H, W) '
                         f'and target {tuple(target.shape)} (B, H, W)')
    num_classes = logits.shape[1]
    probs = logits.softmax(dim=1).permute(0, 2, 3, 1).reshape(-1, num_classes)
    labels = target.reshape(-1).long()
    if ignore_index is not None:
        keep = labels != ignore_index
        probs, labels = probs[keep], labels[keep]
    if labels.numel() == 0:
        return logits.sum() * 0.0
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f'jaccard_loss: labels must be in [0, {num_classes}) or '
                         f'{ignore_index}, got {labels.unique().tolist()}')
    # per-class sums without an (N, C) one-hot: I_c adds p_c at the pixels of class c
    intersection = probs.new_zeros(num_classes).index_add(
        0, labels, probs.gather(1, labels[:, None])[:, 0])
    mass = probs.sum(dim=0)
    count = torch.bincount(labels, minlength=num_classes).to(probs.dtype)
    union = mass + count - intersection
    iou = (intersection + smooth) / (union + smooth)
    predicted = torch.bincount(probs.argmax(dim=1), minlength=num_classes)
    counted = (count > 0) | (predicted > 0)
    return 1.0 - iou[counted].mean()


@MODELS.register_module()
class JaccardLoss(nn.Module):
    """Registered wrapper of :func:`jaccard_loss` with mmseg's loss interface.

    Args:
        smooth: Added to intersection and union.
        ignore_index: Default unlabelled id; a head's ``ignore_index`` argument at
            call time takes precedence (mmseg's decode heads pass theirs).
        loss_weight: Multiplier of the loss.
        loss_name: Key in the loss dict (must start with ``loss_`` to be optimised).
    """

    def __init__(self,
                 smooth: float = 1.0,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_jaccard') -> None:
        super().__init__()
        self.smooth = smooth
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Loss of logits ``pred`` ``(B, C, H, W)`` against ``target`` ``(B, H, W)``.

        Per-pixel ``weight`` (mmseg's pixel samplers) is not supported.
        """
        if weight is not None:
            raise NotImplementedError('JaccardLoss: per-pixel weights (a pixel '
                                      'sampler) are not supported')
        if ignore_index is None:
            ignore_index = self.ignore_index
        return self.loss_weight * jaccard_loss(pred, target, ignore_index, self.smooth)

    @property
    def loss_name(self) -> str:
        return self._loss_name
