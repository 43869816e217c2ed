"""SecretFlow SPU's side of the benchmarks: one OS process per party over its own brpc link.

    .venv/bin/python driver.py --workload W --size N --parties 3 --protocol aby3
                                               (or --parties 2 --protocol semi2k|cheetah)

W is secure_sum, mul (x·y elementwise), compare (x > y), inner_product (fixed point), matvec
or matmul; inputs come from parties 0 and 1 (every party for secure_sum).

Each party process (`driver.py ... --party I`) opens `spu.libspu.link.create_brpc` to the others
on loopback and compiles the workload as a JAX function (x64 enabled, ring FM64, integer
inputs: exact; the inner product in SPU's fixed point). Each input owner makes the shares of its
input with `spu.Io` and sends each peer its share over the link (SPU leaves input distribution
to its caller; this is the traffic SecretFlow's own runtime would send); the parties run the
program and reveal the outputs to every party by exchanging output shares. Prints one JSON line:
protocol seconds (slowest party; inputs → revealed outputs, link setup and compilation
excluded), TCP bytes sent per party, and whether every party's answer matched the plaintext.
Threat models: ABY3 is honest-majority replicated sharing (3 parties); SEMI2K's default beaver
provider is trusted-first-party (party 0 generates every triple from seeds it chooses); Cheetah
is dealer-free 2PC (OT and HE).
"""

from __future__ import annotations

import json
import pickle
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
    party_results,
    problem,
    report_parties,
    shape,
    tcp_bytes,
    values,
)

PROTOCOLS = {"aby3": 3, "semi2k": 2, "cheetah": 2}


def _pack(share) -> bytes:  # type: ignore[no-untyped-def]
    return pickle.dumps((share.meta, list(share.share_chunks)))


def _unpack(libspu, blob: bytes):  # type: ignore[no-untyped-def]
    meta, chunks = pickle.loads(blob)
    share = libspu.Share()
    share.meta = meta
    share.share_chunks = chunks
    return share


def program(workload: str):  # type: ignore[no-untyped-def]
    """The workload as a JAX function of the owners' inputs (compiled to SPU's IR)."""
    import jax.numpy as jnp

    def secure_sum(*columns):  # type: ignore[no-untyped-def]
        elementwise = columns[0]
        for other in columns[1:]:
            elementwise = elementwise + other
        return elementwise, jnp.sum(elementwise)

    functions = {
        "secure_sum": secure_sum,
        "mul": lambda x, y: x * y,
        "compare": lambda x, y: x > y,
        "inner_product": jnp.dot,
        "matvec": jnp.matmul,
        "matmul": jnp.matmul,
    }
    return functions[workload]


def run(args, ports: list[int]) -> dict:  # type: ignore[no-untyped-def]
    """Inputs secret-shared by their owners → the workload → outputs revealed to every party."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import spu.api as spu_api
    import spu.libspu as libspu
    from spu.utils import frontend

    rank, world = args.party, args.parties
    desc = libspu.link.Desc()
    for r in range(world):
        desc.add_party(f"party{r}", f"127.0.0.1:{ports[r]}")
    desc.recv_timeout_ms = TIMEOUT * 1000
    link = libspu.link.create_brpc(desc, rank)
    kind = getattr(libspu.ProtocolKind, args.protocol.upper())
    config = libspu.RuntimeConfig(protocol=kind, field=libspu.FieldType.FM64)
    runtime = spu_api.Runtime(link, config)
    io = spu_api.Io(world, config)
    sources = owners(args.workload, world)
    fixed = args.workload == "inner_product"  # SPU's fixed point (FM64: 18 fractional bits)
    example = {
        o: np.zeros(shape(args.workload, o, args.size), dtype=np.float64 if fixed else np.int64)
        for o in sources
    }
    names = [f"in{o}" for o in sources]
    executable, _ = frontend.compile(
        frontend.Kind.JAX,
        program(args.workload),
        [example[o] for o in sources],
        {},
        names,
        [libspu.Visibility.VIS_SECRET] * len(sources),
        lambda outputs: [f"out{i}" for i in range(len(outputs))],
    )
    mine = values(args, rank) if rank in sources else None
    link.barrier()
    started = time.perf_counter()
    if mine is not None:
        shares = io.make_shares(mine, libspu.Visibility.VIS_SECRET)
        for peer in range(world):
            if peer != rank:
                link.send(peer, _pack(shares[peer]))
    for name, src in zip(names, sources, strict=True):
        share = shares[rank] if src == rank else _unpack(libspu, link.recv(src))
        runtime.set_var(name, share)
    runtime.run(executable)
    revealed = []
    for name in executable.output_names:
        blob = _pack(runtime.get_var(name))
        for peer in range(world):
            if peer != rank:
                link.send(peer, blob)
        parts = [blob if src == rank else link.recv(src) for src in range(world)]
        revealed.append(io.reconstruct([_unpack(libspu, part) for part in parts]))
    seconds = time.perf_counter() - started
    counted = tcp_bytes()
    wrong = problem(args.workload, revealed, expected(args), args.size)
    link.barrier()
    link.stop_link()
    return {"seconds": seconds, "bytes": counted, "correct": wrong is None, "problem": wrong}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def main() -> None:
    args = arguments()
    if args.party is not None:
        ports = [int(p) for p in sys.argv[sys.argv.index("--ports") + 1].split(",")]
        result = run(args, ports)
        Path(args.stats, f"party-{args.party}.json").write_text(json.dumps(result))
        return
    if PROTOCOLS.get(args.protocol) != args.parties:
        fail(f"spu runs aby3 with 3 parties, semi2k and cheetah with 2; not {args.protocol!r}")
    import spu

    ports = ",".join(str(p) for p in free_ports(args.parties))
    with tempfile.TemporaryDirectory(prefix="spu-bench-") as stats:
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    *sys.argv[1:],
                    "--party",
                    str(rank),
                    "--stats",
                    stats,
                    "--ports",
                    ports,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for rank in range(args.parties)
        ]
        results = party_results("spu", processes, stats)
    report_parties("spu", getattr(spu, "__version__", "0.9.5"), results)


if __name__ == "__main__":
    main()
