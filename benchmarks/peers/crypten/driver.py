"""CrypTen's side of the benchmarks, in its real multi-process mode (torch.distributed, gloo).

    .venv/bin/python driver.py --workload W --size N --parties 2|3 --protocol tfp

W is secure_sum, mul (x·y elementwise), compare (x > y), inner_product (fixed point), matvec
or matmul; inputs come from parties 0 and 1 (every party for secure_sum).

Starts one process per party (`driver.py ... --party I`, with RANK, WORLD_SIZE and a TCP
rendezvous on loopback), each running `crypten.init()` with the default configuration (the
TrustedFirstParty provider: party 0 generates every triple from seeds it chooses; with two
parties that is no security against party 0). Integers are encoded with precision 0, so
arithmetic is exact in Z_2^64 like our additive suite; the inner product uses CrypTen's default
fixed point (16 fractional bits), decoded here from the revealed ring elements (see `decode`).
Prints one JSON line: protocol seconds (slowest party; inputs → revealed outputs), TCP bytes
sent per party, and whether every party's answer matched the plaintext.

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
from common import (
    arguments,
    expected,
    fail,
    owners,
    party_results,
    problem,
    report_parties,
    shape,
    tcp_bytes,
    values,
)


def import_crypten():  # type: ignore[no-untyped-def]

    stand_in = types.ModuleType("torch.onnx.symbolic_registry")
    sys.modules.setdefault("torch.onnx.symbolic_registry", stand_in)
    import crypten

    return crypten


def decode(ring, scale: int):  # type: ignore[no-untyped-def]
    """A revealed ring element as a number: CrypTen 0.4.1's own decoder (`get_plain_text`) is
    off by one for some negative fixed-point values under torch 2.x, so divide here."""
    values = ring.numpy()
    return values if scale == 1 else values / float(scale)


def run(args) -> dict:  # type: ignore[no-untyped-def]
    """Inputs secret-shared by their owners → the workload → outputs revealed to every party."""
    import torch

    crypten = import_crypten()
    crypten.init()
    from crypten import communicator as comm

    rank = comm.get().get_rank()
    comm.get().barrier()
    sources = owners(args.workload, args.parties)
    fixed = args.workload == "inner_product"  # CrypTen's default fixed point (16 bits)
    mine = {
        o: torch.from_numpy(
            values(args, o) if o == rank else np.zeros(shape(args.workload, o, args.size))
        ).to(torch.float64 if fixed else torch.int64)
        for o in sources
    }
    started = time.perf_counter()
    x = [
        crypten.cryptensor(mine[o], src=o)
        if fixed
        else crypten.cryptensor(mine[o], src=o, precision=0)
        for o in sources
    ]
    if args.workload == "secure_sum":
        elementwise = x[0]
        for other in x[1:]:
            elementwise = elementwise + other
        outputs = [elementwise, elementwise.sum()]
    elif args.workload == "mul":
        outputs = [x[0] * x[1]]
    elif args.workload == "compare":
        outputs = [x[0] > x[1]]
    elif args.workload == "inner_product":
        outputs = [x[0].dot(x[1])]
    else:  # matvec, matmul
        outputs = [x[0].matmul(x[1])]
    revealed = [value._tensor.reveal() for value in outputs]  # the ring elements, to everyone
    seconds = time.perf_counter() - started
    counted = tcp_bytes()
    got = [decode(r, value.encoder.scale) for r, value in zip(revealed, outputs, strict=True)]
    wrong = problem(args.workload, got, expected(args), args.size)
    comm.get().barrier()
    return {
        "seconds": seconds,
        "bytes": counted,
        "correct": wrong is None,
        "problem": wrong,
        "version": crypten.__version__,
    }


def party(args) -> None:  # type: ignore[no-untyped-def]
    result = run(args)
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
        results = party_results("crypten", processes, stats)
    report_parties("crypten", results[0]["version"], results)


if __name__ == "__main__":
    main()
