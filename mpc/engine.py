"""The sans-IO executor: runs a `Plan` for one party, frames in, frames out.

```python
engine = Engine(plan, party, session=..., inputs=..., pair_keys=...)
while not engine.done:
    for peer, frame in engine.outbox(): send(peer, frame)
    if engine.paused: engine.resume()  # after the frames are on their way (a transport may
    else: engine.receive(peer, frame)  # run resume and receive in a worker thread)
result = engine.result()
```
Stages run in order: round 0 is the offline stage (preprocessing made by the parties, when the
plan's provider does that), rounds 1.. are the plan's layers. In each communication step the
engine merges what all of a stage's protocol runs send a peer into one frame
`(session, round, step, me, "data", {run: arrays})`, and resumes the runs once the frames they
expect have arrived; when they arrived before its own frames of that step went out, it pauses
right after producing them (`paused`), so a transport sends them before the local work of the
step starts (`resume`). Early frames are buffered by (round, step, sender); stale, duplicate,
unexpected or malformed frames raise `RemoteProtocolError` naming the peer and round. With a
dealer, the last party may start before the dealer's corrections arrive: it sends its frames
but delivers none until `supply_corrections` (Beaver reads the corrected c after its opening,
so the dealer's work overlaps the parties' first round). No I/O, no clock, no trio: the same
engine runs under `mpc.testing` and under the trio node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mpc.dsl import Node, Plan
from mpc.dsl.cost import PRODUCTS
from mpc.errors import LocalProtocolError, RemoteProtocolError
from mpc.field import domain_named
from mpc.operations import Operations
from mpc.preprocessing import Store
from mpc.preprocessing.dealer import LATE_KINDS, Corrections, awaiting_store, fill, party_store
from mpc.preprocessing.providers import MADE_BY_PARTIES, MadeByParties
from mpc.protocols.compare import SESSION_ROUNDS, setup_sessions
from mpc.protocols.compose import concurrently
from mpc.protocols.context import Context, Exchange, Payload, Run
from mpc.protocols.inputs import InputPads, shamir_input_pads
from mpc.protocols.multiply import ResharePads, reshare_pads
from mpc.rng import Csprng
from mpc.suite import DEALER
from mpc.wire import DATA, Frame


@dataclass
class PartyResult:
    """What one party ends with: outputs revealed to it, and its shares of the driver's outputs."""

    party: int
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # decoded numbers
    revealed: dict[str, np.ndarray] = field(default_factory=dict)  # the same, as domain elements
    driver_shares: dict[str, np.ndarray] = field(default_factory=dict)
    rounds: int = 0
    offline_rounds: int = 0
    payload_bytes_sent: dict[int, int] = field(default_factory=dict)
    offline_payload_bytes: int = 0
    offline_wire_bytes: int = 0  # set by the transport that ran the engine
    round_seconds: list[float] = field(default_factory=list)  # per stage (offline, layers)
    stage_ends: list[float] = field(default_factory=list)  # the clock when each stage ended


@dataclass
class _Run:
    group: int
    protocol: Run[Any]
    exchange: Exchange


@dataclass(frozen=True, slots=True)
class DealerMaterial:
    """What a party needs from a trusted dealer: its key with the dealer, and for the last
    party the corrections; without them the last party's engine starts at once and takes them
    later (`Engine.supply_corrections`), when the plan allows (`corrections_can_come_late`)."""

    key: bytes
    corrections: Corrections | None = None


