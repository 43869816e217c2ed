"""A party node: serves jobs from the driver until it is stopped.

Every connection to the node's port is mutual TLS with pinned certificates, so the node knows
who is calling before it reads a byte. The driver opens a connection per job:

  prepare  policy (is the circuit allowed here? are its datasets bound in this config?), load the
           circuit from this party's own allowed path, read and validate this party's CSVs,
           answer with row counts (public, as in every plan);
  run      compile the plan with every party's row counts, check the driver's fingerprint,
           connect the mesh (peers' connections to this port are routed here by session), derive
           pairwise keys (ECDH of the parties' certificate keys), run the engine, answer with the
           outputs revealed to this party, its shares of the driver's outputs, and statistics.

Any failure is reported to the driver and broadcast to the peers as an abort; an abort from a
peer or from the driver stops the job. Every wait has a deadline from the config's timeouts.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np
import trio

from mpc import keys, memory
from mpc.config import Deployment
from mpc.datasets import Column, read_columns
from mpc.dealer import ask_for_corrections, receive_corrections
from mpc.dsl import Circuit, CompileSpec, Plan, compile, load_circuit
from mpc.engine import DealerMaterial, Engine, PartyResult, corrections_can_come_late
from mpc.errors import (
    AbortedError,
    CompileError,
    LocalProtocolError,
    MpcError,
    PeerTimeoutError,
    PolicyError,
    RemoteProtocolError,
    to_wire,
    type_name,
)
from mpc.field import load_ring_matmul
from mpc.gc import bristol
from mpc.jobs import (
    ABORT,
    ERROR,
    HELLO,
    PREPARE,
    PREPARED,
    RESULT,
    RUN,
    JobRequest,
    expect_map,
    parse_rows,
)
from mpc.net import tls
from mpc.net.channel import Channel
from mpc.net.mesh import Mesh, dial, run_concurrently
from mpc.preprocessing.dealer import Corrections
from mpc.progress import ProgressReports
from mpc.runner import drive
from mpc.suite import DEALER, Suite
from mpc.usage import cpu_seconds, minor_faults, peak_rss_bytes, reset_peak_rss
from mpc.wire import Frame

log = logging.getLogger("mpc.node")
MAX_ABORTED_REMEMBERED = 256  # aborted sessions a node still names to peers that dial late


T = TypeVar("T")


@dataclass
class _Prepared:
    circuit: Circuit
    inputs: dict[tuple[str, str], np.ndarray]
    rows: dict[str, int]


@dataclass
class _Session:
    """A job in progress at this node; peers' connections for it arrive through `incoming`."""

    id: bytes
    n_peers: int
    incoming_send: trio.MemorySendChannel[tuple[int, Channel, Frame]] = field(init=False)
    incoming: trio.MemoryReceiveChannel[tuple[int, Channel, Frame]] = field(init=False)
    released: trio.Event = field(default_factory=trio.Event)

    def __post_init__(self) -> None:
        self.incoming_send, self.incoming = trio.open_memory_channel(self.n_peers)


