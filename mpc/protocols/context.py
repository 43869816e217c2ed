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
from typing import Any, TypeVar

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


T = TypeVar("T")
Run = Generator[Exchange, Mapping[int, Payload], T]  # a protocol that returns a T
ProtocolRun = Run[list[np.ndarray | None]]  # one result per item (None where not received)


@dataclass(frozen=True, slots=True)
class Context:
    """One party's view of a job: who it is, the suite and domain, its randomness and inputs."""

    party: int
    suite: Suite
    domain: Domain
    session: bytes
    rng: Csprng
    pair_keys: Mapping[int, bytes]
    inputs: Mapping[int, np.ndarray]  # by input node: its column, matrix or private bits
    sessions: dict[str, Any] = field(default_factory=dict)  # OT/garbling sessions of the job

    def pair_stream(self, peer: int, *label: LabelPart) -> Csprng:
        """The stream this party shares with `peer` for `label` (the peer derives the same)."""
        return Csprng.derive(self.pair_keys[peer], self.session, *label)


def received_array(
    payload: Payload, peer: int, index: int, size: int, domain: Domain
) -> np.ndarray:
    """The `index`-th array a peer sent, checked to be `size` elements of `domain`."""
    if not isinstance(payload, list) or index >= len(payload):
        raise RemoteProtocolError(peer, "expected array missing from the message")
    array = payload[index]
    if not isinstance(array, np.ndarray) or array.dtype != domain.dtype or array.size != size:
        got = (
            f"{array.dtype}[{array.size}]"
            if isinstance(array, np.ndarray)
            else type(array).__name__
        )
        raise RemoteProtocolError(peer, f"expected {size} {domain.dtype} elements, got {got}")
    return array.reshape(-1)


def flat(arrays: list[np.ndarray], domain: Domain) -> np.ndarray:
    """Arrays concatenated into one flat message (empty when there are none)."""
    if not arrays:
        return domain.zeros(0)
    if len(arrays) == 1:
        return arrays[0].reshape(-1)  # a view when it can be: no copy of a lone array
    return np.concatenate([a.reshape(-1) for a in arrays])


def split(flat_array: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """The inverse of `flat` for arrays of the given shapes."""
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    pieces = np.split(flat_array, np.cumsum(sizes)[:-1]) if sizes else []
    return [piece.reshape(shape) for piece, shape in zip(pieces, shapes, strict=True)]
