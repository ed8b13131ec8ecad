"""AG-MMD: PAD-Net's attention-guided multi-modal distillation (Xu et al., "PAD-Net:
Multi-Tasks Guided Prediction-and-Distillation Network for Simultaneous Depth
Estimation and Scene Parsing", CVPR 2018), as a DSS Table 4 comparison neck (DSS
reference [37]).

Published description (PAD-Net eq. for its distillation module c): for task ``k``,

    F_k^o = F_k + sum_{l != k} G_k * (W_l conv F_l),   G_k = sigmoid(W_g,k conv F_k)

i.e. an attention map from the task's own features gates the messages passed from
every other task. Here the tasks are the two DSS streams (depth, semantics) and the
features are the task-neck outputs at stride 4. Left open / chosen here:

- PAD-Net distils from its intermediate task predictions' features at one scale; here
  the task-neck outputs take that role (no intermediate deep supervision).
- Gate and message convolutions: see :class:`AttentionGuidedDistillation`.
"""
from typing import Optional, Tuple

from torch import Tensor

from mmdepthsem.models.necks.attention_guided_distillation import \
    AttentionGuidedDistillation
from mmdepthsem.models.necks.cross_task_neck import CrossTaskNeck
from mmdepthsem.registry import MODELS


@MODELS.register_module()
class PADNetDistillationNeck(CrossTaskNeck):
    """DSS task necks + PAD-Net attention-guided multi-modal distillation (AG-MMD).

    The interaction is :class:`AttentionGuidedDistillation` on the task-neck
    outputs::

        F_d' = F_d + sigmoid(Conv_gd(F_d)) * Conv_sd(F_s)
        F_s' = F_s + sigmoid(Conv_gs(F_s)) * Conv_ds(F_d)

    Checkpoints written before the convolutions moved into ``distillation``
    (module version 1, mmdepthsem 0.1.0 up to commit 4c4e651: ``depth_gate.*``
    directly under the neck) are upgraded on loading.

    Args:
        kernel_size: Kernel of the gate and message convolutions (3).
        **kwargs: :class:`CrossTaskNeck`'s arguments (task necks).
    """

    # 2: gate and message convolutions under `distillation.` (was: on the neck)
    _version = 2
    _V1_LAYERS = ('depth_gate', 'sem_gate', 'sem_to_depth', 'depth_to_sem')

    def __init__(self,
                 kernel_size: int = 3,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.distillation = AttentionGuidedDistillation(self.channels, kernel_size)

    def interact(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """Attention-gated message passing between the tasks.

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s')``, each ``(B, C, h, w)``.
        """
        return self.distillation(depth, sem)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args,
                              **kwargs) -> None:
        # No version (a state dict rebuilt without torch's metadata) is treated as
        # possibly old: only keys of the version-1 layout are moved.
        version = local_metadata.get('version')
        if version is None or version < 2:
            for layer in self._V1_LAYERS:
                for name in ('weight', 'bias'):
                    old = f'{prefix}{layer}.{name}'
                    if old in state_dict:
                        state_dict[f'{prefix}distillation.{layer}.{name}'] = \
                            state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args,
                                      **kwargs)
