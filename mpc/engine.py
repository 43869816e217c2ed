"""The sans-IO executor: runs a `Plan` for one party, frames in, frames out.

```python
engine = Engine(plan, party, session=..., inputs=..., pair_keys=...)
while not engine.done:
    for peer, frame in engine.outbox(): send(peer, frame)
    engine.receive(peer, frame)        # whatever arrives, from whoever
result = engine.result()
```
Each layer of the plan is a number of communication rounds; in each round the engine merges what
all of the layer's protocol groups send a peer into one frame `(session, round, step, me, "data",
{group: arrays})`, and resumes the groups once the frames they expect have arrived. Frames that
arrive early are buffered by (round, step, sender); stale, duplicate, unexpected or malformed
frames raise `RemoteProtocolError` naming the peer and round. No I/O, no clock, no trio: the same
engine runs under the in-memory router (`mpc.testing`) and the trio node (`mpc.node`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mpc.dsl import Node, Plan
from mpc.dsl.ir import ConstArray
from mpc.errors import LocalProtocolError, RemoteProtocolError
from mpc.protocols.context import Context, Exchange, Payload, ProtocolRun
from mpc.protocols.inputs import InputItem, additive_share, shamir_share
from mpc.protocols.linear import public_share
from mpc.protocols.reveal import RevealItem, reveal
from mpc.rng import Csprng
from mpc.wire import DATA, Frame


@dataclass
class PartyResult:
    """What one party ends with: outputs revealed to it, and its shares of the driver's outputs."""

    party: int
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    driver_shares: dict[str, np.ndarray] = field(default_factory=dict)
    rounds: int = 0
    payload_bytes_sent: dict[int, int] = field(default_factory=dict)


