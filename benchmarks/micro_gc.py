"""Micro-benchmarks of the OT and garbled-circuit core, single process, no network.

    python -m benchmarks.micro_gc [--instances 100000] [--ots 1048576] [--aes-blocks 10000]
                                  [--repeats 3] [--quick]

Prints one JSON line per measurement: garbling and evaluation of `instances` 32-bit comparators
(KSS09, 32 ANDs each: 3.2 M AND gates by default), IKNP random and Δ-correlated OTs per party
for 2^20 OTs, the base-OT set-up, and garbled AES-128 (Bristol Fashion, key from the garbler,
plaintexts from the evaluator) on `aes_blocks` blocks with its table bytes. Each figure is the
best of `repeats` runs; `seconds` is wall time, `cpu_seconds` the process CPU time of that run
(on a shared machine the CPU time is the steadier figure). Targets (issue 5, 2-core machine):
garbling ≥ 10 M AND/s, evaluation ≥ 20 M AND/s, IKNP ≥ 3 M OT/s per party.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from mpc.gc import bristol, library
from mpc.gc.circuit import Circuit, to_bits
from mpc.gc.garble import EvaluateSession, GarbleSession
from mpc.ot import base, iknp
from mpc.rng import Csprng

BRISTOL = Path(__file__).resolve().parents[2] / "shared" / "peer-tests" / "bristol"
AES_CIRCUIT = Path(os.environ.get("MPC_BRISTOL_DIR", BRISTOL)) / "aes_128.txt"


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def best(repeats: int, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    """The run with the least CPU time (each run reports seconds and cpu_seconds)."""
    results = [run() for _ in range(repeats)]
    return min(results, key=lambda r: r["cpu_seconds"])


def timed(fn: Callable[[], object]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}


def comparator_inputs(
    g: GarbleSession, c: Circuit, n: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    data = Csprng()
    x, y = data.words(n) >> np.uint64(32), data.words(n) >> np.uint64(32)
    zeros = [g.zero_labels(32, n), g.zero_labels(32, n)]
    labels = [g.encode(zeros[0], to_bits(x, 32)), g.encode(zeros[1], to_bits(y, 32))]
    return zeros, labels


def evaluate_all(
    key: bytes, first: int, c: Circuit, labels: list[np.ndarray], tables: list[np.ndarray]
) -> None:
    """Evaluate `c` on `labels` from gate id `first`, feeding it every garbled table in turn."""
    e = EvaluateSession(key)
    e.next_gate = first
    run = e.evaluate_stream(c, labels)
    try:
        next(run)
        for t in tables:
            run.send(t)
    except StopIteration:
        pass


def bench_garbling(n: int, repeats: int) -> None:
    c = library.comparison(32, "gt")
    gates = c.and_count * n
    g = GarbleSession(Csprng())
    zeros, labels = comparator_inputs(g, c, n)
    first = g.next_gate
    tables: list[np.ndarray] = []

    def garble_only() -> dict[str, float]:  # tables dropped as made, as when streamed out
        g.next_gate = first
        return timed(lambda: sum(1 for _ in g.garble_stream(c, zeros)))

    r = best(repeats, garble_only)
    emit(
        {
            "bench": "garble",
            "circuit": "gt32",
            "instances": n,
            "and_gates": gates,
            **r,
            "and_per_s": gates / r["seconds"],
            "and_per_cpu_s": gates / r["cpu_seconds"],
            "target_and_per_s": 10e6,
            "table_bytes": 32 * gates,
        }
    )
    g.next_gate = first
    tables.extend(g.garble_stream(c, zeros))  # untimed: the tables the evaluator reads

    def evaluate_only() -> dict[str, float]:
        return timed(lambda: evaluate_all(g.key, first, c, labels, tables))

    r = best(repeats, evaluate_only)
    emit(
        {
            "bench": "evaluate",
            "circuit": "gt32",
            "instances": n,
            "and_gates": gates,
            **r,
            "and_per_s": gates / r["seconds"],
            "and_per_cpu_s": gates / r["cpu_seconds"],
            "target_and_per_s": 20e6,
        }
    )


def bench_iknp(m: int, repeats: int) -> None:
    rng, session, key = Csprng(), b"bench", Csprng().bytes(16)
    t0 = time.perf_counter()
    state = base.sender_start(rng, session)  # the extension receiver is the base-OT sender
    s = rng.bits(iknp.KAPPA)
    message, seeds = base.receiver_respond(rng, session, state.public, s)
    keys0, keys1 = base.sender_finish(state, message)
    emit(
        {
            "bench": "base_ot",
            "ots": iknp.KAPPA,
            "seconds": time.perf_counter() - t0,
            "bytes": base.POINT_BYTES + message.nbytes,
        }
    )
    receiver, sender = iknp.IknpReceiver(keys0, keys1, key), iknp.IknpSender(s, seeds, key)
    for variant in ("random", "correlated"):
        bench_iknp_variant(receiver, sender, variant, m, repeats)


def bench_iknp_variant(
    receiver: iknp.IknpReceiver, sender: iknp.IknpSender, variant: str, m: int, repeats: int
) -> None:
    """Each party's work for m OTs: the receiver's extension (+ its outputs), then the sender's
    on the receiver's matrices (+ its outputs, or the Δ-OT corrections)."""
    rng = Csprng()
    choices, delta = rng.bits(m), rng.words(2)
    y = rng.words((m, 2))  # stands in for the sender's corrections (same cost to apply)
    batches: list[iknp.ReceiverBatch] = []

    def receive() -> None:
        batch = receiver.extend(choices)
        batches.append(batch)
        if variant == "random":
            iknp.receiver_pads(receiver, batch, 2)
        else:
            iknp.correlated_finish(receiver, batch, y)

    def send(u: np.ndarray) -> None:
        batch = sender.extend(u, m)
        if variant == "random":
            iknp.sender_pads(sender, batch, 2)
        else:
            iknp.correlated_corrections(sender, batch, delta)

    r_recv = best(repeats, lambda: timed(receive))
    r_send = best(repeats, lambda: timed(partial(send, batches.pop(0).u)))
    for role, r in (("receiver", r_recv), ("sender", r_send)):
        emit(
            {
                "bench": f"iknp_{variant}",
                "role": role,
                "ots": m,
                **r,
                "ot_per_s": m / r["seconds"],
                "ot_per_cpu_s": m / r["cpu_seconds"],
                "target_ot_per_s": 3e6,
                "receiver_to_sender_bytes": 16 * iknp.padded(m),
            }
        )


