"""The memory a node process reserves for its jobs (`mpc.memory`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mpc import memory

# in a fresh interpreter: reserving changes the whole process's allocator
PROBE = """
import resource, sys
import numpy as np
from mpc import memory
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
kept = memory.reserve(int(sys.argv[1]))
before = faults()
arrays = [np.ones(2**17) for _ in range(16)]  # 16 MiB of fresh arrays
print(kept, faults() - before)
"""


def _fresh_arrays_faults(reserve_bytes: int) -> tuple[bool, int]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(reserve_bytes)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    kept, faults = result.stdout.split()
    return kept == "True", int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_reserved_memory_serves_the_jobs_arrays_without_page_faults() -> None:
    kept, faults = _fresh_arrays_faults(32 * 2**20)
    if not kept:
        pytest.skip("this C library has no glibc mallopt: reserve() does nothing")
    plain, plain_faults = _fresh_arrays_faults(0)
    assert not plain
    if plain_faults < 400:  # 16 MiB of fresh 4 KiB pages: 4,096 faults
        pytest.skip(f"only {plain_faults} faults for 16 MiB of fresh pages (huge pages?)")
    assert faults < plain_faults / 4


def test_reserving_nothing_changes_nothing() -> None:
    assert memory.reserve(0) is False
    assert memory.reserve(-5) is False
