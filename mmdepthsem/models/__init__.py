from .backbones import *  # noqa: F401,F403
from .data_augments import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .estimators import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .teachers import *  # noqa: F401,F403
from .data_preprocessor import DepthSemDataPreProcessor  # noqa: F401
