from .up_concat_decoder import UpConcatDecoder
from .dss_neck import DSSNeck
from .cross_modal_attention import BidirectionalCMA, CrossModalAttention
from .cross_task_neck import CrossTaskNeck
from .ccam_neck import CCAMNeck
from .attention_guided_distillation import AttentionGuidedDistillation
from .padnet_distillation_neck import PADNetDistillationNeck
from .sig_neck import SIGNeck
from .swmap_neck import SWMapNeck
from .semantic_self_attention import SemanticGuidedSelfAttention
from .seem import SemanticEdgeEnhancement
from .sosd_decoder import SOSDDecoder

__all__ = ['UpConcatDecoder', 'DSSNeck', 'CrossTaskNeck', 'CCAMNeck',
           'PADNetDistillationNeck', 'SIGNeck', 'SWMapNeck',
           'CrossModalAttention', 'BidirectionalCMA', 'SemanticGuidedSelfAttention',
           'SemanticEdgeEnhancement', 'SOSDDecoder', 'AttentionGuidedDistillation']
