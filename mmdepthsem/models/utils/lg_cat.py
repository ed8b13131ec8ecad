"""Local-Global Cross-Attention Transformer (LG-CAT) of DSS (eq. 4–5).

A MaxViT block turned into cross-attention between two feature streams: queries come
from stream ``x``, keys, values and the residual path from stream ``y``, so the output
is an update of ``y`` guided by ``x``. Block attention mixes each pixel with its
``w × w`` window; grid attention with the ``w × w`` pixels spaced ``H / w`` apart
(a sparse global grid). Partitioning and the relative-position bias reuse timm's
MaxViT functions and ``RelPosBias`` (a learned ``(2w-1)^2 × heads`` table).

Deviations from MaxViT, all as in specs/dss.md: feature maps whose sides are not
multiples of ``w`` are zero-padded and the padded keys are masked out of the softmax
(MaxViT requires divisible sizes); the FusedMBConv follows the attentions instead of
MaxViT's leading MBConv.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from timm.layers import DropPath, Mlp, RelPosBias, SqueezeExcite, trunc_normal_
from timm.models.maxxvit import (grid_partition, grid_reverse, window_partition,
                                 window_reverse)
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

Size2 = Tuple[int, int]


def pad_to_multiple(x: Tensor, size: Size2) -> Tuple[Tensor, Optional[Tensor]]:
    """Zero-pad a channels-last map at the bottom and right to multiples of ``size``.

    Args:
        x: ``(B, H, W, C)``.
        size: ``(h, w)`` the padded sides must be multiples of.

    Returns:
        The padded ``(B, Hp, Wp, C)`` map and a ``(Hp, Wp)`` bool mask of the real
        pixels, or ``None`` for the mask when nothing was padded.
    """
    height, width = x.shape[1:3]
    pad_h, pad_w = -height % size[0], -width % size[1]
    if not (pad_h or pad_w):
        return x, None
    valid = x.new_zeros(height + pad_h, width + pad_w, dtype=torch.bool)
    valid[:height, :width] = True
    return F.pad(x, (0, 0, 0, pad_w, 0, pad_h)), valid


def naive_attention(query: Tensor, key: Tensor, value: Tensor,
                    attn_mask: Optional[Tensor] = None,
                    dropout_p: float = 0.0) -> Tensor:
    """``softmax(Q K^T / sqrt(d) + mask) V`` with the ``(..., L, S)`` weights
    materialised: the reference of :func:`F.scaled_dot_product_attention` (same
    arguments and result), e.g. for ``tools/analysis_tools/benchmark_lgcat.py``."""
    logits = (query * query.shape[-1]**-0.5) @ key.transpose(-2, -1)
    if attn_mask is not None:
        logits = logits + attn_mask
    weights = F.dropout(logits.softmax(dim=-1), p=dropout_p) if dropout_p \
        else logits.softmax(dim=-1)
    return weights @ value


ATTENTION_IMPLS = ('sdpa', 'naive')


def partition(x: Tensor, size: Size2, mode: str) -> Tensor:
    """Split a channels-last map into windows (``'block'``) or grids (``'grid'``).

    Args:
        x: ``(B, H, W, C)`` with ``H``, ``W`` multiples of ``size``.
        size: Window / grid size ``(h, w)``.
        mode: ``'block'``: contiguous ``h × w`` windows; ``'grid'``: ``h × w`` pixels
            with stride ``(H / h, W / w)``.

    Returns:
        ``(B * n, h * w, C)`` tokens, image-major (windows of image 0 first).
    """
    split = window_partition if mode == 'block' else grid_partition
    parts = split(x, list(size))
    return parts.reshape(parts.shape[0], size[0] * size[1], parts.shape[-1])


def unpartition(tokens: Tensor, size: Size2, mode: str, hw: Size2) -> Tensor:
    """Inverse of :func:`partition`: ``(B * n, h * w, C)`` → ``(B, H, W, C)``."""
    merge = window_reverse if mode == 'block' else grid_reverse
    return merge(tokens.reshape(-1, size[0], size[1], tokens.shape[-1]), list(size),
                 list(hw))


class PartitionCrossAttention(nn.Module):
    """One block or grid cross-attention with its MLP (DSS eq. 4).

    ``y <- y + proj(CA(Q(LN(x)), K(LN(y)), V(LN(y))))`` in partitions, then
    ``y <- y + MLP(LN(y))``, with ``CA = softmax(Q K^T / sqrt(d) + B) V`` per head.

    Args:
        embed_dims: Channels ``C`` of both streams.
        num_heads: Attention heads ``h`` (head dim ``C / h``).
        window_size: Window / grid side ``w``.
        partition_type: ``'block'`` (local windows) or ``'grid'`` (sparse global).
        mlp_ratio: Hidden width of the MLP relative to ``C``.
        qkv_bias: Bias of the Q, K, V projections.
        attn_drop: Dropout on the attention weights (training only).
        proj_drop: Dropout after the output projection and in the MLP.
        drop_path: Stochastic depth rate of both residual branches.
        attn_impl: ``'sdpa'`` (default): ``F.scaled_dot_product_attention``;
            ``'naive'``: :func:`naive_attention`, the attention weights
            materialised (same result; the reference of the LG-CAT benchmark).
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int = 4,
                 window_size: Union[int, Size2] = 7,
                 partition_type: str = 'block',
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.0,
                 proj_drop: float = 0.0,
                 drop_path: float = 0.0,
                 attn_impl: str = 'sdpa') -> None:
        super().__init__()
        if attn_impl not in ATTENTION_IMPLS:
            raise ValueError(f'attn_impl must be one of {ATTENTION_IMPLS}, got '
                             f'{attn_impl!r}')
        self.attn_impl = attn_impl
        if partition_type not in ('block', 'grid'):
            raise ValueError(f"partition_type must be 'block' or 'grid', got "
                             f'{partition_type!r}')
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} is not divisible by num_heads '
                             f'{num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.window_size: Size2 = (window_size, window_size) \
            if isinstance(window_size, int) else tuple(window_size)
        self.partition_type = partition_type
        self.attn_drop = attn_drop
        self.norm_query = nn.LayerNorm(embed_dims)
        self.norm_kv = nn.LayerNorm(embed_dims)
        self.q = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        self.kv = nn.Linear(embed_dims, 2 * embed_dims, bias=qkv_bias)
        self.rel_pos = RelPosBias(self.window_size, num_heads)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        self.norm_mlp = nn.LayerNorm(embed_dims)
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio), act_layer=nn.GELU,
                       drop=proj_drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def attention_mask(self, valid: Optional[Tensor], batch: int) -> Tensor:
        """Additive mask of the attention logits.

        Args:
            valid: ``(Hp, Wp)`` bool mask of real pixels, or ``None`` (no padding).
            batch: Batch size ``B``.

        Returns:
            ``(1, h, L, L)`` relative-position bias (``L = w * w``), plus ``-inf`` on
            the columns of padded keys: ``(B * n, h, L, L)`` when ``valid`` is given.
        """
        bias = self.rel_pos.get_bias()
        if valid is None:
            return bias
        keys = partition(valid[None, :, :, None], self.window_size,
                         self.partition_type)[..., 0]  # (n, L)
        key_bias = torch.zeros(keys.shape, dtype=bias.dtype, device=bias.device)
        key_bias = key_bias.masked_fill(~keys, float('-inf'))
        return bias + key_bias.repeat(batch, 1)[:, None, None, :]

    def attend(self, query: Tensor, kv: Tensor) -> Tensor:
        """Partitioned cross-attention of normalised channels-last maps.

        Args:
            query: ``(B, H, W, C)`` normalised query stream.
            kv: ``(B, H, W, C)`` normalised key/value stream.

        Returns:
            ``(B, H, W, C)`` projected attention output (before the residual).
        """
        batch, height, width, channels = kv.shape
        query, valid = pad_to_multiple(query, self.window_size)
        kv, _ = pad_to_multiple(kv, self.window_size)
        padded_hw = kv.shape[1:3]
        q_tokens = partition(query, self.window_size, self.partition_type)
        kv_tokens = partition(kv, self.window_size, self.partition_type)
        n, length = q_tokens.shape[:2]
        head_dim = channels // self.num_heads
        q = self.q(q_tokens).view(n, length, self.num_heads, head_dim).transpose(1, 2)
        k, v = self.kv(kv_tokens).view(n, length, 2, self.num_heads,
                                       head_dim).permute(2, 0, 3, 1, 4)
        mask = self.attention_mask(valid, batch).to(q.dtype)
        attention = F.scaled_dot_product_attention if self.attn_impl == 'sdpa' \
            else naive_attention
        out = attention(
            q, k, v, attn_mask=mask,
            dropout_p=self.attn_drop if self.training else 0.0)
        out = self.proj_drop(self.proj(out.transpose(1, 2).reshape(n, length, channels)))
        out = unpartition(out, self.window_size, self.partition_type, padded_hw)
        return out[:, :height, :width]

    def forward(self, query: Tensor, kv: Tensor) -> Tensor:
        """Update the key/value stream with attention queried by the other stream.

        Args:
            query: Query stream ``x``, ``(B, C, H, W)``.
            kv: Key/value stream ``y``, ``(B, C, H, W)``.

        Returns:
            The updated ``y``, ``(B, C, H, W)``.
        """
        if query.shape != kv.shape:
            raise ValueError(f'{type(self).__name__}: query {tuple(query.shape)} and '
                             f'key/value {tuple(kv.shape)} streams differ in shape')
        y = kv.permute(0, 2, 3, 1)
        attended = self.attend(self.norm_query(query.permute(0, 2, 3, 1)),
                               self.norm_kv(y))
        y = y + self.drop_path(attended)
        y = y + self.drop_path(self.mlp(self.norm_mlp(y)))
        return y.permute(0, 3, 1, 2).contiguous()


