"""Shared by the peer drivers (run inside each peer's own venv: numpy and the standard library).

- `arguments()`: the command line every driver takes (`--workload --size --parties --protocol
  --seed --bits`, plus `--party` and `--port` for the processes a driver starts itself);
- `column(seed, party, size, bits)`: the inputs, uniform in (-2^bits, 2^bits) like ours;
- per workload: `owners` (who inputs), `shape` and `values` (each owner's input), `expected`
  (the plaintext answers, one array per output) and `problem` (why outputs are wrong, or None);
- `tcp_bytes()`: wire bytes this process sent and received on its TCP sockets so far, read from
  the kernel (TCP_INFO), so every peer is counted the same way whatever its transport;
- `report(...)`: the one JSON line the harness reads; `party_results` and `report_parties` for
  drivers that start one OS process per party and collect each one's stats file.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

WORKLOADS = ("secure_sum", "mul", "compare", "inner_product", "matvec", "matmul")
TCPI_BYTES_ACKED = 120  # offsets in struct tcp_info (linux/tcp.h)
TCPI_BYTES_RECEIVED = 128
TIMEOUT = 1800  # seconds a peer's whole run may take


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", required=True, choices=WORKLOADS)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--parties", type=int, required=True)
    parser.add_argument("--protocol", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bits", type=int, default=36)
    parser.add_argument("--party", type=int, default=None, help="(internal) this party's id")
    parser.add_argument("--port", type=int, default=None, help="(internal) base port")
    parser.add_argument("--stats", default=None, help="(internal) file for this party's stats")
    args, _ = parser.parse_known_args(argv)
    return args


def column(seed: int, party: int, size: int, bits: int) -> np.ndarray:
    generator = np.random.default_rng([seed, party])
    return generator.integers(-(2**bits) + 1, 2**bits, size=size, dtype=np.int64)


def plaintext_sum(seed: int, parties: int, size: int, bits: int) -> np.ndarray:
    return np.sum([column(seed, p, size, bits) for p in range(parties)], axis=0, dtype=np.int64)


FRAC = 10  # inner_product inputs are multiples of 2^-FRAC below 2^bits, as ours
PEER_FRAC = 16  # the fewest fractional bits of the peers' fixed point (CrypTen's default)


def tolerance(rows: int) -> float:
    """inner_product: a peer that truncates every product is off by < 2^-PEER_FRAC per row."""
    return max(2.0**-10, rows * 2.0**-PEER_FRAC)


def owners(workload: str, parties: int) -> list[int]:
    """The parties with an input: every party for secure_sum, else parties 0 and 1."""
    return list(range(parties)) if workload == "secure_sum" else [0, 1]


def shape(workload: str, party: int, size: int) -> tuple[int, ...]:
    if workload == "matmul" or (workload == "matvec" and party == 0):
        return (size, size)
    return (size,)


def values(args: argparse.Namespace, party: int) -> np.ndarray:
    """`party`'s input: integers in (-2^bits, 2^bits); inner_product's divided by 2^FRAC."""
    if args.workload == "secure_sum":
        return column(args.seed, party, args.size, args.bits)
    generator = np.random.default_rng([args.seed, party, WORKLOADS.index(args.workload)])
    bits = args.bits + (FRAC if args.workload == "inner_product" else 0)
    raw = generator.integers(
        -(2**bits) + 1, 2**bits, size=shape(args.workload, party, args.size), dtype=np.int64
    )
    return raw / 2.0**FRAC if args.workload == "inner_product" else raw


def expected(args: argparse.Namespace) -> list[np.ndarray]:
    """The plaintext answers, one array per output."""
    if args.workload == "secure_sum":
        total = plaintext_sum(args.seed, args.parties, args.size, args.bits)
        return [total, np.array(total.sum())]
    x, y = values(args, 0), values(args, 1)
    if args.workload == "mul":
        return [x * y]
    if args.workload == "compare":
        return [(x > y).astype(np.int64)]
    if args.workload == "inner_product":
        exact = int(
            np.dot(np.round(x * 2**FRAC).astype(object), np.round(y * 2**FRAC).astype(object))
        )
        return [np.array(exact / 2.0 ** (2 * FRAC))]
    return [x @ y]  # matvec, matmul


def problem(workload: str, got: list[object], want: list[np.ndarray], rows: int = 0) -> str | None:
    """Why the revealed outputs are wrong (None: they equal the plaintext answers)."""
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        value = np.asarray(g)
        if value.shape != w.shape:
            return f"output {index} has shape {value.shape}, expected {w.shape}"
        if workload == "inner_product":
            error = float(np.max(np.abs(value.astype(np.float64) - w)))
            if not error <= tolerance(rows):
                return f"output {index} is off by {error:.3g} (> {tolerance(rows):.3g})"
        elif not np.array_equal(value.astype(np.int64), w):
            wrong = int(np.sum(value.astype(np.int64) != w))
            return f"output {index} differs from the plaintext in {wrong} of {w.size} elements"
    return None


def tcp_bytes() -> dict[str, int]:
    """Bytes acknowledged (sent) and received on this process's TCP sockets, per TCP_INFO."""
    sent = received = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        try:
            if s.type != socket.SOCK_STREAM or s.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
            if len(info) >= TCPI_BYTES_RECEIVED + 8:
                sent += struct.unpack_from("<Q", info, TCPI_BYTES_ACKED)[0]
                received += struct.unpack_from("<Q", info, TCPI_BYTES_RECEIVED)[0]
        except OSError:
            pass
        finally:
            s.close()
    return {"sent": sent, "received": received}


