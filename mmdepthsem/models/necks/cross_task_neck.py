"""Shared base of the DSS neck and its Table 4 comparison necks: two task necks
followed by a task-interaction module (the Symbiotic Transformer or a baseline)."""
from typing import Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn


class CrossTaskNeck(BaseModule):
    """Task necks of :class:`DSSNeck` + an interaction module (abstract).

    ::

        F_d = Depth-Neck(D_1),  F_s = Semantic-Neck(D_1)    # [Conv3x3-LN-GELU] x 2
        F_d', F_s' = interact(F_d, F_s)                       # the subclass's module

    Every subclass (:class:`DSSNeck` included) has the same task-neck parameter names
    (``depth_neck.*``, ``sem_neck.*``), so a stage-1 checkpoint of DSS loads into
    every comparison neck the same way.

    Args:
        in_channels: Channels of ``D_1``.
        channels: Width of the necks and of the interaction module (128 in DSS).
        in_index: Which input map is ``D_1``.
        num_convs: Conv-norm-act layers per task neck (2).
        norm_cfg: Norm of the task necks (channel LayerNorm, ``'LN2d'``).
        act_cfg: Activation of the task necks (GELU).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int = 128,
                 channels: int = 128,
                 in_index: int = 0,
                 num_convs: int = 2,
                 norm_cfg: dict = dict(type='LN2d'),
                 act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_index = in_index
        self.channels = channels
        # also the norm / activation of the interaction modules of subclasses
        self.norm_cfg, self.act_cfg = norm_cfg, act_cfg
        self.depth_neck = self._neck(in_channels, channels, num_convs, norm_cfg,
                                     act_cfg)
        self.sem_neck = self._neck(in_channels, channels, num_convs, norm_cfg, act_cfg)

    @staticmethod
    def _neck(in_channels: int, channels: int, num_convs: int, norm_cfg: dict,
              act_cfg: dict) -> nn.Sequential:
        """``num_convs`` × [Conv3×3 → norm → act] (DSS eq. 3)."""
        layers = []
        for i in range(num_convs):
            layers.append(ConvModule(in_channels if i == 0 else channels, channels, 3,
                                     padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        return nn.Sequential(*layers)

    def interact(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """Exchange information between the task features.

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s')``, each ``(B, C, h, w)``.
        """
        raise NotImplementedError

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]
                ) -> Tuple[Tuple[Tensor], Tuple[Tensor]]:
        """Task features of the decoder output.

        Args:
            inputs: ``D_1`` ``(B, in_channels, H/4, W/4)`` or a sequence holding it
                at ``in_index``.

        Returns:
            ``((F_d', ), (F_s', ))``, each ``(B, channels, H/4, W/4)``: the depth
            head's and the semantic head's inputs.
        """
        d1 = inputs if isinstance(inputs, Tensor) else inputs[self.in_index]
        depth, sem = self.interact(self.depth_neck(d1), self.sem_neck(d1))
        return (depth, ), (sem, )
