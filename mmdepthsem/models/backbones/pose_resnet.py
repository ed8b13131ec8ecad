"""ResNet encoder of the pose network, taking several frames stacked on channels.

Monodepth2's separate pose encoder (used by FSRE): a ResNet-18 whose first convolution
takes ``3 · num_input_frames`` channels (two RGB frames, 6 channels). ImageNet weights
are widened by repeating the RGB filters once per frame and dividing them by the number
of frames, so a stack of identical frames gives the pretrained response.
``timm.create_model(..., pretrained=True, in_chans=6)`` adapts its weights in exactly this
way (``timm.models.adapt_input_conv``: repeat, then scale by ``3 / in_chans``); weights
read from a local file go through :func:`widen_input_conv`, which does the same.
"""
from typing import Dict, List, Optional, Sequence

import timm
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader
from timm.models import adapt_input_conv
from torch import Tensor

from mmdepthsem.registry import MODELS

__all__ = ['widen_input_conv', 'PoseResNet']


def widen_input_conv(state_dict: Dict[str, Tensor], num_input_frames: int = 2,
                     key: str = 'conv1.weight') -> Dict[str, Tensor]:
    """Widen an RGB stem convolution to ``num_input_frames`` stacked frames.

    The ``(O, 3, kh, kw)`` filters are repeated along the input channels once per
    frame and divided by ``num_input_frames`` (Monodepth2's convention; timm's
    ``adapt_input_conv`` gives the same result for a multiple of 3 channels).

    Args:
        state_dict: Weights of an RGB model (not modified).
        num_input_frames: Frames stacked on the channel axis.
        key: Name of the stem convolution's weight.

    Returns:
        A shallow copy of ``state_dict`` whose ``key`` is ``(O, 3·n, kh, kw)``. A weight
        that already has ``3·n`` input channels is left as it is.

    Raises:
        KeyError: ``key`` is not in ``state_dict``.
        ValueError: The weight has neither 3 nor ``3·n`` input channels.
    """
    if key not in state_dict:
        raise KeyError(f'widen_input_conv: no {key!r} in the state dict')
    weight = state_dict[key]
    in_chans = 3 * num_input_frames
    if weight.dim() != 4 or weight.shape[1] not in (3, in_chans):
        raise ValueError(f'widen_input_conv: {key} has shape {tuple(weight.shape)}; '
                         f'expected (O, 3, kh, kw) or (O, {in_chans}, kh, kw)')
    widened = dict(state_dict)
    if weight.shape[1] == 3:
        widened[key] = adapt_input_conv(in_chans, weight.clone())
    return widened


@MODELS.register_module()
class PoseResNet(BaseModule):
    """timm ResNet over ``num_input_frames`` frames stacked on channels.

    Args:
        model_name: timm ResNet name (``'resnet18'`` as Monodepth2 / FSRE,
            ``'resnet50'``, ...).
        num_input_frames: Frames per input; the input has ``3 · n`` channels.
        pretrained: Load timm's ImageNet weights (downloads; timm widens them).
        checkpoint: Path or URL (any scheme of mmengine's ``CheckpointLoader``, e.g.
            ``'torchvision://resnet18'``) of RGB ImageNet weights, loaded in
            :meth:`init_weights` and widened with :func:`widen_input_conv`.
        out_indices: Which stages to return (0 = stem at stride 2 … 4 = stride 32).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 model_name: str = 'resnet18',
                 num_input_frames: int = 2,
                 pretrained: bool = False,
                 checkpoint: Optional[str] = None,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pretrained and checkpoint:
            raise ValueError('PoseResNet: give `pretrained` or `checkpoint`, not both')
        self.num_input_frames = num_input_frames
        self.checkpoint = checkpoint
        self.encoder = timm.create_model(
            model_name, features_only=True, pretrained=pretrained,
            in_chans=3 * num_input_frames, out_indices=tuple(out_indices))
        self.out_channels: List[int] = self.encoder.feature_info.channels()
        self.strides: List[int] = self.encoder.feature_info.reduction()

    def init_weights(self) -> None:
        """Apply ``init_cfg``, then load and widen ``checkpoint`` if one is set."""
        super().init_weights()
        if self.checkpoint is None:
            return
        loaded = CheckpointLoader.load_checkpoint(self.checkpoint, map_location='cpu')
        if isinstance(loaded, dict):
            for wrapper in ('state_dict', 'model'):
                if isinstance(loaded.get(wrapper), dict):
                    loaded = loaded[wrapper]
                    break
        self.load_rgb_state_dict(loaded)

    def load_rgb_state_dict(self, state_dict: Dict[str, Tensor]) -> None:
        """Load the weights of an RGB ResNet (torchvision / timm key names).

        The stem is widened to the stacked frames; keys the encoder does not have
        (the classifier ``fc.*``) are dropped.

        Raises:
            KeyError: A weight of the encoder is missing from ``state_dict``.
        """
        state_dict = {k[len('module.'):] if k.startswith('module.') else k: v
                      for k, v in state_dict.items()}
        state_dict = widen_input_conv(state_dict, self.num_input_frames)
        own = self.encoder.state_dict()
        missing = sorted(k for k in own if k not in state_dict)
        if missing:
            raise KeyError(f'PoseResNet: checkpoint {self.checkpoint} lacks '
                           f'{len(missing)} encoder weights, e.g. {missing[:3]}')
        self.encoder.load_state_dict({k: state_dict[k] for k in own})

    def forward(self, frames: Tensor) -> List[Tensor]:
        """Encode stacked frames.

        Args:
            frames: ``(B, 3·n, H, W)`` normalised frames stacked on channels.

        Returns:
            Features of ``out_indices``, ``(B, out_channels[i], H / strides[i],
            W / strides[i])``.
        """
        expected = 3 * self.num_input_frames
        if frames.dim() != 4 or frames.shape[1] != expected:
            raise ValueError(f'PoseResNet: expected (B, {expected}, H, W) stacked '
                             f'frames, got {tuple(frames.shape)}')
        return self.encoder(frames)
