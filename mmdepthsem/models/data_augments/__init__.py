from .batch_mix import (BaseBatchMix, BatchAffineMix, BatchClassMix, BatchCutDepth,
                        BatchCutMix, BatchDepthMix, BatchNearFarMix, BatchVCutDepth,
                        mix_like)

__all__ = [
    'BaseBatchMix', 'BatchAffineMix', 'BatchClassMix', 'BatchCutDepth', 'BatchCutMix',
    'BatchDepthMix', 'BatchNearFarMix', 'BatchVCutDepth', 'mix_like'
]
