from .formatting import PackDepthSemInputs  # noqa: F401
from .geometric import (CenterCrop, KBCrop, KeepUncroppedPoseViews,  # noqa: F401
                        RandomCrop, RandomFlip, RandomResize, Resize)
from .label_merge import FillWithPseudoLabels  # noqa: F401
from .photometric import ColorJitter, RandomGrayscale  # noqa: F401
from .loading import *  # noqa: F401,F403
from .mixing import (AffineMix, ClassMix, CutDepth, CutMix, DepthMix,  # noqa: F401
                     NearFarMix, VCutDepth)
from .seem_points import BinaryForegroundMap, SampleSEEMPoints  # noqa: F401