@dataclass
class _Run:
    group: int
    protocol: ProtocolRun
    exchange: Exchange


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
        self._ctx = Context(
            party, suite, session, rng or Csprng(), pair_keys, _check_inputs(plan, party, inputs)
        )
        self._values: list[np.ndarray | None] = [None] * len(plan.nodes)
        self._uses = [0] * len(plan.nodes)
        for node in plan.nodes:
            for arg in node.args:
                self._uses[arg] += 1
        self._outbox: list[tuple[int, Frame]] = []
        self._pending: dict[tuple[int, int, int], Any] = {}
        self._result = PartyResult(party)
        self._layer = -1  # index of the running layer; round number = index + 1
        self._step = 0
        self._runs: list[_Run] = []
        self._sent_step = False
        self.done = False
        self._run_local(plan.prologue)
        self._next_layer()
        self._advance()

    # --- public interface ------------------------------------------------------------------------
    def outbox(self) -> list[tuple[int, Frame]]:
        """Frames to send now, as (peer, frame); the outbox is emptied."""
        out, self._outbox = self._outbox, []
        return out

    @property
    def current_round(self) -> int:
        """The round (layer number, from 1) the engine is in; 0 before the first."""
        return self._layer + 1

    def waiting_for(self) -> frozenset[int]:
        """Peers whose frames the current round still needs (for timeout messages)."""
        if self.done:
            return frozenset()
        needed = frozenset().union(*(run.exchange.expect for run in self._runs))
        return frozenset(p for p in needed if (self._layer + 1, self._step, p) not in self._pending)

    def receive(self, peer: int, frame: Frame) -> None:
        """Take a frame from `peer`; may produce frames in the outbox and finish the job."""
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
        current = (self._layer + 1, self._step)
        layers = self.plan.layers
        if (
            not 1 <= round_ <= len(layers)
            or frame.step >= layers[round_ - 1].steps
            or (round_, frame.step) < current
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
        self._advance()

    def result(self) -> PartyResult:
        if not self.done:
            raise LocalProtocolError("the job has not finished")
        return self._result

    # --- execution -------------------------------------------------------------------------------
    def _advance(self) -> None:
        while not self.done:
            if not self._runs:
                self._finish_layer()
                continue
            round_ = self._layer + 1
            if not self._sent_step:
                self._emit()
            needed: set[int] = set().union(*(run.exchange.expect for run in self._runs))
            if any((round_, self._step, p) not in self._pending for p in needed):
                return
            frames = {p: self._pending.pop((round_, self._step, p)) for p in needed}
            stray = [k for k in self._pending if k[:2] == (round_, self._step)]
            if stray:
                raise RemoteProtocolError(stray[0][2], "sent a frame nobody expects", round=round_)
            self._deliver(frames)

    def _emit(self) -> None:
        merged: dict[int, dict[int, Payload]] = {}
        for run in self._runs:
            for peer, payload in run.exchange.send.items():
                merged.setdefault(peer, {})[run.group] = payload
                sent = sum(int(a.nbytes) for a in payload)
                self._result.payload_bytes_sent[peer] = (
                    self._result.payload_bytes_sent.get(peer, 0) + sent
                )
        for peer, groups in sorted(merged.items()):
            self._outbox.append(
                (peer, Frame(self.session, self._layer + 1, self._step, self.party, DATA, groups))
            )
        self._sent_step = True

    def _deliver(self, frames: dict[int, Any]) -> None:
        round_ = self._layer + 1
        for peer, payload in frames.items():
            wanted = {run.group for run in self._runs if peer in run.exchange.expect}
            if set(payload) != wanted:
                raise RemoteProtocolError(
                    peer,
                    f"message carries groups {sorted(payload, key=str)}, expected {sorted(wanted)}",
                    round=round_,
                )
        still_running = []
        for run in self._runs:
            received = {p: frames[p][run.group] for p in run.exchange.expect}
            try:
                run.exchange = run.protocol.send(received)
                still_running.append(run)
            except StopIteration as stop:
                self._store_group(run.group, stop.value)
            except RemoteProtocolError as error:
                if error.round is not None:
                    raise
                raise RemoteProtocolError(error.peer, error.reason, round=round_) from None
        self._runs = still_running
        self._result.rounds += 1
        self._step += 1
        self._sent_step = False

    def _finish_layer(self) -> None:
        if self._layer >= 0:
            self._run_local(self.plan.layers[self._layer].after)
        self._next_layer()

    def _next_layer(self) -> None:
        self._layer += 1
        self._step = 0
        self._sent_step = False
        if self._layer == len(self.plan.layers):
            if self._pending:
                (_, _, peer), *_ = self._pending
                raise RemoteProtocolError(peer, "sent frames beyond the plan")
            self.done = True
            return
        for index, group in enumerate(self.plan.layers[self._layer].groups):
            nodes = [self.plan.nodes[i] for i in group.nodes]
            protocol = self._start_group(group.op, nodes)
            try:
                self._runs.append(_Run(index, protocol, next(protocol)))
            except StopIteration as stop:
                self._store_group(index, stop.value)

    # --- ops -------------------------------------------------------------------------------------
    def _start_group(self, op: str, nodes: list[Node]) -> ProtocolRun:
        if op == "input":
            return shamir_share(self._ctx, [self._input_item(n) for n in nodes])
        if op == "reveal":
            for node in nodes:
                self._record_driver_share(node)
            return reveal(
                self._ctx, [RevealItem(self._arg(node, 0), node.attr("to")) for node in nodes]
            )
        raise LocalProtocolError(f"no interactive protocol for op {op!r}")

    def _store_group(self, group: int, results: list[np.ndarray | None]) -> None:
        for node_id, value in zip(
            self.plan.layers[self._layer].groups[group].nodes, results, strict=True
        ):
            node = self.plan.nodes[node_id]
            if node.op == "reveal":
                if value is not None:
                    self._result.outputs[node.attr("name")] = value
            else:
                self._values[node_id] = value
            self._release(node)

    def _run_local(self, node_ids: tuple[int, ...]) -> None:
        for node_id in node_ids:
            node = self.plan.nodes[node_id]
            self._values[node_id] = self._local(node)
            self._release(node)

    def _local(self, node: Node) -> np.ndarray | None:
        domain = self._ctx.domain
        op = node.op
        if op == "const":
            value: ConstArray = node.attr("value")
            return domain.encode(value.array())
        if op == "input":
            return additive_share(self._ctx, self._input_item(node))
        if op == "reveal":  # to the driver only, or a public value
            self._record_driver_share(node)
            if not self.plan.nodes[node.args[0]].vtype.secret and self.party in node.attr("to"):
                self._result.outputs[node.attr("name")] = domain.decode(self._arg(node, 0))
            return None
        if op in ("add", "sub"):
            a, b = (self._share_of(arg) for arg in node.args)
            combined = domain.add(a, b) if op == "add" else domain.sub(a, b)
            return np.broadcast_to(combined, node.shape).copy()
        if op == "neg":
            return domain.neg(self._arg(node, 0))
        if op == "mul_public":
            product = domain.mul(self._arg(node, 0), self._arg(node, 1))
            return np.broadcast_to(product, node.shape).copy()
        if op == "sum":
            return domain.sum(self._arg(node, 0), axis=node.attr("axis"))
        raise LocalProtocolError(f"no local kernel for op {op!r}")

    def _arg(self, node: Node, index: int) -> np.ndarray:
        value = self._values[node.args[index]]
        if value is None:
            raise LocalProtocolError(f"operand {index} of {node.op} node {node.id} is not computed")
        return value

    def _share_of(self, node_id: int) -> np.ndarray:
        value = self._values[node_id]
        if value is None:
            raise LocalProtocolError(f"node {node_id} is not computed")
        return value if self.plan.nodes[node_id].vtype.secret else public_share(self._ctx, value)

    def _input_item(self, node: Node) -> InputItem:
        owner = node.attr("party")
        values = None
        if owner == self.party:
            values = self._ctx.domain.encode(
                self._ctx.inputs[(node.attr("dataset"), node.attr("column"))]
            )
        return InputItem(owner, node.id, node.shape, values)

    def _record_driver_share(self, node: Node) -> None:
        if node.attr("driver"):
            self._result.driver_shares[node.attr("name")] = self._share_of(node.args[0])

    def _release(self, node: Node) -> None:
        """Free operands nobody needs any more (keeps peak memory to the live values)."""
        for arg in node.args:
            self._uses[arg] -= 1
            if self._uses[arg] == 0:
                self._values[arg] = None


def _check_inputs(
    plan: Plan, party: int, inputs: Mapping[tuple[str, str], np.ndarray]
) -> dict[tuple[str, str], np.ndarray]:
    """The party's inputs the plan needs, checked against their declared shapes and bounds."""
    checked: dict[tuple[str, str], np.ndarray] = {}
    for spec in plan.inputs_of(party):
        key = (spec.dataset, spec.column)
        if key not in inputs:
            raise LocalProtocolError(
                f"input {spec.dataset}.{spec.column} of party {party} is missing"
            )
        values = np.asarray(inputs[key])
        if values.dtype != np.int64 or values.shape != (spec.rows,):
            raise LocalProtocolError(
                f"input {spec.dataset}.{spec.column}: expected int64[{spec.rows}], "
                f"got {values.dtype}{list(values.shape)}"
            )
        limit = np.int64(2**spec.bits)
        if np.any((values >= limit) | (values <= -limit)):
            raise LocalProtocolError(f"input {spec.dataset}.{spec.column} exceeds 2^{spec.bits}")
        checked[key] = values
    return checked
