"""SDE-Seg's semi-supervised multi-task training: mean teacher, DepthMix, SDE loss."""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import ExponentialMovingAverage
from mmengine.structures import PixelData
from torch import Tensor, nn
from torchvision.transforms import v2 as tv_transforms

from mmdepthsem.registry import MODELS
from mmdepthsem.structures import DepthSemDataSample
from ..decode_heads.monodepth_decoder import decode_in_lockstep
from ..utils.warmup_ema import WarmupExponentialMovingAverage
from .base_estimator import SampleList
from .self_supervised_estimator import SelfSupervisedDepthEstimator

BranchedInputs = Union[Tensor, Dict[str, Tensor]]
UNLABELLED_LOSSES = (None, 'pseudo', 'mix')
MIX_DEPTHS = ('online', 'estimate')
MIX_PARTNERS = ('labelled', 'unlabelled', 'pool')
TEACHER_MODES = ('eval', 'train')
Q_PRIME_OVER = ('image', 'batch')
LOSS_AVERAGES = ('non_ignore', 'all')
AUGMENT_PER = ('image', 'batch', 'switches')
DEPTH_LOSS_BRANCHES = ('labelled', 'unlabelled')
CROSS_DOMAIN_Q_PRIMES = ('mixed', 'target_share')
IGNORE_INDEX = 255


def auto_blur_kernel(size: int) -> int:
    """The largest odd number not above ``ceil(0.1 * size)`` (the kernel side that
    SDE-Seg's and ClassMix's released blur derives from the image side)."""
    side = math.ceil(0.1 * size)
    return max(1, side if side % 2 else side - 1)


