"""CrypTen's side of the benchmarks, in its real multi-process mode (torch.distributed, gloo).

    .venv/bin/python driver.py --workload secure_sum --size N --parties 3 --protocol tfp

Starts one process per party (`driver.py ... --party I`, with RANK, WORLD_SIZE and a TCP
rendezvous on loopback), each running `crypten.init()` with the default configuration (the
TrustedFirstParty provider: party 0 generates every triple from seeds it chooses). Integers are
encoded with precision 0, so arithmetic is exact in Z_2^64 like our additive suite. Prints one
JSON line: protocol seconds (slowest party; inputs → revealed outputs), TCP bytes sent per party,
CrypTen's own count of communicated bytes, and whether every party's answer matched.

CrypTen 0.4.1 imports `torch.onnx.symbolic_registry`, which torch 2.x no longer has; only its
ONNX importer uses it, so a stand-in module is installed before `import crypten`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from common import arguments, column, fail, plaintext_sum, report, tcp_bytes

TIMEOUT = 1800


def import_crypten():  # type: ignore[no-untyped-def]

    stand_in = types.ModuleType("torch.onnx.symbolic_registry")
    sys.modules.setdefault("torch.onnx.symbolic_registry", stand_in)
    import crypten

    return crypten


def secure_sum(args) -> dict:  # type: ignore[no-untyped-def]
    import torch

    crypten = import_crypten()
    crypten.init()
    from crypten import communicator as comm

    rank = comm.get().get_rank()
    comm.get().barrier()
    size, parties, bits = args.size, args.parties, args.bits
    mine = torch.from_numpy(column(args.seed, rank, size, bits))
    placeholder = torch.zeros(size, dtype=torch.int64)
    started = time.perf_counter()
    shares = [
        crypten.cryptensor(mine if src == rank else placeholder, src=src, precision=0)
        for src in range(parties)
    ]
    elementwise = shares[0]
    for other in shares[1:]:
        elementwise = elementwise + other
    total = elementwise.sum()
    revealed = elementwise.get_plain_text()
    revealed_total = total.get_plain_text()
    seconds = time.perf_counter() - started
    counted = tcp_bytes()
    expected = plaintext_sum(args.seed, parties, size, bits)
    got = revealed.to(torch.int64).numpy()
    correct = bool(np.array_equal(got, expected)) and int(revealed_total) == int(expected.sum())
    comm.get().barrier()
    return {
        "seconds": seconds,
        "bytes": counted,
        "correct": correct,
        "version": crypten.__version__,
    }


def party(args) -> None:  # type: ignore[no-untyped-def]
    if args.workload != "secure_sum":
        fail(f"crypten driver: no workload {args.workload!r}")
    result = secure_sum(args)
    Path(args.stats, f"party-{args.party}.json").write_text(json.dumps(result))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    args = arguments()
    if args.party is not None:
        party(args)
        return
    if args.protocol != "tfp":
        fail(f"crypten runs its default TrustedFirstParty provider ('tfp'), not {args.protocol!r}")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="crypten-bench-") as stats:
        processes = []
        for rank in range(args.parties):
            env = dict(
                os.environ,
                WORLD_SIZE=str(args.parties),
                RANK=str(rank),
                RENDEZVOUS=f"tcp://127.0.0.1:{port}",
                DISTRIBUTED_BACKEND="gloo",
                GLOO_SOCKET_IFNAME="lo",
                OMP_NUM_THREADS="1",
            )
            command = [sys.executable, __file__, *sys.argv[1:], "--party", str(rank)]
            processes.append(
                subprocess.Popen(
                    [*command, "--stats", stats],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        errors = []
        deadline = time.monotonic() + TIMEOUT
        for rank, process in enumerate(processes):
            try:
                _, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                for other in processes:
                    other.kill()
                fail(f"crypten party {rank} took over {TIMEOUT} s")
            if process.returncode != 0:
                errors.append(f"party {rank} exited with {process.returncode}: {stderr[-1500:]}")
        if errors:
            fail("; ".join(errors))
        results = [
            json.loads(Path(stats, f"party-{p}.json").read_text()) for p in range(args.parties)
        ]
    report(
        peer="crypten",
        version=results[0]["version"],
        seconds=max(r["seconds"] for r in results),
        bytes_sent={str(p): r["bytes"]["sent"] for p, r in enumerate(results)},
        bytes_received={str(p): r["bytes"]["received"] for p, r in enumerate(results)},
        bytes_counted="TCP payload bytes acknowledged, per party process (TCP_INFO)",
        correct=all(r["correct"] for r in results),
    )


if __name__ == "__main__":
    main()
