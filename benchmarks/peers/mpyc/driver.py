"""MPyC's side of the benchmarks: its own local parties (`-M m`), Shamir secret sharing.

    .venv/bin/python driver.py --workload W --size N --parties 3 --protocol shamir

W is secure_sum, mul (x·y elementwise), compare (x > y, its secure comparison), inner_product
(fixed point), matvec or matmul; inputs come from parties 0 and 1 (every party for secure_sum).

Starts party 0 as `driver.py ... --mpyc-party -M m -B PORT` (MPyC itself starts parties 1..m-1
as separate processes), waits for every party's stats file, and prints one JSON line: protocol
seconds (slowest party, inputs → revealed outputs, connection setup excluded), TCP bytes sent per
party, and whether every party's outputs matched the plaintext answer.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from common import (
    TIMEOUT,
    arguments,
    expected,
    fail,
    owners,
    problem,
    report,
    shape,
    tcp_bytes,
    values,
)


def sectype(mpc, args):  # type: ignore[no-untyped-def]
    """The secure type of the workload's inputs: integers wide enough for the answer."""
    size, bits = args.size, args.bits
    if args.workload == "secure_sum":
        return mpc.SecInt(bits + (size * args.parties).bit_length() + 1)
    if args.workload == "compare":
        return mpc.SecInt(bits + 2)  # a − b of two (bits + 1)-bit integers: its secure comparison
    if args.workload == "inner_product":
        return mpc.SecFxp(64, 20)  # inputs are multiples of 2^-10: exact
    return mpc.SecInt(64)  # mul, matvec, matmul: |answer| < 2^(2·bits + log2 size) ≤ 2^45


async def run(mpc, args) -> dict:  # type: ignore[no-untyped-def]
    """Inputs secret-shared by their owners → the workload → outputs revealed to every party."""
    await mpc.start()
    secure = sectype(mpc, args)
    sources = owners(args.workload, args.parties)
    mine = {
        o: values(args, o) if o == mpc.pid else np.zeros(shape(args.workload, o, args.size))
        for o in sources
    }
    started = time.perf_counter()
    x = [mpc.input(secure.array(mine[o]), senders=o) for o in sources]
    if args.workload == "secure_sum":
        elementwise = x[0]
        for other in x[1:]:
            elementwise = elementwise + other
        outputs = [elementwise, elementwise.sum()]
    elif args.workload == "mul":
        outputs = [x[0] * x[1]]
    elif args.workload == "compare":
        outputs = [x[0] > x[1]]
    else:  # inner_product, matvec, matmul
        outputs = [x[0] @ x[1]]
    revealed = [await mpc.output(value) for value in outputs]
    seconds = time.perf_counter() - started
    counted = tcp_bytes()
    got = [np.asarray(r, dtype=np.float64 if args.workload == "inner_product" else object)
           for r in revealed]  # fmt: skip
    wrong = problem(args.workload, got, expected(args), args.size)
    await mpc.shutdown()
    return {"seconds": seconds, "bytes": counted, "correct": wrong is None, "problem": wrong}


def party(args) -> None:  # type: ignore[no-untyped-def]
    from mpyc.runtime import mpc

    result = mpc.run(run(mpc, args))
    Path(args.stats, f"party-{mpc.pid}.json").write_text(json.dumps(result))


def free_base_port(count: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count < 65535:
            ok = True
            for port in range(base, base + count):
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", port))
                    except OSError:
                        ok = False
            if ok:
                return base
    fail("no free range of ports")
    return 0


def main() -> None:
    args = arguments()
    if "--mpyc-party" in sys.argv:
        party(args)
        return
    if args.protocol != "shamir":
        fail(f"mpyc runs Shamir secret sharing, not {args.protocol!r}")
    import mpyc

    with tempfile.TemporaryDirectory(prefix="mpyc-bench-") as stats:
        command = [
            sys.executable,
            __file__,
            *sys.argv[1:],
            "--mpyc-party",
            "--stats",
            stats,
            "-M",
            str(args.parties),
            "-B",
            str(free_base_port(args.parties)),
            "--no-log",
        ]
        done = subprocess.run(command, timeout=TIMEOUT, capture_output=True, text=True)
        if done.returncode != 0:
            fail(f"mpyc party 0 exited with {done.returncode}: {done.stderr[-2000:]}")
        files = [Path(stats, f"party-{p}.json") for p in range(args.parties)]
        deadline = time.monotonic() + 60
        while not all(f.exists() for f in files) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)
        missing = [str(p) for p, f in enumerate(files) if not f.exists()]
        if missing:
            fail(f"mpyc parties {', '.join(missing)} wrote no stats within 60 s")
        results = [json.loads(f.read_text()) for f in files]
    report(
        peer="mpyc",
        version=mpyc.__version__,
        seconds=max(r["seconds"] for r in results),
        bytes_sent={str(p): r["bytes"]["sent"] for p, r in enumerate(results)},
        bytes_received={str(p): r["bytes"]["received"] for p, r in enumerate(results)},
        bytes_counted="TCP payload bytes acknowledged, per party process (TCP_INFO)",
        correct=all(r["correct"] for r in results),
        problem=next((r["problem"] for r in results if r["problem"]), None),
    )


if __name__ == "__main__":
    main()