class Engine:
    """Runs one party's side of a plan. See the module docstring for the loop around it."""

    def __init__(
        self,
        plan: Plan,
        party: int,
        *,
        session: bytes,
        inputs: Mapping[tuple[str, str], np.ndarray],
        pair_keys: Mapping[int, bytes],
        rng: Csprng | None = None,
        dealer: DealerMaterial | None = None,
    ) -> None:
        suite = plan.suite
        if party not in suite.parties:
            raise LocalProtocolError(f"party {party} is not one of the plan's {suite.n_parties}")
        peers = set(suite.parties) - {party}
        if set(pair_keys) != peers:
            raise LocalProtocolError(f"pair keys needed for parties {sorted(peers)}")
        self.plan = plan
        self.party = party
        self.session = session
        domain = domain_named(plan.domain)
        checked = _check_inputs(plan, party, inputs)
        self._ctx = Context(party, suite, domain, session, rng or Csprng(), pair_keys, checked)
        self._store: Store | None = None
        self._pads: dict[int, ResharePads | InputPads] = {}
        self._ops = Operations(plan, self._ctx, lambda: self._store, self._take_pads)
        self._values: list[np.ndarray | None] = [None] * len(plan.nodes)
        self._uses = [0] * len(plan.nodes)
        for node in plan.nodes:
            for arg in node.args:
                self._uses[arg] += 1
        self._outbox: list[tuple[int, Frame]] = []
        self._pending: dict[tuple[int, int, int], Any] = {}
        self._result = PartyResult(party)
        needs = plan.needs()
        # the job's OT and garbling sessions, for garbled comparisons and imported circuits
        self._compares = any(
            node.op == "garble" or (node.op == "compare" and not self._ops.boolean_comparisons)
            for node in plan.nodes
        )
        self._provider: MadeByParties | None = None
        self._blanks: Corrections | None = None  # the last party's corrections still to come
        if needs and plan.preprocessing == DEALER:
            if dealer is None:
                raise LocalProtocolError("the plan's preprocessing comes from a dealer; none given")
            if party == suite.n_parties - 1 and dealer.corrections is None:
                if not corrections_can_come_late(plan):
                    raise LocalProtocolError(
                        "this plan's dealer material is used before any opening: "
                        "the last party needs the dealer's corrections up front"
                    )
                self._store, self._blanks = awaiting_store(
                    domain, suite.n_parties, dealer.key, session, needs
                )
            else:
                self._store = party_store(
                    domain, party, suite.n_parties, dealer.key, session, needs, dealer.corrections
                )
        elif needs and plan.preprocessing in MADE_BY_PARTIES:
            self._provider = MADE_BY_PARTIES[plan.preprocessing]
        # the offline stage: the comparisons' OT and garbling sessions (2 rounds) alongside the
        # preprocessing the parties make themselves
        self._offline_steps = max(
            SESSION_ROUNDS if self._compares else 0,
            self._provider.offline_rounds(suite, needs) if self._provider else 0,
        )
        if suite.protocol == "shamir":  # the data-independent half of inputs and resharings, now
            for node in plan.nodes:
                if node.op in PRODUCTS:
                    self._pads[node.id] = reshare_pads(self._ctx, node.id, node.size)
                elif node.op == "input":
                    owner = node.attr("party")
                    self._pads[node.id] = shamir_input_pads(self._ctx, owner, node.id, node.size)
        self._stage = -1  # 0 = offline, 1.. = the plan's layers
        self.clock: Callable[[], float] | None = None  # the host's, to time every stage
        self._stage_started = 0.0
        self._step = 0
        self._runs: list[_Run] = []
        self._sent_step = False
        self._started = False
        self.paused = False  # frames just emitted must go out before the step's local work
        self.done = False

    def start(self) -> None:
        """Begin the protocol (the constructor did the local offline work). Idempotent."""
        if not self._started:
            self._started = True
            self._next_stage()
            self._advance()

    def _take_pads(self, node_id: int) -> ResharePads | InputPads | None:
        """The node's precomputed pads, once (None when there are none)."""
        return self._pads.pop(node_id, None)

    # --- public interface ------------------------------------------------------------------------
    def outbox(self) -> list[tuple[int, Frame]]:
        """Frames to send now, as (peer, frame); the outbox is emptied.

        With nothing to send, a paused engine resumes first (callers that send as they go need
        not call `resume` themselves)."""
        self.start()
        if not self._outbox and self.paused:
            self.resume()
        out, self._outbox = self._outbox, []
        return out

    def resume(self) -> None:
        """Go on with the work that frames already received allow (after `paused`)."""
        if self.paused:
            self.paused = False
            self._advance()

    def supply_corrections(self, corrections: Corrections) -> None:
        """The dealer's corrections, for a last party built without them (`DealerMaterial`
        with `corrections=None`): until then it sends its frames but delivers none."""
        if self._blanks is None:
            raise LocalProtocolError("no dealer corrections are awaited")
        fill(self._ctx.domain, self._blanks, corrections)
        self._blanks = None
        if not self.paused and self._started:
            self._advance()

    @property
    def awaiting_corrections(self) -> bool:
        """Whether the engine still waits for the dealer's corrections."""
        return self._blanks is not None

    @property
    def current_round(self) -> int:
        """The round the engine is in: 0 offline, 1.. the plan's layers."""
        return max(self._stage, 0)

    @property
    def has_offline_stage(self) -> bool:
        """Whether the parties exchange messages to make preprocessing (round 0)."""
        return self._offline_steps > 0

    @property
    def phase(self) -> str:
        if self.done:
            return "done"
        return "offline" if self._stage <= 0 else "online"

    @property
    def progress(self) -> tuple[str, int, int]:
        """(phase, rounds done, rounds in total) of the current phase."""
        if self._stage <= 0 and not self.done:
            return "offline", max(self._step, 0), self._offline_steps
        done = sum(layer.steps for layer in self.plan.layers[: max(self._stage - 1, 0)])
        if not self.done:
            done += self._step
        return ("done" if self.done else "online"), min(done, self.plan.rounds), self.plan.rounds

    def waiting_for(self) -> frozenset[int]:
        """Peers whose frames the current step still needs (for timeout messages)."""
        self.start()
        if self.done:
            return frozenset()
        needed = frozenset().union(*(run.exchange.expect for run in self._runs))
        return frozenset(p for p in needed if (self._stage, self._step, p) not in self._pending)

    def receive(self, peer: int, frame: Frame) -> None:
        """Take a frame from `peer`; may produce frames in the outbox and finish the job."""
        self.start()
        round_ = frame.round
        if frame.session != self.session:
            raise RemoteProtocolError(peer, "frame for another session", round=round_)
        if frame.sender != peer:
            raise RemoteProtocolError(
                peer, f"frame claims to be from {frame.sender!r}", round=round_
            )
        if frame.kind != DATA:
            raise RemoteProtocolError(
                peer, f"unexpected {frame.kind!r} frame during the job", round=round_
            )
        if self.done:
            raise RemoteProtocolError(peer, "frame after the job finished", round=round_)
        if (
            not 0 <= round_ <= len(self.plan.layers)
            or frame.step >= self._steps_of(round_)
            or (round_, frame.step) < (self._stage, self._step)
        ):
            raise RemoteProtocolError(
                peer, f"stale or out-of-plan frame (step {frame.step})", round=round_
            )
        key = (round_, frame.step, peer)
        if key in self._pending:
            raise RemoteProtocolError(peer, f"duplicate frame (step {frame.step})", round=round_)
        if not isinstance(frame.payload, dict):
            raise RemoteProtocolError(peer, "data payload must be a map", round=round_)
        self._pending[key] = frame.payload
        if self.paused and self._outbox:  # its frames go out first; `resume` goes on
            return
        self.paused = False
        self._advance()

    @property
    def result_in_progress(self) -> PartyResult:
        """The result being filled in (the transport adds its own measurements)."""
        return self._result

    def result(self) -> PartyResult:
        if not self.done:
            raise LocalProtocolError("the job has not finished")
        return self._result

    # --- stages and steps ----------------------------------------------------------------------
    def _steps_of(self, round_: int) -> int:
        return self._offline_steps if round_ == 0 else self.plan.layers[round_ - 1].steps

    def _advance(self) -> None:
        while not self.done:
            if not self._runs:
                self._finish_stage()
                continue
            needed: set[int] = set().union(*(run.exchange.expect for run in self._runs))
            ready = (self._blanks is None or self._stage == 0) and all(
                (self._stage, self._step, p) in self._pending for p in needed
            )
            if not self._sent_step:
                self._emit()
                if ready and self._outbox:  # send first: the peers' work waits for these frames
                    self.paused = True
                    return
            if not ready:
                return
            frames = {p: self._pending.pop((self._stage, self._step, p)) for p in needed}
            stray = [k for k in self._pending if k[:2] == (self._stage, self._step)]
            if stray:
                raise RemoteProtocolError(
                    stray[0][2], "sent a frame nobody expects", round=self._stage
                )
            self._deliver(frames)

    def _emit(self) -> None:
        merged: dict[int, dict[int, Payload]] = {}
        for run in self._runs:
            for peer, payload in run.exchange.send.items():
                merged.setdefault(peer, {})[run.group] = payload
                sent = sum(int(a.nbytes) for a in payload)
                if self._stage == 0:
                    self._result.offline_payload_bytes += sent
                else:
                    counts = self._result.payload_bytes_sent
                    counts[peer] = counts.get(peer, 0) + sent
        for peer, groups in sorted(merged.items()):
            frame = Frame(self.session, self._stage, self._step, self.party, DATA, groups)
            self._outbox.append((peer, frame))
        self._sent_step = True

    def _deliver(self, frames: dict[int, Any]) -> None:
        round_ = self._stage
        for peer, payload in frames.items():
            wanted = {run.group for run in self._runs if peer in run.exchange.expect}
            if set(payload) != wanted:
                got = sorted(payload, key=str)
                raise RemoteProtocolError(
                    peer, f"message carries groups {got}, expected {sorted(wanted)}", round=round_
                )
        still_running = []
        for run in self._runs:
            received = {p: frames[p][run.group] for p in run.exchange.expect}
            try:
                run.exchange = run.protocol.send(received)
                still_running.append(run)
            except StopIteration as stop:
                self._finish_run(run.group, stop.value)
            except RemoteProtocolError as error:
                if error.round is not None:
                    raise
                raise RemoteProtocolError(error.peer, error.reason, round=round_) from None
        self._runs = still_running
        if round_ == 0:
            self._result.offline_rounds += 1
        else:
            self._result.rounds += 1
        self._step += 1
        self._sent_step = False

    def _finish_stage(self) -> None:
        if self._stage == 0:
            self._run_local(self.plan.prologue)
        elif self._stage > 0:
            self._run_local(self.plan.layers[self._stage - 1].after)
        self._next_stage()

    def _next_stage(self) -> None:
        if self.clock is not None:
            now = self.clock()
            if self._stage >= 0:
                self._result.round_seconds.append(now - self._stage_started)
                self._result.stage_ends.append(now)
            self._stage_started = now
        self._stage += 1
        self._step = 0
        self._sent_step = False
        if self._stage == 0:
            if self._offline_steps:
                self._start_run(0, self._offline())
            return  # no offline stage: _advance finishes it at once
        if self._stage > len(self.plan.layers):
            if self._pending:
                (_, _, peer), *_ = self._pending
                raise RemoteProtocolError(peer, "sent frames beyond the plan")
            self.done = True
            return
        for index, group in enumerate(self.plan.layers[self._stage - 1].groups):
            nodes = [self.plan.nodes[i] for i in group.nodes]
            args = [[self._arg(node, k) for k in range(len(node.args))] for node in nodes]
            if group.op == "reveal":
                for node in nodes:
                    self._record_driver_share(node)
            self._start_run(index, self._ops.start(group.op, nodes, args))

    def _offline(self) -> Run[Store | None]:
        """Round 0: the job's OT sessions (for comparisons), then the parties' preprocessing."""
        runs: list[Run[Any]] = []
        if self._compares:
            runs.append(setup_sessions(self._ctx))
        if self._provider is not None:
            runs.append(self._provider.generate(self._ctx, self.plan.needs()))
        if not runs:
            return self._store
        results = (yield from concurrently(runs)) if len(runs) > 1 else [(yield from runs[0])]
        store: Store | None = results[-1] if self._provider is not None else self._store
        return store

    def _start_run(self, group: int, protocol: Run[Any]) -> None:
        try:
            self._runs.append(_Run(group, protocol, next(protocol)))
        except StopIteration as stop:
            self._finish_run(group, stop.value)

    def _finish_run(self, group: int, results: Any) -> None:
        if self._stage == 0:
            self._store = results
            return
        node_ids = self.plan.layers[self._stage - 1].groups[group].nodes
        for node_id, value in zip(node_ids, results, strict=True):
            node = self.plan.nodes[node_id]
            if node.op == "reveal":
                if value is not None:
                    self._record_output(node, value)
            else:
                self._values[node_id] = value
            self._release(node)

    # --- local work ------------------------------------------------------------------------------
    def _run_local(self, node_ids: tuple[int, ...]) -> None:
        for node_id in node_ids:
            node = self.plan.nodes[node_id]
            if node.op == "reveal":  # to the driver only, or a public value
                self._record_driver_share(node)
                public = not node.vtype.secret or node.vtype.kind == "bits"  # (bits: delivered)
                if public and self.party in node.attr("to"):
                    self._record_output(node, self._arg(node, 0))
            else:
                args = [self._arg(node, k) for k in range(len(node.args))]
                self._values[node_id] = self._ops.local(node, args)
            self._release(node)

    def _arg(self, node: Node, index: int) -> np.ndarray:
        value = self._values[node.args[index]]
        if value is None:
            raise LocalProtocolError(f"operand {index} of {node.op} node {node.id} is not computed")
        return value

    def _record_output(self, node: Node, value: np.ndarray) -> None:
        name = node.attr("name")
        self._result.revealed[name] = value
        self._result.outputs[name] = self._ops.decode(node, value)

    def _record_driver_share(self, node: Node) -> None:
        if node.attr("driver"):
            self._result.driver_shares[node.attr("name")] = self._ops.share_of(
                node.args[0], self._arg(node, 0)
            )

    def _release(self, node: Node) -> None:
        """Free operands nobody needs any more (keeps peak memory to the live values)."""
        for arg in node.args:
            self._uses[arg] -= 1
            if self._uses[arg] == 0:
                self._values[arg] = None


