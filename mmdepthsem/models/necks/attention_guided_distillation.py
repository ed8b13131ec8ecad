"""PAD-Net's attention-guided multi-modal distillation between two task streams.

Xu et al., "PAD-Net: Multi-Tasks Guided Prediction-and-Distillation Network for
Simultaneous Depth Estimation and Scene Parsing" (CVPR 2018), distillation module
(c): for task ``k`` with features ``F_k``, every other task ``l`` sends a message
``W_l * F_l`` gated by an attention map computed from the receiving task's own
features, ``G_k = sigmoid(W_g,k * F_k)``, and the gated messages are added to
``F_k``. With two tasks (depth ``d``, semantics ``s``)::

    F_d' = F_d + sigmoid(Conv_gd(F_d)) * Conv_sd(F_s)
    F_s' = F_s + sigmoid(Conv_gs(F_s)) * Conv_ds(F_d)

Used by SDE-Seg after the third up-block of its two decoders and, inside
:class:`PADNetDistillationNeck`, as a DSS Table 4 comparison. The description leaves
the convolutions open; here they are ``kernel_size`` × ``kernel_size`` with bias, no
norm or activation, width unchanged, and the gate is per channel and pixel.

SDE-Seg's released code (``models/model_parts.py``, ``SelfAttention``, used by
``PAD`` in ``models/joint_segmentation_depth_decoder.py``) gates each message with
the *sending* task's features, ``F_s' = F_s + sigmoid(Conv_gs(F_d)) * Conv_ds(F_d)``,
with bias-free convolutions and the gate convolution initialised to zero (every
gate 0.5 at the start): ``gate_source='sender', bias=False, zero_init_gate=True``.
"""
from typing import Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

GATE_SOURCES = ('receiver', 'sender')


@MODELS.register_module()
class AttentionGuidedDistillation(BaseModule):
    """Exchange gated messages between a depth and a semantic feature map.

    Called as ``depth, sem = module(depth, sem)``, the interface of the
    ``cross_task_blocks`` of :class:`SelfSupervisedDepthEstimator`.

    Args:
        channels: Channels ``C`` of both feature maps.
        kernel_size: Kernel of the gate and message convolutions (3).
        gate_source: ``'receiver'`` (PAD-Net: each task gates what it receives
            with its own features) or ``'sender'`` (SDE-Seg's released code: the
            sending task's features gate its message).
        bias: Give the convolutions a bias.
        zero_init_gate: Start the gate convolutions at zero (gates 0.5) instead
            of the default initialisation; with ``init_cfg`` the latter decides.
    """

    def __init__(self, channels: int, kernel_size: int = 3,
                 gate_source: str = 'receiver', bias: bool = True,
                 zero_init_gate: bool = False, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if gate_source not in GATE_SOURCES:
            raise ValueError(f'AttentionGuidedDistillation: gate_source must be one '
                             f'of {GATE_SOURCES}, got {gate_source!r}')
        self.gate_source = gate_source
        pad = kernel_size // 2

        def conv() -> nn.Conv2d:
            return nn.Conv2d(channels, channels, kernel_size, padding=pad, bias=bias)

        # Gate of the message each task receives (named by the receiver).
        self.depth_gate = conv()
        self.sem_gate = conv()
        # Messages, named source_to_target.
        self.sem_to_depth = conv()
        self.depth_to_sem = conv()
        if zero_init_gate:
            for gate in (self.depth_gate, self.sem_gate):
                nn.init.zeros_(gate.weight)
                if gate.bias is not None:
                    nn.init.zeros_(gate.bias)

    def gates(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """The attention maps ``(G_d, G_s)`` of the messages to depth and to
        semantics, each ``(B, C, h, w)`` in ``(0, 1)``."""
        if self.gate_source == 'sender':
            return self.depth_gate(sem).sigmoid(), self.sem_gate(depth).sigmoid()
        return self.depth_gate(depth).sigmoid(), self.sem_gate(sem).sigmoid()

    def forward(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """Distil features across the tasks.

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s')``, each ``(B, C, h, w)``.
        """
        gate_d, gate_s = self.gates(depth, sem)
        return (depth + gate_d * self.sem_to_depth(sem),
                sem + gate_s * self.depth_to_sem(depth))
