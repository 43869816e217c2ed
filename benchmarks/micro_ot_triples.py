"""Micro-benchmark of the dealer-free two-party preprocessing (Gilboa over IKNP), in one process.

    python -m benchmarks.micro_ot_triples [--triples 100000] [--truncations 10000]
                                          [--frac-bits 16] [--width 64] [--repeats 3] [--quick]

Both parties' `mpc.preprocessing.ot_triples.generate` run in this process, driven round by round
by `mpc.testing.run_protocols` (no network, no wire encoding): so `seconds` is the work of BOTH
parties on one core, and a party alone does about half of it. Prints one JSON line per
measurement: the per-job set-up (base OTs of both IKNP sessions, measured on a one-element job),
`triples` Z_2^64 triples, and `truncations` F_(2^127−1) truncation pairs (m = frac-bits, l =
width). `bytes` counts the payload arrays both parties send, `bytes_per_item` leaves out the
set-up; `predicted_bytes` is `ot_triples.cost`. Each figure is the best (least CPU) of `repeats`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mpc.field import F127, RING64, Domain
from mpc.preprocessing import ot_triples
from mpc.protocols.context import Context, Payload, Run
from mpc.rng import Csprng
from mpc.suite import Need, Suite
from mpc.testing import random_pair_keys, run_protocols


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def counted(run: Run[Any], sent: list[int]) -> Run[Any]:
    """`run`, adding the bytes of every array it sends to sent[0]."""
    try:
        exchange = next(run)
        while True:
            sent[0] += sum(int(a.nbytes) for arrays in exchange.send.values() for a in arrays)
            received: Mapping[int, Payload] = yield exchange
            exchange = run.send(received)
    except StopIteration as stop:
        return stop.value


def one_job(domain: Domain, needs: Sequence[Need]) -> dict[str, float]:
    """Both parties' generate for `needs`: wall and CPU seconds, payload bytes."""
    suite = Suite.of("additive", 2)
    keys = random_pair_keys(2)
    session = os.urandom(16)
    ctxs = [Context(p, suite, domain, session, Csprng(), keys[p], {}) for p in (0, 1)]
    sent = [0]
    wall, cpu = time.perf_counter(), time.process_time()
    stores = run_protocols({p: counted(ot_triples.generate(ctxs[p], needs), sent) for p in (0, 1)})
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    for need in needs:  # the material is there and complete
        for store in stores.values():
            store.take(need.node, need.kind)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "bytes": float(sent[0])}


def best(repeats: int, domain: Domain, needs: Sequence[Need]) -> dict[str, float]:
    return min((one_job(domain, needs) for _ in range(repeats)), key=lambda r: r["cpu_seconds"])


def bench(
    name: str, domain: Domain, needs: list[Need], count: int, setup: dict[str, float], repeats: int
) -> None:
    r = best(repeats, domain, needs)
    cost = ot_triples.cost(domain, needs)
    work = r["seconds"] - setup["seconds"]
    emit(
        {
            "bench": name,
            "domain": domain.name,
            "count": count,
            "seconds": round(r["seconds"], 3),
            "cpu_seconds": round(r["cpu_seconds"], 3),
            "per_second": round(count / r["seconds"]),
            "per_second_after_setup": round(count / work) if work > 0 else None,
            "bytes": int(r["bytes"]),
            "predicted_bytes": cost.total_bytes,
            "bytes_per_item": round((r["bytes"] - setup["bytes"]) / count, 1),
            "ots": sum(cost.ots),
            "ots_per_second": round(sum(cost.ots) / r["seconds"]),
            "parties_in_process": 2,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--truncations", type=int, default=10_000)
    parser.add_argument("--frac-bits", type=int, default=16)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.triples, args.truncations, args.repeats = 10_000, 1_000, 1
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
    setup = best(args.repeats, RING64, [Need(0, "triple", ((),))])
    emit(
        {
            "bench": "ot_preprocessing_setup",
            "seconds": round(setup["seconds"], 3),
            "cpu_seconds": round(setup["cpu_seconds"], 3),
            "bytes": int(setup["bytes"]),
            "note": "one-element job: base OTs of both IKNP sessions, both parties",
        }
    )
    triples = [Need(0, "triple", ((args.triples,),))]
    bench("ot_triples", RING64, triples, args.triples, setup, args.repeats)
    truncations = [Need(0, "trunc", ((args.truncations,),), args.frac_bits, args.width)]
    bench("ot_truncation_pairs", F127, truncations, args.truncations, setup, args.repeats)


if __name__ == "__main__":
    main()
