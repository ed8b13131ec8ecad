"""Finding the checkpoint to resume from after an interruption."""
import glob
import os.path as osp
import re
from typing import Optional

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
