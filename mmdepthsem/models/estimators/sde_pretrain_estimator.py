"""SDE-Seg's two-stage self-supervised depth pretraining (§3.3, §4.3)."""
import copy
from typing import Dict, List, Optional

import torch
from torch import Tensor
from torch.profiler import record_function

from mmdepthsem.registry import MODELS
from .base_estimator import SampleList
from .self_supervised_estimator import SelfSupervisedDepthEstimator


@MODELS.register_module()
class SDEPretrainEstimator(SelfSupervisedDepthEstimator):
    """Monodepth2 SDE with a frozen encoder (stage A) or an ImageNet feature
    distance on the encoder (stage B).

    SDE-Seg pretrains the depth branch in two runs, both starting from an ImageNet
    encoder::

        stage A  freeze_backbone=True      depth decoder + pose net trained,
                                           encoder weights and BN statistics fixed
        stage B  feature_distance_loss=... encoder fine-tuned as well, with
                                           L = L_D + λ_F · ||f_θ^E(x) - f_I^E(x)||_2

    where ``f_θ^E(x)`` is the bottleneck (the backbone's last output) of the batch
    ``inputs`` and ``f_I^E`` a frozen copy of the encoder in eval mode
    (``reference_backbone``).

    **Where the reference comes from.** Stage B starts from the stage-A checkpoint
    (``load_from``), which the Runner loads *after* building the model, so the
    reference cannot be copied in ``__init__``. Instead the persistent buffer
    ``reference_ready`` (0/1) marks it: the first :meth:`loss` call that finds it at 0
    copies the encoder's current weights and buffers into ``reference_backbone`` and
    sets it to 1. A stage-A checkpoint has neither the flag nor the reference, so
    with ``load_from`` (non-strict) the flag stays 0 and the reference becomes the
    loaded encoder, which is the ImageNet encoder because stage A froze it. The
    reference and the flag are in the state dict: resuming a stage-B run (or loading
    a stage-B checkpoint) keeps the saved reference and does not copy again.

    The reference runs in eval mode (ImageNet BN statistics) while the fine-tuned
    encoder normalises with batch statistics in training, so ``L_F`` is small but
    not exactly 0 at the first training step; it is 0 in eval mode.

    The frozen parameters (the encoder in stage A, the reference always) have
    ``requires_grad=False``: they never get a gradient, so the optimiser never
    changes them even when its constructor lists them, and DDP does not reduce
    them. Both stay in eval mode through ``model.train()``.

    Losses (keys): those of :class:`SelfSupervisedDepthEstimator`, plus
    ``loss_feat_dist`` (``λ_F · L_F``, the loss's ``loss_name``) in stage B.

    Args:
        freeze_backbone: Stage A: fix the encoder (no gradients, eval mode).
        feature_distance_loss: Stage B: :class:`FeatureDistanceLoss` config
            (``λ_F`` as ``loss_weight``); builds ``reference_backbone``.
        **kwargs: :class:`SelfSupervisedDepthEstimator` arguments.
    """

    def __init__(self,
                 *args,
                 freeze_backbone: bool = False,
                 feature_distance_loss: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if freeze_backbone and feature_distance_loss is not None:
            raise ValueError('SDEPretrainEstimator: `freeze_backbone` (stage A) and '
                             '`feature_distance_loss` (stage B) exclude each other: '
                             'a frozen encoder does not move away from the reference')
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            self.backbone.requires_grad_(False)
        self.feature_distance_loss = (MODELS.build(feature_distance_loss)
                                      if feature_distance_loss else None)
        if self.feature_distance_loss is not None:
            self.reference_backbone = copy.deepcopy(self.backbone).requires_grad_(False)
            self.register_buffer('reference_ready', torch.zeros((), dtype=torch.long))
        else:
            self.reference_backbone = None
        self.train(self.training)

    def train(self, mode: bool = True) -> 'SDEPretrainEstimator':
        """Set the training mode; the frozen encoders stay in eval mode."""
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        if self.reference_backbone is not None:
            self.reference_backbone.eval()
        return self

    @torch.no_grad()
    def init_reference(self, force: bool = False) -> bool:
        """Copy the encoder into ``reference_backbone`` unless already done.

        Args:
            force: Copy even when ``reference_ready`` is 1.

        Returns:
            Whether it copied.
        """
        if self.reference_backbone is None:
            raise RuntimeError('SDEPretrainEstimator: no reference encoder without '
                               '`feature_distance_loss`')
        if bool(self.reference_ready) and not force:
            return False
        self.reference_backbone.load_state_dict(self.backbone.state_dict())
        self.reference_ready.fill_(1)
        return True

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """The SDE losses of one batch, plus ``λ_F · L_F`` in stage B.

        Args:
            inputs: ``(B, 3, H, W)`` normalised target images.
            data_samples: The samples, with ``frames`` and ``intrinsics``.
        """
        if self.feature_distance_loss is None:
            return super().loss(inputs, data_samples)
        self.init_reference()
        # The parent's decode() runs the encoder once on `inputs`; a hook keeps that
        # bottleneck instead of running the encoder a second time.
        bottleneck: List[Tensor] = []
        handle = self.backbone.register_forward_hook(
            lambda module, args, outputs: bottleneck.append(outputs[-1]))
        try:
            losses = super().loss(inputs, data_samples)
        finally:
            handle.remove()
        with record_function('selfsup/feature_distance'):
            with torch.no_grad():
                reference = self.reference_backbone(inputs)[-1]
            losses[self.feature_distance_loss.loss_name] = \
                self.feature_distance_loss(bottleneck[0], reference)
        return losses
