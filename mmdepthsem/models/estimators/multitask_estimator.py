"""Supervised / semi-supervised multi-task estimator: one encoder, two heads."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.utils import add_prefix
from torch import Tensor
from torch.profiler import record_function

from mmdepthsem.models.data_augments import mix_like
from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from .base_estimator import BaseDepthSemEstimator, SampleList


@MODELS.register_module()
class MultiTaskEstimator(BaseDepthSemEstimator):
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

    The profiler ranges ``multitask/backbone``, ``multitask/decode_neck``,
    ``multitask/task_neck``, ``multitask/depth_head`` and ``multitask/sem_head``
    (head forward + loss) split the training forward
    (``tools/analysis_tools/benchmark_dss.py``); they are inert without a profiler.

    Args:
        backbone: Backbone config (e.g. mmseg ``TIMMBackbone``, ``ResNetV1c``).
        decode_neck: Decoder config (e.g. :class:`UpConcatDecoder`), optional.
        task_neck: Optional task-interaction neck config.
        depth_head: Depth head config, optional.
        sem_head: Semantic head config, optional.
        teacher: Optional online teacher (e.g. :class:`SegTeacher`) that labels
            every training batch. It always sees the **un-mixed** images (the data
            preprocessor keeps them when batch mixes run); its labels and
            confidence are then mixed with the batch's ``mix_mask``. Samples mixed
            in the pipeline cannot be labelled online (an error says so).
        pseudo_label_field: Where the teacher's labels go: ``'gt_sem_seg'``
            (filling only ignored / missing ground-truth pixels, which keeps real
            labels where a dataset has them) or ``'gt_pseudo_sem_seg'``.
            Confidence goes to ``gt_pseudo_conf`` (1 where ground truth is kept,
            eq. 16 of SDE-Seg).
        train_cfg: Passed to the heads' ``loss``.
        test_cfg: Inference mode, also passed to the heads' ``predict``:
            ``dict(mode='whole')`` (default) runs the whole (padded) input at once;
            ``dict(mode='slide', crop_size=(h, w), stride=(sh, sw))`` runs windows of
            ``crop_size`` and averages the overlaps (:meth:`slide_inference`), for
            backbones tied to the training crop (MaxViT's window/grid partition).
            ``mode='tensor'`` forwards always run the whole input.
        data_preprocessor: :class:`DepthSemDataPreProcessor` config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 decode_neck: Optional[dict] = None,
                 task_neck: Optional[dict] = None,
                 depth_head: Optional[dict] = None,
                 sem_head: Optional[dict] = None,
                 teacher: Optional[dict] = None,
                 pseudo_label_field: str = 'gt_sem_seg',
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
        self.teacher = MODELS.build(teacher) if teacher else None
        if pseudo_label_field not in ('gt_sem_seg', 'gt_pseudo_sem_seg'):
            raise ValueError("MultiTaskEstimator: pseudo_label_field must be "
                             "'gt_sem_seg' or 'gt_pseudo_sem_seg', got "
                             f'{pseudo_label_field!r}')
        self.pseudo_label_field = pseudo_label_field
        if self.teacher is not None and hasattr(self.data_preprocessor,
                                                'keep_unmixed'):
            # The teacher labels the batch as it was before any batch mix.
            self.data_preprocessor.keep_unmixed = True
        self.train_cfg = train_cfg or {}
        self.test_cfg = dict(test_cfg or dict(mode='whole'))
        self.test_cfg.setdefault('mode', 'whole')
        self._check_test_cfg(self.test_cfg)

    @staticmethod
    def _check_test_cfg(test_cfg: dict) -> None:
        """Raise a ValueError naming the bad key of ``test_cfg``."""
        mode = test_cfg['mode']
        if mode not in ('whole', 'slide'):
            raise ValueError(f"MultiTaskEstimator: test_cfg['mode'] must be 'whole' "
                             f"or 'slide', got {mode!r}")
        if mode == 'whole':
            return
        pairs = {}
        for key in ('crop_size', 'stride'):
            value = test_cfg.get(key)
            if not (isinstance(value, (tuple, list)) and len(value) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                            for v in value)):
                raise ValueError(f"MultiTaskEstimator: test_cfg['{key}'] must be a "
                                 "pair of positive ints (h, w) with mode='slide', "
                                 f'got {value!r}')
            pairs[key] = tuple(value)
        if any(s > c for s, c in zip(pairs['stride'], pairs['crop_size'])):
            raise ValueError(f"MultiTaskEstimator: test_cfg['stride'] "
                             f"{pairs['stride']} exceeds crop_size "
                             f"{pairs['crop_size']}; the windows would leave gaps")

    @property
    def with_depth(self) -> bool:
        return self.depth_head is not None

    @property
    def with_sem(self) -> bool:
        return self.sem_head is not None

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone and decoder features of ``inputs`` ``(B, 3, H, W)``."""
        with record_function('multitask/backbone'):
            feats = self.backbone(inputs)
        if self.decode_neck is not None:
            with record_function('multitask/decode_neck'):
                feats = self.decode_neck(feats)
        return tuple(feats) if isinstance(feats, (list, tuple)) else (feats, )

    def task_features(self, inputs: Tensor) -> Tuple[Sequence[Tensor], Sequence[Tensor]]:
        """The features each head reads: ``(depth_feats, sem_feats)``."""
        feats = self.extract_feat(inputs)
        if self.task_neck is None:
            return feats, feats
        with record_function('multitask/task_neck'):
            return self.task_neck(feats)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Loss dict of both heads (keys prefixed ``depth.`` / ``sem.``)."""
        if self.teacher is not None:
            self.pseudo_label(inputs, data_samples)
        depth_feats, sem_feats = self.task_features(inputs)
        losses = {}
        if self.with_depth:
            with record_function('multitask/depth_head'):
                losses.update(add_prefix(
                    self.depth_head.loss(depth_feats, data_samples, self.train_cfg),
                    'depth'))
        if self.with_sem:
            with record_function('multitask/sem_head'):
                losses.update(add_prefix(
                    self.sem_head.loss(sem_feats, data_samples, self.train_cfg),
                    'sem'))
        return losses

    def pseudo_label(self, inputs: Tensor, data_samples: SampleList) -> None:
        """Write the teacher's labels and confidence into ``data_samples``.

        The teacher labels each sample's un-mixed image (``img_unmixed`` when a
        batch mix ran, else the input itself); the results are mixed like the
        batch (:func:`mix_like`) and, with ``pseudo_label_field='gt_sem_seg'``,
        fill only the ground truth's ignored pixels.

        Raises:
            RuntimeError: If a sample was mixed in the data pipeline, where its
                un-mixed image no longer exists.
        """
        images = []
        for i, sample in enumerate(data_samples):
            info = sample.metainfo.get('mix_info', {})
            if 'img_unmixed' in sample:
                images.append(sample.img_unmixed)
            elif info.get('applied'):
                raise RuntimeError(
                    f'{sample.metainfo.get("img_path", f"sample {i}")} was mixed in '
                    f'the data pipeline ({info.get("method")}), so the online teacher '
                    'would label a mixed image. Use the batch form of the mix '
                    '(data_preprocessor.batch_augments) or offline pseudo-labels '
                    '(LoadPseudoLabel) with the pipeline form.')
            else:
                images.append(inputs[i])
        clean = torch.stack(images)
        pre = self.data_preprocessor
        labels, conf = self.teacher(clean, [s.metainfo for s in data_samples],
                                    getattr(pre, 'mean', None), getattr(pre, 'std', None))
        labels, conf = mix_like(labels, data_samples), mix_like(conf, data_samples)
        for sample, label, confidence in zip(data_samples, labels, conf):
            label, confidence = label[None], confidence[None]
            field = self.pseudo_label_field
            if field == 'gt_sem_seg' and 'gt_sem_seg' in sample:
                gt = sample.gt_sem_seg.data
                ignored = gt == 255
                label = torch.where(ignored, label, gt)
                confidence = torch.where(ignored, confidence,
                                         torch.ones_like(confidence))
            setattr(sample, field, PixelData(data=label))
            sample.gt_pseudo_conf = PixelData(data=confidence)

    def predict(self, inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """Predictions resized to each sample's original size.

        A prediction whose task's ground truth was resized / cropped with the image
        in the test pipeline stays at the input size instead, the ground truth's
        (:func:`prediction_size`).

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
        """Depth and logits at the (padded) input size, by ``test_cfg['mode']``."""
        if self.test_cfg['mode'] == 'slide':
            return self.slide_inference(inputs, metas)
        return self.whole_inference(inputs, metas)

    def whole_inference(self, inputs: Tensor, metas: List[dict]
                        ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Run the whole batch through the network at once.

        Args:
            inputs: Normalised images ``(B, 3, H, W)``.
            metas: Per-sample metainfo; the heads resize to ``img_shape``
                (``pad_shape`` for mmseg heads), i.e. ``(H, W)``.

        Returns:
            ``(depth, logits)``: depth ``(B, 1, H, W)`` in metres and logits
            ``(B, C, H, W)`` (before softmax/sigmoid); None for a missing head.
        """
        depth_feats, sem_feats = self.task_features(inputs)
        depth = self.depth_head.predict(depth_feats, metas, self.test_cfg) \
            if self.with_depth else None
        logits = self.sem_head.predict(sem_feats, metas, self.test_cfg) \
            if self.with_sem else None
        return depth, logits

    def slide_inference(self, inputs: Tensor, metas: List[dict]
                        ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Run overlapping windows of ``test_cfg['crop_size']`` and average them.

        Windows of ``crop_size = (h, w)`` start every ``stride = (sh, sw)`` pixels;
        the last window in each direction is moved back to end at the border, so
        the windows cover the input exactly and all have the crop size (the size
        the backbone was built for). Every window goes through
        :meth:`whole_inference`; each output pixel is the mean over the windows
        covering it (a per-pixel count map):

        - semantics: the **logits** are averaged, before softmax/sigmoid/argmax;
        - depth: the **metric depth** maps (metres) are averaged, not disparity,
          because the depth heads output depth directly, so no conversion is made
          for the averaging.

        An input smaller than the crop in a dimension is padded at the bottom /
        right with the data preprocessor's ``pad_val`` (0 without one) up to the
        crop, and that padding is cut from the outputs. Padding the data
        preprocessor added earlier is left in and is removed later from
        ``metainfo['padding_size']``, as in ``whole`` mode.

        Args:
            inputs: Normalised images ``(B, 3, H, W)``.
            metas: Per-sample metainfo (the windows get copies with ``img_shape``
                and ``pad_shape`` set to the crop size).

        Returns:
            ``(depth, logits)``: depth ``(B, 1, H, W)`` in metres and logits
            ``(B, C, H, W)``; None for a missing head.
        """
        crop_h, crop_w = self.test_cfg['crop_size']
        stride_h, stride_w = self.test_cfg['stride']
        batch, _, height, width = inputs.shape
        pad_h, pad_w = max(crop_h - height, 0), max(crop_w - width, 0)
        if pad_h or pad_w:
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h),
                           value=float(getattr(self.data_preprocessor, 'pad_val', 0)))
        full_h, full_w = height + pad_h, width + pad_w
        rows = -(-(full_h - crop_h) // stride_h) + 1  # ceil division
        cols = -(-(full_w - crop_w) // stride_w) + 1
        window_metas = [dict(meta, img_shape=(crop_h, crop_w),
                             pad_shape=(crop_h, crop_w)) for meta in metas]
        depth_sum = logits_sum = None
        count = inputs.new_zeros((1, 1, full_h, full_w))
        for row in range(rows):
            top = min(row * stride_h, full_h - crop_h)
            for col in range(cols):
                left = min(col * stride_w, full_w - crop_w)
                window = (Ellipsis, slice(top, top + crop_h),
                          slice(left, left + crop_w))
                depth, logits = self.whole_inference(inputs[window], window_metas)
                if depth is not None:
                    if depth_sum is None:
                        depth_sum = depth.new_zeros((batch, depth.shape[1],
                                                     full_h, full_w))
                    depth_sum[window] += depth
                if logits is not None:
                    if logits_sum is None:
                        logits_sum = logits.new_zeros((batch, logits.shape[1],
                                                       full_h, full_w))
                    logits_sum[window] += logits
                count[window] += 1
        outputs = []
        for total in (depth_sum, logits_sum):
            outputs.append(None if total is None
                           else (total / count)[..., :height, :width])
        return outputs[0], outputs[1]

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None
                 ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Raw outputs ``(depth (B, 1, h, w), logits (B, C, h', w'))`` at feature
        resolution (``mode='tensor'``, e.g. for FLOP counting)."""
        depth_feats, sem_feats = self.task_features(inputs)
        depth = self.depth_head(depth_feats) if self.with_depth else None
        logits = self.sem_head(sem_feats) if self.with_sem else None
        return depth, logits


    @staticmethod
    def _restore(maps: Tensor, meta: dict, mode: str,
                 size: Optional[Tuple[int, int]] = None) -> Tensor:
        """Crop the padding, undo a test-time flip and resize.

        Args:
            maps: ``(C, H, W)`` at the (padded) input size.
            meta: The sample's metainfo (``padding_size``, ``flip``,
                ``flip_direction``, ``ori_shape``).
            mode: Interpolation mode of the resize.
            size: ``(H, W)`` of the result; ``ori_shape`` when None.

        Returns:
            ``(C, H', W')`` with ``(H', W') = size``.
        """
        left, right, top, bottom = meta.get('padding_size', (0, 0, 0, 0))
        height, width = maps.shape[-2:]
        maps = maps[..., top:height - bottom, left:width - right]
        if meta.get('flip', False):
            dim = -1 if meta.get('flip_direction', 'horizontal') == 'horizontal' \
                else -2
            maps = maps.flip(dims=(dim, ))
        if size is None:
            size = meta.get('ori_shape', maps.shape[-2:])
        size = tuple(size)[:2]
        if tuple(maps.shape[-2:]) != size:
            maps = F.interpolate(maps[None], size=size, mode=mode,
                                 align_corners=False)[0]
        return maps

    def postprocess_result(self, depth: Optional[Tensor], logits: Optional[Tensor],
                           data_samples: SampleList) -> SampleList:
        return attach_predictions(depth, logits, data_samples,
                                  getattr(self.sem_head, 'threshold', 0.5))


#: Ground-truth fields a depth / semantic prediction is scored against (the
#: ``gt_key`` values of :class:`DepthMetric` and :class:`IoUMetric` in the configs).
DEPTH_GT_FIELDS = ('gt_depth_map', 'gt_disparity_map')
SEM_GT_FIELDS = ('gt_sem_seg', 'gt_pseudo_sem_seg', 'gt_fg_mask')


def prediction_size(sample: DepthSemDataSample, gt_fields: Sequence[str],
                    input_hw: Tuple[int, int]) -> Tuple[int, int]:
    """``(H, W)`` at which a prediction of ``sample`` is returned.

    mmseg's rule is ``ori_shape``: its test pipelines load the ground truth after
    resizing the image, so the targets stay at the original size. Pipelines that
    load the targets first move them with the image (SOSD's Cityscapes protocol,
    ``Resize`` to 512x256 after the loaders, scored at 256x512; ``KBCrop`` on
    KITTI), so the ground truth lies on the network-input grid instead. The
    prediction is then kept on that grid: resizing it to ``ori_shape`` would give a
    map of another size than the targets it is scored against.

    Args:
        sample: The data sample, with its ground-truth fields when loaded.
        gt_fields: The fields of the prediction's task (:data:`DEPTH_GT_FIELDS`
            or :data:`SEM_GT_FIELDS`).
        input_hw: ``(H, W)`` of the network input without the batch padding
            (the image as the test pipeline left it).

    Returns:
        ``input_hw`` if every field of ``gt_fields`` the sample holds is
        ``(1, *input_hw)``, and at least one is held; ``ori_shape`` otherwise
        (``input_hw`` without an ``ori_shape``).
    """
    input_hw = tuple(int(v) for v in input_hw)
    shapes = {tuple(sample.get(field).data.shape[-2:])
              for field in gt_fields if field in sample}
    if shapes == {input_hw}:
        return input_hw
    return tuple(sample.metainfo.get('ori_shape', input_hw))[:2]


def _unpadded_hw(maps: Tensor, meta: dict) -> Tuple[int, int]:
    """``(H, W)`` of ``maps`` ``(B, C, H, W)`` less the padding of ``meta``."""
    left, right, top, bottom = meta.get('padding_size', (0, 0, 0, 0))
    height, width = maps.shape[-2:]
    return height - top - bottom, width - left - right


def attach_predictions(depth: Optional[Tensor], logits: Optional[Tensor],
                       data_samples: SampleList, threshold: float = 0.5) -> SampleList:
    """Put batch predictions into the samples at their ground truth's size.

    The padding is cropped, a test-time flip undone, and each map resized to
    ``ori_shape``, or kept at the input size when its task's ground truth was
    transformed with the image (:func:`prediction_size`).

    Args:
        depth: ``(B, 1, H, W)`` depth in metres at the (padded) input size, or None.
        logits: ``(B, C, H, W)`` semantic logits, or None; ``C = 1`` is binary
            (sigmoid, then ``threshold``).
        data_samples: The batch's samples (metainfo ``padding_size``, ``flip``,
            ``ori_shape``; the ground-truth fields when loaded).
        threshold: Foreground threshold of binary heads.

    Returns:
        The samples with ``pred_depth_map`` ``(1, H', W')``, ``seg_logits``
        ``(C, H', W')`` and ``pred_sem_seg`` ``(1, H', W')``; ``(H', W')`` is
        ``ori_shape`` or the unpadded input size.
    """
    for i, sample in enumerate(data_samples):
        meta = sample.metainfo
        if depth is not None:
            size = prediction_size(sample, DEPTH_GT_FIELDS, _unpadded_hw(depth, meta))
            sample.pred_depth_map = PixelData(
                data=MultiTaskEstimator._restore(depth[i], meta, 'bilinear', size))
        if logits is not None:
            size = prediction_size(sample, SEM_GT_FIELDS, _unpadded_hw(logits, meta))
            seg_logits = MultiTaskEstimator._restore(logits[i], meta, 'bilinear', size)
            if seg_logits.shape[0] > 1:
                pred = seg_logits.argmax(dim=0, keepdim=True)
            else:
                seg_logits = seg_logits.sigmoid()
                pred = (seg_logits > threshold).long()
            sample.seg_logits = PixelData(data=seg_logits)
            sample.pred_sem_seg = PixelData(data=pred)
    return data_samples
