from .up_concat_decoder import UpConcatDecoder

__all__ = ['UpConcatDecoder']
