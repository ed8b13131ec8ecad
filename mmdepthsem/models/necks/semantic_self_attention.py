"""SGRE's semantic-guided self-attention on fused depth/semantic features (eq. 7-8)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS


@MODELS.register_module()
class SemanticGuidedSelfAttention(BaseModule):
    """Pixel-wise self-attention with a zero-initialised residual gate.

    For a fused feature ``F_A`` (SGRE's ``aconv_b``: depth and semantic ``upconv``
    features concatenated and convolved) of ``L = H·W`` pixels::

        Q = conv1x1(F_A) ∈ R^{L×C/r},  K = conv1x1(F_A) ∈ R^{L×C/r},
        V = conv1x1(F_A) ∈ R^{L×C}
        A = softmax(Q Kᵀ)                       (eq. 7, no 1/√d scaling)
        out = γ · (A V) + F_A                   (eq. 8, γ a scalar, 0 at start)

    as in DANet's position attention (``specs/sgre.md``). ``A V`` is computed with
    :func:`torch.nn.functional.scaled_dot_product_attention` and ``scale=1.0`` on
    contiguous tokens (on the CPU with ``Q`` and ``K`` zero-padded to ``C`` channels),
    so that torch's fused kernels take them and the ``L × L`` attention matrix is never
    materialised
    (the stride-8 level at 192×640 has 1,920 pixels; the finer levels of the
    Table 6 ablation have 7,680 and 30,720).

    Args:
        channels: Channels ``C`` of the fused feature.
        qk_reduction: ``r``; query/key width is ``max(C // r, 1)`` (8 as DANet).
        init_cfg: mmengine init config.
    """

    def __init__(self, channels: int, qk_reduction: int = 8,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channels < 1 or qk_reduction < 1:
            raise ValueError(f'SemanticGuidedSelfAttention: channels ({channels}) and '
                             f'qk_reduction ({qk_reduction}) must be positive')
        qk_channels = max(channels // qk_reduction, 1)
        self.channels = channels
        self.query = nn.Conv2d(channels, qk_channels, 1)
        self.key = nn.Conv2d(channels, qk_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def attend(self, x: Tensor) -> Tensor:
        """``softmax(Q Kᵀ) V`` of ``x`` ``(B, C, H, W)``, returned as ``(B, C, H, W)``."""
        if x.shape[1] != self.channels:
            raise ValueError(f'SemanticGuidedSelfAttention: input has {x.shape[1]} '
                             f'channels, built for {self.channels}')
        batch, _, height, width = x.shape

        def tokens(t: Tensor) -> Tensor:  # (B, c, H, W) -> (B, 1, L, c), contiguous
            return t.flatten(2).transpose(1, 2).contiguous().unsqueeze(1)

        query, key, value = tokens(self.query(x)), tokens(self.key(x)), \
            tokens(self.value(x))
        # torch's fused CPU kernel needs contiguous channels and one width for Q, K
        # and V; otherwise SDPA falls back to its math path, which materialises the
        # L x L weights (benchmark_attention.py). Zero channels leave Q Kᵀ unchanged.
        # CUDA's memory-efficient kernel takes a V wider than Q and K, so no padding
        # there (not measured here: no GPU).
        pad = value.shape[-1] - query.shape[-1]
        if pad > 0 and x.device.type == 'cpu':
            query, key = F.pad(query, (0, pad)), F.pad(key, (0, pad))
        out = F.scaled_dot_product_attention(query, key, value, scale=1.0)
        return out.squeeze(1).transpose(1, 2).reshape(batch, -1, height, width)

    def forward(self, x: Tensor) -> Tensor:
        """``γ · softmax(Q Kᵀ) V + x`` for ``x`` ``(B, C, H, W)``; same shape out."""
        return self.gamma * self.attend(x) + x
