"""What a protocol step sees of its party, and the shape of an interactive protocol.

An interactive protocol is a generator (sans-IO, h11 style). Each `yield Exchange(send, expect)`
is one communication round: `send` maps peers to the arrays this party sends them, `expect` names
the peers it waits for; the generator resumes with `{peer: arrays}` from exactly those peers and
finally returns one result per node of its group. Rule: a protocol yields once per round of its
pattern at every party (an empty Exchange where a party has nothing to do), so that all parties
number their rounds alike; it may return early only when it has no later rounds.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

import numpy as np

from mpc.errors import RemoteProtocolError
from mpc.field import Domain
from mpc.rng import Csprng, LabelPart
from mpc.suite import Suite

Payload = list[np.ndarray]


@dataclass(frozen=True, slots=True)
class Exchange:
    send: Mapping[int, Payload] = field(default_factory=dict)
    expect: frozenset[int] = frozenset()


ProtocolRun = Generator[Exchange, Mapping[int, Payload], list[np.ndarray | None]]


@dataclass(frozen=True, slots=True)
class Context:
    """One party's view of a job: who it is, the suite, its randomness and its own inputs."""

    party: int
    suite: Suite
    session: bytes
    rng: Csprng
    pair_keys: Mapping[int, bytes]
    inputs: Mapping[tuple[str, str], np.ndarray]

    @property
    def domain(self) -> Domain:
        return self.suite.domain

    def pair_stream(self, peer: int, *label: LabelPart) -> Csprng:
        """The stream this party shares with `peer` for `label` (the peer derives the same)."""
        return Csprng.derive(self.pair_keys[peer], self.session, *label)


def received_array(
    payload: Payload, peer: int, index: int, size: int, round_: int | None = None
) -> np.ndarray:
    """The `index`-th array a peer sent, checked to be `size` domain elements (uint64)."""
    if not isinstance(payload, list) or index >= len(payload):
        raise RemoteProtocolError(peer, "expected array missing from the message", round=round_)
    array = payload[index]
    if not isinstance(array, np.ndarray) or array.dtype != np.uint64 or array.size != size:
        got = (
            f"{array.dtype}[{array.size}]"
            if isinstance(array, np.ndarray)
            else type(array).__name__
        )
        raise RemoteProtocolError(peer, f"expected {size} uint64 elements, got {got}", round=round_)
    return array.reshape(-1)