def bench_aes(blocks: int, repeats: int) -> None:
    if not AES_CIRCUIT.exists():
        emit({"bench": "garbled_aes128", "skipped": f"{AES_CIRCUIT} not found"})
        return
    t0 = time.perf_counter()
    c = bristol.load(AES_CIRCUIT)
    steps = len(c.schedule.steps)
    load_s = time.perf_counter() - t0
    data = Csprng()
    key = bristol.hex_to_bits(["000102030405060708090a0b0c0d0e0f"] * blocks, 128)
    plain = np.unpackbits(np.frombuffer(data.bytes(16 * blocks), np.uint8)).reshape(blocks, 128)

    g = GarbleSession(Csprng())
    zeros = [g.zero_labels(128, blocks), g.zero_labels(128, blocks)]
    labels = [g.encode(zeros[0], key), g.encode(zeros[1], plain)]
    first = g.next_gate
    tables: list[np.ndarray] = []

    def garble_only() -> dict[str, float]:
        g.next_gate = first  # the same gate ids: the same tables every run
        return timed(lambda: sum(1 for _ in g.garble_stream(c, zeros)))

    def evaluate_only() -> dict[str, float]:
        return timed(lambda: evaluate_all(g.key, first, c, labels, tables))

    r_g = best(repeats, garble_only)
    g.next_gate = first
    tables.extend(g.garble_stream(c, zeros))  # kept in memory (2 GB for 10^4 blocks), untimed
    r_e = best(repeats, evaluate_only)
    gates = c.and_count * blocks
    table_bytes = sum(t.nbytes for t in tables)
    tables.clear()
    # the garbler's key labels, and the plaintext by Δ-OT (u and a correction): 16 B/bit each
    input_bytes = 3 * 128 * blocks * 16
    emit(
        {
            "bench": "garbled_aes128",
            "blocks": blocks,
            "and_gates": gates,
            "xor_gates": c.xor_count * blocks,
            "steps": steps,
            "load_seconds": load_s,
            "garble_seconds": r_g["seconds"],
            "garble_cpu_seconds": r_g["cpu_seconds"],
            "evaluate_seconds": r_e["seconds"],
            "evaluate_cpu_seconds": r_e["cpu_seconds"],
            "seconds": r_g["seconds"] + r_e["seconds"],
            "garble_and_per_cpu_s": gates / r_g["cpu_seconds"],
            "evaluate_and_per_cpu_s": gates / r_e["cpu_seconds"],
            "table_bytes": table_bytes,
            "bytes_total": table_bytes + input_bytes,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--ots", type=int, default=1 << 20)
    parser.add_argument("--aes-blocks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.instances, args.ots, args.aes_blocks, args.repeats = 10_000, 1 << 16, 100, 1
    emit(
        {
            "bench": "machine",
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "load_average": os.getloadavg(),
        }
    )
    bench_garbling(args.instances, args.repeats)
    bench_iknp(args.ots, args.repeats)
    bench_aes(args.aes_blocks, args.repeats)


if __name__ == "__main__":
    main()
