"""Peers side by side: MPyC, CrypTen and SPU, each in its own virtual environment.

Each peer lives under `benchmarks/peers/<name>/`: a `driver.py` that runs the peer's equivalent of
a workload with the peer's own multi-process launcher and prints one JSON line (protocol seconds,
wire bytes per party, and whether its answer matched the plaintext), and a `.venv` this module
creates on demand with the pinned packages of `PEERS` (never a dependency of the runtime). A peer
that cannot be installed or run yields a record that says exactly why, and the suite goes on.

    driver.py --workload W --size N --parties M --protocol P --seed S --bits B
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mpc.bench.records import load_average, spread
from mpc.bench.runner import last_measurement

INSTALL_TIMEOUT = 1800.0
SLOW = 30.0  # seconds: a peer run slower than this is not repeated


class PeerUnavailableError(RuntimeError):
    """The peer cannot run here; the message says why."""


@dataclass(frozen=True)
class PeerRun:
    """One of a peer's protocols for a workload, and which of our settings it compares with."""

    protocol: str
    parties: int
    ours: str  # our setting name, e.g. "shamir-3"
    threat_model: str  # a short label, shown beside each row
    threat_detail: str = ""  # the whole story, shown once under the table
    max_size: int | None = None  # larger sizes are not run (see `too_big`)
    too_big: str = ""  # why not

    def fits(self, size: int) -> bool:
        return self.max_size is None or size <= self.max_size


@dataclass(frozen=True)
class Peer:
    name: str
    install: tuple[tuple[str, ...], ...]  # `pip install` argument lists, in order
    check: str  # Python statement that must run in the venv once installed
    runs: Mapping[str, tuple[PeerRun, ...]]  # by workload name

    def folder(self, root: Path) -> Path:
        return root / "benchmarks" / "peers" / self.name

    def python(self, root: Path) -> Path:
        return self.folder(root) / ".venv" / "bin" / "python"


MPYC_SHAMIR = (
    "semi-honest, honest majority",
    "MPyC: Shamir sharing with t=1 of 3 (honest majority), PRSS for input masks; its parties "
    "talk plain TCP here (no TLS)",
)
CRYPTEN_TFP = (
    "semi-honest; party 0 deals the triples",
    "CrypTen: additive sharing over Z_2^64; the default TrustedFirstParty provider has party 0 "
    "generate every triple (and comparison's binary triples) from seeds it chooses, so party 0 "
    "with any other party learns every input; plain TCP (gloo)",
)
CRYPTEN_TFP_2 = (
    "party 0 deals the triples: no security against party 0",
    "CrypTen with 2 parties: party 0 is also the TrustedFirstParty dealer, so it alone can open "
    "every masked value (a dealer model without a separate dealer)",
)
SPU_ABY3 = (
    "semi-honest, honest majority",
    "SPU ABY3: replicated secret sharing among 3 parties (honest majority); brpc over TCP",
)
SPU_SEMI2K = (
    "semi-honest; party 0 deals the triples",
    "SPU SEMI2K: additive sharing; its default beaver provider is trusted-first-party, so party 0 "
    "generates every triple from seeds it chooses (with 2 parties: no security against party 0); "
    "brpc over TCP",
)
SPU_CHEETAH = (
    "semi-honest, dishonest majority, no dealer",
    "SPU Cheetah: 2-party additive sharing, triples from OT and HE (dealer-free); brpc over TCP",
)


def _runs(*pairs: tuple[str, tuple[PeerRun, ...]]) -> dict[str, tuple[PeerRun, ...]]:
    return dict(pairs)


