"""Cross-stitch units of Misra et al., "Cross-stitch Networks for Multi-task Learning"
(CVPR 2016) as an mmdepthsem task neck.

Deviations from the paper: the paper stitches two whole task networks after every
layer; here one stitch sits between the shared decoder and the two heads, after one
task-specific Conv3x3-BN-ReLU per task and decoder level. The paper's eq. 1 mixes with
one 2x2 matrix per pair of activation maps; this neck learns one 2x2 matrix per
channel, which starts as the paper's unit because every channel gets the same
initial values.
"""
from typing import Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS


def cross_stitch(depth: Tensor, sem: Tensor, alpha: Tensor) -> Tuple[Tensor, Tensor]:
    """Mix two task maps channel by channel with 2x2 matrices.

    ``[depth'; sem'] = [[a_dd, a_ds], [a_sd, a_ss]] . [depth; sem]`` per channel ``c``
    and every pixel, with ``a_ij = alpha[i, j, c]`` (task 0 = depth, 1 = semantics).

    Args:
        depth: Depth-task map ``(B, C, H, W)``.
        sem: Semantic-task map ``(B, C, H, W)``.
        alpha: Mixing weights ``(2, 2, C)``; ``alpha[i, j]`` weighs task ``j``'s map
            in task ``i``'s output.

    Returns:
        ``(depth', sem')``, each ``(B, C, H, W)``.
    """
    if depth.shape != sem.shape:
        raise ValueError(f'cross_stitch: depth {tuple(depth.shape)} and sem '
                         f'{tuple(sem.shape)} differ in shape')
    if alpha.shape != (2, 2, depth.shape[1]):
        raise ValueError(f'cross_stitch: alpha must be (2, 2, {depth.shape[1]}), got '
                         f'{tuple(alpha.shape)}')
    a = alpha.to(depth.dtype)[..., None, None]   # (2, 2, C, 1, 1), broadcast on B, H, W
    return a[0, 0] * depth + a[0, 1] * sem, a[1, 0] * depth + a[1, 1] * sem


class CrossStitchUnit(nn.Module):
    """Learnable per-channel cross-stitch between the depth and semantic maps.

    Args:
        channels: ``C``, channels of both maps.
        init: ``(alpha_same, alpha_other)``: initial weight of a task's own map and of
            the other task's map, the same for every channel.
    """

    def __init__(self, channels: int, init: Tuple[float, float] = (0.9, 0.1)) -> None:
        super().__init__()
        same, other = init
        alpha = torch.tensor([[same, other], [other, same]], dtype=torch.float32)
        self.alpha = nn.Parameter(alpha[..., None].repeat(1, 1, channels))

    def forward(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """``(depth', sem')`` of :func:`cross_stitch`, each ``(B, C, H, W)``."""
        return cross_stitch(depth, sem, self.alpha)


@MODELS.register_module()
class CrossStitchNeck(BaseModule):
    """Task neck: per task and decoder level a Conv3x3-norm-act, then a cross-stitch.

    ::

        F_d = Conv_d(D_l),  F_s = Conv_s(D_l)          # Conv3x3 -> BN -> ReLU each
        [F_d'; F_s'] = alpha_l . [F_d; F_s]             # per channel, see cross_stitch

    The outputs keep the decoder maps' shapes, so the heads configured for the plain
    multi-task model read them unchanged.

    Args:
        in_channels: Channels of each decoder map (an int for a single map).
        init: ``(alpha_same, alpha_other)`` of every stitch; ``(0.9, 0.1)`` is the
            best initialisation of the paper's ablation.
        norm_cfg: Norm of the task convs.
        act_cfg: Activation of the task convs.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 init: Tuple[float, float] = (0.9, 0.1),
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Union[dict, None] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        if len(init) != 2:
            raise ValueError(f'CrossStitchNeck: init must be (alpha_same, '
                             f'alpha_other), got {init!r}')
        self.in_channels = list(in_channels)
        self.depth_convs = nn.ModuleList(
            ConvModule(c, c, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for c in self.in_channels)
        self.sem_convs = nn.ModuleList(
            ConvModule(c, c, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for c in self.in_channels)
        self.stitches = nn.ModuleList(
            CrossStitchUnit(c, tuple(init)) for c in self.in_channels)

    def forward(self, decoder_maps: Union[Tensor, Sequence[Tensor]]
                ) -> Tuple[Tuple[Tensor, ...], Tuple[Tensor, ...]]:
        """Task features of the decoder output.

        Args:
            decoder_maps: ``D_l`` ``(B, C_l, H_l, W_l)`` for each level (a single
                tensor is read as one level).

        Returns:
            ``(depth_feats, sem_feats)``: tuples with one ``(B, C_l, H_l, W_l)`` map
            per level, the depth head's and the semantic head's inputs.
        """
        if isinstance(decoder_maps, Tensor):
            decoder_maps = (decoder_maps, )
        if len(decoder_maps) != len(self.in_channels):
            raise ValueError(f'CrossStitchNeck: expected {len(self.in_channels)} '
                             f'decoder maps, got {len(decoder_maps)}')
        depth_feats, sem_feats = [], []
        for x, depth_conv, sem_conv, stitch in zip(decoder_maps, self.depth_convs,
                                                   self.sem_convs, self.stitches):
            depth, sem = stitch(depth_conv(x), sem_conv(x))
            depth_feats.append(depth)
            sem_feats.append(sem)
        return tuple(depth_feats), tuple(sem_feats)