def report(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def fail(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(1)


def party_results(
    peer: str, processes: list[subprocess.Popen[str]], stats: str
) -> list[dict[str, Any]]:
    """Wait for every party process (one deadline for all) and read each party's stats file
    (`stats`/party-P.json). The first party that fails ends the run at once: the others are
    killed (they would wait for it until the deadline) and its error is the run's."""
    finished: queue.Queue[tuple[int, int, str]] = queue.Queue()

    def wait(rank: int, process: subprocess.Popen[str]) -> None:
        _, stderr = process.communicate()  # (drains stderr: a full pipe cannot block a party)
        finished.put((rank, process.returncode, stderr or ""))

    for rank, process in enumerate(processes):
        threading.Thread(target=wait, args=(rank, process), daemon=True).start()
    deadline = time.monotonic() + TIMEOUT
    for _ in processes:
        try:
            rank, code, stderr = finished.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            _kill(processes)
            fail(f"{peer} parties took over {TIMEOUT} s")
        if code != 0:
            _kill(processes)
            fail(f"{peer} party {rank} {_exit(code)}: {stderr[-1500:]}")
    return [json.loads(Path(stats, f"party-{p}.json").read_text()) for p in range(len(processes))]


def _kill(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()


def _exit(code: int) -> str:
    """How a party ended: an exit status, or the signal that killed it."""
    if code >= 0:
        return f"exited with {code}"
    name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
    hint = " (the kernel's out-of-memory killer sends it)" if -code == signal.SIGKILL else ""
    return f"was killed by {name}{hint}"


def report_parties(peer: str, version: str, results: list[dict[str, Any]]) -> None:
    """The harness's line from every party's stats: the slowest party's seconds."""
    report(
        peer=peer,
        version=version,
        seconds=max(r["seconds"] for r in results),
        bytes_sent={str(p): r["bytes"]["sent"] for p, r in enumerate(results)},
        bytes_received={str(p): r["bytes"]["received"] for p, r in enumerate(results)},
        bytes_counted="TCP payload bytes acknowledged, per party process (TCP_INFO)",
        correct=all(r["correct"] for r in results),
        problem=next((r["problem"] for r in results if r["problem"]), None),
    )
