"""MPyC's side of the benchmarks: its own local parties (`-M m`), Shamir secret sharing.

    .venv/bin/python driver.py --workload secure_sum --size N --parties 3 --protocol shamir

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
from common import arguments, column, fail, plaintext_sum, report, tcp_bytes

TIMEOUT = 1800


async def secure_sum(mpc, args) -> dict:  # type: ignore[no-untyped-def]
    size, parties, bits = args.size, args.parties, args.bits
    secint = mpc.SecInt(bits + (size * parties).bit_length() + 1)
    await mpc.start()
    values = column(args.seed, mpc.pid, size, bits)
    started = time.perf_counter()
    shares = mpc.input(secint.array(values))
    elementwise = shares[0]
    for other in shares[1:]:
        elementwise = elementwise + other
    total = elementwise.sum()
    revealed = await mpc.output(elementwise)
    revealed_total = await mpc.output(total)
    seconds = time.perf_counter() - started
    counted = tcp_bytes()
    expected = plaintext_sum(args.seed, parties, size, bits)
    got = np.array([int(v) for v in np.asarray(revealed).ravel()], dtype=np.int64)
    correct = bool(np.array_equal(got, expected)) and int(revealed_total) == int(expected.sum())
    await mpc.shutdown()
    return {"seconds": seconds, "bytes": counted, "correct": correct}


def party(args) -> None:  # type: ignore[no-untyped-def]
    from mpyc.runtime import mpc

    if args.workload != "secure_sum":
        fail(f"mpyc driver: no workload {args.workload!r}")
    result = mpc.run(secure_sum(mpc, args))
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
    )


if __name__ == "__main__":
    main()
