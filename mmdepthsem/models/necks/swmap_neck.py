"""SW-Map: semantic-map guided depth (Yue, Fu, Wu and Wang, "Semi-supervised
monocular depth estimation based on semantic supervision", J. Intell. Robot. Syst.
2020, "SE-Net"), as a DSS Table 4 comparison neck (DSS reference [40]).

Published description: two encoder-decoders in sequence — semantic segmentation is
predicted first and its semantic map is then fed to, and guides, the depth network
("SW-Map utilizes dual encoder-decoder systems", DSS sec. 2). One-directional:
semantics guide depth. What reaches the depth stream is the semantic *map* (class
scores), not the semantic features — this is what distinguishes it from
:class:`SIGNeck`.

Simplified / chosen here:

- One shared encoder-decoder (DSS's) instead of two; the semantic map is predicted
  by a 1x1 conv from the semantic task-neck output and soft-maxed over
  ``num_classes`` (the teacher's 150 by default). It is not supervised directly —
  the semantic head stays the only semantic output — so it is learned through the
  depth loss (the original supervised its segmentation with labels).
- The depth stream takes the map as extra input channels:
  ``F_d' = Conv3x3-LN-GELU([F_d, P])`` (``C + K -> C``), replacing ``F_d`` (input
  fusion, as the depth network's input in SE-Net; no residual).
- The semantic features go to the semantic head unchanged.
"""
from typing import Tuple

import torch
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from mmdepthsem.models.necks.cross_task_neck import CrossTaskNeck
from mmdepthsem.registry import MODELS


@MODELS.register_module()
class SWMapNeck(CrossTaskNeck):
    """DSS task necks + a soft semantic map fed to the depth stream (SW-Map).

    ::

        P    = softmax_K(Conv1x1(F_s))                  # (B, K, h, w)
        F_d' = GELU(LN(Conv3x3(Concat(F_d, P))))
        F_s' = F_s

    Args:
        num_classes: Classes ``K`` of the semantic map (150, the teacher's).
        **kwargs: :class:`CrossTaskNeck`'s arguments (its ``norm_cfg`` /
            ``act_cfg`` also serve the fusion block).
    """

    def __init__(self,
                 num_classes: int = 150,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.sem_map = nn.Conv2d(self.channels, num_classes, 1)
        self.fuse = ConvModule(self.channels + num_classes, self.channels, 3,
                               padding=1, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def interact(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """Fuse the soft semantic map into the depth features.

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s)``, each ``(B, C, h, w)``.
        """
        prob = self.sem_map(sem).softmax(dim=1)
        return self.fuse(torch.cat([depth, prob], dim=1)), sem
