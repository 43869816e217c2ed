"""A trusted dealer's material, seed-compressed: only corrections travel.

Each party i shares a 32-byte key k_i with the dealer (ECDH of their certificate keys, per
session, like the parties' pair keys). Party i derives every component share as
G(k_i, "dealer", node, component); the dealer derives them all as well, computes the relation,
and sends the last party one correction per computed component:
    c_{n−1} = a·b − Σ_{i<n−1} c_i   (triples; squares and matrix triples alike),
    low_{n−1}, mask_{n−1}            (truncation masks, r' and r'' chosen by the dealer),
    c_{n−1} = (⊕a_i ∧ ⊕b_i) ⊕ ⊕_{i<n−1} c_i,  value_{n−1} = ρ − Σ_{i<n−1} value_i
                                     (`bitcompare`: word triples, XOR-shared, and daBits with
                                      ρ = bit 0 of ⊕ bit_i).
Everything else is derived locally: the other n − 1 parties receive nothing at all. The last
party may take its corrections late (`awaiting_store`, then `fill`): a Beaver product reads c
only after its opening, so the dealer computes while the parties open d and e.

Threat model: a trusted third party. The dealer learns every party's material (never the
parties' inputs or outputs) and must not collude with any party; the parties are semi-honest.
This is the model of CrypTen's trusted-first-party provider and SPU's default, except that here
the dealer is a separate, named process that the config must declare
(`deployment.preprocessing = "dealer"`); it is never chosen silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mpc.errors import PreprocessingError
from mpc.field import Domain
from mpc.preprocessing.store import Store, components
from mpc.rng import Csprng
from mpc.suite import KAPPA, Need

CORRECTED = {
    "triple": ("c",),
    "square": ("c",),
    "matrix": ("c",),
    "trunc": ("low", "mask"),
    "bitcompare": ("c", "value"),
}
LATE_KINDS = ("triple", "square", "matrix")  # corrected in c alone, which Beaver reads last
Corrections = dict[int, dict[str, np.ndarray]]


def seeded_share(
    domain: Domain, key: bytes, session: bytes, need: Need, component: str, shape: tuple[int, ...]
) -> np.ndarray:
    """Party i's share of one component, from its key with the dealer."""
    return domain.random(Csprng.derive(key, session, "dealer", need.node, component), shape)


def party_store(
    domain: Domain,
    party: int,
    n_parties: int,
    key: bytes,
    session: bytes,
    needs: Sequence[Need],
    corrections: Corrections | None,
) -> Store:
    """The material of `party`: derived from its dealer key, plus corrections for the last party."""
    store, blanks = _store(domain, party, n_parties, key, session, needs)
    if blanks:
        fill(domain, blanks, corrections or {})
    return store


def awaiting_store(
    domain: Domain, n_parties: int, key: bytes, session: bytes, needs: Sequence[Need]
) -> tuple[Store, Corrections]:
    """The last party's material before the dealer has answered: the seeded components now,
    and every corrected one as a blank array that `fill` later writes the correction into.
    Only for material whose corrected components nobody reads before `fill` (the engine
    checks: `LATE_KINDS` consumed by Beaver products, which read c after their opening)."""
    return _store(domain, n_parties - 1, n_parties, key, session, needs)


def fill(domain: Domain, blanks: Corrections, corrections: Corrections) -> None:
    """Write the dealer's corrections into the blanks of `awaiting_store`, checking each."""
    for node, parts in blanks.items():
        for name, blank in parts.items():
            correction = corrections.get(node, {}).get(name)
            if (
                not isinstance(correction, np.ndarray)
                or correction.dtype != domain.dtype
                or correction.shape != blank.shape
            ):
                raise PreprocessingError(
                    f"the dealer sent no valid {name} correction for node {node}"
                )
            blank[...] = correction


def _store(
    domain: Domain, party: int, n_parties: int, key: bytes, session: bytes, needs: Sequence[Need]
) -> tuple[Store, Corrections]:
    """A party's store with its seeded components, and blanks where the last party's corrected
    components go."""
    store = Store()
    blanks: Corrections = {}
    for need in needs:
        arrays = []
        for name, shape in components(need):
            if party == n_parties - 1 and name in CORRECTED[need.kind]:
                blank = np.empty(shape, dtype=domain.dtype)
                blanks.setdefault(need.node, {})[name] = blank
                arrays.append(blank)
            else:
                arrays.append(seeded_share(domain, key, session, need, name, shape))
        store.put(need, tuple(arrays))
    return store, blanks


def deal(
    domain: Domain,
    needs: Sequence[Need],
    keys: Mapping[int, bytes],
    session: bytes,
    rng: Csprng,
) -> Corrections:
    """The corrections the last party needs, for parties whose dealer keys are `keys`."""
    last = max(keys)

    def shares(need: Need, name: str, shape: tuple[int, ...], upto: int) -> np.ndarray:
        total = seeded_share(domain, keys[0], session, need, name, shape)  # upto ≥ 1: n ≥ 2
        for party in range(1, upto):
            total = domain.add(total, seeded_share(domain, keys[party], session, need, name, shape))
        return total

    def xored(need: Need, name: str, shape: tuple[int, ...], upto: int) -> np.ndarray:
        total = np.zeros(shape, dtype=np.uint64)
        for party in range(upto):
            total ^= seeded_share(domain, keys[party], session, need, name, shape)
        return total

    corrections: Corrections = {}
    for need in needs:
        parts = dict(components(need))
        if need.kind == "bitcompare":
            words, count = parts["a"], parts["value"]
            c = xored(need, "a", words, last + 1) & xored(need, "b", words, last + 1)
            rho = xored(need, "bit", count, last + 1) & np.uint64(1)
            corrections[need.node] = {
                "c": c ^ xored(need, "c", words, last),
                "value": domain.sub(rho, shares(need, "value", count, last)),
            }
            continue
        if need.kind == "trunc":
            shape = parts["low"]
            low = domain.random_bits(rng, shape, need.bits)
            high = domain.random_bits(rng, shape, need.width + KAPPA - need.bits)
            mask = domain.add(domain.mul_scalar(high, 1 << need.bits), low)
            values = {"low": low, "mask": mask}
        else:
            a = shares(need, "a", parts["a"], last + 1)
            if need.kind == "square":
                c = domain.mul(a, a)
            else:
                b = shares(need, "b", parts["b"], last + 1)
                c = domain.matmul(a, b) if need.kind == "matrix" else domain.mul(a, b)
            values = {"c": c}
        corrections[need.node] = {
            name: domain.sub(value, shares(need, name, parts[name], last))
            for name, value in values.items()
        }
    return corrections
