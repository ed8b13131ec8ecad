"""Monodepth2-style self-supervised depth (+ a semantic decoder on pseudo-labels)."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.profiler import record_function

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from ..decode_heads.monodepth_decoder import decode_in_lockstep
from ..utils.camera_geometry import disp_to_depth, warp_frame
from .base_estimator import BaseDepthSemEstimator, SampleList
from .multitask_estimator import attach_predictions

#: How the per-scale self-supervised terms are combined (``scale_weighting``).
SCALE_WEIGHTINGS = ('mean', 'halving')


def combine_scale_losses(losses: Sequence[Tensor], scales: Sequence[int],
                         weighting: str = 'mean',
                         halve: bool = True) -> Tensor:
    """One loss from its per-scale values.

    Args:
        losses: Scalar loss of each scale, in the order of ``scales``.
        scales: Output scale ``s`` (stride ``2^s``) of each value.
        weighting: ``'mean'``: ``mean_s l_s``; ``'halving'``: a sum over scales,
            ``Σ_s l_s / 2^s`` (``halve=True``) or ``Σ_s l_s`` (for values already
            weighted ``1 / 2^s``, such as the smoothness terms).
        halve: Apply the ``1 / 2^s`` factor in ``'halving'``.

    Returns:
        Scalar tensor.
    """
    if weighting not in SCALE_WEIGHTINGS:
        raise ValueError(f'scale weighting must be one of {SCALE_WEIGHTINGS}, got '
                         f'{weighting!r}')
    if len(losses) != len(scales) or not losses:
        raise ValueError(f'{len(losses)} per-scale losses for scales {tuple(scales)}')
    stacked = torch.stack(list(losses))
    if weighting == 'mean':
        return stacked.mean()
    if halve:
        stacked = stacked / stacked.new_tensor([2.0**s for s in scales])
    return stacked.sum()


@MODELS.register_module()
class SelfSupervisedDepthEstimator(BaseDepthSemEstimator):
    """Depth from video without depth labels; optionally semantics from pseudo-labels.

    Training (Monodepth2, followed by FSRE, SGRE and SDE-Seg)::

        target I_0 -> encoder -> depth decoder -> disparity at scales s = 0..3
        (I_0, I_f) -> pose net -> T_{0->f}   for every source frame f (e.g. -1, +1)
        for each scale: upsample disparity to full size -> depth (min/max depth)
                        -> warp the clean sources into the target view
                        -> per-pixel min photometric error (+ auto-mask)
                        -> edge-aware smoothness of that scale's disparity
        encoder -> semantic decoder -> logits -> cross-entropy on (pseudo-)labels

    The networks see the (colour-jittered) ``inputs`` and ``frames``; the
    photometric loss uses the un-jittered ``img_clean`` / ``frames_clean`` when the
    pipeline kept them (``ColorJitter(keep_clean=True)``). Images are converted back
    to ``[0, 1]`` with the data preprocessor's mean/std. ``intrinsics`` (pixels of
    the network input) come from the dataset and follow every resize and crop.

    Losses (keys): ``loss_photometric``, ``loss_smooth`` (β/2^s-weighted
    smoothness), ``loss_sem`` (γ-weighted cross-entropy); logged, not optimised:
    ``automask_ratio`` (share of pixels where a warped source beat the identity).
    The photometric and smoothness terms of the scales are combined by
    ``scale_weighting``:

    - ``'mean'`` (Monodepth2's release and the FSRE paper's text):
      ``L_p = mean_s pe_s`` and ``L_sm = mean_s β/2^s · sm_s``;
    - ``'halving'`` (FSRE's release): ``L_p = Σ_s pe_s / 2^s`` and
      ``L_sm = Σ_s β/2^s · sm_s``.

    The training forward is split into the profiler ranges ``selfsup/depth``
    (encoder, decoders, cross-task modules), ``selfsup/pose``, ``selfsup/warp`` and
    ``selfsup/loss`` (``tools/analysis_tools/benchmark_selfsup.py``).

    Args:
        backbone: Shared encoder returning five features at strides 2..32 (e.g.
            mmseg's ``TIMMBackbone`` ResNet with ``out_indices=(0, 1, 2, 3, 4)``).
        depth_decoder: :class:`MonodepthDepthDecoder` config (sigmoid disparities).
        pose_net: :class:`PoseNet` config.
        photometric_loss: :class:`PhotometricReprojectionLoss` config.
        smoothness_loss: :class:`EdgeAwareSmoothnessLoss` config (β in
            ``loss_weight``).
        sem_decoder: Optional semantic decoder (e.g. ``MonodepthDepthDecoder`` with
            ``out_channels=num_classes, out_activation=None, scales=(0,)``).
        sem_loss: Loss of the semantic decoder (mmseg ``CrossEntropyLoss``, γ as
            ``loss_weight``, ``ignore_index=255``).
        sem_label_field: Data-sample field holding the labels
            (``'gt_pseudo_sem_seg'`` or ``'gt_sem_seg'``).
        cross_task_blocks: ``{b: module config}`` of modules exchanging features
            between the depth and the semantic decoder after block ``b`` (FSRE:
            ``BidirectionalCMA`` after ``b = 4, 3, 2``, the paper's ``l = 0, 1, 2``
            counted from the coarse end); called as
            ``depth, sem = module(depth, sem)``. Needs ``sem_decoder``.
        triplet_loss: Optional feature loss on the depth decoder's block outputs
            with the semantic labels (FSRE: ``SemanticGuidedTripletLoss``, δ as
            ``loss_weight``); logged with the number of counted patches
            (``sgt_patches``).
        triplet_blocks: Blocks whose outputs the feature loss reads (FSRE: 3, 2, 1,
            the paper's ``l = 1, 2, 3``).
        frame_ids: Offsets of the source frames, in the order of the samples'
            ``frames`` (metainfo ``frame_ids``).
        scales: Decoder scales that contribute to the loss.
        scale_weighting: ``'mean'`` or ``'halving'``, how the per-scale photometric
            and smoothness terms are combined (see above).
        align_corners: ``grid_sample`` flag of the view synthesis
            (:func:`~mmdepthsem.models.utils.warp_frame`): ``True`` as FSRE's
            release, ``False`` as Monodepth2's.
        min_depth: Depth at disparity 1, metres (0.1).
        max_depth: Depth at disparity 0, metres (100).
        data_preprocessor: :class:`DepthSemDataPreProcessor` config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 depth_decoder: dict,
                 pose_net: dict,
                 photometric_loss: dict = dict(type='PhotometricReprojectionLoss'),
                 smoothness_loss: dict = dict(type='EdgeAwareSmoothnessLoss',
                                              loss_weight=1e-3),
                 sem_decoder: Optional[dict] = None,
                 sem_loss: Optional[dict] = None,
                 sem_label_field: str = 'gt_pseudo_sem_seg',
                 cross_task_blocks: Optional[Dict[int, dict]] = None,
                 triplet_loss: Optional[dict] = None,
                 triplet_blocks: Sequence[int] = (3, 2, 1),
                 frame_ids: Sequence[int] = (-1, 1),
                 scales: Sequence[int] = (0, 1, 2, 3),
                 scale_weighting: str = 'mean',
                 align_corners: bool = True,
                 min_depth: float = 0.1,
                 max_depth: float = 100.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.depth_decoder = MODELS.build(depth_decoder)
        self.pose_net = MODELS.build(pose_net)
        self.photometric_loss = MODELS.build(photometric_loss)
        self.smoothness_loss = MODELS.build(smoothness_loss)
        self.sem_decoder = MODELS.build(sem_decoder) if sem_decoder else None
        if self.sem_decoder is not None and sem_loss is None:
            raise ValueError('SelfSupervisedDepthEstimator: `sem_decoder` needs '
                             '`sem_loss`')
        self.sem_loss = MODELS.build(sem_loss) if sem_loss else None
        self.sem_label_field = sem_label_field
        if cross_task_blocks and self.sem_decoder is None:
            raise ValueError('SelfSupervisedDepthEstimator: `cross_task_blocks` need '
                             'a `sem_decoder`')
        self.cross_task = nn.ModuleDict({
            str(b): MODELS.build(cfg) for b, cfg in (cross_task_blocks or {}).items()})
        self.triplet_loss = MODELS.build(triplet_loss) if triplet_loss else None
        self.triplet_blocks = tuple(triplet_blocks)
        self.frame_ids = tuple(frame_ids)
        if not self.frame_ids or 0 in self.frame_ids:
            raise ValueError('SelfSupervisedDepthEstimator: frame_ids are the '
                             f'source offsets (non-zero), got {frame_ids}')
        self.scales = tuple(scales)
        if scale_weighting not in SCALE_WEIGHTINGS:
            raise ValueError(f'SelfSupervisedDepthEstimator: scale_weighting must be '
                             f'one of {SCALE_WEIGHTINGS}, got {scale_weighting!r}')
        self.scale_weighting = scale_weighting
        self.align_corners = bool(align_corners)
        if not 0 < min_depth < max_depth:
            raise ValueError(f'min_depth {min_depth} must be in (0, max_depth '
                             f'{max_depth})')
        self.min_depth, self.max_depth = min_depth, max_depth

    # ------------------------------------------------------------ helpers
    def to_unit_range(self, images: Tensor) -> Tensor:
        """Undo the preprocessor's normalisation: ``(..., 3, H, W)`` -> ``[0, 1]``."""
        return (self.data_preprocessor.denormalize(images) / 255.0).clamp(0.0, 1.0)

    def _source_frames(self, data_samples: SampleList, key: str) -> Tensor:
        """``(B, N, 3, H, W)`` source frames in ``frame_ids`` order."""
        stacked = []
        for sample in data_samples:
            if key not in sample:
                raise KeyError(f'{sample.metainfo.get("img_path")} has no `{key}`: '
                               'load the neighbouring frames (LoadNeighbourFrames) '
                               f'with frame_ids {self.frame_ids}')
            ids = tuple(sample.metainfo.get('frame_ids', self.frame_ids))
            frames = getattr(sample, key)
            try:
                order = [ids.index(f) for f in self.frame_ids]
            except ValueError:
                raise KeyError(f'{sample.metainfo.get("img_path")}: frames {ids} do '
                               f'not contain the model frame_ids {self.frame_ids}')
            stacked.append(frames[order])
        return torch.stack(stacked)

    def decode(self, inputs: Tensor, data_samples: Optional[SampleList] = None
               ) -> Tuple[dict, Optional[dict]]:
        """Both decoders' ``dict(outputs=..., features=...)`` (semantic: or None).

        Without ``cross_task_blocks`` the decoders run independently; with them,
        both are stepped block by block and exchange features after the listed
        blocks. ``data_samples`` are unused here; subclasses whose decoders read
        per-sample inputs (SGRE's SEEM points) take them from there.
        """
        feats = self.backbone(inputs)
        if self.sem_decoder is None:
            return self.depth_decoder(feats), None
        depth, sem = decode_in_lockstep((self.depth_decoder, self.sem_decoder), feats,
                                        self.cross_task)
        return depth, sem

    # ------------------------------------------------------------- training
    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """The self-supervised losses of one batch; see the class docstring."""
        with record_function('selfsup/depth'):
            decoded, sem_decoded = self.decode(inputs, data_samples)
        losses = self.depth_losses(inputs, data_samples, decoded)
        with record_function('selfsup/loss'):
            if self.sem_decoder is not None or self.triplet_loss is not None:
                labels = self._labels(data_samples)
            if self.sem_decoder is not None:
                losses['loss_sem'] = self.supervised_sem_loss(sem_decoded, labels)
            if self.triplet_loss is not None:
                loss, count = self.triplet_loss(
                    [decoded['features'][b] for b in self.triplet_blocks], labels,
                    return_count=True)
                losses[self.triplet_loss.loss_name] = loss
                losses['sgt_patches'] = count.float().detach()
        return losses

    def depth_losses(self, inputs: Tensor, data_samples: SampleList,
                     decoded: dict) -> Dict[str, Tensor]:
        """The SDE loss ``L_D`` of already decoded disparities: pose, warping,
        photometric and smoothness terms over ``scales``.

        Args:
            inputs: ``(B, 3, H, W)`` normalised target images.
            data_samples: Their samples, with ``frames`` (and ``frames_clean`` /
                ``img_clean``) and ``intrinsics``.
            decoded: The depth decoder's ``dict(outputs={s: (B, 1, h_s, w_s)})``.

        Returns:
            ``loss_photometric``, ``loss_smooth`` and ``automask_ratio`` (logged).
        """
        height, width = inputs.shape[-2:]
        with record_function('selfsup/pose'):
            frames = self._source_frames(data_samples, 'frames')
            pose_target, pose_frames = inputs, frames
            if all('pose_frames' in s for s in data_samples):
                # uncropped views (KeepUncroppedPoseViews): the same camera motion
                pose_target = torch.stack([s.pose_img for s in data_samples])
                pose_frames = self._source_frames(data_samples, 'pose_frames')
            poses = [self.pose_net.target_to_source(pose_target, pose_frames[:, n],
                                                    frame_id)
                     for n, frame_id in enumerate(self.frame_ids)]
        with record_function('selfsup/warp'):  # the [0, 1] images the views use
            clean = all('frames_clean' in s for s in data_samples)
            sources = self.to_unit_range(
                self._source_frames(data_samples, 'frames_clean') if clean else frames)
            target = self.to_unit_range(torch.stack([
                s.img_clean if 'img_clean' in s else inputs[i]
                for i, s in enumerate(data_samples)]))
            intrinsics = torch.stack([s.intrinsics for s in data_samples]).to(inputs)

        with record_function('selfsup/loss'):  # depth-independent: once per batch
            identity = self.photometric_loss.identity_errors(target, sources) \
                if self.photometric_loss.automask else None
        photometric, smooth, automask = [], [], []
        for scale in self.scales:
            with record_function('selfsup/warp'):
                disp = decoded['outputs'][scale]
                full = F.interpolate(disp, size=(height, width), mode='bilinear',
                                     align_corners=False)
                _, depth = disp_to_depth(full, self.min_depth, self.max_depth)
                warped = torch.stack([
                    warp_frame(sources[:, n], depth, intrinsics, pose,
                               align_corners=self.align_corners)[0]
                    for n, pose in enumerate(poses)], dim=1)
            with record_function('selfsup/loss'):
                loss_map, mask = self.photometric_loss.loss_map(
                    target, warped, sources, identity=identity)
                photometric.append(loss_map.mean())
                automask.append(mask.float().mean())
                scaled_target = F.interpolate(target, size=disp.shape[-2:],
                                              mode='bilinear', align_corners=False)
                smooth.append(self.smoothness_loss(disp, scaled_target, scale))
        with record_function('selfsup/loss'):
            # the smoothness module already weights scale s by beta / 2^s
            return {
                'loss_photometric': self.photometric_loss.loss_weight *
                combine_scale_losses(photometric, self.scales, self.scale_weighting),
                'loss_smooth': combine_scale_losses(smooth, self.scales,
                                                    self.scale_weighting, halve=False),
                'automask_ratio': torch.stack(automask).mean().detach(),
            }

    def _sem_loss(self, outputs: Dict[int, Tensor], labels: Tensor) -> Tensor:
        """``sem_loss`` of every semantic output, upsampled to full size, averaged.

        FSRE's decoder has one output (scale 0); SGRE's binary branch has four
        (``S_disp3 .. S_disp0``), each supervised at full resolution.
        """
        size = labels.shape[-2:]
        losses = []
        for scale in sorted(outputs):
            logits = outputs[scale]
            if logits.shape[-2:] != size:
                logits = F.interpolate(logits, size=size, mode='bilinear',
                                       align_corners=False)
            losses.append(self.sem_loss(logits, labels, ignore_index=255))
        return torch.stack(losses).mean()

    def supervised_sem_loss(self, sem_decoded: dict, labels: Tensor) -> Tensor:
        """``sem_loss`` of the semantic decoder's outputs, averaged with that of
        each of its side outputs (``MonodepthDepthDecoder(side_outputs=...)``).

        With one side output this is SDE-Seg's released rule for the labelled
        cross-entropy, ``(CE(final) + CE(intermediate)) / 2``; without side outputs
        it is ``_sem_loss`` of the outputs alone.

        Args:
            sem_decoded: The semantic decoder's ``dict(outputs=..., side_outputs=...)``.
            labels: ``(B, H, W)`` int64 labels (255 ignored).
        """
        terms = [self._sem_loss(sem_decoded['outputs'], labels)]
        sides = sem_decoded.get('side_outputs', {})
        terms += [self._sem_loss({0: sides[b]}, labels) for b in sorted(sides)]
        return terms[0] if len(terms) == 1 else torch.stack(terms).mean()

    def _labels(self, data_samples: SampleList) -> Tensor:
        """``(B, H, W)`` int64 labels from ``sem_label_field``."""
        labels = []
        for sample in data_samples:
            if self.sem_label_field not in sample:
                raise KeyError(f'{sample.metainfo.get("img_path")} has no '
                               f'`{self.sem_label_field}` for the semantic decoder / '
                               'feature loss; load (pseudo-)labels or drop them')
            labels.append(getattr(sample, self.sem_label_field).data[0])
        return torch.stack(labels).long()

    # ------------------------------------------------------------ inference
    def predict(self, inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """Depth (metres, up to scale) and, with a semantic decoder, labels.

        Returns:
            The samples with ``pred_depth_map`` ``(1, H, W)`` at each sample's
            original size, or at its ground truth's when the test pipeline moved that
            with the image (:func:`prediction_size`); and ``seg_logits`` /
            ``pred_sem_seg``.
        """
        if data_samples is None:
            data_samples = [DepthSemDataSample(metainfo=dict(
                img_shape=inputs.shape[-2:], ori_shape=inputs.shape[-2:]))
                for _ in range(inputs.shape[0])]
        depth, logits = self._forward(inputs, data_samples)
        return attach_predictions(depth, logits, data_samples)

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None
                 ) -> Tuple[Tensor, Optional[Tensor]]:
        """``(depth (B, 1, H, W) metres, logits (B, C, H, W) or None)``."""
        decoded, sem_decoded = self.decode(inputs, data_samples)
        return self.depth_and_logits(decoded, sem_decoded, inputs.shape[-2:])

    def depth_and_logits(self, decoded: dict, sem_decoded: Optional[dict],
                         size: Tuple[int, int]) -> Tuple[Tensor, Optional[Tensor]]:
        """Scale-0 disparity -> ``(B, 1, H, W)`` depth (metres) at ``size``, and the
        semantic decoder's scale-0 logits (or None)."""
        disp = decoded['outputs'][0]
        if disp.shape[-2:] != tuple(size):
            disp = F.interpolate(disp, size=size, mode='bilinear', align_corners=False)
        _, depth = disp_to_depth(disp, self.min_depth, self.max_depth)
        logits = sem_decoded['outputs'][0] if sem_decoded is not None else None
        return depth, logits
