"""SGRE: self-supervised depth guided by a binary semantic branch."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmdepthsem.registry import MODELS
from mmdepthsem.utils.edge_points import sample_edge_points, seem_point_counts
from .base_estimator import SampleList
from .self_supervised_estimator import SelfSupervisedDepthEstimator


@MODELS.register_module()
class SemanticGuidedDepthEstimator(SelfSupervisedDepthEstimator):
    """SGRE (Li et al.): Monodepth2 + binary semantic branch, fusion, SA and SEEM.

    The semantic decoder (Table 4's ``S_*`` layers, one channel, sigmoid outputs at
    four scales) runs first; the depth decoder, a
    :class:`~mmdepthsem.models.decode_heads.SemanticFusedDepthDecoder`, fuses its
    ``S_upconv_b`` features at every block, applies self-attention at the
    configured blocks and, with SEEM, rewrites the final features at the sampled
    points. Losses (eq. 9): ``L_p + L_m + 0.001 L_s`` with ``L_m`` the binary
    cross-entropy of every semantic scale at full resolution, averaged
    (``sem_loss=dict(type='CrossEntropyLoss', use_sigmoid=True)``).

    SEEM points:

    - training: the samples' ``seem_points`` ``(N, 2)`` from
      :class:`~mmdepthsem.datasets.transforms.SampleSEEMPoints` on the binary
      pseudo-label (all samples of a batch share ``N``, i.e. the image size);
    - evaluation (``test_points``): ``'prediction'`` samples them from the semantic
      branch's own scale-0 map thresholded at ``foreground_threshold``, with a
      generator seeded by ``test_seed`` for every image, so two evaluations are
      equal and a prediction does not depend on its batch; ``'samples'`` takes the
      samples' ``seem_points`` (a test pipeline that samples from supplied pseudo or
      ground-truth labels, with a fixed ``seed``).

    The number of pending points is logged as ``seem_points`` and the number of
    them on semantic edges as ``seem_edge_points`` (training).

    Args:
        test_points: ``'prediction'`` or ``'samples'``.
        point_sampler: Arguments of :func:`~mmdepthsem.utils.seem_point_counts` and
            the offset range: ``num_points`` (3000), ``edge_ratio`` (μ = 0.4),
            ``max_offset`` (c = 3), ``ref_size`` ((192, 640)),
            ``scale_with_size`` (True).
        test_seed: Seed of the test-time random points.
        foreground_threshold: Probability above which a pixel is foreground.
        **kwargs: :class:`SelfSupervisedDepthEstimator` arguments; ``sem_decoder``
            is required.
    """

    def __init__(self,
                 *args,
                 test_points: str = 'prediction',
                 point_sampler: Optional[dict] = None,
                 test_seed: int = 0,
                 foreground_threshold: float = 0.5,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.sem_decoder is None:
            raise ValueError('SemanticGuidedDepthEstimator needs a `sem_decoder` '
                             '(the binary semantic branch)')
        if test_points not in ('prediction', 'samples'):
            raise ValueError(f'SemanticGuidedDepthEstimator: unknown test_points '
                             f'{test_points!r}; use "prediction" or "samples"')
        self.test_points = test_points
        self.point_sampler = dict(num_points=3000, edge_ratio=0.4, max_offset=3,
                                  ref_size=(192, 640), scale_with_size=True)
        unknown = set(point_sampler or {}) - set(self.point_sampler)
        if unknown:
            raise KeyError(f'SemanticGuidedDepthEstimator: unknown point_sampler '
                           f'keys {sorted(unknown)}; known: {sorted(self.point_sampler)}')
        self.point_sampler.update(point_sampler or {})
        self.test_seed = test_seed
        self.foreground_threshold = foreground_threshold

    @property
    def uses_seem(self) -> bool:
        return getattr(self.depth_decoder, 'seem', None) is not None

    def decode(self, inputs: Tensor, data_samples: Optional[SampleList] = None
               ) -> Tuple[dict, dict]:
        """Semantic decoder, then the fused depth decoder (with SEEM points)."""
        feats = self.backbone(inputs)
        sem = self.sem_decoder(feats)
        image_size = tuple(inputs.shape[-2:])
        points = None
        if self.uses_seem:
            if self.training or self.test_points == 'samples':
                points = self._sample_points(data_samples, inputs)
            else:
                points = self.points_from_prediction(sem['outputs'][0], image_size)
        depth = self.depth_decoder(feats, sem['upconvs'], points, image_size)
        return depth, sem

    def _sample_points(self, data_samples: Optional[SampleList], inputs: Tensor
                       ) -> Tensor:
        """``(B, N, 2)`` int64 points from the samples' ``seem_points``."""
        if data_samples is None:
            raise ValueError('SemanticGuidedDepthEstimator: SEEM points come from '
                             'the data samples here, but none were given')
        points = []
        for sample in data_samples:
            if 'seem_points' not in sample:
                raise KeyError(f'{sample.metainfo.get("img_path")} has no '
                               '`seem_points`: add SampleSEEMPoints to the pipeline '
                               '(after the geometric transforms)')
            points.append(sample.seem_points)
        if len({p.shape for p in points}) > 1:
            raise ValueError('SemanticGuidedDepthEstimator: samples of a batch have '
                             f'different SEEM point counts {[len(p) for p in points]}; '
                             'resize all images of a batch to one size')
        return torch.stack(points).to(device=inputs.device, dtype=torch.long)

    def points_from_prediction(self, logits: Tensor, image_size: Tuple[int, int]
                               ) -> Tensor:
        """Test-time SEEM points from the semantic branch's binary prediction.

        Args:
            logits: ``(B, 1, h, w)`` scale-0 logits of the semantic branch.
            image_size: ``(H, W)`` of the input image (``h, w`` for a scale-0 map).

        Returns:
            ``(B, N, 2)`` int64 ``(x, y)`` points.
        """
        if logits.shape[-2:] != torch.Size(image_size):
            raise ValueError(f'SemanticGuidedDepthEstimator: the semantic scale-0 map '
                             f'is {tuple(logits.shape[-2:])}, the image {image_size}')
        cfg = self.point_sampler
        num_edge, num_random = seem_point_counts(
            image_size[0], image_size[1], num_points=cfg['num_points'],
            edge_ratio=cfg['edge_ratio'], ref_size=cfg['ref_size'],
            scale_with_size=cfg['scale_with_size'])
        foreground = logits.detach()[:, 0].sigmoid() > self.foreground_threshold
        points = []
        for mask in foreground:
            generator = torch.Generator().manual_seed(self.test_seed)  # CPU draws
            pts, _ = sample_edge_points(mask, num_edge, num_random, cfg['max_offset'],
                                        generator=generator)
            points.append(pts)
        return torch.stack(points).to(logits.device)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """As :meth:`SelfSupervisedDepthEstimator.loss`, plus SEEM point counts."""
        losses = super().loss(inputs, data_samples)
        if self.uses_seem:
            losses['seem_points'] = inputs.new_tensor(
                float(data_samples[0].seem_points.shape[0]))
            edge = [s.metainfo.get('seem_num_edge_points') for s in data_samples]
            if all(e is not None for e in edge):
                losses['seem_edge_points'] = inputs.new_tensor(
                    sum(edge) / len(edge))
        return losses
