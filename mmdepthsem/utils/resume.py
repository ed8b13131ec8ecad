"""Finding the checkpoint to resume from after an interruption."""
import glob
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.logging import print_log

_STEP_PATTERN = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def _loadable(path: str) -> bool:
    """A checkpoint file that exists and whose zip directory is complete."""
    import zipfile
    return osp.isfile(path) and zipfile.is_zipfile(path)


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete checkpoint of a work dir.

    ``last_checkpoint`` (written by mmengine's ``CheckpointHook``) is trusted when it
    names a complete file. If it is missing, empty or points at a missing or
    truncated file (a run killed at the wrong moment), the ``iter_*.pth`` /
    ``epoch_*.pth`` files are scanned and the highest-numbered complete one wins.

    Returns:
        The path, or ``None`` if the work dir holds no usable checkpoint.
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            named = f.read().strip()
        if named and _loadable(named):
            return named
        print_log(f'{marker} names "{named}", which is not a complete checkpoint; '
                  'scanning the work dir instead.', logger='current')
    candidates = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _STEP_PATTERN.search(osp.basename(path))
        if match and _loadable(path):
            candidates.append((int(match.group(1)), path))
    return max(candidates)[1] if candidates else None


# ``atomic_write_bytes`` writes ``.{name}.{8 random chars of mkstemp}.tmp`` next to its
# target.
_TORN_WRITE_PATTERN = re.compile(r'^\..+\.[a-z0-9_]{8}\.tmp$')


def remove_torn_writes(work_dir: str) -> List[str]:
    """Delete the temporary files of atomic writes that a killed run never finished.

    A run killed while writing a checkpoint leaves a hidden
    ``.iter_k.pth.<random>.tmp`` (as large as a checkpoint) that nothing reads.
    Call this only when no other process writes to ``work_dir`` (on resume).

    Returns:
        The removed paths.
    """
    removed = []
    for path in glob.glob(osp.join(work_dir, '.*.tmp')):
        if _TORN_WRITE_PATTERN.match(osp.basename(path)):
            try:
                os.remove(path)
            except FileNotFoundError:
                continue
            removed.append(path)
    if removed:
        print_log(f'Removed {len(removed)} unfinished checkpoint write(s) of an '
                  f'interrupted run: {", ".join(sorted(removed))}', logger='current')
    return removed
