"""A two-party runner for generator protocols (the `Exchange` convention), for tests.

`run_two(gen_a, gen_b)` drives two generators in lockstep, one round per step: what each sends to
the other is delivered iff the other expects it (and must then have been sent), optionally through
the real wire encoding so that every array is one the wire accepts. Returns both results and the
per-round traffic in bytes.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mpc import wire
from mpc.protocols.context import Exchange, Payload

Gen = Generator[Exchange, Mapping[int, Payload], Any]


@dataclass
class Traffic:
    rounds: int = 0
    bytes_sent: dict[int, int] = field(default_factory=dict)


def _roundtrip(payload: Payload, sender: int) -> Payload:
    frame = wire.Frame(b"s", 0, 0, sender, wire.DATA, payload)
    return list(wire.decode(wire.encode(frame), sender).payload)


def _size(payload: Payload) -> int:
    return sum(int(np.asarray(a).nbytes) for a in payload)


def run_two(
    gen_a: Gen, gen_b: Gen, ids: tuple[int, int] = (0, 1), *, encode: bool = True
) -> tuple[Any, Any, Traffic]:
    """Run party ids[0]'s `gen_a` against party ids[1]'s `gen_b`; returns (result_a, result_b)."""
    gens = {ids[0]: gen_a, ids[1]: gen_b}
    other = {ids[0]: ids[1], ids[1]: ids[0]}
    traffic = Traffic(bytes_sent={ids[0]: 0, ids[1]: 0})
    results: dict[int, Any] = {}
    current: dict[int, Exchange] = {}
    for party, gen in gens.items():
        try:
            current[party] = next(gen)
        except StopIteration as stop:
            results[party] = stop.value
    while current:
        if len(current) != 2:
            raise AssertionError(f"round {traffic.rounds}: only {sorted(current)} still running")
        traffic.rounds += 1
        inbox: dict[int, dict[int, Payload]] = {p: {} for p in gens}
        for party, exchange in current.items():
            peer = other[party]
            extra = set(exchange.send) - {peer}
            assert not extra, f"party {party} sends to unknown parties {extra}"
            sent = exchange.send.get(peer)
            if sent is not None:
                traffic.bytes_sent[party] += _size(sent)
            expected = party in current[peer].expect
            if expected and sent is None:
                raise AssertionError(
                    f"round {traffic.rounds}: {peer} expects {party}, nothing sent"
                )
            if sent is not None and not expected:
                raise AssertionError(
                    f"round {traffic.rounds}: {party} sent, {peer} expects nothing"
                )
            if sent is not None:
                inbox[peer][party] = _roundtrip(list(sent), party) if encode else list(sent)
        following: dict[int, Exchange] = {}
        for party, gen in gens.items():
            if party not in current:
                continue
            try:
                following[party] = gen.send(inbox[party])
            except StopIteration as stop:
                results[party] = stop.value
        current = following
    return results[ids[0]], results[ids[1]], traffic
