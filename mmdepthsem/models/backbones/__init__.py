# Backbones come from mmseg (ResNetV1c, TIMMBackbone, ...) through the registry
# hierarchy; mmdepthsem-specific backbones are added here.
__all__ = []
