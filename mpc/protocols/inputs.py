"""Secret-sharing each party's inputs, seed-compressed with the pairwise keys.

Additive (no communication): party j ≠ owner takes r_j = G(k_{owner,j}, label); the owner takes
x − Σ_j r_j. Any n − 1 shares are uniform (G is a PRG keyed by a secret pair key).

Shamir (one message): the t parties after the owner take s_j = G(k_{owner,j}, label) as their
shares, fixing t points of a degree-t polynomial f with f(0) = x; the owner computes the other
n − t shares by interpolation and sends them. f is uniform among polynomials with f(0) = x
because the seeded points are. The owner sends n − 1 − t shares instead of n − 1.

Threat model: semi-honest; additive tolerates n − 1 colluding parties, Shamir t < n/2. Reveals
nothing but the (public) shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.protocols.context import Context, Exchange, ProtocolRun, flat, received_array, split
from mpc.sharing import shamir


@dataclass(frozen=True, slots=True)
class InputItem:
    """One input to share: its owner, a label unique in the job, its shape, and (at the owner)
    its values already encoded in the domain."""

    owner: int
    label: int | str
    shape: tuple[int, ...]
    values: np.ndarray | None


def additive_share(ctx: Context, item: InputItem) -> np.ndarray:
    """This party's additive share of `item`: no communication."""
    domain = ctx.domain
    if ctx.party != item.owner:
        return domain.random(ctx.pair_stream(item.owner, "input", item.label), item.shape)
    if item.values is None:
        raise ValueError("the owner must provide the values of its input")
    share = item.values
    for peer in ctx.suite.seeded_input_parties(item.owner):
        share = domain.sub(
            share, domain.random(ctx.pair_stream(peer, "input", item.label), item.shape)
        )
    return share


def shamir_share(ctx: Context, items: list[InputItem]) -> ProtocolRun:
    """Shamir shares of every item, all owners at once: one round, one array per peer."""
    suite, field = ctx.suite, ctx.domain
    me = ctx.party
    shares: list[np.ndarray | None] = [None] * len(items)
    outgoing: dict[int, list[np.ndarray]] = {}
    incoming: dict[int, list[int]] = {}  # owner -> indices of items it sends me
    for index, item in enumerate(items):
        seeded = suite.seeded_input_parties(item.owner)
        size = int(np.prod(item.shape, dtype=np.int64))
        if me == item.owner:
            if item.values is None:
                raise ValueError("the owner must provide the values of its input")
            known = [item.values.reshape(-1)]
            points = [0]
            for peer in seeded:
                known.append(field.random(ctx.pair_stream(peer, "input", item.label), size))
                points.append(suite.point(peer))
            for peer in suite.sent_input_parties(me):
                value = shamir.interpolate(known, points, suite.point(peer), field)
                outgoing.setdefault(peer, []).append(value)
            shares[index] = shamir.interpolate(known, points, suite.point(me), field).reshape(
                item.shape
            )
        elif me in seeded:
            stream = ctx.pair_stream(item.owner, "input", item.label)
            shares[index] = field.random(stream, size).reshape(item.shape)
        else:
            incoming.setdefault(item.owner, []).append(index)
    send = {peer: [flat(arrays, field)] for peer, arrays in outgoing.items()}
    received = yield Exchange(send, frozenset(incoming))
    for owner, indices in incoming.items():
        shapes = [items[i].shape for i in indices]
        total = sum(int(np.prod(s, dtype=np.int64)) for s in shapes)
        pieces = split(received_array(received[owner], owner, 0, total, field), shapes)
        for i, piece in zip(indices, pieces, strict=True):
            shares[i] = piece
    return list(shares)
