"""Measuring helpers shared by the benchmark scripts in ``tools/analysis_tools/``."""
from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile

__all__ = ['synchronize', 'peak_memory_bytes']


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on CPU) before reading a clock."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def peak_memory_bytes(step: Callable[[], object], device: torch.device) -> int:
    """Bytes allocated at the peak of ``step()`` above those live before it.

    On CUDA this is ``torch.cuda.max_memory_allocated`` after a reset of the peak
    statistics. The CPU allocator keeps no peak counter, so on CPU ``step`` runs
    under ``torch.profiler(profile_memory=True)`` and the peak of the running sum of
    the allocator's allocation (+) and free (−) events is returned: the live tensor
    bytes of the step, not the process RSS (which also holds the allocator's cached
    pages and everything that is not a tensor).

    Args:
        step: The work to measure; its return value is dropped inside the
            measurement (so an output kept alive by the caller is not counted).
        device: Where ``step`` allocates.

    Returns:
        Peak bytes above the memory live before the call.
    """
    if device.type == 'cuda':
        synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = [event for event in prof.profiler.kineto_results.events()
              if event.name() == '[memory]'
              and event.device_type() == torch.autograd.DeviceType.CPU]
    live = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        live += event.nbytes()
        peak = max(peak, live)
    return peak
