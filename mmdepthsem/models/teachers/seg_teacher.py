"""A frozen segmentation model that labels each training batch online."""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from torch import Tensor

from mmdepthsem.registry import MODELS


@MODELS.register_module()
class SegTeacher(BaseModule):
    """Pseudo-labels and confidence from a frozen segmentation model.

    The model is any segmentor the registry can build — an mmseg config's ``model``
    (``EncoderDecoder`` with ``encode_decode``) or a module whose
    ``forward(inputs, mode='tensor')`` returns logits. Its weights never change:
    parameters are frozen, it stays in eval mode when the student trains, and it
    runs under ``torch.no_grad``.

    Inputs arrive normalised with the student's mean/std; when the teacher's own
    data preprocessor normalises differently, they are converted.

    Args:
        model: The model config, or the path of a config file whose ``model`` is
            used.
        checkpoint: Weights to load (local files through the safe loader of
            ``mmdepthsem.utils.checkpoint``), or ``None``.
        mean: The teacher's expected RGB mean (0–255); default: the model
            config's ``data_preprocessor.mean`` or the student's.
        std: Likewise for the standard deviation.
        init_cfg: Unused (the teacher is never initialised randomly on purpose).
    """

    def __init__(self, model: Union[dict, str], checkpoint: Optional[str] = None,
                 mean: Optional[List[float]] = None, std: Optional[List[float]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(model, str):
            model = Config.fromfile(model).model
        model = dict(model)
        preprocessor = model.pop('data_preprocessor', None) or {}
        mean = mean if mean is not None else preprocessor.get('mean')
        std = std if std is not None else preprocessor.get('std')
        self.model = MODELS.build(model)
        if checkpoint is not None:
            load_checkpoint(self.model, checkpoint, map_location='cpu', strict=True)
        self.register_buffer('mean', None if mean is None else
                             torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1),
                             persistent=False)
        self.register_buffer('std', None if std is None else
                             torch.tensor(std, dtype=torch.float32).view(-1, 1, 1),
                             persistent=False)
        for param in self.model.parameters():
            param.requires_grad_(False)
        self.model.eval()

    def init_weights(self) -> None:
        """The teacher keeps its loaded weights."""

    def train(self, mode: bool = True) -> 'SegTeacher':
        """Always stays in eval mode (BatchNorm statistics, dropout)."""
        super().train(False)
        return self

    def _renormalise(self, inputs: Tensor, student_mean: Optional[Tensor],
                     student_std: Optional[Tensor]) -> Tensor:
        if self.mean is None or student_mean is None:
            return inputs
        raw = inputs * student_std + student_mean
        return (raw - self.mean) / self.std

    @torch.no_grad()
    def forward(self, inputs: Tensor, batch_img_metas: Optional[List[dict]] = None,
                student_mean: Optional[Tensor] = None,
                student_std: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Label a batch.

        Args:
            inputs: ``(B, 3, H, W)`` normalised (by the student) images.
            batch_img_metas: Their metainfo (used by mmseg's ``encode_decode``).
            student_mean: ``(3, 1, 1)`` mean the inputs were normalised with.
            student_std: ``(3, 1, 1)`` std the inputs were normalised with.

        Returns:
            ``labels`` ``(B, H, W)`` int64 (argmax) and ``confidence`` ``(B, H, W)``
            float, the maximum softmax probability.
        """
        self.model.eval()
        x = self._renormalise(inputs, student_mean, student_std)
        metas = batch_img_metas or [dict(img_shape=x.shape[-2:], ori_shape=x.shape[-2:],
                                         pad_shape=x.shape[-2:])] * x.shape[0]
        if hasattr(self.model, 'encode_decode'):
            logits = self.model.encode_decode(x, metas)
        else:
            logits = self.model(x, mode='tensor')
            if isinstance(logits, (list, tuple)):
                logits = logits[-1]
        if logits.shape[-2:] != x.shape[-2:]:
            logits = F.interpolate(logits, size=x.shape[-2:], mode='bilinear',
                                   align_corners=False)
        probs = logits.float().softmax(dim=1)
        confidence, labels = probs.max(dim=1)
        return labels, confidence
