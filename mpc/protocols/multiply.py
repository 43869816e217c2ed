"""Products of shared values: x·y, x², x@y, all of one depth in one round.

Shamir (degree reduction by resharing, GRR). The local products of degree-t shares form a
degree-2t sharing of the product z. Each of the 2t + 1 resharers R reshares its Lagrange-weighted
share λ_i·z_i (λ at 0 over R's points) with a fresh degree-t polynomial g_i; every party's new
share is Σ_i g_i(its point). As for inputs, t of the n − 1 parts come from pair-key seeds, so a
resharer sends only n − 1 − t elements per product element. A dot product or matrix product is
computed locally and only its result is reshared.
Threat model: semi-honest, t < n/2. Reference: R. Gennaro, M. Rabin, T. Rabin, "Simplified VSS
and fast-track multiparty computations", PODC 1998.

Additive (Beaver). With a triple (a, b, c = a·b): open d = x − a and e = y − b to everyone;
then z = c + d·b + a·e + d·e (the public d·e added by party 0). A square needs one opening with
(a, a²): x² = a² + 2·d·a + d². A matrix product uses a matrix triple (A, B, C = A@B), opening
D = X − A and E = Y − B: communication in the size of the operands, not of the k products.
Threat model: semi-honest; d and e are uniform (a, b are), so any n − 1 parties learn nothing
beyond what the triple provider lets them. Reference: D. Beaver, "Efficient multiparty protocols
using circuit randomization", CRYPTO '91.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.field import lagrange
from mpc.protocols.context import Context, Exchange, ProtocolRun, flat, received_array, split
from mpc.protocols.linear import public_share
from mpc.protocols.reveal import open_to_all
from mpc.sharing import shamir


@dataclass(frozen=True, slots=True)
class ReshareItem:
    """A local degree-2t product share to reduce; `label` (the node) picks resharers and seeds."""

    value: np.ndarray
    label: int | str


def _label_number(label: int | str) -> int:
    return label if isinstance(label, int) else sum(label.encode())


def reshare(ctx: Context, items: list[ReshareItem]) -> ProtocolRun:
    """Degree-t shares of the degree-2t values `items`: one round (GRR, seed-compressed)."""
    suite, field, me = ctx.suite, ctx.domain, ctx.party
    outgoing: dict[int, list[np.ndarray]] = {}
    expected: dict[int, list[int]] = {}  # resharer -> items it sends me explicitly
    results: list[np.ndarray] = []
    for index, item in enumerate(items):
        shape = item.value.shape
        size = int(np.prod(shape, dtype=np.int64))
        resharers = suite.resharers(_label_number(item.label))
        weights = lagrange(tuple(suite.point(i) for i in resharers), 0, field.modulus)
        share = field.zeros(size)
        for resharer, weight in zip(resharers, weights, strict=True):
            if resharer == me:
                seeded = suite.reshare_seeded(me)
                known = [field.mul_scalar(item.value.reshape(-1), weight)]
                known += [
                    field.random(ctx.pair_stream(j, "reshare", item.label), size) for j in seeded
                ]
                points = [0, *(suite.point(j) for j in seeded)]
                for receiver in suite.reshare_sent(me):
                    part = shamir.interpolate(known, points, suite.point(receiver), field)
                    outgoing.setdefault(receiver, []).append(part)
                share = field.add(share, shamir.interpolate(known, points, suite.point(me), field))
            elif me in suite.reshare_seeded(resharer):
                stream = ctx.pair_stream(resharer, "reshare", item.label)
                share = field.add(share, field.random(stream, size))
            else:
                expected.setdefault(resharer, []).append(index)
        results.append(share.reshape(shape))
    send = {peer: [flat(parts, field)] for peer, parts in outgoing.items()}
    received = yield Exchange(send, frozenset(expected))
    for resharer, indices in expected.items():
        shapes = [items[i].value.shape for i in indices]
        total = sum(int(np.prod(s, dtype=np.int64)) for s in shapes)
        parts = split(received_array(received[resharer], resharer, 0, total, field), shapes)
        for i, part in zip(indices, parts, strict=True):
            results[i] = field.add(results[i], part)
    return list(results)


@dataclass(frozen=True, slots=True)
class BeaverItem:
    """One additive product: `kind` is mul, square or matmul; `material` the triple's shares."""

    kind: str
    x: np.ndarray
    y: np.ndarray | None
    material: tuple[np.ndarray, ...]


def beaver(ctx: Context, items: list[BeaverItem]) -> ProtocolRun:
    """Additive shares of every product: one round of openings."""
    domain = ctx.domain
    masked: list[np.ndarray] = []
    for item in items:
        a = item.material[0]
        masked.append(domain.sub(item.x, a))
        if item.kind != "square":
            assert item.y is not None
            masked.append(domain.sub(item.y, item.material[1]))
    opened = iter((yield from open_to_all(ctx, masked)))
    results: list[np.ndarray | None] = []
    for item in items:
        d = next(opened)
        assert d is not None
        if item.kind == "square":
            a, c = item.material
            z = domain.add(c, domain.mul_scalar(domain.mul(d, a), 2))
            results.append(domain.add(z, public_share(ctx, domain.mul(d, d))))
            continue
        e = next(opened)
        assert e is not None
        a, b, c = item.material
        product = domain.matmul if item.kind == "matmul" else domain.mul
        z = domain.add(c, domain.add(product(d, b), product(a, e)))
        results.append(domain.add(z, public_share(ctx, product(d, e))))
    return results