class PartyNode:
    """One party's long-lived node for a deployment."""

    def __init__(self, deployment: Deployment, party: int) -> None:
        self.deployment = deployment
        self.me = deployment.party(party)
        self.suite = Suite(deployment.protocol, deployment.n_parties, deployment.threshold)
        # Bristol files among this party's circuits: the only ones dsl.bristol may load here
        self._bristol = bristol.loader([p for p in self.me.circuits.values() if p.suffix != ".py"])
        self.identities = tls.Identities.from_deployment(deployment)
        self._server_context = tls.server_context(deployment, party)
        self._client_context = tls.client_context(deployment, party)
        self._key = keys.load_private_key(self.me.key)
        self._peer_certificates = {
            p.id: keys.load_certificate(p.certificate) for p in deployment.parties if p.id != party
        }
        self._dealer_certificate = (
            keys.load_certificate(deployment.dealer.certificate) if deployment.dealer else None
        )
        self._sessions: dict[bytes, _Session] = {}
        # Sessions that failed here, newest last: a peer that dials late learns who aborted them
        self._aborted: OrderedDict[bytes, tuple[int | str, str]] = OrderedDict()
        self.jobs_done = 0

    @property
    def timeouts(self) -> Any:
        return self.deployment.timeouts

    def _channel(self, stream: trio.abc.Stream, peer: int | str) -> Channel:
        limits = self.deployment.limits
        return Channel(
            stream,
            peer,
            max_frame_bytes=limits.max_frame_bytes,
            max_message_bytes=limits.max_message_bytes,
        )

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on this party's host:port and serve until cancelled."""
        try:
            listeners = await trio.open_tcp_listeners(self.me.port, host=self.me.host)
        except OSError as error:
            raise PolicyError(
                self.me.id, f"cannot listen on {self.me.host}:{self.me.port}: {error.strerror}"
            ) from None
        log.info("party %d listening on %s:%d", self.me.id, self.me.host, self.me.port)
        task_status.started(listeners)
        await trio.serve_listeners(self._handle, listeners)

    # --- connections -------------------------------------------------------------------------
    async def _handle(self, tcp: trio.SocketStream) -> None:
        """Serve one incoming connection; nothing that goes wrong here stops the node."""
        try:
            await self._handle_connection(tcp)
        except Exception:
            log.exception("unexpected error while serving a connection")

    async def _handle_connection(self, tcp: trio.SocketStream) -> None:
        try:
            host, port, *_ = tcp.socket.getpeername()
            label = f"connection from {host}:{port}"
        except OSError:
            label = "connection"
        stream = tls.wrap(tcp, self._server_context, server_side=True)
        try:
            principal = await tls.handshake(
                stream,
                self.identities,
                expect=None,
                timeout=self.timeouts.connect,
                peer_label=label,
            )
        except MpcError as error:
            log.warning("refused %s: %s", label, error)
            return
        channel = self._channel(stream, principal)
        with trio.move_on_after(self.timeouts.connect) as scope:
            try:
                first = await channel.receive()
            except MpcError as error:
                log.warning("%s: %s", tls.describe(principal), error)
                return
        if scope.cancelled_caught:
            log.warning(
                "%s sent nothing within %g s", tls.describe(principal), self.timeouts.connect
            )
            return
        if principal == tls.DRIVER:
            if first.kind != PREPARE:
                await self._refuse(
                    channel, first, RemoteProtocolError("driver", f"sent {first.kind!r} first")
                )
                return
            await self._serve_job(channel, first)
            return
        assert isinstance(principal, int)
        await self._route_peer(principal, channel, first)

    async def _route_peer(self, peer: int, channel: Channel, hello: Frame) -> None:
        session = self._sessions.get(hello.session)
        if hello.kind != HELLO:
            await self._refuse(
                channel, hello, RemoteProtocolError(peer, f"sent {hello.kind!r} first")
            )
            return
        if session is None and hello.session in self._aborted:
            origin, reason = self._aborted[hello.session]
            log.warning("refusing %s: the session was aborted", channel.peer)
            reply = Frame(
                hello.session, 0, 0, self.me.id, ABORT, {"origin": origin, "reason": reason}
            )
            with trio.move_on_after(1.0), contextlib.suppress(MpcError):
                await channel.send(reply)
            await channel.aclose()
            return
        if session is None:
            await self._refuse(
                channel, hello, RemoteProtocolError(peer, "unknown or finished session")
            )
            return
        try:
            session.incoming_send.send_nowait((peer, channel, hello))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            await self._refuse(
                channel, hello, RemoteProtocolError(peer, "session is not accepting")
            )
            return
        with trio.move_on_after(self.timeouts.job):
            await session.released.wait()  # the session closes the channel; keep it open till then

    async def _refuse(self, channel: Channel, frame: Frame, error: MpcError) -> None:
        log.warning("refusing %s: %s", channel.peer, error)
        reply = Frame(frame.session, 0, 0, self.me.id, ERROR, to_wire(error))
        with trio.move_on_after(1.0), contextlib.suppress(MpcError):
            await channel.send(reply)
        await channel.aclose()

    # --- one job -----------------------------------------------------------------------------
    async def _serve_job(self, driver: Channel, first: Frame) -> None:
        session_id = first.session
        try:
            request = JobRequest.from_wire(session_id, first.payload, "driver")
        except MpcError as error:
            await self._refuse(driver, first, error)
            return
        if session_id in self._sessions:
            await self._refuse(driver, first, RemoteProtocolError("driver", "session id reused"))
            return
        session = _Session(session_id, self.deployment.n_parties - 1)
        self._sessions[session_id] = session
        mesh = Mesh(self.me.id, session_id, self.deployment.limits)
        tag = f"job {session_id.hex()[:8]} ({request.circuit})"
        try:
            with trio.fail_after(self.timeouts.job):
                payload = await self._job(request, driver, session, mesh, tag)
            await driver.send(Frame(session_id, 0, 0, self.me.id, RESULT, payload))
            self.jobs_done += 1
            log.info("%s: done", tag)
        except trio.TooSlowError:
            overtime = AbortedError(
                self.me.id, f"the job exceeded timeouts.job = {self.timeouts.job:g} s"
            )
            await self._fail(driver, mesh, session_id, tag, overtime)
        except MpcError as error:
            await self._fail(driver, mesh, session_id, tag, error)
        except Exception as error:  # a bug: report it, keep the node serving other jobs
            log.exception("%s: internal error", tag)
            internal = LocalProtocolError(f"internal error: {type(error).__name__}: {error}")
            await self._fail(driver, mesh, session_id, tag, internal)
        finally:
            del self._sessions[session_id]
            session.incoming_send.close()
            await mesh.aclose()
            async for _, channel, _ in session.incoming:  # connections that arrived too late
                await channel.aclose()
            session.released.set()
            await driver.aclose()

    async def _fail(
        self, driver: Channel, mesh: Mesh, session: bytes, tag: str, error: MpcError
    ) -> None:
        log.warning("%s: %s: %s", tag, type_name(error), error)
        origin: int | str = error.origin_party if isinstance(error, AbortedError) else self.me.id
        reason = error.reason if isinstance(error, AbortedError) else f"{type_name(error)}: {error}"
        self._aborted[session] = (origin, reason)
        while len(self._aborted) > MAX_ABORTED_REMEMBERED:
            self._aborted.popitem(last=False)
        await mesh.broadcast_abort(origin, reason)
        with trio.move_on_after(1.0), contextlib.suppress(MpcError):
            await driver.send(Frame(session, 0, 0, self.me.id, ERROR, to_wire(error)))

    async def _job(
        self, request: JobRequest, driver: Channel, session: _Session, mesh: Mesh, tag: str
    ) -> dict[str, Any]:
        clock = trio.current_time
        started = clock()
        cpu_started, faults_started = cpu_seconds(), minor_faults()
        reset_peak_rss()
        prepared = self._prepare(request)
        log.info("%s: prepared, rows %s", tag, prepared.rows)
        await driver.send(Frame(session.id, 0, 0, self.me.id, PREPARED, {"rows": prepared.rows}))
        with trio.move_on_after(self.timeouts.idle) as scope:
            frame = await driver.receive()
        if scope.cancelled_caught:
            raise PeerTimeoutError("driver", "waiting for run", self.timeouts.idle)
        if frame.kind == ABORT:
            raise AbortedError(
                "driver", str(expect_map(frame.payload, "driver", "abort").get("reason"))
            )
        if frame.kind != RUN:
            raise RemoteProtocolError("driver", f"expected run, got {frame.kind!r}")
        run = expect_map(frame.payload, "driver", "run")
        plan = compile(
            prepared.circuit,
            CompileSpec(
                self.suite,
                rows=parse_rows(run.get("rows"), "driver"),
                params=request.params,
                receivers=request.receivers,
                preprocessing=self.deployment.preprocessing,
                bristol=self._bristol,
            ),
        )
        if plan.fingerprint != run.get("fingerprint"):
            raise CompileError(
                f"party {self.me.id} compiled plan {plan.fingerprint[:16]}, the driver "
                f"{str(run.get('fingerprint'))[:16]}: the circuit files or versions differ"
            )
        if plan.domain == "Z64" and plan.multiplies_matrices:
            load_ring_matmul()  # numba's compiled kernel: loaded now, not in the protocol's time
        if self.deployment.limits.reserved_memory_bytes:  # the job's pages, faulted in now
            memory.reserve(
                max(self.deployment.limits.reserved_memory_bytes, memory.working_set(plan))
            )
        prepared_at = clock()

        async def execute() -> dict[str, Any]:
            dealer: list[Channel] = []  # the last party's channel to the dealer, if it needs one
            try:
                return await run_job(dealer)
            finally:
                for channel in dealer:
                    await channel.aclose()

        async def run_job(dealer: list[Channel]) -> dict[str, Any]:
            async def connect_mesh() -> None:
                await mesh.connect(
                    fingerprint=plan.fingerprint,
                    dial_to=[p for p in self.deployment.parties if p.id < self.me.id],
                    accept_from={p.id for p in self.deployment.parties if p.id > self.me.id},
                    incoming=session.incoming,
                    context=self._client_context,
                    identities=self.identities,
                    timeout=self.timeouts.connect,
                )

            dial_dealer = [partial(self._dial_dealer, dealer)] if self._asks_dealer(plan) else []
            await run_concurrently([connect_mesh, *dial_dealer])  # connection setup
            connected_at = clock()
            connected_bytes = sum(c.bytes_sent for c in mesh.counters().values())
            pair_keys = keys.pair_keys(self._key, self.me.id, self._peer_certificates, session.id)
            dealt, corrections = await self._dealer_material(
                plan, session.id, dealer[0] if dealer else None
            )
            engine = Engine(
                plan,
                self.me.id,
                session=session.id,
                inputs=prepared.inputs,
                pair_keys=pair_keys,
                dealer=dealt,
            )
            online: list[tuple[float, float, int]] = []  # (clock, CPU s, page faults) at its start

            def online_starts() -> None:
                if not online:
                    online.append((clock(), cpu_seconds(), minor_faults()))

            if not engine.has_offline_stage:  # the constructor did all the offline work
                online_starts()

            reports = ProgressReports(driver, session.id, self.me.id)
            ran: list[PartyResult] = []
            failed: list[MpcError] = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(reports.send_loop)
                try:
                    ran.append(
                        await self._run_engine(
                            engine, mesh, online_starts, reports.report, corrections
                        )
                    )
                except MpcError as error:  # raised here, not from inside the nursery's group
                    failed.append(error)
                finally:
                    reports.close()
            if failed:
                raise failed[0]
            result = ran[0]
            done_at = clock()
            online_at, online_cpu, online_faults = (
                online[0] if online else (connected_at, cpu_started, faults_started)
            )
            counters = mesh.counters()
            sent = sum(c.bytes_sent for c in counters.values())
            stats = {
                "party": self.me.id,
                "rounds": result.rounds,
                "offline_rounds": result.offline_rounds,
                "round_seconds": result.round_seconds,
                "stage_ends": result.stage_ends,
                "seconds": {
                    "prepare": prepared_at - started,
                    "connect": connected_at - prepared_at,
                    "offline": online_at - connected_at,
                    "online": done_at - online_at,
                    "run": done_at - connected_at,
                    "total": done_at - started,
                },
                "offline_bytes_sent": result.offline_wire_bytes,
                "online_bytes_sent": sent - connected_bytes - result.offline_wire_bytes,
                "dealer_bytes_received": dealer[0].counters.bytes_received if dealer else 0,
                "offline_payload_bytes": result.offline_payload_bytes,
                "payload_bytes_sent": sum(result.payload_bytes_sent.values()),
                "bytes_sent": sum(c.bytes_sent for c in counters.values()),
                "bytes_received": sum(c.bytes_received for c in counters.values()),
                "frames_sent": sum(c.frames_sent for c in counters.values()),
                "frames_received": sum(c.frames_received for c in counters.values()),
                "peers": {peer: c.to_dict() for peer, c in counters.items()},
                "peak_rss_bytes": peak_rss_bytes(),
                "cpu_seconds": cpu_seconds() - cpu_started,
                "online_cpu_seconds": cpu_seconds() - online_cpu,
                "online_page_faults": minor_faults() - online_faults,
            }
            return {
                "revealed": result.revealed,
                "driver_shares": result.driver_shares,
                "stats": stats,
            }

        return await self._watching_driver(driver, execute)

    async def _run_engine(
        self,
        engine: Engine,
        mesh: Mesh,
        online_starts: Callable[[], None] | None = None,
        progress: Callable[[tuple[str, int, int]], None] | None = None,
        corrections: Callable[[], Awaitable[Corrections]] | None = None,
    ) -> PartyResult:
        """Run the engine over the mesh, fetching the dealer's corrections meanwhile if it
        awaits them (a seam for tests that need a misbehaving party)."""
        return await drive(
            engine,
            mesh.channels,
            round_timeout=self.timeouts.round,
            online_starts=online_starts,
            progress=progress,
            corrections=corrections,
        )

    def _uses_dealer(self, plan: Plan) -> bool:
        """Whether the plan takes material from the dealer (which the config must declare)."""
        if plan.preprocessing != DEALER or not plan.needs():
            return False
        if self.deployment.dealer is None or self._dealer_certificate is None:
            raise PolicyError(self.me.id, "the plan needs a dealer and the config declares none")
        return True

    def _asks_dealer(self, plan: Plan) -> bool:
        """Whether this party fetches the plan's corrections from the dealer (the last party)."""
        return self._uses_dealer(plan) and self.me.id == self.deployment.n_parties - 1

    async def _dial_dealer(self, into: list[Channel]) -> None:
        assert self.deployment.dealer is not None  # (_asks_dealer checked)
        into.append(
            await dial(
                self.deployment.dealer,
                context=self._client_context,
                identities=self.identities,
                deadline=trio.current_time() + self.timeouts.connect,
                limits=self.deployment.limits,
            )
        )

    async def _dealer_material(
        self, plan: Plan, session: bytes, channel: Channel | None
    ) -> tuple[DealerMaterial | None, Callable[[], Awaitable[Corrections]] | None]:
        """This party's key with the dealer and, for the last party (which has `channel`, dialled
        while the mesh connected), the dealer's corrections: asked for at once, and awaited
        now or, when the plan lets them come late, by the runner alongside the engine."""
        if not self._uses_dealer(plan):
            return None, None
        n, certificate = self.deployment.n_parties, self._dealer_certificate
        assert certificate is not None  # (_uses_dealer checked)
        key = keys.pair_keys(self._key, self.me.id, {n: certificate}, session)[n]
        if channel is None:
            return DealerMaterial(key), None
        await ask_for_corrections(channel, session, self.me.id, plan.domain, plan.needs())
        answer = partial(receive_corrections, channel, self.timeouts.round)
        if corrections_can_come_late(plan):
            return DealerMaterial(key), answer
        return DealerMaterial(key, await answer()), None

    async def _watching_driver(self, driver: Channel, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work`, stopping it if the driver aborts the job or disconnects."""
        outcome: list[T] = []
        stopped: list[MpcError] = []
        failure: MpcError | None = None
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                try:
                    frame = await driver.receive()
                    reason = (
                        str(frame.payload.get("reason")) if isinstance(frame.payload, dict) else ""
                    )
                    stopped.append(
                        AbortedError("driver", reason)
                        if frame.kind == ABORT
                        else RemoteProtocolError("driver", f"sent {frame.kind!r} during the job")
                    )
                except MpcError as error:
                    stopped.append(AbortedError("driver", f"the driver disconnected ({error})"))
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            try:
                outcome.append(await work())
            except MpcError as error:
                failure = error
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        if not outcome:
            raise stopped[0]
        return outcome[0]

    def _prepare(self, request: JobRequest) -> _Prepared:
        """Policy checks, the circuit from this party's own allowed path, and its own inputs."""
        me = self.me.id
        path = self.me.circuits.get(request.circuit)
        if path is None or path.suffix != ".py":
            allowed = ", ".join(sorted(k for k, p in self.me.circuits.items() if p.suffix == ".py"))
            allowed = allowed or "none"
            raise PolicyError(
                me, f"circuit {request.circuit!r} is not allowed here (allowed: {allowed})"
            )
        circuit = load_circuit(path)
        probe: Plan = compile(
            circuit,
            CompileSpec(
                self.suite,
                default_rows=1,
                params=request.params,
                receivers=request.receivers,
                preprocessing=self.deployment.preprocessing,
                bristol=self._bristol,
            ),
        )
        needed: dict[str, dict[str, Column]] = {}
        for spec in probe.inputs_of(me):
            columns = needed.setdefault(spec.dataset, {})
            for column in spec.columns:
                seen = columns.get(column)
                if seen is not None and seen.frac != spec.frac:
                    message = (
                        f"column {spec.dataset}.{column} is read both as integers and decimals"
                    )
                    raise CompileError(message)
                if seen is not None and seen.hex != spec.hex:
                    message = f"column {spec.dataset}.{column} is read both as hex and as numbers"
                    raise CompileError(message)
                bits = spec.bits if seen is None else min(seen.bits, spec.bits)
                columns[column] = Column(bits, spec.frac, spec.hex)
        bindings = request.bindings.get(me, {})
        for name in bindings:
            if name not in needed:
                raise PolicyError(
                    me,
                    f"the job binds dataset {name!r}, which {request.circuit} does not read here",
                )
        inputs: dict[tuple[str, str], np.ndarray] = {}
        rows: dict[str, int] = {}
        for dataset, columns in needed.items():
            local_name = bindings.get(dataset, dataset)
            file = self.me.datasets.get(local_name)
            if file is None:
                known = ", ".join(sorted(self.me.datasets)) or "none"
                raise PolicyError(
                    me, f"has no dataset {local_name!r} in its config (datasets: {known})"
                )
            count, values = read_columns(file, columns, max_rows=self.deployment.limits.max_rows)
            rows[dataset] = count
            for column, array in values.items():
                inputs[(dataset, column)] = array
        return _Prepared(circuit, inputs, rows)
