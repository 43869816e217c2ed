"""Preprocessing made by the parties themselves, with an honest majority (no dealer).

The t + 1 contributors (parties 0..t) each secret-share (Shamir, seed-compressed) random values;
at least one of them is honest, so sums and XORs of the contributions are uniform and unknown
to any t parties:
- triples (additive suite): a = Σ a_c, b = Σ b_c, and c = a·b (or a², or A@B) by one
  resharing round (`mpc.protocols.multiply.reshare`);
- truncation masks (both suites): m random bits b_j = ⊕_c b_{c,j} (x ⊕ y = x + y − 2xy, one
  resharing round per level of a tree over the contributors), r' = Σ_j 2^j b_j, and
  r'' = Σ_c r''_c with r''_c uniform in [0, 2^(l+κ−m)) (so r'' < (t + 1)·2^(l+κ−m), which the
  compiler allows for when it sizes the field).
For the additive suite the Shamir shares are then converted locally into additive shares:
party i of the contributors T takes λ_i·s_i (Lagrange at 0 over T), the others take 0.

Threat model: semi-honest, t < n/2. With the additive suite this is weaker than the suite alone
(n − 1): the README's threat-model table says so. Rounds: 1 + max(1 if triples, ⌈log2(t+1)⌉ if
truncations).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from mpc.field import Domain, lagrange
from mpc.preprocessing.store import Store, components
from mpc.protocols.context import Context, Run
from mpc.protocols.inputs import InputItem, shamir_share
from mpc.protocols.multiply import ReshareItem, reshare
from mpc.suite import KAPPA, Need, Suite


def offline_rounds(suite: Suite, needs: Sequence[Need]) -> int:
    """Communication rounds `generate` takes for these needs."""
    if not needs:
        return 0
    contributors = (suite.n_parties - 1) // 2 + 1
    products = 1 if any(need.kind != "trunc" for need in needs) else 0
    levels = math.ceil(math.log2(contributors)) if any(n.kind == "trunc" for n in needs) else 0
    return 1 + max(products, levels)


def generate(ctx: Context, needs: Sequence[Need]) -> Run[Store]:
    """Every party's shares of the material for `needs` (a `Store` in the protocol's result)."""
    n = ctx.suite.n_parties
    shamir = dataclasses.replace(ctx, suite=Suite("shamir", n, (n - 1) // 2))
    field, me = ctx.domain, ctx.party
    contributors = range(shamir.suite.threshold + 1)

    # Round 1: every contributor shares its random contributions.
    items: list[InputItem] = []
    for need in needs:
        for owner in contributors:
            for name, shape in _contributed(need):
                values = _contribution(ctx, need, name, shape) if owner == me else None
                items.append(InputItem(owner, f"pre:{need.node}:{name}:{owner}", shape, values))
    shared = iter((yield from shamir_share(shamir, items)))
    contributions: dict[tuple[int, str], list[np.ndarray]] = {}
    for need in needs:
        for _owner in contributors:
            for name, _shape in _contributed(need):
                share = next(shared)
                assert share is not None
                contributions.setdefault((need.node, name), []).append(share)

    # Products (triples) and XOR trees (truncation bits), a level per round.
    material: dict[int, dict[str, np.ndarray]] = {}
    bits: dict[int, list[np.ndarray]] = {}
    first: list[tuple[Need, ReshareItem]] = []
    for need in needs:
        parts = {
            name: _sum(field, arrays)
            for (node, name), arrays in contributions.items()
            if node == need.node
        }
        if need.kind == "trunc":
            bits[need.node] = contributions[(need.node, "bits")]
            material[need.node] = {"high": parts["high"]}
            continue
        a = parts["a"]
        local = (
            field.mul(a, a)
            if need.kind == "square"
            else (
                field.matmul(a, parts["b"]) if need.kind == "matrix" else field.mul(a, parts["b"])
            )
        )
        material[need.node] = parts
        first.append((need, ReshareItem(local, f"pre:{need.node}:c")))
    level = 0
    while first or any(len(v) > 1 for v in bits.values()):
        pairs: list[tuple[int, np.ndarray, np.ndarray]] = []
        round_items = [item for _, item in first]
        for node, arrays in bits.items():
            while len(arrays) > 1:
                x, y = arrays.pop(), arrays.pop()
                pairs.append((node, x, y))
                round_items.append(
                    ReshareItem(field.mul(x, y), f"pre:{node}:xor:{level}:{len(pairs)}")
                )
        products = iter((yield from reshare(shamir, round_items)))
        for need, _ in first:
            material[need.node]["c"] = _present(next(products))
        for node, x, y in pairs:  # x ⊕ y = x + y − 2xy
            xy = _present(next(products))
            bits[node].insert(0, field.sub(field.add(x, y), field.mul_scalar(xy, 2)))
        first = []
        level += 1

    store = Store()
    weight = _additive_weight(ctx, contributors)
    for need in needs:
        if need.kind == "trunc":
            (combined,) = bits[need.node]
            low = field.zeros(need.shapes[0])
            for j in range(need.bits):
                low = field.add(low, field.mul_scalar(combined[j], 1 << j))
            high = material[need.node]["high"]
            material[need.node] = {
                "low": low,
                "mask": field.add(field.mul_scalar(high, 1 << need.bits), low),
            }
        shares = tuple(material[need.node][name] for name, _ in components(need))
        if weight is not None:  # additive suite: Shamir shares → additive shares
            shares = tuple(field.mul_scalar(share, weight) for share in shares)
        store.put(need, shares)
    return store


def _contributed(need: Need) -> list[tuple[str, tuple[int, ...]]]:
    """What each contributor shares for a need."""
    if need.kind == "trunc":
        shape = need.shapes[0]
        return [("bits", (need.bits, *shape)), ("high", shape)]
    return [(name, shape) for name, shape in components(need) if name != "c"]


def _contribution(ctx: Context, need: Need, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """This contributor's own random contribution (from its CSPRNG)."""
    field = ctx.domain
    if name == "bits":
        return field.encode(ctx.rng.bits(shape).astype(np.int64))
    if name == "high":
        return field.random_bits(ctx.rng, shape, need.width + KAPPA - need.bits)
    return field.random(ctx.rng, shape)


def _sum(field: Domain, arrays: list[np.ndarray]) -> np.ndarray:
    total = arrays[0]
    for array in arrays[1:]:
        total = field.add(total, array)
    return total


def _present(value: np.ndarray | None) -> np.ndarray:
    if value is None:
        raise AssertionError("every party receives every resharing")
    return value


def _additive_weight(ctx: Context, contributors: range) -> int | None:
    """For the additive suite: this party's Lagrange weight (0 outside the contributors)."""
    if ctx.suite.protocol != "additive":
        return None
    if ctx.party not in contributors:
        return 0
    points = tuple(p + 1 for p in contributors)
    return lagrange(points, 0, ctx.domain.modulus)[list(contributors).index(ctx.party)]
