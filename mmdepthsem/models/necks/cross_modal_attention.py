"""Cross-task multi-embedding attention (CMA) of FSRE (Jung et al., ICCV 2021, eq. 9–14).

A *target* feature map ``F_t`` (the one being refined) is refined with a *reference*
feature map ``F_r`` of the other task, pixel by pixel (no spatial mixing before the
fusion convs)::

    Q^h = φ_q^h(F_r),  K^h = φ_k^h(F_t),  V^h = φ_v^h(F_t)        # 1x1 convs, C -> C'
    A^h(i) = <K^h(i), Q^h(i)> / sqrt(C')                          # eq. 13
    F_t'(i) = Σ_h ρ(A(i))_h · V^h(i)                              # eq. 11, 12, 14
    F_out = Conv1x1(ELU(Conv3x3([φ_w(F_t'), F_t])))               # Sec. 3.3.3

``ρ`` is a softmax over the ``H`` embeddings at each pixel (not over pixels) and the
identity when ``H = 1`` (the paper's Sec. 4.2). ``C' = expansion · C`` with
``expansion = 2`` and ``H = 4`` in the paper; ``φ_w`` is a 1×1 conv + BatchNorm back
to ``C``. :class:`BidirectionalCMA` holds the two directions of one decoder placement
(depth ← semantics and semantics ← depth), both fed with the un-refined inputs.

The official FSRE code (``networks/multi_embedding.py``) differs from the paper's
equations in four details, each an option here whose default is the paper's form:
it divides the scores by ``sqrt(H·C')`` (``score_scale='total'``), ``φ_w``'s conv has
no bias (``project_bias=False``), the fusion concatenates ``[F_t, φ_w(F_t')]``
(``fusion_order='target_first'``) and its 3×3 conv pads by reflection
(``fusion_padding='reflect'``). ``configs/fsre/resnet18_kitti_official.py`` sets all
four, so converted official checkpoints compute what they computed there.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

__all__ = ['CrossModalAttention', 'BidirectionalCMA']

_SCORE_SCALES = ('embedding', 'total')
_FUSION_ORDERS = ('refined_first', 'target_first')
_FUSION_PADDINGS = ('zeros', 'reflect')


@MODELS.register_module()
class CrossModalAttention(BaseModule):
    """Refine a target task's features with a reference task's features (FSRE CMA).

    The *target* is the first argument of :meth:`forward` / :meth:`attend`: it gives
    the keys and values, and it is the map concatenated to ``φ_w(F')`` in the fusion,
    so the output replaces it in its own decoder. The *reference* (the other task)
    only gives the queries.

    Args:
        channels: ``C``, channels of the target map (and of the output).
        reference_channels: Channels of the reference map (default ``channels``).
        num_embeddings: ``H``, number of embeddings (4 in FSRE).
        expansion: ``C' / C`` (2 in FSRE), width of every embedding.
        score_scale: Scores divided by ``sqrt(C')`` (``'embedding'``, eq. 13) or by
            ``sqrt(H·C')`` (``'total'``, the official code).
        project_bias: Whether ``φ_w``'s 1×1 conv has a bias (the official code: no).
        fusion_order: Concatenation fed to the fusion: ``[φ_w(F_t'), F_t]``
            (``'refined_first'``) or ``[F_t, φ_w(F_t')]`` (``'target_first'``, the
            official code).
        fusion_padding: Padding of the fusion's 3×3 conv, ``'zeros'`` or
            ``'reflect'`` (the official code); the key names do not change.
        init_cfg: mmengine init config.
    """

    def __init__(self, channels: int, reference_channels: Optional[int] = None,
                 num_embeddings: int = 4, expansion: int = 2,
                 score_scale: str = 'embedding', project_bias: bool = True,
                 fusion_order: str = 'refined_first', fusion_padding: str = 'zeros',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channels < 1 or num_embeddings < 1 or expansion < 1:
            raise ValueError('CrossModalAttention: channels, num_embeddings and '
                             'expansion must be positive')
        for name, value, choices in (('score_scale', score_scale, _SCORE_SCALES),
                                     ('fusion_order', fusion_order, _FUSION_ORDERS),
                                     ('fusion_padding', fusion_padding,
                                      _FUSION_PADDINGS)):
            if value not in choices:
                raise ValueError(f'CrossModalAttention: {name} {value!r} is not one '
                                 f'of {choices}')
        reference_channels = reference_channels or channels
        self.channels = channels
        self.num_embeddings = num_embeddings
        self.embed_channels = expansion * channels
        width = num_embeddings * self.embed_channels
        self.score_divisor = math.sqrt(
            width if score_scale == 'total' else self.embed_channels)
        self.target_first = fusion_order == 'target_first'
        self.query = nn.Conv2d(reference_channels, width, 1)
        self.key = nn.Conv2d(channels, width, 1)
        self.value = nn.Conv2d(channels, width, 1)
        self.project = nn.Sequential(
            nn.Conv2d(self.embed_channels, channels, 1, bias=project_bias),
            nn.BatchNorm2d(channels))
        self.fuse = nn.Sequential(
            nn.Conv2d(2 * channels, channels, 3, padding=1,
                      padding_mode=fusion_padding),
            nn.ELU(inplace=True), nn.Conv2d(channels, channels, 1))

    def _split(self, x: Tensor) -> Tensor:
        """``(B, H·C', h, w)`` -> ``(B, H, C', h, w)``."""
        b, _, height, width = x.shape
        return x.view(b, self.num_embeddings, self.embed_channels, height, width)

    def embedding_scores(self, target: Tensor, reference: Tensor) -> Tensor:
        """Per-pixel scores ``A^h(i)`` (eq. 13).

        Args:
            target: ``(B, C, h, w)`` target features (keys).
            reference: ``(B, C_ref, h, w)`` reference features (queries).

        Returns:
            ``(B, H, h, w)`` scores.
        """
        if target.shape[0] != reference.shape[0] or \
                target.shape[-2:] != reference.shape[-2:]:
            raise ValueError(f'CrossModalAttention: target {tuple(target.shape)} and '
                             f'reference {tuple(reference.shape)} must share batch '
                             'and spatial size')
        keys = self._split(self.key(target))
        queries = self._split(self.query(reference))
        return (keys * queries).sum(dim=2) / self.score_divisor

    def embedding_weights(self, target: Tensor, reference: Tensor) -> Tensor:
        """``ρ(A^h(i))``: softmax over the ``H`` embeddings (exactly ones when
        ``H = 1``; going through the softmax keeps the query/key projections in the
        graph, which DDP needs).

        Args:
            target: ``(B, C, h, w)`` target features.
            reference: ``(B, C_ref, h, w)`` reference features.

        Returns:
            ``(B, H, h, w)`` weights summing to 1 over ``H``.
        """
        return self.embedding_scores(target, reference).softmax(dim=1)

    def attend(self, target: Tensor, reference: Tensor) -> Tensor:
        """Pre-fusion refined map ``F' = Σ_h ρ(A^h) · V^h`` (eq. 11–14).

        Args:
            target: ``(B, C, h, w)`` target features (keys and values).
            reference: ``(B, C_ref, h, w)`` reference features (queries).

        Returns:
            ``(B, C', h, w)`` refined features, before ``φ_w`` and the fusion.
        """
        weights = self.embedding_weights(target, reference)
        values = self._split(self.value(target))
        return (weights.unsqueeze(2) * values).sum(dim=1)

    def forward(self, target: Tensor, reference: Tensor) -> Tensor:
        """Refine ``target`` with ``reference``.

        Args:
            target: ``(B, C, h, w)`` features of the task being refined.
            reference: ``(B, C_ref, h, w)`` features of the other task.

        Returns:
            ``(B, C, h, w)`` fused output that replaces ``target`` in its decoder.
        """
        refined = self.project(self.attend(target, reference))
        pair = [target, refined] if self.target_first else [refined, target]
        return self.fuse(torch.cat(pair, dim=1))


@MODELS.register_module()
class BidirectionalCMA(BaseModule):
    """The CMA pair of one decoder placement: depth ← semantics and semantics ← depth.

    Both directions read the un-refined inputs (they run in parallel). A direction
    that is not in ``targets`` is not built and its input passes through unchanged
    (FSRE Table 4a: target task depth / semantics / both).

    Args:
        channels: Channels of the depth and the semantic features.
        num_embeddings: ``H`` of both modules.
        expansion: ``C' / C`` of both modules.
        targets: Tasks refined, any of ``'depth'`` and ``'seg'``.
        score_scale: See :class:`CrossModalAttention` (both modules).
        project_bias: See :class:`CrossModalAttention` (both modules).
        fusion_order: See :class:`CrossModalAttention` (both modules).
        fusion_padding: See :class:`CrossModalAttention` (both modules).
        init_cfg: mmengine init config.
    """

    def __init__(self, channels: int, num_embeddings: int = 4, expansion: int = 2,
                 targets: Sequence[str] = ('depth', 'seg'),
                 score_scale: str = 'embedding', project_bias: bool = True,
                 fusion_order: str = 'refined_first', fusion_padding: str = 'zeros',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        targets = tuple(targets)
        unknown = set(targets) - {'depth', 'seg'}
        if unknown or not targets:
            raise ValueError(f'BidirectionalCMA: targets {targets} must be a non-empty '
                             "subset of ('depth', 'seg')")
        self.targets = targets
        options = dict(num_embeddings=num_embeddings, expansion=expansion,
                       score_scale=score_scale, project_bias=project_bias,
                       fusion_order=fusion_order, fusion_padding=fusion_padding)
        self.depth_cma = CrossModalAttention(
            channels, **options) if 'depth' in targets else None
        self.seg_cma = CrossModalAttention(
            channels, **options) if 'seg' in targets else None

    def forward(self, depth_feat: Tensor, seg_feat: Tensor) -> Tuple[Tensor, Tensor]:
        """Refine each enabled task with the other.

        Args:
            depth_feat: ``(B, C, h, w)`` depth decoder features.
            seg_feat: ``(B, C, h, w)`` segmentation decoder features.

        Returns:
            ``(depth_feat', seg_feat')``, each ``(B, C, h, w)``.
        """
        depth_out = depth_feat if self.depth_cma is None else \
            self.depth_cma(depth_feat, seg_feat)
        seg_out = seg_feat if self.seg_cma is None else \
            self.seg_cma(seg_feat, depth_feat)
        return depth_out, seg_out

