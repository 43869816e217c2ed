"""Benchmark records: one JSON object per workload × size × setting × network (JSON lines).

A record carries what was run (`kind`: protocol, micro or peer; workload, size, setting,
network), the figures (wall seconds as median and spread over repeats, the parties' own phases,
bytes per party, rounds, peak RSS, the plan's predicted cost) and where (machine, revision, time,
command). Missing figures are `null`, never invented: e.g. `offline_seconds` until a workload has
preprocessing. `SCHEMA` names the fields every protocol record has; tests hold records to it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FORMAT = 1
PROTOCOL_FIELDS = (
    "format",
    "kind",
    "workload",
    "size",
    "unit",
    "setting",
    "protocol",
    "parties",
    "threshold",
    "network",
    "network_info",
    "repeats",
    "seconds",
    "phases",
    "run_seconds",
    "offline_seconds",
    "online_seconds",
    "rounds",
    "bytes_sent",
    "bytes_received",
    "payload_bytes_sent",
    "predicted",
    "predicted_payload_ratio",
    "peak_rss_bytes",
    "load_average",
    "correct",
    "machine",
    "revision",
    "timestamp",
)


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and standard deviation of repeated measurements (rounded to µs)."""
    values = [float(v) for v in values]
    return {
        "median": round(statistics.median(values), 6),
        "min": round(min(values), 6),
        "max": round(max(values), 6),
        "stdev": round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
        "all": [round(v, 6) for v in values],
    }


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, Python and OS of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def revision(root: Path) -> str:
    """The git revision of `root` (short), with `+dirty` when the work tree has changes."""

    def git(*arguments: str) -> str:
        command = ["git", *arguments]
        done = subprocess.run(
            command, cwd=root, capture_output=True, text=True, check=True, timeout=10
        )
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if status else "")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def context(root: Path, command: str) -> dict[str, Any]:
    """The fields every record of one harness run shares."""
    return {
        "format": FORMAT,
        "machine": machine(),
        "revision": revision(root),
        "timestamp": now(),
        "command": command,
    }


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """Append records to `path` (one JSON object per line), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        for record in records:
            out.write(json.dumps(record, sort_keys=True) + "\n")
    return path


def load_average() -> float | None:
    """The 1-minute load average: above the core count, something else competed for the CPUs."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def per_party_max(values: Mapping[str, Any]) -> float | None:
    numbers = [float(v) for v in values.values() if isinstance(v, int | float)]
    return max(numbers) if numbers else None
