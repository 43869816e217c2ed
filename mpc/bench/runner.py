"""One measurement: a workload at one size, on one setting and network, repeated, into a record.

Protocol workloads run exactly as users run them: `mpc.local.run_local` starts one `mpc party`
process per party (on loopback, or each in its own network namespace for `wan`), the driver
`Client` runs the job over mutual TLS, and the processes stop. Every repeat's outputs are checked
against the plaintext answers before anything is recorded. Micro-benchmarks run their script
once per repeat. Every wait is bounded (`limit` seconds per repeat).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from mpc.bench.records import PROTOCOL_FIELDS, load_average, spread
from mpc.bench.spec import MicroWorkload, Prepared, Setting, Workload, WrongAnswerError
from mpc.client import JobOutcome
from mpc.config import Timeouts
from mpc.local import run_local

Tick = Callable[[str], None]


def _no_tick(_: str) -> None:
    return None


@dataclass(frozen=True)
class Network:
    """Where the parties run: `lan` (loopback) or an emulated network (hosts, command prefixes)."""

    name: str
    info: dict[str, Any] = field(default_factory=dict)
    hosts: tuple[str, ...] | None = None  # one per party slot
    prefixes: tuple[tuple[str, ...], ...] | None = None  # one per party slot
    dealer_host: str = "127.0.0.1"  # where a dealer (run by the driver's host) listens

    def placement(self, parties: int) -> tuple[list[str] | None, dict[int, tuple[str, ...]] | None]:
        if self.hosts is None:
            return None, None
        if parties > len(self.hosts):
            raise ValueError(
                f"network {self.name} has {len(self.hosts)} party slots, not {parties}"
            )
        prefixes = {p: self.prefixes[p] for p in range(parties)} if self.prefixes else None
        return list(self.hosts[:parties]), prefixes


LAN = Network("lan", {"kind": "loopback", "host": "127.0.0.1"})


async def _run_job(
    root: Path,
    workload: Workload,
    setting: Setting,
    prepared: Prepared,
    network: Network,
    limit: float,
) -> JobOutcome:
    hosts, prefixes = network.placement(setting.parties)
    with trio.fail_after(limit):
        return await run_local(
            root / workload.circuit,
            n_parties=setting.parties,
            protocol=setting.protocol,
            threshold=setting.threshold,
            inputs=prepared.inputs,
            params=prepared.params,
            timeouts=Timeouts(connect=30.0, round=min(limit, 600.0), job=limit, idle=120.0),
            hosts=hosts,
            command_prefix=prefixes,
            preprocessing=setting.preprocessing,
            dealer_host=network.dealer_host,
        )


def run_protocol(
    root: Path,
    workload: Workload,
    setting: Setting,
    size: int,
    network: Network,
    *,
    prepared: Prepared,
    repeats: int,
    limit: float = 1800.0,
    tick: Tick = _no_tick,
) -> dict[str, Any]:
    """Run `repeats` jobs, check each one's outputs, and return the record (without context)."""
    outcomes: list[JobOutcome] = []
    for repeat in range(repeats):

        async def one() -> JobOutcome:
            return await _run_job(root, workload, setting, prepared, network, limit)

        try:
            outcome = trio.run(one)
        except trio.TooSlowError:
            raise RuntimeError(f"the job did not finish within {limit:g} s") from None
        workload.verify(outcome.outputs, prepared)  # raises WrongAnswerError: nothing recorded
        outcomes.append(outcome)
        tick(f"{workload.name} {setting.name} {size:,} {network.name} #{repeat + 1}")
    return protocol_record(workload, setting, size, network, outcomes)


def _phases(outcomes: Sequence[JobOutcome]) -> dict[str, list[float]]:
    """Each phase the parties report (prepare, connect, run, offline, …): slowest party, per run."""
    phases: dict[str, list[float]] = {}
    for outcome in outcomes:
        per_phase: dict[str, list[float]] = {}
        for party_seconds in outcome.stats.get("party_seconds", {}).values():
            for phase, value in (party_seconds or {}).items():
                if isinstance(value, int | float):
                    per_phase.setdefault(phase, []).append(float(value))
        for phase, values in per_phase.items():
            phases.setdefault(phase, []).append(max(values))
    return phases


def protocol_record(
    workload: Workload,
    setting: Setting,
    size: int,
    network: Network,
    outcomes: Sequence[JobOutcome],
) -> dict[str, Any]:
    stats = outcomes[-1].stats
    phases = _phases(outcomes)
    medians = {phase: round(statistics.median(v), 6) for phase, v in phases.items()}
    predicted = stats.get("predicted", {})
    payload = stats.get("payload_bytes_sent", {})
    predicted_total = sum(predicted.get("bytes_sent", []))
    payload_total = sum(v for v in payload.values() if isinstance(v, int))
    rss: dict[str, int] = {}
    for outcome in outcomes:
        for party, value in outcome.stats.get("peak_rss_bytes", {}).items():
            if isinstance(value, int):
                rss[party] = max(rss.get(party, 0), value)
    operations = workload.operations(size) if workload.operations else None
    online_span = _online_spans(outcomes)
    record = {
        "kind": "protocol",
        "workload": workload.name,
        "size": size,
        "unit": workload.unit,
        "setting": setting.name,
        "protocol": setting.protocol,
        "parties": setting.parties,
        "threshold": stats.get("threshold"),
        "network": network.name,
        "network_info": network.info,
        "repeats": len(outcomes),
        "seconds": spread([o.stats["seconds"] for o in outcomes]),
        "phases": medians,
        "run_seconds": spread(phases["run"]) if "run" in phases else None,
        "offline_seconds": spread(phases["offline"]) if "offline" in phases else None,
        "online_seconds": spread(phases["online"]) if "online" in phases else None,
        "online_span_seconds": spread(online_span) if online_span else None,
        "preprocessing": stats.get("preprocessing"),
        "domain": stats.get("domain"),
        "rounds": stats.get("rounds"),
        "offline_rounds": stats.get("offline_rounds"),
        "offline_bytes_sent": stats.get("offline_bytes_sent"),
        "bytes_sent": stats.get("bytes_sent"),
        "bytes_received": stats.get("bytes_received"),
        "payload_bytes_sent": payload,
        "predicted": predicted,
        "predicted_payload_ratio": (
            round(payload_total / predicted_total, 4) if predicted_total else None
        ),
        "peak_rss_bytes": rss,
        "load_average": load_average(),
        "correct": True,
        "fingerprint": stats.get("fingerprint"),
        "operations": operations,
        "operation": workload.operation or None,
    }
    record["rates"], record["bytes_per_operation"] = _rates(record, operations)
    missing = [f for f in PROTOCOL_FIELDS if f not in record and f not in _CONTEXT_FIELDS]
    assert not missing, missing
    return record


