from .checkpoint import (AtomicLocalBackend, UnsafeCheckpointError,
                         atomic_write_bytes, load_checkpoint_weights_only,
                         register_safe_globals, safe_globals)
from .set_env import register_all_modules

__all__ = [
    'register_all_modules', 'AtomicLocalBackend', 'UnsafeCheckpointError',
    'atomic_write_bytes', 'load_checkpoint_weights_only', 'register_safe_globals',
    'safe_globals'
]