@MODELS.register_module()
class BlockCrossAttention(PartitionCrossAttention):
    """Cross-attention inside local ``w × w`` windows (DSS's BCA)."""

    def __init__(self, embed_dims: int, **kwargs) -> None:
        super().__init__(embed_dims, partition_type='block', **kwargs)


@MODELS.register_module()
class GridCrossAttention(PartitionCrossAttention):
    """Cross-attention over a sparse global ``w × w`` grid (DSS's GCA)."""

    def __init__(self, embed_dims: int, **kwargs) -> None:
        super().__init__(embed_dims, partition_type='grid', **kwargs)


class FusedMBConv(nn.Module):
    """Conv3×3 expand → norm → act → squeeze-excite → Conv1×1 project → norm, plus
    the input (EfficientNetV2's FusedMBConv; shapes ``(B, C, H, W)`` in and out).

    Args:
        channels: Input and output channels ``C``.
        expand_ratio: Hidden channels relative to ``C``.
        se_ratio: Squeeze-excite bottleneck relative to ``C`` (EfficientNet's
            convention; GELU inside); ``None`` or 0 disables it.
        norm_cfg: mmcv norm config of both convolutions.
        act_cfg: mmcv activation config after the expansion.
        drop_path: Stochastic depth rate of the residual branch.
    """

    def __init__(self,
                 channels: int,
                 expand_ratio: float = 4.0,
                 se_ratio: Optional[float] = 0.25,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU'),
                 drop_path: float = 0.0) -> None:
        super().__init__()
        hidden = round(channels * expand_ratio)
        self.expand = ConvModule(channels, hidden, 3, padding=1, norm_cfg=norm_cfg,
                                 act_cfg=act_cfg)
        self.se = SqueezeExcite(hidden, rd_channels=max(1, round(channels * se_ratio)),
                                act_layer=nn.GELU) if se_ratio else nn.Identity()
        self.project = ConvModule(hidden, channels, 1, norm_cfg=norm_cfg, act_cfg=None)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.drop_path(self.project(self.se(self.expand(x))))