def peers() -> tuple[Peer, ...]:
    """Every peer the harness knows, with its pinned installation and supported workloads.

    Each run names the setting of ours it is compared with: the same parties and the closest
    threat model (a dealer-backed peer with our dealer, a dealer-free one with our `ot`).
    """
    mpyc = (PeerRun("shamir", 3, "shamir-3", *MPYC_SHAMIR),)
    mpyc_compare = (
        replace(
            mpyc[0],
            max_size=10**5,
            too_big="MPyC's 10^6 comparisons hold about 8 GB per party: three parties overrun "
            "this machine's 24 GB (the kernel's out-of-memory killer ends one)",
        ),
    )
    crypten_2 = PeerRun("tfp", 2, "additive-2-dealer", *CRYPTEN_TFP_2)
    aby3 = PeerRun("aby3", 3, "shamir-3", *SPU_ABY3)
    semi2k = PeerRun("semi2k", 2, "additive-2-dealer", *SPU_SEMI2K)
    cheetah = PeerRun("cheetah", 2, "additive-2-ot", *SPU_CHEETAH)
    products = (aby3, semi2k, cheetah)
    return (
        Peer(
            "mpyc",
            (("mpyc==0.11", "numpy", "gmpy2"),),
            "import mpyc, numpy",
            {
                **dict.fromkeys(("secure_sum", "mul", "matvec", "matmul", "inner_product"), mpyc),
                "compare": mpyc_compare,
            },
        ),
        Peer(
            "crypten",
            (
                ("torch==2.13.0",),
                ("--no-deps", "crypten==0.4.1"),
                ("omegaconf", "pyyaml", "onnx", "numpy"),
            ),
            "import torch; assert torch.version.cuda is None, 'a CUDA build of torch'",
            _runs(
                ("secure_sum", (PeerRun("tfp", 3, "additive-3", *CRYPTEN_TFP),)),
                ("mul", (crypten_2, PeerRun("tfp", 3, "additive-3-dealer", *CRYPTEN_TFP))),
                ("matmul", (crypten_2,)),
                ("compare", (crypten_2,)),
                ("inner_product", (crypten_2,)),
            ),
        ),
        Peer(
            "spu",
            (("spu==0.9.5",),),
            "import spu.libspu",
            _runs(
                (
                    "secure_sum",
                    (
                        PeerRun("aby3", 3, "shamir-3", *SPU_ABY3),
                        PeerRun("semi2k", 2, "additive-2", *SPU_SEMI2K),
                        PeerRun("cheetah", 2, "additive-2", *SPU_CHEETAH),
                    ),
                ),
                ("mul", products),
                ("matmul", products),
                (
                    "compare",  # dealer-free comparisons need no preprocessing: additive-2
                    (aby3, semi2k, PeerRun("cheetah", 2, "additive-2", *SPU_CHEETAH)),
                ),
                ("inner_product", products),
            ),
        ),
    )


