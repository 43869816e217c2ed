"""Test doubles shipped with the library: run N parties' engines in one process.

`Router` moves frames between engines (through the real wire encoding by default) in FIFO order
or in an order the test chooses, records what each party received, and reports a deadlock
instead of hanging. `run_plan` is the one-call version used by property tests; `play_dealer`
stands in for the dealer process; `run_protocols` drives bare protocol generators. The parties still
only see their own inputs and the frames addressed to them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mpc import wire
from mpc.dsl import Plan
from mpc.engine import DealerMaterial, Engine, PartyResult
from mpc.errors import LocalProtocolError
from mpc.field import domain_named
from mpc.preprocessing.dealer import deal
from mpc.protocols.context import Exchange, Run
from mpc.results import merge_outputs, reconstruct_driver_outputs
from mpc.rng import Csprng
from mpc.suite import DEALER

Inputs = Mapping[tuple[str, str], np.ndarray]


def run_protocols(runs: Mapping[int, Run[Any]], max_rounds: int = 10_000) -> dict[int, Any]:
    """Drive sans-IO protocol generators of several parties to completion, round by round.

    Each party's generator yields `Exchange`s; what it sends a peer is delivered when the peer's
    generator expects it. Returns each party's result. A round in which someone waits for a
    message nobody sent is a `LocalProtocolError` (a mismatched protocol), not a hang.
    """
    results: dict[int, Any] = {}
    current: dict[int, Exchange] = {}
    for party, run in runs.items():
        try:
            current[party] = next(run)
        except StopIteration as stop:
            results[party] = stop.value
    for _ in range(max_rounds):
        if not current:
            return results
        for party, exchange in current.items():
            for peer in exchange.expect:
                sent = current.get(peer)
                if sent is None or party not in sent.send:
                    raise LocalProtocolError(
                        f"party {party} waits for party {peer}, who sends nothing"
                    )
        following: dict[int, Exchange] = {}
        for party, exchange in current.items():
            received = {peer: current[peer].send[party] for peer in exchange.expect}
            try:
                following[party] = runs[party].send(received)
            except StopIteration as stop:
                results[party] = stop.value
        current = following
    raise LocalProtocolError(f"protocols did not finish within {max_rounds} rounds")


def random_pair_keys(n_parties: int) -> list[dict[int, bytes]]:
    """Symmetric pairwise keys for n parties (what ECDH on their certificates gives a node)."""
    keys: list[dict[int, bytes]] = [{} for _ in range(n_parties)]
    for i in range(n_parties):
        for j in range(i + 1, n_parties):
            keys[i][j] = keys[j][i] = os.urandom(32)
    return keys


@dataclass
class Router:
    """Delivers frames between in-memory engines until every party is done."""

    engines: Sequence[Engine]
    order: Callable[[int], int] | None = None  # picks which in-flight frame goes next
    through_wire: bool = True
    received: list[list[tuple[int, wire.Frame]]] = field(default_factory=list)

    def run(self) -> list[PartyResult]:
        self.received = [[] for _ in self.engines]
        in_flight: list[tuple[int, int, wire.Frame]] = []  # (sender, receiver, frame)
        while True:
            for sender, engine in enumerate(self.engines):
                in_flight.extend((sender, peer, frame) for peer, frame in engine.outbox())
            if all(engine.done for engine in self.engines) and not in_flight:
                return [engine.result() for engine in self.engines]
            if not in_flight:
                waiting = {
                    i: sorted(e.waiting_for()) for i, e in enumerate(self.engines) if not e.done
                }
                raise LocalProtocolError(f"deadlock: parties wait for {waiting}")
            index = self.order(len(in_flight)) if self.order else 0
            sender, receiver, frame = in_flight.pop(index)
            if self.through_wire:
                frame = wire.decode(wire.encode(frame), sender)
            self.received[receiver].append((sender, frame))
            self.engines[receiver].receive(sender, frame)


def play_dealer(plan: Plan, session: bytes) -> dict[int, DealerMaterial]:
    """What a trusted dealer would give each party for `plan` (empty if it needs none)."""
    needs = plan.needs()
    if plan.preprocessing != DEALER or not needs:
        return {}
    parties = list(plan.suite.parties)
    keys = {p: os.urandom(32) for p in parties}
    corrections = deal(domain_named(plan.domain), needs, keys, session, Csprng())
    last = parties[-1]
    return {p: DealerMaterial(keys[p], corrections if p == last else None) for p in parties}


def party_engines(
    plan: Plan, inputs: Mapping[int, Inputs], session: bytes, dealt: Mapping[int, DealerMaterial]
) -> list[Engine]:
    """Every party's engine for `plan`, with fresh pair keys and the dealer's material `dealt`."""
    keys = random_pair_keys(plan.suite.n_parties)
    return [
        Engine(
            plan,
            p,
            session=session,
            inputs=inputs.get(p, {}),
            pair_keys=keys[p],
            dealer=dealt.get(p),
        )
        for p in plan.suite.parties
    ]


@dataclass
class LocalRun:
    """Results of `run_plan`: per-party results, the merged outputs and the driver's outputs."""

    parties: list[PartyResult]
    outputs: dict[str, np.ndarray]
    driver_outputs: dict[str, np.ndarray]
    router: Router


def run_plan(
    plan: Plan,
    inputs: Mapping[int, Inputs],
    *,
    order: Callable[[int], int] | None = None,
    session: bytes | None = None,
) -> LocalRun:
    """Run `plan` between all its parties in memory; `inputs[p]` holds party p's own columns."""
    session = session or os.urandom(16)
    engines = party_engines(plan, inputs, session, play_dealer(plan, session))
    router = Router(engines, order=order)
    results = router.run()
    outputs = merge_outputs(plan, {r.party: r.outputs for r in results})
    driver = reconstruct_driver_outputs(plan, {r.party: r.driver_shares for r in results})
    return LocalRun(results, outputs, driver, router)
