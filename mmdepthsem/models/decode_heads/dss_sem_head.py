"""The DSS semantic head: one 3×3 convolution to class logits, upsampled ×4."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

SampleList = Sequence['DepthSemDataSample']  # noqa: F821


@MODELS.register_module()
class DSSSemHead(BaseDecodeHead):
    """Semantic head of DSS eq. 6: ``Conv3x3 → logits → bilinear ×upsample_factor``.

    The softmax of eq. 6 is left to the loss (``JaccardLoss`` applies it after the
    upsampling) and to prediction (argmax of the logits). Reads its targets from
    ``label_field``: ``'gt_sem_seg'`` (dataset labels) or ``'gt_pseudo_sem_seg'``
    (teacher pseudo-labels, DSS section 3.1).

    Args:
        in_channels: Channels of the input feature (128 in DSS).
        num_classes: Number of classes (150 for an ADE20K teacher).
        upsample_factor: Bilinear upsampling of the logits in ``forward``
            (``align_corners`` as set, ``False`` by default).
        label_field: Data-sample field holding the ``(1, H, W)`` targets.
        in_index: Which element of the input sequence to use.
        dropout_ratio: Dropout before the classifier (0 in DSS).
        loss_decode: mmseg loss config(s), called as
            ``loss(logits, labels, weight=None, ignore_index=ignore_index)``.
        ignore_index: Label value without a target.
        align_corners: ``align_corners`` of every resize.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 upsample_factor: int = 4,
                 label_field: str = 'gt_sem_seg',
                 in_index: int = 0,
                 dropout_ratio: float = 0.0,
                 loss_decode: Union[dict, Sequence[dict]] = dict(type='JaccardLoss'),
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', std=0.01, override=dict(name='conv_seg'))
                 ) -> None:
        super().__init__(
            in_channels,
            in_channels,
            num_classes=num_classes,
            dropout_ratio=dropout_ratio,
            in_index=in_index,
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg)
        if upsample_factor < 1:
            raise ValueError(f'DSSSemHead: upsample_factor must be >= 1, got '
                             f'{upsample_factor}')
        self.upsample_factor = upsample_factor
        self.label_field = label_field
        # The paper's head convolution is 3×3 (mmseg's default classifier is 1×1).
        self.conv_seg = nn.Conv2d(in_channels, self.out_channels, 3, padding=1)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Class logits.

        Args:
            inputs: A feature ``(B, C, h, w)`` or a sequence holding it at
                ``in_index``.

        Returns:
            Logits ``(B, num_classes, h * f, w * f)``, ``f = upsample_factor``.
        """
        x = inputs if isinstance(inputs, Tensor) else self._transform_inputs(inputs)
        logits = self.cls_seg(x)
        if self.upsample_factor > 1:
            logits = F.interpolate(logits, scale_factor=self.upsample_factor,
                                   mode='bilinear', align_corners=self.align_corners)
        return logits

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of ``seg_logits`` against the ``label_field`` targets, and the
        logged pixel accuracy ``acc_seg`` (percent of labelled pixels).

        As mmseg's ``BaseDecodeHead.loss_by_feat``, but the logits are resized only
        when their size differs from the targets' (``forward`` already upsampled
        them, and a same-size bilinear resize is an identity that still costs a
        pass forward and backward), and the accuracy takes an argmax instead of a
        top-k sort over the classes.
        """
        labels = self._stack_batch_gt(batch_data_samples)
        if seg_logits.shape[-2:] != labels.shape[-2:]:
            seg_logits = F.interpolate(seg_logits, size=labels.shape[-2:],
                                       mode='bilinear',
                                       align_corners=self.align_corners)
        weight = self.sampler.sample(seg_logits, labels) if self.sampler else None
        labels = labels[:, 0]
        losses: Dict[str, Tensor] = {}
        for loss_decode in self.losses:
            value = loss_decode(seg_logits, labels, weight=weight,
                                ignore_index=self.ignore_index)
            name = loss_decode.loss_name
            losses[name] = losses[name] + value if name in losses else value
        with torch.no_grad():
            valid = labels != self.ignore_index
            correct = (seg_logits.argmax(dim=1) == labels) & valid
            losses['acc_seg'] = 100.0 * correct.sum() / valid.sum().clamp(min=1)
        return losses

    @property
    def losses(self) -> List[nn.Module]:
        """``loss_decode`` as a list (mmseg keeps one loss bare)."""
        if isinstance(self.loss_decode, nn.ModuleList):
            return list(self.loss_decode)
        return [self.loss_decode]

    def _stack_batch_gt(self, batch_data_samples: SampleList) -> Tensor:
        """``(B, 1, H, W)`` targets from ``label_field`` of every sample."""
        missing = [i for i, s in enumerate(batch_data_samples)
                   if self.label_field not in s]
        if missing:
            raise KeyError(
                f'DSSSemHead: samples {missing} have no `{self.label_field}`; load '
                'semantic labels (LoadSemAnnotation) or teacher pseudo-labels '
                "(LoadPseudoLabel with label_field='gt_pseudo_sem_seg') in the "
                'pipeline')
        return torch.stack([getattr(s, self.label_field).data
                            for s in batch_data_samples])
