from .inferencer import DepthSemInferencer

__all__ = ['DepthSemInferencer']
