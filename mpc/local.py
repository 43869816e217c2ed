"""`mpc local`: N party processes on loopback with throw-away certificates, one job, cleanup.

The parties are real: separate `mpc party` processes, each reading only its own `--input` files,
talking mutual TLS over 127.0.0.1. This module writes a temporary deployment (free ports, keys,
one dataset map per party), starts the processes, waits until each listens, runs the job with the
driver `Client`, and always stops the processes and deletes the directory. A party process that
fails or dies makes the job fail with its exit status and the end of its log.

Optional keywords place the parties elsewhere than 127.0.0.1 (`hosts`, one address per party)
and run each party's command behind a prefix (`command_prefix`, e.g. `ip netns exec NS`), which
the benchmark harness uses to put every party in its own emulated-WAN network namespace.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from mpc import config, keys
from mpc.client import Client, JobOutcome, Receiver
from mpc.config import Deployment, Timeouts
from mpc.errors import JobFailedError, MpcError, PeerBrokenError, PeerError
from mpc.progress import ProgressLine
from mpc.suite import DEALER

START_TIMEOUT = 60.0
LOG_LINES = 20


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def local_deployment(
    directory: Path,
    circuit: Path,
    *,
    n_parties: int,
    protocol: str,
    threshold: int | None,
    inputs: Mapping[int, Mapping[str, Path]],
    timeouts: Timeouts,
    hosts: Sequence[str] | None = None,
    preprocessing: str | None = None,
    files: Sequence[Path] = (),
    dealer_host: str = "127.0.0.1",
) -> Deployment:
    """A validated throw-away deployment (on loopback unless `hosts` names one address per party),
    written to `directory/local.toml`; with `preprocessing="dealer"` it declares a dealer on
    `dealer_host` (loopback by default). `files` (e.g. Bristol circuits a parameter names) join
    every party's allowed circuits."""
    if hosts is not None and len(hosts) != n_parties:
        raise ValueError(f"hosts names {len(hosts)} addresses for {n_parties} parties")
    ports = free_ports(n_parties + 1)
    data: dict[str, Any] = {
        "deployment": {
            "name": "local",
            "protocol": protocol,
            "threshold": config.protocol_threshold(protocol, n_parties, threshold),
            "keys": str(directory / "keys"),
        },
        "timeouts": {
            "connect": timeouts.connect,
            "round": timeouts.round,
            "job": timeouts.job,
            "idle": timeouts.idle,
        },
        "party": [
            {
                "id": party,
                "host": hosts[party] if hosts is not None else "127.0.0.1",
                "port": ports[party],
                "circuits": [str(circuit.resolve()), *(str(f.resolve()) for f in files)],
                "datasets": {
                    name: str(Path(path).resolve()) for name, path in inputs.get(party, {}).items()
                },
            }
            for party in range(n_parties)
        ],
    }
    if preprocessing is not None:
        data["deployment"]["preprocessing"] = preprocessing
    if preprocessing == DEALER:
        data["dealer"] = {"host": dealer_host, "port": ports[n_parties]}
    path = directory / "local.toml"
    deployment = config.parse(data, path)
    path.write_text(config.to_toml(deployment))
    return deployment


@dataclass
class _Party:
    id: int | str  # a party id, or "dealer"
    process: trio.Process
    log: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=LOG_LINES))
    listening: trio.Event = field(default_factory=trio.Event)

    def describe_exit(self) -> str:
        code = self.process.returncode
        status = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"code {code}"
        tail = "\n    ".join(self.log)
        return f"process exited with {status}" + (f"; its log ends:\n    {tail}" if tail else "")


async def _pump(stream: trio.abc.ReceiveStream | None, party: _Party, *, is_stdout: bool) -> None:
    """Keep reading a party's pipe (so it never blocks), noting readiness and its last lines."""
    if stream is None:
        return
    pending = b""
    async for chunk in stream:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace")
            if is_stdout and line.startswith("{"):
                try:
                    if json.loads(line).get("event") == "listening":
                        party.listening.set()
                        continue
                except ValueError:
                    pass
            party.log.append(line)


