# Backbones come from mmseg (ResNetV1c, TIMMBackbone, ...) through the registry
# hierarchy; mmdepthsem-specific backbones are added here.
from .pose_resnet import PoseResNet, widen_input_conv
from .maxvit import MaxViTBackbone

__all__ = ['PoseResNet', 'widen_input_conv', 'MaxViTBackbone']