@MODELS.register_module()
class LGCAT(BaseModule):
    """LG-CAT(x^Q, y^KV) (DSS eq. 5): ``num_repeats`` × (block then grid
    cross-attention), each queried by the fixed ``x``, then a FusedMBConv.

    Args:
        embed_dims: Channels of both streams (128 in DSS).
        num_heads: Heads per attention (4).
        window_size: Window / grid side ``w`` (7).
        num_repeats: ``N_s``, block+grid pairs (2).
        mlp_ratio: MLP width ratio of every attention (4).
        qkv_bias: Bias of the Q, K, V projections.
        attn_drop: Attention-weight dropout.
        proj_drop: Projection / MLP dropout.
        drop_path_rate: Stochastic depth of every residual branch (0).
        expand_ratio: FusedMBConv expansion (4).
        se_ratio: FusedMBConv squeeze-excite ratio (0.25; ``None`` disables).
        norm_cfg: FusedMBConv norm config.
        act_cfg: FusedMBConv activation config.
        attn_impl: ``'sdpa'`` (default) or ``'naive'`` (materialised attention
            weights), see :class:`PartitionCrossAttention`.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 embed_dims: int = 128,
                 num_heads: int = 4,
                 window_size: Union[int, Size2] = 7,
                 num_repeats: int = 2,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.0,
                 proj_drop: float = 0.0,
                 drop_path_rate: float = 0.0,
                 expand_ratio: float = 4.0,
                 se_ratio: Optional[float] = 0.25,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU'),
                 attn_impl: str = 'sdpa',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_repeats < 1:
            raise ValueError(f'LGCAT: num_repeats must be >= 1, got {num_repeats}')
        attn_args = dict(num_heads=num_heads, window_size=window_size,
                         mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, attn_drop=attn_drop,
                         proj_drop=proj_drop, drop_path=drop_path_rate,
                         attn_impl=attn_impl)
        self.block_attns = nn.ModuleList(
            BlockCrossAttention(embed_dims, **attn_args) for _ in range(num_repeats))
        self.grid_attns = nn.ModuleList(
            GridCrossAttention(embed_dims, **attn_args) for _ in range(num_repeats))
        self.fused_mbconv = FusedMBConv(embed_dims, expand_ratio, se_ratio, norm_cfg,
                                        act_cfg, drop_path_rate)

    def forward(self, query: Tensor, kv: Tensor) -> Tensor:
        """``y`` contextualised by ``x``.

        Args:
            query: ``x``, ``(B, C, H, W)``; the same map queries every attention.
            kv: ``y``, ``(B, C, H, W)``.

        Returns:
            ``(B, C, H, W)``.
        """
        for block_attn, grid_attn in zip(self.block_attns, self.grid_attns):
            kv = grid_attn(query, block_attn(query, kv))
        return self.fused_mbconv(kv)