_CONTEXT_FIELDS = ("format", "machine", "revision", "timestamp")


def _online_spans(outcomes: Sequence[JobOutcome]) -> list[float]:
    """Per run: from the last party entering its online phase to the last party done.

    A party's own `online` phase starts when its offline work is over, so with uneven offline
    work (a dealer's seeds for one party, corrections for the other) it includes waiting for the
    slower peer's offline work; the span, max(run) − max(offline) over parties (their `run`
    clocks start together, at the mesh connection), leaves that wait out.
    """
    spans = []
    for outcome in outcomes:
        seconds = [s for s in outcome.stats.get("party_seconds", {}).values() if s]
        if seconds and all("offline" in s and "run" in s for s in seconds):
            spans.append(max(s["run"] for s in seconds) - max(s["offline"] for s in seconds))
    return spans


def _rates(
    record: dict[str, Any], operations: int | None
) -> tuple[dict[str, float] | None, dict[str, float] | None]:
    """Operations per second (wall, run, online span) and bytes per operation (all parties)."""
    if not operations:
        return None, None
    rates = {}
    for name, key in (
        ("wall", "seconds"),
        ("run", "run_seconds"),
        ("online", "online_span_seconds"),
    ):
        seconds = (record.get(key) or {}).get("median")
        if seconds:
            rates[name] = round(operations / seconds, 1)
    per_operation = {}  # payload: the online stage's; wire: everything (offline, TLS, framing)
    for name, key in (("wire", "bytes_sent"), ("payload", "payload_bytes_sent")):
        values = [v for v in (record.get(key) or {}).values() if isinstance(v, int)]
        if values:
            per_operation[name] = round(sum(values) / operations, 2)
    return rates, per_operation


def run_micro(
    root: Path,
    workload: MicroWorkload,
    size: int,
    *,
    repeats: int,
    limit: float = 600.0,
    tick: Tick = _no_tick,
) -> list[dict[str, Any]]:
    """Run a micro-benchmark script `repeats` times at `size`; one record per measurement."""
    runs: list[dict[str, dict[str, Any]]] = []
    script = str(root / workload.script)
    command = [sys.executable, script, workload.size_arg, str(size), *workload.args]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    for repeat in range(repeats):
        try:
            done = subprocess.run(
                command,
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{workload.script} did not finish within {limit:g} s") from None
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-10:])
            raise RuntimeError(f"{workload.script} exited with {done.returncode}: {tail}")
        found = measurements(done.stdout, workload.script, workload.key)
        if runs and set(found) != set(runs[0]):
            raise RuntimeError(f"{workload.script} measured different things on different runs")
        runs.append(found)
        tick(f"{workload.name} {size:,} #{repeat + 1}")
    records = []
    for name, last in runs[-1].items():
        extra = {
            key: value
            for key, value in last.items()
            if key not in ("seconds", "correct", *workload.key)
            and isinstance(value, int | float | str)
        }
        own_size, unit = _micro_size(workload, last, size)
        records.append(
            {
                "kind": "micro",
                "workload": workload.name,
                "measurement": name,
                "size": own_size,
                "unit": unit,
                "size_argument": size,
                "setting": "single-process",
                "parties": 1,
                "network": "none",
                "repeats": repeats,
                "seconds": spread([float(run[name]["seconds"]) for run in runs]),
                "load_average": load_average(),
                "correct": True,
                "extra": extra,
            }
        )
    return records


def _micro_size(workload: MicroWorkload, line: dict[str, Any], size: int) -> tuple[int | None, str]:
    """A measurement's own size and unit: its first `sized_by` field, else the size argument
    (None when the workload names fields and the line has none of them, e.g. a set-up)."""
    for key, unit in workload.sized_by:
        if isinstance(line.get(key), int):
            return int(line[key]), unit
    return (None, "") if workload.sized_by else (size, workload.unit)


def measurements(stdout: str, source: str, key: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The JSON lines with a `seconds` field, by the values of their `key` fields."""
    found: dict[str, dict[str, Any]] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("correct") is False:
            raise WrongAnswerError(f"{source} reported a wrong answer: {line[:200]}")
        if isinstance(value, dict) and isinstance(value.get("seconds"), int | float):
            name = "/".join(str(value[k]) for k in key if k in value) if key else "all"
            found[name] = value
    if not found:
        raise RuntimeError(f"{source} printed no JSON line with a 'seconds' field")
    return found


def last_measurement(stdout: str, source: str) -> dict[str, Any]:
    """The last JSON line with a `seconds` field."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and isinstance(value.get("seconds"), int | float):
                return value
    raise RuntimeError(f"{source} printed no JSON line with a 'seconds' field")
