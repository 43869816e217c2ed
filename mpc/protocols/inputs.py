"""Secret-sharing each party's inputs, seed-compressed with the pairwise keys.

Additive (no communication): party j ≠ owner takes r_j = G(k_{owner,j}, label); the owner takes
x − Σ_j r_j. Any n − 1 shares are uniform (G is a PRG keyed by a secret pair key).

Shamir (one message): the t parties after the owner take s_j = G(k_{owner,j}, label) as their
shares, fixing t points of a degree-t polynomial f with f(0) = x; the owner computes the other
n − t shares by interpolation and sends them. f is uniform among polynomials with f(0) = x
because the seeded points are. The owner sends n − 1 − t shares instead of n − 1.
Everything but the owner's x·L_0 terms is data-independent (`InputPads`): the engine makes it
before the online phase, as it does for resharing (`mpc.protocols.multiply.ResharePads`).

Threat model: semi-honest; additive tolerates n − 1 colluding parties, Shamir t < n/2. Reveals
nothing but the (public) shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.field import lagrange
from mpc.protocols.context import Context, Exchange, ProtocolRun, flat, received_array, split
from mpc.sharing import shamir


@dataclass(frozen=True, slots=True)
class InputPads:
    """The data-independent half of sharing one Shamir input, computable before the values exist.

    f is fixed by f(0) = x and the seeded shares s_j, so f(point(r)) = x·L_0(point(r)) + Σ_j
    s_j·L_j(point(r)) (Lagrange over {0} ∪ seeded points). At the owner, `scales[r]` and `pads[r]`
    are those two terms' coefficients and sums for itself and every party it sends to; at a
    seeded party, `share` is its share. Online, the owner's part for r is one x·scale + pad.
    """

    scales: dict[int, int]
    pads: dict[int, np.ndarray]
    share: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class InputItem:
    """One input to share: its owner, a label unique in the job, its shape, (at the owner) its
    values already encoded in the domain, and optionally its precomputed `pads`."""

    owner: int
    label: int | str
    shape: tuple[int, ...]
    values: np.ndarray | None
    pads: InputPads | None = None


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


def shamir_input_pads(ctx: Context, owner: int, label: int | str, size: int) -> InputPads:
    """This party's `InputPads` for the Shamir input `label` of `owner` (`size` elements)."""
    suite, field, me = ctx.suite, ctx.domain, ctx.party
    seeded = suite.seeded_input_parties(owner)
    if me == owner:
        parts = [field.random(ctx.pair_stream(peer, "input", label), size) for peer in seeded]
        points = (0, *(suite.point(peer) for peer in seeded))
        scales: dict[int, int] = {}
        pads: dict[int, np.ndarray] = {}
        for receiver in (me, *suite.sent_input_parties(me)):
            basis = lagrange(points, suite.point(receiver), field.modulus)
            scales[receiver] = basis[0]
            pads[receiver] = shamir.combine(parts, basis[1:], field) if parts else field.zeros(size)
        return InputPads(scales, pads)
    if me in seeded:
        return InputPads({}, {}, field.random(ctx.pair_stream(owner, "input", label), size))
    return InputPads({}, {})


def shamir_share(ctx: Context, items: list[InputItem]) -> ProtocolRun:
    """Shamir shares of every item, all owners at once: one round, one array per peer."""
    field, me = ctx.domain, ctx.party
    shares: list[np.ndarray | None] = [None] * len(items)
    outgoing: dict[int, list[np.ndarray]] = {}
    incoming: dict[int, list[int]] = {}  # owner -> indices of items it sends me
    for index, item in enumerate(items):
        size = int(np.prod(item.shape, dtype=np.int64))
        pads = item.pads or shamir_input_pads(ctx, item.owner, item.label, size)
        if me == item.owner:
            if item.values is None:
                raise ValueError("the owner must provide the values of its input")
            x = item.values.reshape(-1)
            for receiver, scale in pads.scales.items():
                value = field.mul_scalar_add(x, scale, pads.pads[receiver])
                if receiver == me:
                    shares[index] = value.reshape(item.shape)
                else:
                    outgoing.setdefault(receiver, []).append(value)
        elif pads.share is not None:
            shares[index] = pads.share.reshape(item.shape)
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
