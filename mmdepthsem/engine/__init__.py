from .hooks import *  # noqa: F401,F403
from .model_wrappers import DeviceAwareDistributedDataParallel  # noqa: F401
from .optimizers import *  # noqa: F401,F403
