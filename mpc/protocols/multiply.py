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
from mpc.protocols.linear import adds_public_values, public_share
from mpc.protocols.reveal import open_to_all
from mpc.sharing import shamir


@dataclass(frozen=True, slots=True)
class ResharePads:
    """The data-independent half of one resharing, computable before the inputs exist.

    A resharer's polynomial is g(x) = v·L_0(x) + Σ_j s_j·L_j(x) over the points {0} ∪ seeded,
    with v = λ·z its weighted product share and s_j the seeded parts. `pads[r]` is
    Σ_j s_j·L_j(point(r)) for each receiver r it computes a part for (itself included), and
    `scales[r]` = λ·L_0(point(r)); `incoming` is the sum of the seeded parts this party receives.
    Online, a part is then one scalar product and one addition: z·scales[r] + pads[r].
    """

    pads: dict[int, np.ndarray]
    scales: dict[int, int]
    incoming: np.ndarray


@dataclass(frozen=True, slots=True)
class ReshareItem:
    """A local degree-2t product share to reduce; `label` (the node) picks resharers and seeds."""

    value: np.ndarray
    label: int | str
    pads: ResharePads | None = None


def _label_number(label: int | str) -> int:
    return label if isinstance(label, int) else sum(label.encode())


def reshare_pads(ctx: Context, label: int | str, size: int) -> ResharePads:
    """This party's pads for resharing a product of `size` elements labelled `label`."""
    suite, field, me = ctx.suite, ctx.domain, ctx.party
    resharers = suite.resharers(_label_number(label))
    pads: dict[int, np.ndarray] = {}
    scales: dict[int, int] = {}
    incoming = field.zeros(size)
    if me in resharers:
        weight = lagrange(tuple(suite.point(i) for i in resharers), 0, field.modulus)[
            resharers.index(me)
        ]
        seeded = suite.reshare_seeded(me)
        parts = [field.random(ctx.pair_stream(j, "reshare", label), size) for j in seeded]
        points = (0, *(suite.point(j) for j in seeded))
        for receiver in (me, *suite.reshare_sent(me)):
            basis = lagrange(points, suite.point(receiver), field.modulus)
            scales[receiver] = basis[0] * weight % field.modulus
            pads[receiver] = shamir.combine(parts, basis[1:], field) if parts else field.zeros(size)
    for resharer in resharers:
        if resharer != me and me in suite.reshare_seeded(resharer):
            stream = ctx.pair_stream(resharer, "reshare", label)
            incoming = field.add(incoming, field.random(stream, size))
    return ResharePads(pads, scales, incoming)


def reshare(ctx: Context, items: list[ReshareItem]) -> ProtocolRun:
    """Degree-t shares of the degree-2t values `items`: one round (GRR, seed-compressed)."""
    suite, field, me = ctx.suite, ctx.domain, ctx.party
    outgoing: dict[int, list[np.ndarray]] = {}
    expected: dict[int, list[int]] = {}  # resharer -> items it sends me explicitly
    results: list[np.ndarray] = []
    for index, item in enumerate(items):
        shape = item.value.shape
        size = int(np.prod(shape, dtype=np.int64))
        pads = item.pads or reshare_pads(ctx, item.label, size)
        z = item.value.reshape(-1)
        share = pads.incoming
        for receiver, scale in pads.scales.items():
            part = field.mul_scalar_add(z, scale, pads.pads[receiver])
            if receiver == me:
                share = field.add(share, part)
            else:
                outgoing.setdefault(receiver, []).append(part)
        for resharer in suite.resharers(_label_number(item.label)):
            if resharer != me and me not in suite.reshare_seeded(resharer):
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
        # z = c + d·b + a·e + d·e (the last term once, as a public value's share), computed
        # as c + d·(b + e) + a·e at the party that holds public values, c + d·b + a·e elsewhere
        b_plus = domain.add(b, e) if adds_public_values(ctx) else b
        results.append(domain.add(c, domain.add(product(d, b_plus), product(a, e))))
    return results
