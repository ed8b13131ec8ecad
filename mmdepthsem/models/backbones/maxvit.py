"""timm's MaxViT as a multi-scale backbone (the DSS encoder).

MaxViT (Tu et al., ECCV 2022) alternates local block attention and sparse grid
attention. timm ties the block window and the grid to the input size
(``img_size // 32`` per side, e.g. 16×16 at 512×512, 15×20 at 480×640 and 11×22 at
352×704), so the backbone is built for one input size, the training crop, and only
accepts inputs whose stage sizes are multiples of that partition.
"""
import math
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import timm
import torch.nn.functional as F
from mmengine.model import BaseModule
from timm.models.maxxvit import checkpoint_filter_fn
from torch import Tensor, nn

from mmdepthsem.registry import MODELS

# A checkpoint of the timm classifier itself (not of this wrapper) names stages as
# ``stages.N.``; the features-only model flattens them to ``stages_N.``.
_TIMM_STAGE = re.compile(r'^stages\.(\d+)\.')


@MODELS.register_module()
class MaxViTBackbone(BaseModule):
    """MaxViT encoder returning the stage outputs ``E_1 .. E_4``.

    timm's ``feature_info`` for MaxViT has five entries: index 0 is the stem
    (stride 2, DSS's unused ``E_0``), indices 1–4 are the four stages at strides 4, 8,
    16 and 32 (``E_1 .. E_4``; 128, 256, 512, 1024 channels for MaxViT-L, 32, 64, 128,
    256 for MaxViT-pico). ``out_channels`` and ``strides`` give the values of the
    selected outputs.

    Weights are loaded by :meth:`init_weights` (the runner calls it), not when the
    model is built, so configs build offline:

    - ``pretrained=True`` loads timm's ImageNet weights through timm (downloads;
      timm's ``checkpoint_filter_fn`` resizes the relative-position tables to the
      window of ``img_size``). A local timm file (``.pth`` / ``.safetensors``) goes the
      same way with ``pretrained=True, pretrained_cfg_overlay=dict(file=PATH)``.
    - ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` (mmengine) accepts either a
      timm classifier state dict or a checkpoint of this backbone (add
      ``prefix='backbone.'`` for a whole-model checkpoint). Any state dict loaded into
      this module (also a whole-model ``load_from``) goes through
      :meth:`_adapt_state_dict`: timm key names are mapped, weights of the dropped
      classifier / unused stages are left out, and relative-position tables made for
      another window are resized with timm's ``checkpoint_filter_fn``. Flat tables
      (``*_rw_*`` models) can be resized only from a square window.

    Args:
        model_name: timm MaxViT name, e.g. ``'maxvit_large_tf_512'`` (DSS) or
            ``'maxvit_pico_rw_256'`` / ``'maxvit_rmlp_pico_rw_256'`` (tests, demo).
        img_size: The training crop ``(H, W)`` in pixels; sets the window/grid size
            ``(H // 32, W // 32)``.
        pretrained: Load timm's pretrained weights in :meth:`init_weights`.
        out_indices: timm feature indices to return (0 = stem, 1–4 = stages).
        drop_path_rate: Stochastic depth rate of the last block (timm's linear rule).
        pad_to_partition: Pad inputs of other sizes (bottom/right, zeros after
            normalisation) to the next compatible size and crop the outputs back to
            ``ceil(H / stride)``. Off by default: a wrong size raises an error.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained',
            checkpoint=PATH)``.
        **timm_kwargs: Further ``timm.create_model`` arguments
            (``pretrained_cfg_overlay``, ``attn_drop_rate``, ...).
    """

    def __init__(self,
                 model_name: str,
                 img_size: Union[int, Tuple[int, int]] = 224,
                 pretrained: bool = False,
                 out_indices: Sequence[int] = (1, 2, 3, 4),
                 drop_path_rate: float = 0.0,
                 pad_to_partition: bool = False,
                 init_cfg: Optional[dict] = None,
                 **timm_kwargs: Any) -> None:
        super().__init__(init_cfg=init_cfg)
        if pretrained and init_cfg is not None:
            raise ValueError('MaxViTBackbone: give `pretrained=True` (timm weights) or '
                             "`init_cfg=dict(type='Pretrained', ...)`, not both")
        if not model_name.startswith('maxvit'):
            raise ValueError(f'MaxViTBackbone: {model_name!r} is not a timm MaxViT '
                             "model; use e.g. 'maxvit_large_tf_512' (or mmseg's "
                             'TIMMBackbone for other timm models)')
        self.model_name = model_name
        self.img_size = (img_size, img_size) if isinstance(img_size, int) \
            else tuple(int(s) for s in img_size)
        self.pad_to_partition = pad_to_partition
        self.pretrained = pretrained
        self._timm_kwargs = dict(img_size=self.img_size, drop_path_rate=drop_path_rate,
                                 **timm_kwargs)
        self.model = timm.create_model(
            model_name,
            features_only=True,
            out_indices=tuple(out_indices),
            **self._timm_kwargs)
        self.out_indices = tuple(out_indices)
        self.out_channels: List[int] = self.model.feature_info.channels()
        self.strides: List[int] = self.model.feature_info.reduction()
        self.partition_size = self._partition_size()
        self.size_multiple = self._size_multiple()
        self.register_load_state_dict_pre_hook(self._adapt_state_dict)

    def init_weights(self) -> None:
        """Apply ``init_cfg`` (mmengine), or load timm's pretrained weights when
        ``pretrained=True``."""
        super().init_weights()
        if not self.pretrained:
            return
        # timm loads (and adapts) its weights into a full classifier; this module's
        # load_state_dict pre-hook maps them onto the features-only model.
        source = timm.create_model(self.model_name, pretrained=True,
                                   **self._timm_kwargs)
        result = self.load_state_dict(source.state_dict(), strict=False)
        if result.missing_keys:
            raise KeyError(f'MaxViTBackbone: the timm weights of {self.model_name} '
                           f'lack {result.missing_keys}')

    def _partition_size(self) -> Tuple[int, int]:
        """Window size of the first MaxViT block (timm uses one size for every
        stage and the same for the grid)."""
        for module in self.model.modules():
            if hasattr(module, 'partition_size'):
                return tuple(module.partition_size)
        raise ValueError(f'MaxViTBackbone: {self.model_name} has no partitioned '
                         'attention block')

    def _size_multiple(self) -> Tuple[int, int]:
        """The input ``(H, W)`` must be a multiple of these: at each stage's stride the
        feature map is split into whole windows and whole grid cells."""
        multiple = [1, 1]
        for stage, stride in self._stage_strides().items():
            for block in self.model[stage].modules():
                for attr in ('attn_block', 'attn_grid'):
                    part = getattr(block, attr, None)
                    if part is None:
                        continue
                    for axis in (0, 1):
                        multiple[axis] = math.lcm(multiple[axis],
                                                  stride * part.partition_size[axis])
        return multiple[0], multiple[1]

    def _stage_strides(self) -> Dict[str, int]:
        """``{module name: stride}`` of the stages this features model runs."""
        info = {d['module'].replace('.', '_'): d['reduction']
                for d in self.model.feature_info.get_dicts()}
        return {name: info[name] for name, _ in self.model.named_children()
                if name.startswith('stages') and name in info}

    def check_input_size(self, height: int, width: int) -> None:
        """Raise a ``ValueError`` naming the size and the fix when ``(height,
        width)`` does not split into whole windows at every stage."""
        mh, mw = self.size_multiple
        if height % mh == 0 and width % mw == 0:
            return
        strides = sorted(set(self._stage_strides().values()))
        raise ValueError(
            f'MaxViTBackbone({self.model_name}, img_size={self.img_size}): the input '
            f'{height}x{width} does not fit the window/grid partition '
            f'{self.partition_size} at strides {strides}'
            f'; the height must be a multiple of {mh} and the width a multiple of {mw}. '
            'Feed the training crop size, set `img_size` to the input size, use '
            "sliding-window inference, or set `pad_to_partition=True`.")

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Encode images.

        Args:
            x: Normalised images ``(B, 3, H, W)``.

        Returns:
            One map per ``out_indices`` entry, ``(B, out_channels[i], H / s_i,
            W / s_i)`` with ``s_i = strides[i]`` (rounded up when padded).
        """
        height, width = x.shape[-2:]
        if self.pad_to_partition:
            mh, mw = self.size_multiple
            pad_h, pad_w = -height % mh, -width % mw
            if pad_h or pad_w:
                feats = self.model(F.pad(x, (0, pad_w, 0, pad_h)))
                return tuple(
                    f[..., :math.ceil(height / s), :math.ceil(width / s)]
                    for f, s in zip(feats, self.strides))
        self.check_input_size(height, width)
        return tuple(self.model(x))

    def _adapt_state_dict(self, module: nn.Module, state_dict: Dict[str, Tensor],
                          prefix: str, *args: Any) -> None:
        """``load_state_dict`` pre-hook: fit a checkpoint to this model in place.

        Maps a timm classifier's keys (``stages.N.``) to this wrapper's
        (``model.stages_N.``), drops the parts the features-only model does not have
        (classifier head, final norm, stages after the last output), and resizes
        relative-position tables to this model's window with timm's
        ``checkpoint_filter_fn``.
        """
        own = prefix + 'model.'
        keys = [k for k in state_dict if k.startswith(prefix)]
        if not any(k.startswith(own) for k in keys):
            children = {name for name, _ in self.model.named_children()}
            for key in keys:
                name = _TIMM_STAGE.sub(r'stages_\1.', key[len(prefix):])
                value = state_dict.pop(key)
                if name.split('.', 1)[0] in children:
                    state_dict[own + name] = value
        model_keys = set(self.model.state_dict())
        local = {k[len(own):]: state_dict[k] for k in list(state_dict)
                 if k.startswith(own) and k[len(own):] in model_keys}
        try:
            adapted = checkpoint_filter_fn(local, self.model)
        except ValueError as err:
            raise ValueError(
                f'MaxViTBackbone: cannot resize the relative-position tables of the '
                f'checkpoint to the window {self.partition_size} of img_size='
                f'{self.img_size}: {err}') from err
        for name, value in adapted.items():
            state_dict[own + name] = value
