"""Supervised / semi-supervised multi-task estimator: one encoder, two heads."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.utils import add_prefix
from torch import Tensor

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample

SampleList = List[DepthSemDataSample]


@MODELS.register_module()
class MultiTaskEstimator(BaseModel):
    """Joint depth estimation and semantic segmentation from one image.

    Data flow::

        image -> backbone -> decoder (neck) -> [task_neck] -> depth_head -> depth (m)
                                                           -> sem_head   -> logits

    Without ``task_neck`` both heads read the decoder output (the plain multi-task
    baseline). A ``task_neck`` (DSS's symbiosis neck, CMA, PAD-Net distillation, ...)
    receives the decoder output and returns ``(depth_feats, sem_feats)``.

    ``sem_head`` is any mmseg decode head (``FCNHead``, ``ASPPHead``, ...); it reads
    ``gt_sem_seg``. ``depth_head`` is a :class:`DepthHead`-like module reading
    ``gt_depth_map``. Either head may be omitted for single-task models.

    Args:
        backbone: Backbone config (e.g. mmseg ``TIMMBackbone``, ``ResNetV1c``).
        decode_neck: Decoder config (e.g. :class:`UpConcatDecoder`), optional.
        task_neck: Optional task-interaction neck config.
        depth_head: Depth head config, optional.
        sem_head: Semantic head config, optional.
        train_cfg: Passed to the heads' ``loss``.
        test_cfg: ``mode='whole'`` (default). Passed to the heads' ``predict``.
        data_preprocessor: :class:`DepthSemDataPreProcessor` config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 decode_neck: Optional[dict] = None,
                 task_neck: Optional[dict] = None,
                 depth_head: Optional[dict] = None,
                 sem_head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if depth_head is None and sem_head is None:
            raise ValueError('MultiTaskEstimator needs `depth_head`, `sem_head` or '
                             'both')
        self.backbone = MODELS.build(backbone)
        self.decode_neck = MODELS.build(decode_neck) if decode_neck else None
        self.task_neck = MODELS.build(task_neck) if task_neck else None
        self.depth_head = MODELS.build(depth_head) if depth_head else None
        self.sem_head = MODELS.build(sem_head) if sem_head else None
        self.train_cfg = train_cfg or {}
        self.test_cfg = test_cfg or dict(mode='whole')
        if self.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError(f"MultiTaskEstimator: test_cfg.mode "
                             f"{self.test_cfg['mode']!r} is not supported; use "
                             "'whole'")

    @property
    def with_depth(self) -> bool:
        return self.depth_head is not None

    @property
    def with_sem(self) -> bool:
        return self.sem_head is not None

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone and decoder features of ``inputs`` ``(B, 3, H, W)``."""
        feats = self.backbone(inputs)
        if self.decode_neck is not None:
            feats = self.decode_neck(feats)
        return tuple(feats) if isinstance(feats, (list, tuple)) else (feats, )

    def task_features(self, inputs: Tensor) -> Tuple[Sequence[Tensor], Sequence[Tensor]]:
        """The features each head reads: ``(depth_feats, sem_feats)``."""
        feats = self.extract_feat(inputs)
        if self.task_neck is None:
            return feats, feats
        return self.task_neck(feats)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Loss dict of both heads (keys prefixed ``depth.`` / ``sem.``)."""
        depth_feats, sem_feats = self.task_features(inputs)
        losses = {}
        if self.with_depth:
            losses.update(add_prefix(
                self.depth_head.loss(depth_feats, data_samples, self.train_cfg),
                'depth'))
        if self.with_sem:
            losses.update(add_prefix(
                self.sem_head.loss(sem_feats, data_samples, self.train_cfg), 'sem'))
        return losses

    def predict(self, inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """Predictions resized to each sample's original size.

        Returns:
            The samples with ``pred_depth_map`` ``(1, H, W)`` metres,
            ``seg_logits`` ``(C, H, W)`` and ``pred_sem_seg`` ``(1, H, W)``.
        """
        if data_samples is None:
            data_samples = [
                DepthSemDataSample(metainfo=dict(
                    img_shape=inputs.shape[-2:], ori_shape=inputs.shape[-2:]))
                for _ in range(inputs.shape[0])
            ]
        metas = [s.metainfo for s in data_samples]
        depth, logits = self._predict_maps(inputs, metas)
        return self.postprocess_result(depth, logits, data_samples)

    def _predict_maps(self, inputs: Tensor, metas: List[dict]
                      ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        depth_feats, sem_feats = self.task_features(inputs)
        depth = self.depth_head.predict(depth_feats, metas, self.test_cfg) \
            if self.with_depth else None
        logits = self.sem_head.predict(sem_feats, metas, self.test_cfg) \
            if self.with_sem else None
        return depth, logits

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None
                 ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Raw outputs ``(depth (B, 1, h, w), logits (B, C, h', w'))`` at feature
        resolution (``mode='tensor'``, e.g. for FLOP counting)."""
        depth_feats, sem_feats = self.task_features(inputs)
        depth = self.depth_head(depth_feats) if self.with_depth else None
        logits = self.sem_head(sem_feats) if self.with_sem else None
        return depth, logits

    def forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList, Tuple]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'MultiTaskEstimator: invalid mode {mode!r}; use '
                         "'loss', 'predict' or 'tensor'")

    @staticmethod
    def _restore(maps: Tensor, meta: dict, mode: str) -> Tensor:
        """Crop the padding, undo a test-time flip and resize to ``ori_shape``."""
        left, right, top, bottom = meta.get('padding_size', (0, 0, 0, 0))
        height, width = maps.shape[-2:]
        maps = maps[..., top:height - bottom, left:width - right]
        if meta.get('flip', False):
            dim = -1 if meta.get('flip_direction', 'horizontal') == 'horizontal' \
                else -2
            maps = maps.flip(dims=(dim, ))
        size = tuple(meta.get('ori_shape', maps.shape[-2:]))[:2]
        if tuple(maps.shape[-2:]) != size:
            maps = F.interpolate(maps[None], size=size, mode=mode,
                                 align_corners=False)[0]
        return maps

    def postprocess_result(self, depth: Optional[Tensor], logits: Optional[Tensor],
                           data_samples: SampleList) -> SampleList:
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            if depth is not None:
                sample.pred_depth_map = PixelData(
                    data=self._restore(depth[i], meta, 'bilinear'))
            if logits is not None:
                seg_logits = self._restore(logits[i], meta, 'bilinear')
                if seg_logits.shape[0] > 1:
                    pred = seg_logits.argmax(dim=0, keepdim=True)
                else:
                    seg_logits = seg_logits.sigmoid()
                    pred = (seg_logits > getattr(self.sem_head, 'threshold',
                                                 0.5)).long()
                sample.seg_logits = PixelData(data=seg_logits)
                sample.pred_sem_seg = PixelData(data=pred)
        return data_samples
