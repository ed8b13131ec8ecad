"""SGRE's Semantic-guided Edge Enhancement Module (SEEM, sec. 4.2, appendix Table 4)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS


def sample_point_features(feature: Tensor, points: Tensor,
                          image_size: Tuple[int, int]) -> Tensor:
    """Bilinear features at pixel centres of the input image.

    A point ``(x, y)`` is the centre of input pixel ``(x, y)``; on a feature map of
    any stride it lands at the same relative position (``align_corners=False``
    convention: normalised ``u = 2 (x + 0.5) / W - 1``), with border padding.

    Args:
        feature: ``(B, C, h, w)`` map.
        points: ``(B, N, 2)`` ``(x, y)`` pixels of the ``image_size`` image.
        image_size: ``(H, W)`` of the image the points refer to.

    Returns:
        ``(B, C, N)`` point features.
    """
    height, width = image_size
    scale = points.new_tensor([2.0 / width, 2.0 / height], dtype=feature.dtype)
    grid = (points.to(feature.dtype) + 0.5) * scale - 1.0
    sampled = F.grid_sample(feature, grid[:, None], mode='bilinear',
                            padding_mode='border', align_corners=False)
    return sampled[:, :, 0]


def write_point_features(feature: Tensor, points: Tensor, values: Tensor,
                         image_size: Tuple[int, int]) -> Tensor:
    """Replace a map's pixels at the points by point features (differentiably).

    The point ``(x, y)`` of the ``image_size`` image falls into feature pixel
    ``(⌊x·w/W⌋, ⌊y·h/H⌋)`` (the identity at full resolution). Points sharing a pixel
    write their mean. Gradients reach ``values`` at the written pixels and
    ``feature`` everywhere else.

    Args:
        feature: ``(B, C, h, w)`` map.
        points: ``(B, N, 2)`` integer ``(x, y)`` pixels of the image.
        values: ``(B, C, N)`` features to write.
        image_size: ``(H, W)`` of the image the points refer to.

    Returns:
        ``(B, C, h, w)``: ``feature`` with the written pixels replaced.
    """
    batch, channels, h, w = feature.shape
    height, width = image_size
    points = points.long()
    col = torch.div(points[..., 0] * w, width, rounding_mode='floor').clamp(0, w - 1)
    row = torch.div(points[..., 1] * h, height, rounding_mode='floor').clamp(0, h - 1)
    index = row * w + col  # (B, N)
    flat = feature.flatten(2)
    sums = torch.zeros_like(flat).scatter_add(
        2, index[:, None].expand(-1, channels, -1), values.to(flat.dtype))
    counts = flat.new_zeros(batch, 1, h * w).scatter_add(
        2, index[:, None], flat.new_ones(batch, 1, index.shape[1]))
    written = torch.where(counts > 0, sums / counts.clamp(min=1), flat)
    return written.view(batch, channels, h, w)


@MODELS.register_module()
class SemanticEdgeEnhancement(BaseModule):
    """SEEM: point features from encoder, depth and semantic decoders, enhanced.

    For ``N`` points (SGRE's edge, disturbed-edge and random points, sampled by
    :class:`~mmdepthsem.datasets.transforms.SampleSEEMPoints` from the binary
    pseudo-label in training and from the semantic branch's prediction at test
    time)::

        F'_E = enc_conv([econv1(S), econv0(S)])              -> 128 channels
        F'_D = dec_conv([↑aconv2(S), ↑aconv1(S), ↑aconv0(S)]) -> 112
        F'_S = sem_conv([↑S_upconv2(S), ↑S_upconv1(S), ↑S_upconv0(S)]) -> 112
        F'_out = conv1d 256 -ReLU- 256 -ReLU- 256 -ReLU- 16 ([F'_E, F'_D, F'_S])

    where ``X(S)`` is bilinear sampling at the points (eq. 5) and all convolutions
    have kernel 1, no activation on the projections or the last layer (Table 4).
    The paper's "features of layer (2, 1, 0)" names the three feature blocks E, D
    and S; Table 4 lists the encoder levels as econv1 and econv0, which is what is
    built (``specs/sgre.md``). :class:`SemanticFusedDepthDecoder` writes ``F'_out``
    into ``↑aconv0`` at the points before ``D_conv0``.

    Args:
        enc_channels: Channels of the sampled encoder features (ResNet-50 econv1,
            econv0: ``(256, 64)``; ResNet-18: ``(64, 64)``).
        dec_channels: Channels of the sampled depth-decoder features
            (``(64, 32, 16)``).
        sem_channels: Channels of the sampled semantic-decoder features
            (``(64, 32, 16)``).
        proj_channels: Widths of enc_conv, dec_conv, sem_conv (``(128, 112, 112)``).
        hidden_channels: Widths of the hidden 1-D convolutions (``(256, 256, 256)``).
        out_channels: ``C`` of ``F'_out``, the channels of the map written into (16).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 enc_channels: Sequence[int] = (256, 64),
                 dec_channels: Sequence[int] = (64, 32, 16),
                 sem_channels: Sequence[int] = (64, 32, 16),
                 proj_channels: Sequence[int] = (128, 112, 112),
                 hidden_channels: Sequence[int] = (256, 256, 256),
                 out_channels: int = 16,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(proj_channels) != 3:
            raise ValueError('SemanticEdgeEnhancement: `proj_channels` needs the '
                             'enc_conv, dec_conv and sem_conv widths')
        self.in_channels = dict(enc=tuple(enc_channels), dec=tuple(dec_channels),
                                sem=tuple(sem_channels))
        self.enc_conv = nn.Conv1d(sum(enc_channels), proj_channels[0], 1)
        self.dec_conv = nn.Conv1d(sum(dec_channels), proj_channels[1], 1)
        self.sem_conv = nn.Conv1d(sum(sem_channels), proj_channels[2], 1)
        layers = []
        width = sum(proj_channels)
        for hidden in hidden_channels:
            layers += [nn.Conv1d(width, hidden, 1), nn.ReLU(inplace=True)]
            width = hidden
        layers.append(nn.Conv1d(width, out_channels, 1))
        self.enhance = nn.Sequential(*layers)
        self.out_channels = out_channels

    def _sample(self, name: str, feats: Sequence[Tensor], points: Tensor,
                image_size: Tuple[int, int]) -> Tensor:
        expected = self.in_channels[name]
        got = tuple(f.shape[1] for f in feats)
        if got != expected:
            raise ValueError(f'SemanticEdgeEnhancement: {name} features have '
                             f'channels {got}, built for {expected}')
        return torch.cat([sample_point_features(f, points, image_size) for f in feats],
                         dim=1)

    def forward(self, enc_feats: Sequence[Tensor], dec_feats: Sequence[Tensor],
                sem_feats: Sequence[Tensor], points: Tensor,
                image_size: Tuple[int, int]) -> Tensor:
        """Enhanced point features.

        Args:
            enc_feats: ``[(B, C_i, h_i, w_i)]`` encoder maps (econv1, econv0).
            dec_feats: Depth-decoder maps (↑aconv2, ↑aconv1, ↑aconv0).
            sem_feats: Semantic-decoder maps (↑S_upconv2, ↑S_upconv1, ↑S_upconv0).
            points: ``(B, N, 2)`` ``(x, y)`` pixels of the input image.
            image_size: ``(H, W)`` of the input image.

        Returns:
            ``(B, out_channels, N)`` point features ``F'_out``.
        """
        merged = torch.cat([
            self.enc_conv(self._sample('enc', enc_feats, points, image_size)),
            self.dec_conv(self._sample('dec', dec_feats, points, image_size)),
            self.sem_conv(self._sample('sem', sem_feats, points, image_size)),
        ], dim=1)
        return self.enhance(merged)