def corrections_can_come_late(plan: Plan) -> bool:
    """Whether the last party may start before the dealer's corrections arrive: every batch of
    dealer material is a triple (or square, or matrix triple) of a Beaver product, whose only
    corrected component, c, is read after the product's opening."""
    return all(
        need.kind in LATE_KINDS and plan.nodes[need.node].op in PRODUCTS for need in plan.needs()
    )


def _check_inputs(
    plan: Plan, party: int, inputs: Mapping[tuple[str, str], np.ndarray]
) -> dict[int, np.ndarray]:
    """The party's inputs the plan needs, by input node (a matrix input's columns stacked),
    checked against their declared shapes and bounds."""
    checked: dict[int, np.ndarray] = {}
    for spec in plan.inputs_of(party):
        columns = []
        for column in spec.columns:
            key = (spec.dataset, column)
            if key not in inputs:
                raise LocalProtocolError(
                    f"input {spec.dataset}.{column} of party {party} is missing"
                )
            values = np.asarray(inputs[key])
            if spec.hex:  # private bits of an imported circuit
                if values.dtype != np.uint8 or values.shape != (spec.rows, spec.bits):
                    raise LocalProtocolError(
                        f"input {spec.dataset}.{column}: expected uint8[{spec.rows}, {spec.bits}] "
                        f"bits, got {values.dtype}{list(values.shape)}"
                    )
                if np.any(values > 1):
                    raise LocalProtocolError(f"input {spec.dataset}.{column}: bits must be 0 or 1")
            elif values.dtype != np.int64 or values.shape != (spec.rows,):
                raise LocalProtocolError(
                    f"input {spec.dataset}.{column}: expected int64[{spec.rows}], "
                    f"got {values.dtype}{list(values.shape)}"
                )
            columns.append(values)
        block = np.stack(columns, axis=1) if spec.matrix else columns[0]
        if not spec.hex:  # bounds: one pass over the whole input, no temporaries
            limit = np.int64(2 ** (spec.bits + spec.frac))
            if _over(block, limit):
                named = zip(spec.columns, columns, strict=True)
                over = next(name for name, values in named if _over(values, limit))
                scale = f" scaled by 2^{spec.frac}" if spec.frac else ""
                message = f"input {spec.dataset}.{over} exceeds 2^{spec.bits}{scale}"
                raise LocalProtocolError(message)
        checked[spec.node] = block
    return checked


def _over(values: np.ndarray, limit: np.int64) -> bool:
    return bool(values.size) and bool(values.max() >= limit or values.min() <= -limit)
