"""The Depth Semantics Symbiosis (DSS) neck: task necks + Symbiotic Transformer."""
from typing import Optional, Tuple, Union

from torch import Tensor

from mmdepthsem.models.utils.lg_cat import LGCAT
from mmdepthsem.registry import MODELS
from .cross_task_neck import CrossTaskNeck


@MODELS.register_module()
class DSSNeck(CrossTaskNeck):
    """Split the decoder output into depth and semantic features that query each
    other (DSS eq. 2–5).

    ::

        F_d = Depth-Neck(D_1),  F_s = Semantic-Neck(D_1)    # [Conv3x3-LN-GELU] x 2
        F_s' = LG-CAT(F_d^Q, F_s^KV)   # depth-guided transformer -> semantic head
        F_d' = LG-CAT(F_s^Q, F_d^KV)   # semantics-guided transformer -> depth head

    The queries are the neck outputs for every repeat, and the two transformers run
    on the same inputs (in parallel). With ``symbiosis=False`` the transformers are
    left out and the neck outputs go straight to the heads (DSS Table 4's baseline).

    Args:
        in_channels: Channels of ``D_1``.
        channels: Width of the necks and the transformer (128 in DSS).
        in_index: Which input map is ``D_1``.
        num_convs: Conv-norm-act layers per neck (2).
        symbiosis: Build the Symbiotic Transformer.
        num_heads: Heads per cross-attention ``h`` (4).
        window_size: Window / grid side ``w`` (7).
        num_repeats: Block+grid pairs ``N_s`` (2).
        mlp_ratio: MLP ratio of the cross-attentions (4).
        drop_path_rate: Stochastic depth inside LG-CAT (0).
        expand_ratio: FusedMBConv expansion (4).
        se_ratio: FusedMBConv squeeze-excite ratio (0.25; ``None`` disables).
        norm_cfg: Norm of the necks (channel LayerNorm, ``'LN2d'``).
        act_cfg: Activation of the necks (GELU).
        mbconv_norm_cfg: Norm of the FusedMBConv (BatchNorm).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int = 128,
                 channels: int = 128,
                 in_index: int = 0,
                 num_convs: int = 2,
                 symbiosis: bool = True,
                 num_heads: int = 4,
                 window_size: Union[int, Tuple[int, int]] = 7,
                 num_repeats: int = 2,
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 expand_ratio: float = 4.0,
                 se_ratio: Optional[float] = 0.25,
                 norm_cfg: dict = dict(type='LN2d'),
                 act_cfg: dict = dict(type='GELU'),
                 mbconv_norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, channels=channels, in_index=in_index,
                         num_convs=num_convs, norm_cfg=norm_cfg, act_cfg=act_cfg,
                         init_cfg=init_cfg)
        self.symbiosis = symbiosis
        if symbiosis:
            lgcat = dict(embed_dims=channels, num_heads=num_heads,
                         window_size=window_size, num_repeats=num_repeats,
                         mlp_ratio=mlp_ratio, drop_path_rate=drop_path_rate,
                         expand_ratio=expand_ratio, se_ratio=se_ratio,
                         norm_cfg=mbconv_norm_cfg, act_cfg=act_cfg)
            # Depth queries the semantic stream: its output feeds the semantic head.
            self.depth_guided = LGCAT(**lgcat)
            self.semantics_guided = LGCAT(**lgcat)

    def interact(self, depth: Tensor, sem: Tensor) -> Tuple[Tensor, Tensor]:
        """The Symbiotic Transformer (identity with ``symbiosis=False``).

        Args:
            depth: ``F_d`` ``(B, C, h, w)``.
            sem: ``F_s`` ``(B, C, h, w)``.

        Returns:
            ``(F_d', F_s')``: the depth head's and the semantic head's inputs.
        """
        if not self.symbiosis:
            return depth, sem
        sem_out = self.depth_guided(depth, sem)
        depth_out = self.semantics_guided(sem, depth)
        return depth_out, sem_out
