"""The driver: submits one job to every party node and collects the result.

```python
client = Client(mpc.config.load("configs/local-3.toml"))
outcome = client.run_sync("circuits/secure_sum.py", params={"bits": 32})
outcome.outputs["total"], outcome.stats["seconds"]
```
The driver connects to each node with its own pinned certificate, sends `prepare` (the nodes
check policy and read their data), compiles the plan itself from the row counts they report,
sends `run` with the plan's fingerprint, and gathers the results: outputs revealed to parties
(checked to agree) and outputs revealed to the driver (reconstructed from the parties' shares).
When any party fails, the driver aborts the others at once and raises `JobFailedError` with every
party's own report, root cause first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import trio

from mpc.config import Deployment
from mpc.dsl import CompileSpec, Plan, ShapeMismatchError, compile, load_circuit
from mpc.errors import (
    InputError,
    JobFailedError,
    MpcError,
    PeerTimeoutError,
    RemoteProtocolError,
    from_wire,
    type_name,
)
from mpc.field import domain_named
from mpc.gc import bristol
from mpc.jobs import ABORT, ERROR, PREPARE, PREPARED, RESULT, RUN, JobRequest, rows_to_wire
from mpc.net import tls
from mpc.net.channel import Channel
from mpc.net.mesh import dial, run_concurrently
from mpc.progress import ProgressLine
from mpc.results import merge_outputs, reconstruct_driver_outputs, to_json
from mpc.suite import Suite
from mpc.wire import PROGRESS, Frame

Receiver = int | str


@dataclass
class JobOutcome:
    """A finished job: its outputs, statistics and the plan that ran."""

    outputs: dict[str, np.ndarray]
    stats: dict[str, Any]
    plan: Plan

    def to_json(self) -> dict[str, Any]:
        return {
            "outputs": {name: to_json(value) for name, value in self.outputs.items()},
            "stats": self.stats,
        }


T = TypeVar("T")


class Client:
    """Runs jobs on the party nodes of a deployment."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.suite = Suite(deployment.protocol, deployment.n_parties, deployment.threshold)
        self.identities = tls.Identities.from_deployment(deployment)
        self._context = tls.client_context(deployment, tls.DRIVER)
        # draws how far the parties are while a job runs (the `mpc` command sets one)
        self.progress: ProgressLine | None = None

    def run_sync(self, circuit: str | Path, **options: Any) -> JobOutcome:
        async def main() -> JobOutcome:
            return await self.run(circuit, **options)

        return trio.run(main)

    async def run(
        self,
        circuit: str | Path,
        *,
        params: Mapping[str, Any] | None = None,
        bindings: Mapping[int, Mapping[str, str]] | None = None,
        receivers: tuple[Receiver, ...] | None = None,
    ) -> JobOutcome:
        """Run `circuit` (a circuit file every node allows under the same file name)."""
        path = Path(circuit)
        try:
            traced = load_circuit(path)
        except MpcError as error:
            raise JobFailedError({"driver": error}) from None
        request = JobRequest(
            os.urandom(16), path.stem, dict(params or {}), dict(bindings or {}), receivers
        )
        timeouts = self.deployment.timeouts
        started = trio.current_time()
        channels: dict[int, Channel] = {}
        try:
            with trio.fail_after(timeouts.job):
                await self._connect(channels)
                replies = await self._exchange(
                    channels, request, PREPARE, request.to_wire(), PREPARED
                )
                try:
                    rows = {
                        (party, dataset): count
                        for party, reply in replies.items()
                        for dataset, count in _rows_reply(party, reply).items()
                    }
                    plan = self._compile(traced, request, rows)
                except JobFailedError:
                    await self._abort(channels, request.session, "the driver refused the job")
                    raise
                run = {"rows": rows_to_wire(rows), "fingerprint": plan.fingerprint}
                results = await self._ticking(
                    partial(self._exchange, channels, request, RUN, run, RESULT)
                )
        except trio.TooSlowError:
            raise JobFailedError(
                {"driver": PeerTimeoutError("driver", "the whole job", timeouts.job)}
            ) from None
        finally:
            async with trio.open_nursery() as nursery:
                for channel in channels.values():
                    nursery.start_soon(channel.aclose)
        seconds = trio.current_time() - started
        return self._outcome(plan, results, seconds)

    # --- steps -----------------------------------------------------------------------------------
    async def _connect(self, channels: dict[int, Channel]) -> None:
        deadline = trio.current_time() + self.deployment.timeouts.connect

        async def connect(party: Any) -> None:
            channels[party.id] = await dial(
                party,
                context=self._context,
                identities=self.identities,
                deadline=deadline,
                limits=self.deployment.limits,
            )

        tasks: list[Callable[[], Awaitable[None]]] = [
            partial(connect, party) for party in self.deployment.parties
        ]
        try:
            await run_concurrently(tasks)
        except MpcError as error:
            party = next((p.id for p in self.deployment.parties if p.id not in channels), "driver")
            raise JobFailedError({party: error}) from None

    def _compile(self, traced: Any, request: JobRequest, rows: dict[tuple[int, str], int]) -> Plan:
        try:
            return compile(
                traced,
                CompileSpec(
                    self.suite,
                    rows=rows,
                    params=request.params,
                    receivers=request.receivers,
                    preprocessing=self.deployment.preprocessing,
                    bristol=bristol.loader(),  # the driver reads the files it names itself
                ),
            )
        except ShapeMismatchError as error:
            failure: MpcError = self._row_count_error(error, request)
        except MpcError as error:
            failure = error
        raise JobFailedError({"driver": failure})

    def _row_count_error(self, error: ShapeMismatchError, request: JobRequest) -> MpcError:
        """Name the files whose row counts disagree (when this driver's config knows them)."""
        if len(error.sources) < 2:
            return error
        first, second = sorted(error.sources[:2], key=lambda s: -s.rows)

        def where(source: Any) -> str:
            local = request.bindings.get(source.party, {}).get(source.dataset, source.dataset)
            path = self.deployment.party(source.party).datasets.get(local)
            return str(path) if path else f"party {source.party}'s dataset {local!r}"

        return InputError(
            where(second),
            f"has {second.rows} rows but {where(first)} (party {first.party}) has {first.rows}; "
            f"{error.reason.split(':')[0]} needs the same number of rows at every party",
            column=second.column,
            row=second.rows + 2,
        )

    async def _exchange(
        self,
        channels: dict[int, Channel],
        request: JobRequest,
        kind: str,
        payload: Any,
        expect: str,
    ) -> dict[int, dict[str, Any]]:
        """Send `kind` to every node and collect their `expect` replies; abort all on a failure."""
        timeouts = self.deployment.timeouts
        grace = max(timeouts.round, timeouts.connect) + 2.0
        replies: dict[int, dict[str, Any]] = {}
        failures: dict[int | str, MpcError] = {}
        frame = Frame(request.session, 0, 0, tls.DRIVER, kind, payload)
        abort_sent = False

        async def one(party: int, channel: Channel, scope: trio.CancelScope) -> None:
            nonlocal abort_sent
            try:
                await channel.send(frame)
                reply = await channel.receive()
                while reply.kind == PROGRESS:
                    self._progress(party, reply.payload)
                    reply = await channel.receive()
                if reply.kind == ERROR:
                    raise from_wire(reply.payload)
                if reply.kind != expect or not isinstance(reply.payload, dict):
                    raise RemoteProtocolError(party, f"answered {reply.kind!r} to {kind!r}")
                replies[party] = reply.payload
            except MpcError as error:
                failures[party] = error
                if not abort_sent:
                    abort_sent = True
                    scope.deadline = min(scope.deadline, trio.current_time() + grace)
                    reason = f"party {party} failed: {type_name(error)}"
                    await self._abort(channels, request.session, reason, skip=party)

        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                for party, channel in channels.items():
                    nursery.start_soon(one, party, channel, scope)
        if failures:
            for party in channels:
                if party not in replies and party not in failures:
                    failures[party] = PeerTimeoutError(party, "reporting after the abort", grace)
            raise JobFailedError(failures)
        return replies

    def _progress(self, party: int, payload: Any) -> None:
        if self.progress is None or not isinstance(payload, dict):
            return
        phase, done, total = payload.get("phase"), payload.get("done"), payload.get("total")
        if isinstance(phase, str) and isinstance(done, int) and isinstance(total, int):
            self.progress.update(party, phase, done, total)

    async def _ticking(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work`, with the progress line ticking twice a second meanwhile."""
        progress = self.progress
        if progress is None:
            return await work()
        result: list[T] = []
        failed: list[BaseException] = []
        try:
            async with trio.open_nursery() as nursery:

                async def tick() -> None:
                    while True:
                        await trio.sleep(0.5)
                        progress.tick()

                nursery.start_soon(tick)
                try:
                    result.append(await work())
                except (MpcError, trio.TooSlowError) as error:  # re-raised as is, not grouped
                    failed.append(error)
                nursery.cancel_scope.cancel()
        finally:
            progress.close()
        if failed:
            raise failed[0]
        return result[0]

    async def _abort(
        self, channels: Mapping[int, Channel], session: bytes, reason: str, skip: int | None = None
    ) -> None:
        frame = Frame(session, 0, 0, tls.DRIVER, ABORT, {"reason": reason})

        async def tell(channel: Channel) -> None:
            with trio.move_on_after(1.0), contextlib.suppress(MpcError):
                await channel.send(frame)

        async with trio.open_nursery() as nursery:
            for party, channel in channels.items():
                if party != skip:
                    nursery.start_soon(tell, channel)

    def _outcome(
        self, plan: Plan, results: dict[int, dict[str, Any]], seconds: float
    ) -> JobOutcome:
        dtype = domain_named(plan.domain).dtype
        bits = {o.name: np.dtype(np.uint8) for o in plan.outputs if o.kind == "bits"}
        revealed = {p: _arrays(p, r.get("revealed"), dtype, bits) for p, r in results.items()}
        shares_by_party = {p: _arrays(p, r.get("driver_shares"), dtype) for p, r in results.items()}
        merged = merge_outputs(plan, revealed, elements=True)
        merged.update(reconstruct_driver_outputs(plan, shares_by_party))
        outputs = {o.name: merged[o.name] for o in plan.outputs if o.name in merged}
        node_stats = {p: r.get("stats", {}) for p, r in sorted(results.items())}
        cost = plan.cost()

        def per_party(key: str) -> dict[str, Any]:
            return {str(p): s.get(key) for p, s in node_stats.items()}

        stats: dict[str, Any] = {
            "circuit": plan.circuit,
            "protocol": plan.suite.protocol,
            "n_parties": plan.suite.n_parties,
            "threshold": plan.suite.threshold,
            "fingerprint": plan.fingerprint,
            "rounds": plan.rounds,
            "seconds": round(seconds, 6),
            "bytes_sent": per_party("bytes_sent"),
            "bytes_received": per_party("bytes_received"),
            "payload_bytes_sent": per_party("payload_bytes_sent"),
            "predicted": cost.to_dict(),
            "party_seconds": per_party("seconds"),
            "round_seconds": per_party("round_seconds"),
            "preprocessing": plan.preprocessing,
            "domain": plan.domain,
            "offline_rounds": max(
                (s.get("offline_rounds", 0) for s in node_stats.values()), default=0
            ),
            "offline_seconds": max(
                (s.get("seconds", {}).get("offline", 0.0) for s in node_stats.values()), default=0.0
            ),
            "online_seconds": max(
                (s.get("seconds", {}).get("online", 0.0) for s in node_stats.values()), default=0.0
            ),
            "offline_bytes_sent": per_party("offline_bytes_sent"),
            "online_bytes_sent": per_party("online_bytes_sent"),
            "peak_rss_bytes": per_party("peak_rss_bytes"),
            "cpu_seconds": per_party("cpu_seconds"),
            "online_cpu_seconds": per_party("online_cpu_seconds"),
            "online_page_faults": per_party("online_page_faults"),
            "dealer_bytes_received": per_party("dealer_bytes_received"),
            "layer_seconds": _layer_seconds(plan, node_stats),
        }
        return JobOutcome(outputs, stats, plan)


def _layer_seconds(plan: Plan, node_stats: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each layer's ops and seconds on the critical path: from the moment the last party ended
    the previous stage to the moment the last party ended this one. The parties' clocks are their
    hosts' monotonic clocks, so these figures mean something when the parties share a host
    (`mpc local`, the benchmarks); across hosts use each party's own `round_seconds`."""
    ends = [s.get("stage_ends") or [] for s in node_stats.values()]
    layers: list[dict[str, Any]] = []
    for index, layer in enumerate(plan.layers, start=1):  # stage 0 is the offline stage
        ops = sorted({group.op for group in layer.groups})
        seconds = None
        if ends and all(len(e) > index for e in ends):
            seconds = max(e[index] for e in ends) - max(e[index - 1] for e in ends)
        layers.append({"ops": ops, "rounds": layer.steps, "seconds": seconds})
    return layers


def _rows_reply(party: int, reply: dict[str, Any]) -> dict[str, int]:
    rows = reply.get("rows")
    if not isinstance(rows, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in rows.items()
    ):
        raise JobFailedError({party: RemoteProtocolError(party, "malformed row counts")})
    return rows


def _arrays(
    party: int, data: Any, dtype: np.dtype[Any], special: Mapping[str, np.dtype[Any]] | None = None
) -> dict[str, np.ndarray]:
    """A party's arrays by output name, each of the domain's dtype (or the one in `special`)."""
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str)
        and isinstance(v, np.ndarray)
        and v.dtype == (special or {}).get(k, dtype)
        for k, v in data.items()
    ):
        raise JobFailedError({party: RemoteProtocolError(party, "malformed outputs in its result")})
    return dict(data)
