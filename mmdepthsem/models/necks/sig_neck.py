"""SIG: semantic inference guidance (Zhang, Fan and Zhao, "Semisupervised learning-
based depth estimation with semantic inference guidance", Sci. China Technol. Sci.
2022), as a DSS Table 4 comparison neck (DSS reference [42]).

Published description: depth estimation and semantic segmentation are both
coarse-to-fine decoders and the depth decoder is guided, stage by stage, by the
decoded semantic features ("SIG incorporates decoded semantic features into depth
features", DSS sec. 2). One-directional: semantics guide depth, not the reverse.

Simplified / chosen here:

- A single scale (the stride-4 task-neck outputs) instead of every decoder stage.
- The guidance is a residual fusion of the concatenated features,
  ``F_d' = F_d + Conv3x3-LN-GELU([F_d, F_s])`` (``2C -> C``); the fusion block's
  exact layers are not given by the description.
- The semantic features go to the semantic head unchanged.
"""
from typing import Tuple

import torch
from mmcv.cnn import ConvModule
from torch import Tensor

from mmdepthsem.models.necks.cross_task_neck import CrossTaskNeck
from mmdepthsem.registry import MODELS


@MODELS.register_module()
class SIGNeck(CrossTaskNeck):
    """DSS task necks + semantic inference guidance of the depth features (SIG).

    ::

        F_d' = F_d + GELU(LN(Conv3x3(Concat(F_d, F_s))))
        F_s' = F_s

    Args:
        **kwargs: :class:`CrossTaskNeck`'s arguments (its ``norm_cfg`` /
            ``act_cfg`` also serve the guidance block).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.guide = ConvModule(2 * self.channels, self.channels, 3, padding=1,
                                norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def interact(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """Add the semantics-guided residual to the depth features.

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s)``, each ``(B, C, h, w)``.
        """
        return depth + self.guide(torch.cat([depth, sem], dim=1)), sem