def get_peer(name: str) -> Peer:
    for peer in peers():
        if peer.name == name:
            return peer
    known = ", ".join(p.name for p in peers())
    raise PeerUnavailableError(f"unknown peer {name!r} (known: {known})")


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def ensure_venv(peer: Peer, root: Path, log: Any = None) -> Path:
    """The peer's venv Python, created and installed on first use; raises PeerUnavailableError."""
    folder = peer.folder(root)
    if not (folder / "driver.py").exists():
        raise PeerUnavailableError(f"{folder / 'driver.py'} is missing")
    venv = folder / ".venv"
    stamp = venv / ".bench-installed"
    wanted = hashlib.sha256(json.dumps([peer.install, peer.check]).encode()).hexdigest()
    python = peer.python(root)
    if stamp.exists() and stamp.read_text().strip() == wanted and python.exists():
        return python
    install_log = folder / "install.log"
    if log is not None:
        log(f"{peer.name}: creating {venv} (first use; may take minutes)")
    steps: list[Sequence[str]] = [[sys.executable, "-m", "venv", "--clear", str(venv)]]
    steps += [[str(python), "-m", "pip", "install", "--quiet", *args] for args in peer.install]
    steps.append([str(python), "-c", peer.check])
    with install_log.open("w") as out:
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            try:
                done = subprocess.run(
                    step, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired:
                raise PeerUnavailableError(
                    f"`{' '.join(step[-3:])}` took over {INSTALL_TIMEOUT:g} s ({install_log})"
                ) from None
            if done.returncode != 0:
                out.flush()
                raise PeerUnavailableError(
                    f"`{' '.join(step[2:])}` failed (exit {done.returncode}); {install_log} "
                    f"ends: {_tail(install_log, 3)}"
                )
    stamp.write_text(wanted)
    return python


def run_driver(
    peer: Peer,
    root: Path,
    python: Path,
    arguments: Sequence[str],
    timeout: float,
) -> dict[str, Any]:
    """Run the peer's driver once (its own process group, killed whole on timeout)."""
    command = [str(python), str(peer.folder(root) / "driver.py"), *arguments]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=peer.folder(root),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
        raise PeerUnavailableError(f"{peer.name} driver took over {timeout:g} s") from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        else:  # the driver's own party processes, should any outlive it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-6:])
        raise PeerUnavailableError(f"{peer.name} driver exited with {process.returncode}: {tail}")
    result = last_measurement(stdout, f"{peer.name} driver")
    result["wall_seconds"] = round(time.monotonic() - started, 6)
    return result


def measure(
    peer: Peer,
    root: Path,
    python: Path,
    workload: str,
    run: PeerRun,
    size: int,
    *,
    bits: int,
    seed: int,
    repeats: int,
    timeout: float,
    ours: Callable[[], Mapping[str, float]] | None = None,
    slow: float = SLOW,
    operations: int | None = None,
) -> dict[str, Any]:
    """The peer's record for one workload × size × protocol (raises PeerUnavailableError).

    With `ours` (one run of our comparable setting → its protocol `seconds`, `wall_seconds` and
    optionally `online_seconds`), our runs and the peer's alternate, so both see the same
    machine load and the ratio compares like with like even on a shared machine. A peer run
    that takes over `slow` seconds is not repeated (its record says `repeats: 1`).
    """
    arguments = [
        "--workload",
        workload,
        "--size",
        str(size),
        "--parties",
        str(run.parties),
        "--protocol",
        run.protocol,
        "--seed",
        str(seed),
        "--bits",
        str(bits),
    ]
    results: list[dict[str, Any]] = []
    mine: list[Mapping[str, float]] = []
    while len(results) < repeats:
        if ours is not None:
            mine.append(ours())
        result = run_driver(peer, root, python, arguments, timeout)
        if result.get("correct") is not True:
            raise PeerUnavailableError(
                f"{peer.name} {run.protocol} gave a wrong answer for {workload} at {size}: "
                f"{result.get('problem', 'no detail')}"
            )
        results.append(result)
        if float(result["seconds"]) > slow:
            break
    last = results[-1]
    theirs = statistics.median(float(r["seconds"]) for r in results)
    return {
        "kind": "peer",
        "peer": peer.name,
        "version": last.get("version"),
        "workload": workload,
        "size": size,
        "protocol": run.protocol,
        "parties": run.parties,
        "network": "lan",
        "threat_model": run.threat_model,
        "threat_detail": run.threat_detail,
        "repeats": len(results),
        "seconds": spread([float(r["seconds"]) for r in results]),
        "wall_seconds": spread([float(r["wall_seconds"]) for r in results]),
        "bytes_sent": last.get("bytes_sent"),
        "bytes_counted": last.get("bytes_counted"),
        "load_average": load_average(),
        "correct": True,
        "compare_with": run.ours,
        "operations": operations,
        "ours": _paired(run.ours, mine, theirs),
    }


def _paired(
    setting: str, mine: Sequence[Mapping[str, float]], theirs: float
) -> dict[str, Any] | None:
    """Our alternating runs: medians of each figure, and ours / peer on protocol seconds."""
    if not mine:
        return None
    seconds = statistics.median(m["seconds"] for m in mine)
    paired: dict[str, Any] = {
        "setting": setting,
        "seconds": round(seconds, 6),
        "wall_seconds": round(statistics.median(m["wall_seconds"] for m in mine), 6),
        "all": [round(m["seconds"], 6) for m in mine],
        "ratio": round(seconds / theirs, 4) if theirs else None,
        "paired": True,
    }
    if all("online_seconds" in m for m in mine):
        paired["online_seconds"] = round(statistics.median(m["online_seconds"] for m in mine), 6)
    return paired


def skipped(peer: str, reason: str, workload: str | None = None) -> dict[str, Any]:
    return {"kind": "peer", "peer": peer, "workload": workload, "skipped": reason}
