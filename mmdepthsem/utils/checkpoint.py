"""Weights-only checkpoint loading and atomic checkpoint writing.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7 calls
``torch.load`` without the argument, so every checkpoint mmengine writes (message hub,
history buffers, numpy arrays) fails to load. Turning ``weights_only`` off would let any
checkpoint run arbitrary code while it is unpickled. Instead this module allow-lists the
exact types mmengine and mmdepthsem write and routes mmengine's local checkpoint loader
through an explicit ``weights_only=True`` load that names the refused type on failure.

Writing goes to a temporary file in the destination folder that is renamed over the
target once complete, so a run killed while saving leaves the previous checkpoint whole.
"""
import os
import os.path as osp
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner import CheckpointLoader

__all__ = [
    'UnsafeCheckpointError', 'safe_globals', 'register_safe_globals',
    'load_checkpoint_weights_only', 'AtomicLocalBackend', 'atomic_write_bytes'
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles a type outside the allow-list; nothing of it was run."""


def _numpy_globals() -> List[Any]:
    """The numpy callables and classes that appear in pickled arrays and scalars."""
    multiarray = getattr(np, '_core', None) or np.core
    found = [multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
             np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes by their class (np.dtypes.Float64DType, ...).
    dtypes_module = getattr(np, 'dtypes', None)
    if dtypes_module is not None:
        found += [getattr(dtypes_module, name) for name in dir(dtypes_module)
                  if name.endswith('DType')]
    # Legacy pickles refer to numpy.core.multiarray by that name.
    found += [(multiarray.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
              (multiarray.multiarray.scalar, 'numpy.core.multiarray.scalar')]
    return found


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` while unpickling.

    mmengine's ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Allowing the real ``getattr`` would let a
    checkpoint walk from any allowed object to ``__globals__`` and ``eval``; this
    stand-in resolves exactly those statistics methods and refuses everything else.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'} | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer '
        'statistics methods may be looked up')


def _mmengine_globals() -> List[Any]:
    """The mmengine types that end up in checkpoints (message hub state, ...)."""
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, ConfigDict, (_history_buffer_getattr, 'builtins.getattr')]


def safe_globals() -> List[Any]:
    """Every non-tensor type a checkpoint of this project may contain."""
    import collections
    return [*_numpy_globals(), *_mmengine_globals(), collections.OrderedDict,
            collections.defaultdict, collections.deque, slice, range, complex,
            torch.Size, torch.device]


def register_safe_globals() -> None:
    """Add the allow-list to torch's weights-only unpickler (idempotent)."""
    torch.serialization.add_safe_globals(safe_globals())


def load_checkpoint_weights_only(filename: Union[str, Path],
                                 map_location: Optional[Union[str, Callable]] = None
                                 ) -> Any:
    """Load a checkpoint with ``weights_only=True`` and the project's allow-list.

    Args:
        filename: Path of a local checkpoint file.
        map_location: As for :func:`torch.load`.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file pickles a type outside the allow-list. The
            message names the type(s); none of the file's code was executed.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    register_safe_globals()
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            refused = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        except Exception:  # not a zip checkpoint: the error message says enough
            refused = []
        allowed = _allowed_names()
        refused = [g for g in refused if g not in allowed] or [
            'an object outside the allow-list (see below)']
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {filename}: it pickles '
            f'{", ".join(refused)}, which is not on mmdepthsem\'s allow-list of '
            'checkpoint types (mmdepthsem/utils/checkpoint.py). Nothing from the '
            'file was executed. If you trust the file and the type is harmless, '
            'add it with torch.serialization.add_safe_globals([...]) before '
            f'loading.\nOriginal error: {err}') from None


def _allowed_names() -> set:
    """Qualified names of the allow-list, as torch reports refused globals."""
    return {entry[1] if isinstance(entry, tuple) else
            f'{entry.__module__}.{entry.__qualname__}' for entry in safe_globals()}


def _load_from_local(filename: str, map_location=None) -> Any:
    return load_checkpoint_weights_only(filename, map_location)


# mmengine's Runner (load_from, resume) and load_checkpoint read local files through
# this scheme; '' is the fall-back prefix for plain paths.
CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that readers see the old or the new file.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the
    temporary file is renamed over ``filepath`` (atomic on POSIX file systems).
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic.

    Select it for checkpoints with
    ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')``
    (``configs/_base_/default_runtime.py`` does).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)