async def run_local(
    circuit: str | Path,
    *,
    n_parties: int,
    protocol: str,
    inputs: Mapping[int, Mapping[str, Path]],
    threshold: int | None = None,
    params: Mapping[str, Any] | None = None,
    receivers: tuple[Receiver, ...] | None = None,
    timeouts: Timeouts | None = None,
    hosts: Sequence[str] | None = None,
    command_prefix: Mapping[int, Sequence[str]] | None = None,
    preprocessing: str | None = None,
    progress: ProgressLine | None = None,
    dealer_host: str = "127.0.0.1",
) -> JobOutcome:
    """Run one job between `n_parties` local party processes and return its outcome.

    `hosts` gives each party's listening address (default 127.0.0.1 for all); `command_prefix`
    maps a party id to words put before its `python -m mpc party ...` command. `preprocessing`
    names the provider (`mpc.suite.PROVIDERS`; default: the parties' own where one exists);
    "dealer" also starts a trusted dealer process (`mpc dealer`) for the job, listening on
    `dealer_host` (an address of this host the parties can reach).
    """
    circuit = Path(circuit)
    directory = Path(tempfile.mkdtemp(prefix="mpc-local-"))
    try:
        deployment = local_deployment(
            directory,
            circuit,
            n_parties=n_parties,
            protocol=protocol,
            threshold=threshold,
            inputs=inputs,
            timeouts=timeouts or Timeouts(connect=10.0, round=30.0, job=3600.0, idle=60.0),
            hosts=hosts,
            preprocessing=preprocessing,
            files=_named_files(params or {}),
            dealer_host=dealer_host,
        )
        keys.generate_keys(deployment)
        outcome: JobOutcome | None = None
        failure: MpcError | None = None
        async with trio.open_nursery() as nursery:  # the pipe readers of the party processes
            prefixes = command_prefix or {}
            parties = [
                await _start(nursery, deployment, p, prefixes.get(p, ())) for p in range(n_parties)
            ]
            if deployment.dealer is not None:
                parties.append(await _start(nursery, deployment, "dealer"))
            try:
                await _wait_listening(parties)
                outcome = await _run_job(deployment, circuit, parties, params, receivers, progress)
            except MpcError as error:  # raised here, not from inside the nursery's group
                failure = error
            finally:
                await _stop(parties)
                nursery.cancel_scope.cancel()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if failure is not None:
        raise failure
    assert outcome is not None
    return outcome


def _named_files(params: Mapping[str, Any]) -> list[Path]:
    """Parameters that name existing non-Python files (a Bristol circuit for dsl.bristol): the
    local parties are allowed to load them."""
    named = [Path(v) for v in params.values() if isinstance(v, str | Path)]
    return [p for p in named if p.suffix != ".py" and p.is_file()]


_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


async def _start(
    nursery: trio.Nursery, deployment: Deployment, party: int | str, prefix: Sequence[str] = ()
) -> _Party:
    role = ["dealer"] if party == "dealer" else ["party", "--id", str(party)]
    command = [*prefix, sys.executable, "-m", "mpc", *role, "--config", str(deployment.path)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for name in _BLAS_THREADS:  # n parties share this host's cores: BLAS must not oversubscribe
        env.setdefault(name, str(max(1, (os.cpu_count() or 1) // len(deployment.parties))))
    process = await trio.lowlevel.open_process(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    handle = _Party(party, process)
    nursery.start_soon(lambda: _pump(process.stdout, handle, is_stdout=True))
    nursery.start_soon(lambda: _pump(process.stderr, handle, is_stdout=False))
    return handle


async def _wait_listening(parties: list[_Party]) -> None:
    with trio.move_on_after(START_TIMEOUT) as scope:
        for party in parties:
            while not party.listening.is_set():
                if party.process.poll() is not None:
                    raise JobFailedError(
                        {party.id: PeerBrokenError(party.id, party.describe_exit())}
                    )
                with trio.move_on_after(0.05):
                    await party.listening.wait()
    if scope.cancelled_caught:
        late = [p.id for p in parties if not p.listening.is_set()]
        raise JobFailedError(
            {p: PeerBrokenError(p, f"did not start within {START_TIMEOUT:g} s") for p in late}
        )


async def _run_job(
    deployment: Deployment,
    circuit: Path,
    parties: list[_Party],
    params: Mapping[str, Any] | None,
    receivers: tuple[Receiver, ...] | None,
    progress: ProgressLine | None = None,
) -> JobOutcome:
    client = Client(deployment)
    client.progress = progress
    try:
        return await client.run(circuit, params=params, receivers=receivers)
    except JobFailedError as error:
        await trio.sleep(0.2)  # let a dying process finish dying, to report how it ended
        failures: dict[int | str, MpcError] = dict(error.failures)
        for party in parties:
            if party.process.poll() not in (None, 0) and isinstance(
                failures.get(party.id), PeerError | type(None)
            ):
                failures[party.id] = PeerBrokenError(party.id, party.describe_exit())
        raise JobFailedError(failures) from None


async def _stop(parties: list[_Party]) -> None:
    """SIGTERM every party, SIGKILL what is still running after a grace period."""
    for party in parties:
        if party.process.poll() is None:
            party.process.terminate()
    with trio.move_on_after(5.0):
        for party in parties:
            await party.process.wait()
    for party in parties:
        if party.process.poll() is None:
            party.process.kill()
            await party.process.wait()
