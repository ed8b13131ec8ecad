"""Ending the forked two-rank gloo workers of the reliability tests."""
import os

import torch.distributed as dist


def leave_gloo_worker() -> None:
    """End a forked gloo worker once its results are saved, without a teardown.

    Tearing a gloo process group down can deadlock in torch: the ``ProcessGroupGloo``
    destructor runs with the GIL held (for instance when DDP's reducer is freed) and
    joins its run-loop threads, while one of them waits for the GIL to free a tensor
    of a finished collective (seen once here, hanging a clean-clone CI run). Here every
    rank first meets at a barrier, so every collective has completed on both ranks,
    and then leaves with ``os._exit(0)``; the parent sees exit code 0.
    """
    dist.barrier()
    os._exit(0)
