"""U-Net-style decoder: upsample, concatenate the encoder skip, convolve."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmdepthsem.registry import MODELS


@MODELS.register_module()
class UpConcatDecoder(BaseModule):
    """Top-down decoder shared by the depth and semantic branches.

    With encoder features ``E_1 .. E_L`` ordered fine to coarse, ``D_L = E_L`` and for
    ``i = L-1 .. 1``::

        D_i = act(norm(conv3x3(concat(E_i, up(D_{i+1})))))

    ``up`` is bilinear resizing to ``E_i``'s size (exactly ×2 for power-of-two inputs,
    and correct for odd sizes). ``num_convs`` > 1 stacks more conv-norm-act layers per
    level. This is DSS's eq. 1 with ``channels=(128, 256, 512)``, LayerNorm and GELU,
    and the simple multi-task baseline's decoder with BatchNorm and ReLU.

    Args:
        in_channels: Channels of the used encoder features, fine to coarse.
        channels: Output channels of ``D_1 .. D_{L-1}``, fine to coarse
            (``len(in_channels) - 1`` values).
        in_index: Which backbone outputs to use, fine to coarse (default: all).
        num_convs: Conv-norm-act layers per level.
        norm_cfg: Norm layer config (mmcv); e.g. ``dict(type='BN')``.
        act_cfg: Activation config (mmcv); e.g. ``dict(type='ReLU')``.
        out_levels: Which decoder levels to return, 0 = finest (``D_1``). Default
            returns all levels ``(D_1, ..., D_L)``.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: Sequence[int],
                 in_index: Optional[Sequence[int]] = None,
                 num_convs: int = 1,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 out_levels: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(channels) != len(in_channels) - 1:
            raise ValueError(
                f'UpConcatDecoder: `channels` needs len(in_channels) - 1 = '
                f'{len(in_channels) - 1} values, got {len(channels)}')
        self.in_channels = list(in_channels)
        self.channels = list(channels)
        self.in_index = list(in_index) if in_index is not None else list(
            range(len(in_channels)))
        if len(self.in_index) != len(in_channels):
            raise ValueError('UpConcatDecoder: `in_index` and `in_channels` '
                             'must have the same length')
        self.out_levels = list(out_levels) if out_levels is not None else list(
            range(len(in_channels)))
        # widths[i] = channels of D_{i+1}; the coarsest level passes E_L through.
        widths = self.channels + [self.in_channels[-1]]
        self.blocks = torch.nn.ModuleList()
        for level in range(len(self.channels)):
            layers = []
            cin = self.in_channels[level] + widths[level + 1]
            for _ in range(num_convs):
                layers.append(
                    ConvModule(cin, widths[level], 3, padding=1,
                               norm_cfg=norm_cfg, act_cfg=act_cfg))
                cin = widths[level]
            self.blocks.append(torch.nn.Sequential(*layers))
        self.out_channels = [widths[i] for i in self.out_levels]

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Decode encoder features.

        Args:
            inputs: Backbone outputs; ``inputs[in_index[i]]`` is ``E_{i+1}`` with
                shape ``(B, in_channels[i], H_i, W_i)``, fine to coarse.

        Returns:
            The decoder maps of ``out_levels``, fine to coarse.
        """
        feats: List[Tensor] = [inputs[i] for i in self.in_index]
        for i, (feat, cin) in enumerate(zip(feats, self.in_channels)):
            if feat.shape[1] != cin:
                raise ValueError(
                    f'UpConcatDecoder: input {self.in_index[i]} has {feat.shape[1]} '
                    f'channels, `in_channels[{i}]` says {cin}')
        decoded = [feats[-1]]
        for level in reversed(range(len(self.channels))):
            skip = feats[level]
            up = F.interpolate(decoded[0], size=skip.shape[-2:], mode='bilinear',
                               align_corners=False)
            decoded.insert(0, self.blocks[level](torch.cat([skip, up], dim=1)))
        return tuple(decoded[i] for i in self.out_levels)
