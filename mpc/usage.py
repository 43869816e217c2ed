"""What this process has used: CPU seconds and peak resident memory, for a job's stats.

Peak memory is Linux's VmHWM (/proc/self/status), restartable per job by writing "5" to
/proc/self/clear_refs. Not ru_maxrss: it starts at the resident size of the process that spawned
this one (it survives fork and exec), so a node started by a large process would report the
spawner's memory as its own. Elsewhere it falls back to ru_maxrss.
"""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path


def reset_peak_rss() -> None:
    """Start a new peak-memory window (Linux); elsewhere the peak counts from process start."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_bytes() -> int:
    """This process's peak resident memory since `reset_peak_rss` (or its start)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def cpu_seconds() -> float:
    """CPU time this process has used (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def minor_faults() -> int:
    """Page faults this process has taken that needed no I/O (first touches of new memory)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