@MODELS.register_module()
class MeanTeacherDepthSegEstimator(SelfSupervisedDepthEstimator):
    """Semi-supervised segmentation with an SDE auxiliary task (Hoyer et al., §3.3–3.4).

    Each training batch has two branches (``SemiSupervisedDataset`` and
    ``MultiBranchDataPreProcessor`` build them)::

        labelled   (I_A, S_A)   -> student -> L_ce(g_S(I_A), S_A)              (eq. 13)
        unlabelled I_U + frames -> student depth branch -> L_D (SDE loss, eq. 5)
                                -> EMA teacher (no grad) -> S_U = argmax, P = max prob
        mixed      I' = M ⊙ I_U + (1 − M) ⊙ I_A (DepthMix, eq. 8–10), colour jitter,
                   blur -> student -> q' · L_ce(g_S(I'), S')        (eq. 13–16)

    with ``S' = M ⊙ S_U + (1 − M) ⊙ S_A``, ``P' = M ⊙ P_U + (1 − M) ⊙ 1`` (labelled
    pixels are certain, eq. 16) and ``q'`` the fraction of pixels with ``P' > τ``
    (eq. 14), per mixed image. The total is ``L_S + depth_loss_weight · L_D``.

    Unlabelled sample ``k`` is mixed with labelled sample ``k`` (``mix_partner=
    'labelled'``, the spec's "labelled and pseudo-labelled samples") or with
    unlabelled sample ``k + 1`` (``'unlabelled'``, as ClassMix/DACS). The mix mask
    comes from the depth decoder's current (detached) depth of both images
    (``mix_depth='online'``, needs the SDE loss) or from pre-computed SDE depth in
    the samples' ``est_depth_map`` (``'estimate'``, ``LoadDepthEstimate``; the
    paper's setting without multi-task learning).

    Rows of the paper's ablations: ``unlabelled_loss=None`` is the labelled-only
    baseline, ``'pseudo'`` pseudo-labels on the (jittered, blurred) unlabelled
    images, ``'mix'`` with ``mix=BatchDepthMix`` DepthMix and with
    ``mix=BatchClassMix`` ClassMix (which draws the classes from ``S_U``);
    ``depth_loss_weight=0`` switches multi-task learning off.

    Mean teacher (eq. 11): ``θ_T ← α θ_T + (1 − α) θ`` with ``α = 0.99``, i.e.
    mmengine's :class:`ExponentialMovingAverage` with ``momentum = 1 − α = 0.01``
    (``teacher_momentum``; mmengine's momentum weights the *new* parameters). It
    covers the encoder, both decoders and the distillation modules (not the pose
    net); buffers (BN statistics) are copied. The update runs at the start of each
    training forward, i.e. after the previous optimiser step; the first update
    copies the student (so a ``load_from`` checkpoint initialises both). The teacher
    labels in eval mode (``teacher_mode='train'``: with batch statistics, as the
    released code; ``teacher_warmup`` averages as it does). Validation and test use
    the student unless ``test_with='teacher'``. docs/sdeseg.md tables which options
    the released code takes.

    Semi-supervised domain adaptation (§3.5, eq. 17–21): a third branch ``source``
    (labelled source-domain images with their pre-computed source-SDE depth in
    ``est_depth_map``) adds ``L_ce^src`` and, with ``unlabelled_loss='mix'``,
    Cross-Domain DepthMix — source image ``i`` mixed with unlabelled target image
    ``j`` by depth (the per-image normalised disparities make the two domains' SDE
    scales comparable), source pixels certain (P = 1) — weighted by its own
    ``q'_CDM``. The target mix above is then Target-Domain DepthMix, and the total
    is eq. 21 with equal weights.

    A plain (un-branched) batch is treated as labelled only: cross-entropy, plus
    the SDE loss on the same images when ``depth_loss_weight > 0``.

    Logged, not optimised: ``q_prime`` (mean ``q'``), ``mix_ratio`` (share of mixed
    pixels taken from the partner image), ``pseudo_conf`` (mean teacher confidence
    on the unlabelled images), and ``q_prime_cross_domain`` /
    ``mix_ratio_cross_domain`` for CDM.

    Args:
        unlabelled_loss: ``None``, ``'pseudo'`` or ``'mix'`` (see above).
        mix: Config of a batch mix (``BatchDepthMix``, ``BatchClassMix``, ...) for
            ``unlabelled_loss='mix'``; its ``shift`` is set per batch.
        mix_partner: ``'labelled'``, ``'unlabelled'`` or ``'pool'``: sample ``k``
            of the unlabelled branch with sample ``k + 1`` of the same branch, the
            branch drawn from ``G_A ∪ G_U`` (§3.4: "two samples from the combined
            labeled and pseudo-labeled data pool"); members of the labelled split
            (metainfo ``is_labelled``, set by ``SemiSupervisedDataset(
            mark_labelled=True)``) bring their ground truth with ``P = 1`` (``P = 0``
            on its ignored pixels), the others the teacher's pseudo-labels — the
            released code's ``mix_use_gt``.
        mix_depth: ``'online'`` or ``'estimate'``.
        confidence_threshold: τ of eq. 14 (0.968, ClassMix's value).
        confidence_comparison: ``'gt'`` (a pixel is confident when ``P' > τ``,
            eq. 14) or ``'ge'`` (``P' ≥ τ``, the released code's ``max_probs.ge``);
            used by ``q'`` and the cross-domain ``q_t``.
        teacher_momentum: mmengine EMA momentum ``1 − α`` (0.01).
        teacher_warmup: Average with momentum ``max(1 / (n + 1), 1 − α)`` at update
            ``n`` (:class:`WarmupExponentialMovingAverage`; the released code) instead
            of a fixed ``1 − α`` (the paper's eq. 11).
        teacher_mode: ``'eval'`` (the teacher normalises with its BN running
            statistics, copied from the student) or ``'train'`` (batch statistics of
            the images it labels, as the released code runs it).
        q_prime_over: ``'image'`` (eq. 14: the fraction over each image's ``W·H``
            pixels) or ``'batch'`` (one fraction over the whole mixed batch, the
            released code).
        unlabelled_loss_average: ``'non_ignore'`` (the weighted cross-entropy of
            the mixed batch averaged over its non-ignored pixels) or ``'all'`` (over
            all pixels, ignored ones counting 0: the released code).
        depth_loss_weight: Weight of the SDE loss (1: equal weights, §4.3).
        depth_loss_branches: Branches whose images get the SDE loss:
            ``('unlabelled',)`` or ``('labelled', 'unlabelled')`` (the released
            code computes it on the labelled batch too; that branch then needs its
            neighbour frames).
        color_jitter: ``torchvision`` ``ColorJitter`` arguments for the mixed
            batch, or None; applied with probability ``color_jitter_prob``.
        blur_sigma: ``(min, max)`` σ of the Gaussian blur of the mixed batch, in
            pixels, or None; applied with probability ``blur_prob``.
        blur_kernel_size: Kernel of the blur, or ``'auto'`` (:func:`auto_blur_kernel`
            of each image side: 51 for 512 pixels).
        augment_per: ``'image'`` (each mixed image draws whether it is jittered and
            blurred, and its σ), ``'batch'`` (one draw for the whole batch, as the
            released code; the jitter factors are still drawn per image) or
            ``'switches'`` (whether to jitter and blur drawn once for the batch, σ
            per image: the released SSDA code's cross-domain mix).
        cross_domain_augment_per: ``augment_per`` of the Cross-Domain DepthMix
            batch; ``None`` takes ``augment_per``.
        cross_domain_q_prime: Weight of the Cross-Domain DepthMix loss:
            ``'mixed'`` (eq. 20 with eq. 14–15: ``q'`` of the mixed confidences,
            source pixels certain) or ``'target_share'`` (the released SSDA code: a
            pixel map, 1 on source pixels and ``q_t`` on target pixels, ``q_t`` the
            share of *un-mixed* confident target pixels (``confidence_comparison``;
            the release counts ``≥ τ``) over the target batch, the pool's labelled
            images counting as certain).
        cross_domain_teacher_pass: ``'shared'`` (Cross-Domain DepthMix takes the
            teacher's labels of the target-domain mix) or ``'separate'`` (the
            teacher labels the same images again for it, as the released SSDA
            code runs it: the same output unless the teacher has active dropout,
            e.g. the release's ASPP dropout with ``teacher_mode='train'``, which
            then draws new masks).
        cross_domain_epsilon_flip_prob: Probability, per source image, that
            Cross-Domain DepthMix uses ``−ε`` instead of ``ε`` (the released SSDA
            code: 0.5; eq. 10: 0). Needs a depth mix with an ``epsilon``.
        test_with: ``'student'`` or ``'teacher'``.
        **kwargs: :class:`SelfSupervisedDepthEstimator` arguments (``backbone``,
            ``depth_decoder``, ``sem_decoder``, ``sem_loss``, ``pose_net``,
            ``cross_task_blocks`` ...); ``sem_label_field`` defaults to the
            ground truth ``'gt_sem_seg'``.
    """

    def __init__(self,
                 unlabelled_loss: Optional[str] = 'mix',
                 mix: Optional[dict] = dict(type='BatchDepthMix', epsilon=0.03),
                 mix_partner: str = 'labelled',
                 mix_depth: str = 'online',
                 confidence_threshold: float = 0.968,
                 confidence_comparison: str = 'gt',
                 teacher_momentum: float = 0.01,
                 teacher_warmup: bool = False,
                 teacher_mode: str = 'eval',
                 q_prime_over: str = 'image',
                 unlabelled_loss_average: str = 'non_ignore',
                 depth_loss_weight: float = 1.0,
                 depth_loss_branches: Sequence[str] = ('unlabelled', ),
                 color_jitter: Optional[dict] = dict(
                     brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1),
                 color_jitter_prob: float = 0.8,
                 blur_sigma: Optional[Tuple[float, float]] = (0.15, 1.15),
                 blur_prob: float = 0.5,
                 blur_kernel_size: Union[int, str] = 5,
                 augment_per: str = 'image',
                 cross_domain_augment_per: Optional[str] = None,
                 cross_domain_q_prime: str = 'mixed',
                 cross_domain_epsilon_flip_prob: float = 0.0,
                 cross_domain_teacher_pass: str = 'shared',
                 test_with: str = 'student',
                 sem_label_field: str = 'gt_sem_seg',
                 **kwargs) -> None:
        super().__init__(sem_label_field=sem_label_field, **kwargs)
        cross_domain_augment_per = cross_domain_augment_per or augment_per
        if self.sem_decoder is None:
            raise ValueError('MeanTeacherDepthSegEstimator needs a `sem_decoder`')
        if unlabelled_loss not in UNLABELLED_LOSSES:
            raise ValueError(f'MeanTeacherDepthSegEstimator: unlabelled_loss must be '
                             f'one of {UNLABELLED_LOSSES}, got {unlabelled_loss!r}')
        if unlabelled_loss == 'mix' and mix is None:
            raise ValueError("MeanTeacherDepthSegEstimator: unlabelled_loss='mix' "
                             'needs a `mix` config (e.g. BatchDepthMix)')
        for name, value, allowed in (
                ('mix_partner', mix_partner, MIX_PARTNERS),
                ('mix_depth', mix_depth, MIX_DEPTHS),
                ('teacher_mode', teacher_mode, TEACHER_MODES),
                ('q_prime_over', q_prime_over, Q_PRIME_OVER),
                ('unlabelled_loss_average', unlabelled_loss_average, LOSS_AVERAGES),
                ('augment_per', augment_per, AUGMENT_PER),
                ('cross_domain_augment_per', cross_domain_augment_per, AUGMENT_PER),
                ('cross_domain_q_prime', cross_domain_q_prime, CROSS_DOMAIN_Q_PRIMES),
                ('confidence_comparison', confidence_comparison, ('gt', 'ge')),
                ('cross_domain_teacher_pass', cross_domain_teacher_pass,
                 ('shared', 'separate')),
                ('test_with', test_with, ('student', 'teacher'))):
            if value not in allowed:
                raise ValueError(f'MeanTeacherDepthSegEstimator: {name} must be one '
                                 f'of {allowed}, got {value!r}')
        unknown = set(depth_loss_branches) - set(DEPTH_LOSS_BRANCHES)
        if unknown or not depth_loss_branches:
            raise ValueError('MeanTeacherDepthSegEstimator: depth_loss_branches must '
                             f'be a non-empty subset of {DEPTH_LOSS_BRANCHES}, got '
                             f'{tuple(depth_loss_branches)!r}')
        if not (blur_kernel_size == 'auto' or
                (isinstance(blur_kernel_size, int) and blur_kernel_size % 2 == 1)):
            raise ValueError('MeanTeacherDepthSegEstimator: blur_kernel_size must be '
                             f"an odd int or 'auto', got {blur_kernel_size!r}")
        if not 0.0 < teacher_momentum < 1.0:
            raise ValueError('MeanTeacherDepthSegEstimator: teacher_momentum is '
                             f'1 - alpha, in (0, 1), got {teacher_momentum}')
        if not 0.0 <= cross_domain_epsilon_flip_prob <= 1.0:
            raise ValueError('MeanTeacherDepthSegEstimator: '
                             'cross_domain_epsilon_flip_prob must lie in [0, 1], got '
                             f'{cross_domain_epsilon_flip_prob}')
        self.unlabelled_loss = unlabelled_loss
        self.mixer = MODELS.build(mix) if unlabelled_loss == 'mix' else None
        if cross_domain_epsilon_flip_prob > 0 and not hasattr(
                getattr(self.mixer, 'mixer', None), 'epsilon'):
            raise ValueError('MeanTeacherDepthSegEstimator: '
                             'cross_domain_epsilon_flip_prob needs a depth mix with '
                             f'an `epsilon` (BatchDepthMix), got {mix!r}')
        self.cross_domain_q_prime = cross_domain_q_prime
        self.cross_domain_epsilon_flip_prob = float(cross_domain_epsilon_flip_prob)
        self.mix_partner = mix_partner
        self.mix_depth = mix_depth
        self.confidence_threshold = float(confidence_threshold)
        self.confidence_comparison = confidence_comparison
        self.cross_domain_teacher_pass = cross_domain_teacher_pass
        self.teacher_mode = teacher_mode
        self.q_prime_over = q_prime_over
        self.unlabelled_loss_average = unlabelled_loss_average
        self.depth_loss_weight = float(depth_loss_weight)
        self.depth_loss_branches = tuple(depth_loss_branches)
        self.test_with = test_with
        self.color_jitter = (tv_transforms.ColorJitter(**color_jitter)
                             if color_jitter else None)
        self.color_jitter_prob = color_jitter_prob
        self.blur_sigma = tuple(blur_sigma) if blur_sigma else None
        self.blur_kernel_size = blur_kernel_size
        self.blur_prob = blur_prob
        self.augment_per = augment_per
        self.cross_domain_augment_per = cross_domain_augment_per
        ema_type = (WarmupExponentialMovingAverage if teacher_warmup
                    else ExponentialMovingAverage)
        self.teacher = ema_type(self.student_parts(), momentum=teacher_momentum,
                                update_buffers=False)

    # ------------------------------------------------------------ teacher
    def student_parts(self) -> nn.ModuleDict:
        """The modules the teacher averages (a view; not registered twice)."""
        return nn.ModuleDict(dict(backbone=self.backbone,
                                  depth_decoder=self.depth_decoder,
                                  sem_decoder=self.sem_decoder,
                                  cross_task=self.cross_task))

    def update_teacher(self) -> None:
        """``θ_T ← (1 − m) θ_T + m θ`` (the first call copies the student)."""
        self.teacher.update_parameters(self.student_parts())

    def train(self, mode: bool = True) -> 'MeanTeacherDepthSegEstimator':
        super().train(mode)
        self.teacher.eval()
        return self

    def teacher_labels(self, images: Tensor) -> Tuple[Tensor, Tensor]:
        """The teacher's pseudo-labels and confidences (eq. 12, 16), no gradient.

        Args:
            images: ``(B, 3, H, W)`` normalised images.

        Returns:
            ``S_U`` ``(B, H, W)`` long and ``P_U`` ``(B, H, W)`` in ``[0, 1]``.
        """
        parts = self.teacher.module
        parts.train(self.teacher_mode == 'train')
        try:
            with torch.no_grad():
                _, sem = self.decode_parts(parts, images)
        finally:
            parts.eval()
        logits = sem['outputs'][0]
        if logits.shape[-2:] != images.shape[-2:]:
            logits = F.interpolate(logits, size=images.shape[-2:], mode='bilinear',
                                   align_corners=False)
        conf, pseudo = logits.softmax(dim=1).max(dim=1)
        return pseudo, conf

    @staticmethod
    def decode_parts(parts: nn.ModuleDict, inputs: Tensor) -> Tuple[dict, dict]:
        """Decode with a set of parts (the student's or the teacher's)."""
        feats = parts['backbone'](inputs)
        depth, sem = decode_in_lockstep((parts['depth_decoder'], parts['sem_decoder']),
                                        feats, parts['cross_task'])
        return depth, sem

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None
                 ) -> Tuple[Tensor, Optional[Tensor]]:
        """Prediction of the student, or of the teacher with ``test_with``."""
        if self.test_with == 'teacher':
            decoded = self.decode_parts(self.teacher.module, inputs)
            return self.depth_and_logits(*decoded, inputs.shape[-2:])
        return super()._forward(inputs, data_samples)

    # ------------------------------------------------------------ training
    def loss(self, inputs: BranchedInputs,
             data_samples: Union[SampleList, Dict[str, SampleList]]
             ) -> Dict[str, Tensor]:
        """``L_S + depth_loss_weight · L_D`` of one (branched) batch."""
        if isinstance(inputs, Tensor):
            return self._labelled_only_loss(inputs, data_samples)
        for key in ('labelled', 'unlabelled'):
            if key not in inputs:
                raise KeyError(f'MeanTeacherDepthSegEstimator: the batch has branches '
                               f'{sorted(inputs)}, it needs `labelled` and '
                               '`unlabelled` (SemiSupervisedDataset)')
        lab_x, lab_s = inputs['labelled'], data_samples['labelled']
        unl_x, unl_s = inputs['unlabelled'], data_samples['unlabelled']

        lab_depth, lab_sem = self.decode(lab_x, lab_s)
        losses = {'loss_sem': self.supervised_sem_loss(lab_sem, self._labels(lab_s))}
        if self.depth_loss_weight > 0 and 'labelled' in self.depth_loss_branches:
            losses.update({
                f'{name}_labelled': value for name, value in
                self._weighted_depth_losses(lab_x, lab_s, lab_depth).items()})
        unl_depth = None
        online_mix = self.unlabelled_loss == 'mix' and self.mix_depth == 'online'
        if self.depth_loss_weight > 0 and (
                'unlabelled' in self.depth_loss_branches or online_mix):
            unl_depth, _ = self.decode(unl_x, unl_s)
            if 'unlabelled' in self.depth_loss_branches:
                losses.update(self._weighted_depth_losses(unl_x, unl_s, unl_depth))
        if self.unlabelled_loss is None:
            return losses

        self.update_teacher()
        # The teacher labels, and the mix takes, the images without the SDE
        # branch's colour jitter (the pipeline's `img_clean`, when it kept one).
        clean_x = torch.stack([s.img_clean if 'img_clean' in s else unl_x[i]
                               for i, s in enumerate(unl_s)])
        pseudo, conf = self.teacher_labels(clean_x)
        losses['pseudo_conf'] = conf.mean()
        if self.mix_partner == 'pool':  # labelled pool members keep their labels
            pseudo, conf = self._pool_labels(unl_s, pseudo, conf)

        size = unl_x.shape[-2:]
        if self.unlabelled_loss == 'pseudo':
            images, labels, conf_mixed = self.to_raw(clean_x), pseudo, conf
        else:
            unl_depth_map = self._mix_depth(unl_depth, unl_s, size)
            # The mixer writes the mixed maps back into the samples it gets: fresh
            # samples for every mix.
            def unl_mix():
                return [self._mix_sample(pseudo[k], conf[k], unl_depth_map[k])
                        for k in range(len(unl_s))]
            if self.mix_partner == 'labelled':
                lab_mix = self._labelled_mix_samples(
                    lab_s, self._mix_depth(lab_depth, lab_s, size))
                images, labels, conf_mixed, ratio = self._mix(
                    self.to_raw(clean_x), unl_mix(), self.to_raw(lab_x), lab_mix)
            else:
                images, labels, conf_mixed, ratio = self._mix(
                    self.to_raw(clean_x), unl_mix())
            losses['mix_ratio'] = ratio
        losses.update(self._mixed_loss(images, labels, conf_mixed, 'unlabelled'))

        if 'source' in inputs:  # semi-supervised domain adaptation, eq. 17-21
            src_x, src_s = inputs['source'], data_samples['source']
            _, src_sem = self.decode(src_x, src_s)
            losses['loss_sem_source'] = self.supervised_sem_loss(src_sem,
                                                                 self._labels(src_s))
            if self.unlabelled_loss == 'mix':  # cross-domain DepthMix (CDM)
                src_depth = torch.stack([self._estimate(s) for s in src_s])
                if self.cross_domain_teacher_pass == 'separate':
                    # unl_mix and target_mix read these new labels (late binding)
                    pseudo, conf = self.teacher_labels(clean_x)
                    if self.mix_partner == 'pool':
                        pseudo, conf = self._pool_labels(unl_s, pseudo, conf)
                if self.cross_domain_q_prime == 'target_share':
                    # mixing a constant q_t with the certain source pixels gives
                    # the release's weight map: 1 on source, q_t on target pixels
                    share = self._target_share(unl_s, conf)
                    def target_mix():
                        return [self._mix_sample(pseudo[k], torch.full_like(
                            conf[k], float(share)), unl_depth_map[k])
                            for k in range(len(unl_s))]
                else:
                    target_mix = unl_mix
                images, labels, conf_mixed, ratio = self._cross_domain_mix(
                    self.to_raw(src_x), self._labelled_mix_samples(src_s, src_depth),
                    self.to_raw(clean_x), target_mix())
                losses['mix_ratio_cross_domain'] = ratio
                losses.update(self._mixed_loss(
                    images, labels, conf_mixed, 'cross_domain',
                    pixel_weight=(conf_mixed if self.cross_domain_q_prime ==
                                  'target_share' else None),
                    augment_per=self.cross_domain_augment_per))
        return losses

    def _target_share(self, samples: SampleList, conf: Tensor) -> Tensor:
        """``q_t`` of ``cross_domain_q_prime='target_share'``: the share of
        confident target pixels (:meth:`confident`) over the batch, before mixing;
        images of the labelled split (pool members) count as certain everywhere,
        their ignored pixels included (the release sets their ``P`` to 1)."""
        conf = conf.clone()
        for k, sample in enumerate(samples):
            if sample.metainfo.get('is_labelled', False):
                conf[k] = 1.0
        return self.confident(conf).float().mean()

    def confident(self, conf: Tensor) -> Tensor:
        """Boolean map of the pixels that count as confident: ``P' > τ`` or, with
        ``confidence_comparison='ge'``, ``P' ≥ τ``."""
        if self.confidence_comparison == 'ge':
            return conf >= self.confidence_threshold
        return conf > self.confidence_threshold

    def _cross_domain_mix(self, source_raw: Tensor, source: SampleList,
                          target_raw: Tensor, target: SampleList
                          ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """:meth:`_mix` of source ``k`` with target ``k``; with
        ``cross_domain_epsilon_flip_prob`` each pair draws whether its ε is
        negated (one pair at a time, the mixer's ε restored afterwards)."""
        if self.cross_domain_epsilon_flip_prob == 0:
            return self._mix(source_raw, source, target_raw, target)
        depth_mix = self.mixer.mixer
        epsilon = depth_mix.epsilon
        flips = torch.rand(len(source)) < self.cross_domain_epsilon_flip_prob
        parts = []
        try:
            for k in range(len(source)):
                depth_mix.epsilon = -epsilon if bool(flips[k]) else epsilon
                parts.append(self._mix(source_raw[k:k + 1], source[k:k + 1],
                                       target_raw[k:k + 1], target[k:k + 1]))
        finally:
            depth_mix.epsilon = epsilon
        images, labels, conf = (torch.cat([p[i] for p in parts]) for i in range(3))
        return images, labels, conf, torch.stack([p[3] for p in parts]).mean()

    def _mixed_loss(self, images: Tensor, labels: Tensor, conf: Tensor,
                    name: str, pixel_weight: Optional[Tensor] = None,
                    augment_per: Optional[str] = None) -> Dict[str, Tensor]:
        """``q' · L_ce`` (eq. 13, 19, 20) of mixed (or pseudo-labelled) images.

        Args:
            images: ``(B, 3, H, W)`` float RGB 0–255, before the colour jitter and
                blur applied here.
            labels: ``S'`` ``(B, H, W)``.
            conf: ``P'`` ``(B, H, W)``.
            name: Suffix of the logged keys.
            pixel_weight: ``(B, H, W)`` weights used instead of ``q'`` of ``conf``
                (``cross_domain_q_prime='target_share'``); their mean is logged.
            augment_per: :meth:`strong_augment`'s mode (``None``: ``augment_per``).
        """
        images = self.data_preprocessor.normalize_float(
            self.strong_augment(images, augment_per))
        if pixel_weight is None:
            q_prime = self.q_prime(conf)
            weight = q_prime[:, None, None].expand_as(labels)
        else:
            weight = pixel_weight
            q_prime = pixel_weight.mean(dim=(1, 2))
        _, sem = self.decode(images, None)
        avg_factor = (labels.numel() if self.unlabelled_loss_average == 'all'
                      else None)
        suffix = '' if name == 'unlabelled' else f'_{name}'
        return {f'loss_sem_{name}': self._sem_loss(sem['outputs'], labels,
                                                   weight=weight,
                                                   avg_factor=avg_factor),
                f'q_prime{suffix}': q_prime.mean()}

    def q_prime(self, conf: Tensor) -> Tensor:
        """Eq. 14: the share of confident pixels (``P' > τ``, or ``≥`` with
        ``confidence_comparison='ge'``), ``(B,)``.

        ``q_prime_over='image'`` gives each image its own share; ``'batch'`` one
        share over all ``B·H·W`` pixels, repeated for each image.
        """
        confident = self.confident(conf).float()
        if self.q_prime_over == 'batch':
            return confident.mean().expand(conf.shape[0])
        return confident.mean(dim=(1, 2))

    def _pool_labels(self, samples: SampleList, pseudo: Tensor, conf: Tensor
                     ) -> Tuple[Tensor, Tensor]:
        """Pseudo-labels, replaced by the ground truth (P = 1; P = 0 where it is
        ignored) for the samples of the pool that belong to the labelled split."""
        pseudo, conf = pseudo.clone(), conf.clone()
        for k, sample in enumerate(samples):
            if 'is_labelled' not in sample.metainfo:
                raise KeyError(
                    f"mix_partner='pool' needs `is_labelled` in the metainfo of "
                    f'{sample.metainfo.get("img_path")}: build the training set with '
                    'SemiSupervisedDataset(mark_labelled=True)')
            if not sample.metainfo['is_labelled']:
                continue
            if 'gt_sem_seg' not in sample:
                raise KeyError(f'{sample.metainfo.get("img_path")} is in the labelled '
                               'split but has no `gt_sem_seg`: add LoadSemAnnotation '
                               'to the unlabelled pipeline')
            labels = sample.gt_sem_seg.data[0].to(pseudo.device).long()
            if labels.shape != pseudo.shape[-2:]:
                raise ValueError(f'{sample.metainfo.get("img_path")}: labels of '
                                 f'{tuple(labels.shape)} pixels for an image of '
                                 f'{tuple(pseudo.shape[-2:])}')
            pseudo[k] = labels
            conf[k] = (labels != IGNORE_INDEX).float()
        return pseudo, conf

    def _labelled_only_loss(self, inputs: Tensor, data_samples: SampleList
                            ) -> Dict[str, Tensor]:
        depth, sem = self.decode(inputs, data_samples)
        losses = {'loss_sem': self.supervised_sem_loss(sem, self._labels(data_samples))}
        if self.depth_loss_weight > 0:
            losses.update(self._weighted_depth_losses(inputs, data_samples, depth))
        return losses

    def _weighted_depth_losses(self, inputs: Tensor, data_samples: SampleList,
                               decoded: dict) -> Dict[str, Tensor]:
        """:meth:`depth_losses` with the ``loss_*`` terms times ``depth_loss_weight``
        (the logged ratios unchanged)."""
        return {name: self.depth_loss_weight * value if name.startswith('loss_')
                else value
                for name, value in self.depth_losses(inputs, data_samples,
                                                     decoded).items()}

    def _sem_loss(self, outputs: Dict[int, Tensor], labels: Tensor,
                  weight: Optional[Tensor] = None,
                  avg_factor: Optional[int] = None) -> Tensor:
        """``sem_loss`` of the scale-0 logits at the labels' size, with optional
        per-pixel ``weight`` ``(B, H, W)`` (``q'`` of each image) and the count
        ``avg_factor`` to average over (default: the loss's own rule)."""
        logits = outputs[0]
        if logits.shape[-2:] != labels.shape[-2:]:
            logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear',
                                   align_corners=False)
        if avg_factor is None:
            return self.sem_loss(logits, labels, weight=weight,
                                 ignore_index=IGNORE_INDEX)
        return self.sem_loss(logits, labels, weight=weight, avg_factor=avg_factor,
                             ignore_index=IGNORE_INDEX)

    def to_raw(self, images: Tensor) -> Tensor:
        """Normalised images -> float RGB 0–255 (what batch mixes take)."""
        return self.data_preprocessor.denormalize(images)

    def strong_augment(self, images: Tensor, augment_per: Optional[str] = None
                       ) -> Tensor:
        """Colour jitter and Gaussian blur of ``(B, 3, H, W)`` float 0–255 images.

        Whether to jitter, whether to blur and the blur's σ are drawn per image
        (``augment_per='image'``), once for the batch (``'batch'``), or the two
        switches once and σ per image (``'switches'``); the jitter factors are
        drawn per image in every mode. ``augment_per=None`` takes the estimator's.
        """
        mode = augment_per or self.augment_per

        def switches():
            return (float(torch.rand(())) < self.color_jitter_prob,
                    float(torch.rand(())) < self.blur_prob)

        def draw_sigma():
            return (float(torch.empty(()).uniform_(*self.blur_sigma))
                    if self.blur_sigma else 0.0)

        # draw order per image (or once): jitter?, blur?, sigma
        shared = switches() if mode in ('batch', 'switches') else None
        shared_sigma = draw_sigma() if mode == 'batch' else None
        out = []
        for image in images:
            jitter, blur = shared or switches()
            sigma = draw_sigma() if shared_sigma is None else shared_sigma
            image = image / 255.0
            if self.color_jitter is not None and jitter:
                image = self.color_jitter(image.clamp(0.0, 1.0))
            if self.blur_sigma is not None and blur:
                image = tv_transforms.functional.gaussian_blur(
                    image, self.blur_kernel(image.shape[-2:]), [sigma, sigma])
            out.append(image * 255.0)
        return torch.stack(out)

    def blur_kernel(self, size: Tuple[int, int]) -> Tuple[int, int]:
        """The blur's ``(kernel_w, kernel_h)`` for an image of ``size = (H, W)``."""
        if self.blur_kernel_size == 'auto':
            return auto_blur_kernel(size[1]), auto_blur_kernel(size[0])
        return self.blur_kernel_size, self.blur_kernel_size

    @staticmethod
    def _estimate(sample: DepthSemDataSample) -> Tensor:
        """The sample's pre-computed SDE depth ``(1, H, W)`` (``LoadDepthEstimate``)."""
        if 'est_depth_map' not in sample:
            raise KeyError(f'{sample.metainfo.get("img_path")} has no `est_depth_map` '
                           'to mix by: add LoadDepthEstimate to its pipeline (source '
                           "images always need one; target images unless mix_depth="
                           "'online')")
        return sample.est_depth_map.data.float()

    def _mix_depth(self, decoded: Optional[dict], samples: SampleList,
                   size: Tuple[int, int]) -> Tensor:
        """``(B, 1, H, W)`` depth (metres) the mix mask compares."""
        if not self.mixer.mixer.reads_depth:  # ClassMix, CutMix: moved, never read
            return torch.zeros(len(samples), 1, *size,
                               device=next(self.parameters()).device)
        if self.mix_depth == 'estimate':
            return torch.stack([self._estimate(s) for s in samples])
        if decoded is None:
            raise ValueError("mix_depth='online' reads the depth branch, which is "
                             'not run without the SDE loss (depth_loss_weight=0); '
                             "use mix_depth='estimate' with pre-computed depth")
        depth, _ = self.depth_and_logits(decoded, None, size)
        return depth.detach()

    def _mix(self, first_raw: Tensor, first: SampleList,
             partner_raw: Optional[Tensor] = None,
             partner: Optional[SampleList] = None
             ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Mix sample ``k`` of ``first`` with sample ``k`` of ``partner`` (or, without
        a partner, with ``first[k + 1]``): eq. 8–10 for images and labels, eq. 15 for
        the confidences.

        Args:
            first_raw: ``(B, 3, H, W)`` float RGB 0–255 images whose pixels are kept
                where the mask is 1 (nearer).
            first: Their :meth:`_mix_sample` samples (labels, P, depth).
            partner_raw, partner: The same for the partners.

        Returns:
            Mixed images ``(B, 3, H, W)`` float 0–255, labels ``S'`` ``(B, H, W)``,
            confidences ``P'`` ``(B, H, W)`` and the share of partner pixels.
        """
        count = len(first)
        images, samples = first_raw, list(first)
        self.mixer.shift = 1
        if partner is not None:
            if partner_raw.shape[-2:] != first_raw.shape[-2:]:
                raise ValueError(
                    f'images of {tuple(first_raw.shape[-2:])} and '
                    f'{tuple(partner_raw.shape[-2:])} pixels cannot be mixed; crop '
                    'every branch to one size')
            images = torch.cat([first_raw, partner_raw])
            samples += list(partner)
            self.mixer.shift = count
        mixed, samples = self.mixer(images, samples)
        samples = samples[:count]
        labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
        conf = torch.stack([s.gt_pseudo_conf.data[0] for s in samples])
        own = torch.stack([s.mix_mask.data[0] for s in samples])
        return mixed[:count], labels, conf, (~own).float().mean()

    def _labelled_mix_samples(self, samples: SampleList, depth: Tensor
                              ) -> SampleList:
        """Mix samples of labelled images: ground truth with P = 1 (eq. 16)."""
        labels = self._labels(samples)
        return [self._mix_sample(labels[k], torch.ones(labels.shape[-2:],
                                                       device=labels.device), depth[k])
                for k in range(len(samples))]

    @staticmethod
    def _mix_sample(labels: Tensor, conf: Tensor, depth: Tensor) -> DepthSemDataSample:
        """A sample holding what a batch mix moves: labels, confidence, depth."""
        sample = DepthSemDataSample()
        sample.gt_sem_seg = PixelData(data=labels[None].long())
        sample.gt_pseudo_conf = PixelData(data=conf[None].float())
        sample.est_depth_map = PixelData(data=depth.reshape(1, *depth.shape[-2:]))
        return sample
