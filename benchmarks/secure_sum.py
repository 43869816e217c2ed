"""Benchmark: secure sum of 10^6 values at each of 3 parties, as users run it (`mpc local`).

    python -m benchmarks.secure_sum [--rows 1000000] [--parties 3] [--repeats 3] [--no-write]

Generates the CSVs (benchmarks/data/, not committed), runs the job with real party processes over
mutual TLS on loopback for each suite, and records wall seconds (median and range over repeats,
from the driver's connect to the last result), the parties' own split (CSV prepare / mesh connect /
protocol run), bytes sent per party on the wire and the plan's predicted payload, into
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import trio

from mpc.config import Timeouts
from mpc.local import run_local
from parties.synthetic import write_values

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CIRCUIT = ROOT / "circuits" / "secure_sum.py"
BITS = 36  # |x| < 2^36: 3·10^6·2^36 < 2^60, so the total is exact in the Shamir field too
MARK = "<!-- secure_sum -->"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_once(protocol: str, parties: int, inputs: dict[int, dict[str, Path]]) -> dict[str, Any]:
    async def go() -> Any:
        return await run_local(
            CIRCUIT,
            n_parties=parties,
            protocol=protocol,
            inputs=inputs,
            params={"bits": BITS},
            timeouts=Timeouts(connect=30, round=120, job=3600, idle=120),
        )

    outcome = trio.run(go)
    return {"outputs": outcome.outputs, "stats": outcome.stats}


def measure(rows: int, parties: int, repeats: int) -> list[dict[str, Any]]:
    summary = write_values(DATA, parties, rows, BITS, seed=7)
    inputs = {p: {"values": DATA / f"party-{p}-values.csv"} for p in range(parties)}
    expected_total = summary["total"]
    records = []
    for protocol in ("additive", "shamir"):
        runs = [run_once(protocol, parties, inputs) for _ in range(repeats)]
        for run in runs:  # a benchmark of wrong answers is worthless
            assert int(run["outputs"]["total"]) == expected_total, "secure sum is wrong"
        seconds = [run["stats"]["seconds"] for run in runs]
        last = runs[-1]["stats"]
        party_run = [
            statistics.median(r["stats"]["party_seconds"][str(p)]["run"] for r in runs)
            for p in range(parties)
        ]
        party_prepare = [
            statistics.median(r["stats"]["party_seconds"][str(p)]["prepare"] for r in runs)
            for p in range(parties)
        ]
        records.append(
            {
                "workload": "secure_sum",
                "protocol": protocol,
                "parties": parties,
                "rows": rows,
                "repeats": repeats,
                "seconds_median": statistics.median(seconds),
                "seconds_min": min(seconds),
                "seconds_max": max(seconds),
                "prepare_seconds_median": max(party_prepare),
                "run_seconds_median": max(party_run),
                "rounds": last["rounds"],
                "bytes_sent": last["bytes_sent"],
                "predicted_payload_bytes": last["predicted"]["bytes_sent"],
            }
        )
        print(json.dumps(records[-1]), flush=True)
    return records


def markdown(records: list[dict[str, Any]], command: str) -> str:
    lines = [
        MARK,
        "## Secure sum (issue 3 seed benchmark)",
        "",
        f"- machine: {machine()}",
        f"- revision: {revision()}",
        f"- command: `{command}`",
        "- what: real `mpc party` processes over mutual TLS on loopback, started by `mpc local`;",
        "  wall = driver connect → last result (includes each party reading its CSV);",
        "  prepare = CSV read + validation (slowest party);",
        "  run = the protocol itself, mesh connection excluded (slowest party).",
        "",
        "| suite | parties | rows | rounds | wall s (median, min–max) | prepare s | run s "
        "| MB sent per party (wire) | predicted payload MB per party |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        sent = " / ".join(f"{b / 1e6:.2f}" for b in r["bytes_sent"].values())
        predicted = " / ".join(f"{b / 1e6:.2f}" for b in r["predicted_payload_bytes"])
        lines.append(
            f"| {r['protocol']} | {r['parties']} | {r['rows']:,} | {r['rounds']} "
            f"| {r['seconds_median']:.2f} ({r['seconds_min']:.2f}–{r['seconds_max']:.2f}) "
            f"| {r['prepare_seconds_median']:.2f} | {r['run_seconds_median']:.2f} "
            f"| {sent} | {predicted} |"
        )
    lines.append(MARK)
    return "\n".join(lines) + "\n"


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    if MARK in text:
        before, _, rest = text.partition(MARK)
        _, _, after = rest.partition(MARK)
        text = before + section.rstrip("\n") + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.secure_sum")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    records = measure(args.rows, args.parties, args.repeats)
    command = "python -m benchmarks.secure_sum " + " ".join(sys.argv[1:])
    if not args.no_write:
        write_results(markdown(records, command.strip()))
        print(f"updated {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
