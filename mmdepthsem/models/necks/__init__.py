from .up_concat_decoder import UpConcatDecoder
from .dss_neck import DSSNeck

__all__ = ['UpConcatDecoder', 'DSSNeck']
