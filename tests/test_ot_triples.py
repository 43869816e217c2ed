"""OT-based two-party preprocessing (Gilboa over IKNP): relations, fresh and uniform shares, rounds,
exact traffic, and malformed peer messages."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.errors import LocalProtocolError, RemoteProtocolError
from mpc.field import F61, F127, RING64, Domain
from mpc.preprocessing import ot_triples
from mpc.preprocessing.store import Store, components
from mpc.protocols.context import Context, Exchange, Payload, Run
from mpc.rng import Csprng
from mpc.suite import KAPPA, Need, Suite
from mpc.testing import random_pair_keys, run_protocols

DOMAINS: dict[str, Domain] = {"Z64": RING64, "F61": F61, "F127": F127}
SUITE = Suite.of("additive", 2)
SESSION = b"job-ot-triples"


def contexts(domain: Domain, suite: Suite = SUITE) -> list[Context]:
    keys = random_pair_keys(suite.n_parties)
    return [
        Context(p, suite, domain, SESSION, Csprng(), keys[p], {}) for p in range(suite.n_parties)
    ]


Observer = Callable[[int, int, Exchange], Exchange]


def observed(run: Run[Store], party: int, log: list[Exchange], change: Observer | None) -> Run[Any]:
    """`run`, with every Exchange it yields recorded (and optionally replaced)."""
    step = 0
    try:
        exchange = next(run)
        while True:
            step += 1
            if change is not None:
                exchange = change(party, step, exchange)
            log.append(exchange)
            received: Mapping[int, Payload] = yield exchange
            exchange = run.send(received)
    except StopIteration as stop:
        return stop.value


def generate(
    domain: Domain, needs: Sequence[Need], change: Observer | None = None
) -> tuple[list[Store], list[list[Exchange]]]:
    """Both parties' stores and the Exchanges each yielded."""
    ctxs = contexts(domain)
    logs: list[list[Exchange]] = [[], []]
    runs = {p: observed(ot_triples.generate(ctxs[p], needs), p, logs[p], change) for p in (0, 1)}
    results = run_protocols(runs)
    return [results[0], results[1]], logs


def reconstruct(domain: Domain, stores: list[Store], need: Need) -> list[np.ndarray]:
    s0 = stores[0].take(need.node, need.kind)
    s1 = stores[1].take(need.node, need.kind)
    return [domain.add(x, y) for x, y in zip(s0, s1, strict=True)]


def as_ints(domain: Domain, elements: np.ndarray) -> list[int]:
    """Canonical residues as Python ints."""
    e = domain.dtype.itemsize // 8
    words = np.ascontiguousarray(elements).reshape(-1).view(np.uint64).reshape(-1, e)
    return [sum(int(w) << (64 * i) for i, w in enumerate(row)) for row in words]


# --- strategies ----------------------------------------------------------------------------------

small_shape = st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple)


@st.composite
def need_lists(draw: st.DrawFn, domain_name: str) -> list[Need]:
    needs: list[Need] = []
    for node in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["triple", "square", "matrix", "trunc"]))
        if kind == "matrix":
            m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
            a = (k,) if draw(st.booleans()) else (m, k)
            b = (k,) if draw(st.booleans()) else (k, n)
            needs.append(Need(node, kind, (a, b)))
        elif kind == "trunc":
            bits = draw(st.integers(1, 8))
            # F61 must hold 2^l + 2·2^(l+κ) (the compiler's contributors = 2 sizing); Z64 draws
            # r'' of at most 64 bits
            width = draw(st.integers(bits + 1, 40 if domain_name == "F127" else 18))
            needs.append(Need(node, kind, (draw(small_shape),), bits, width))
        else:
            needs.append(Need(node, kind, (draw(small_shape),)))
    return needs


@st.composite
def cases(draw: st.DrawFn) -> tuple[Domain, list[Need]]:
    name = draw(st.sampled_from(sorted(DOMAINS)))
    return DOMAINS[name], draw(need_lists(name))


def check_truncation(domain: Domain, need: Need, low: np.ndarray, mask: np.ndarray) -> None:
    m, width = need.bits, need.width
    for r_low, r in zip(as_ints(domain, low), as_ints(domain, mask), strict=True):
        assert 0 <= r_low < 2**m
        high, rest = divmod(r - r_low, 2**m)
        assert rest == 0
        assert 0 <= high < 2 ** (width + KAPPA - m + 1)


# --- relations -----------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(case=cases())
def test_generate_material_satisfies_relations(case: tuple[Domain, list[Need]]) -> None:
    domain, needs = case
    stores, logs = generate(domain, needs)
    rounds = ot_triples.offline_rounds(SUITE, needs)
    assert [len(log) for log in logs] == [rounds, rounds]
    for need in needs:
        parts = reconstruct(domain, stores, need)
        for part, (_, shape) in zip(parts, components(need), strict=True):
            assert part.shape == shape
            assert part.dtype == domain.dtype
        if need.kind == "triple":
            a, b, c = parts
            assert np.array_equal(c, domain.mul(a, b))
        elif need.kind == "square":
            a, c = parts
            assert np.array_equal(c, domain.mul(a, a))
        elif need.kind == "matrix":
            a, b, c = parts
            assert np.array_equal(c, domain.matmul(a, b))
        else:
            check_truncation(domain, need, *parts)
    assert all(not store.material for store in stores)  # nothing extra was stored


@pytest.mark.parametrize("name", ["Z64", "F61", "F127"])
def test_generate_truncation_masks_in_range(name: str) -> None:
    domain = DOMAINS[name]
    width = 48 if name == "F127" else 18
    need = Need(7, "trunc", ((1500,),), 12, width)
    stores, _ = generate(domain, [need])
    low, mask = reconstruct(domain, stores, need)
    check_truncation(domain, need, low, mask)
    lows, masks = as_ints(domain, low), as_ints(domain, mask)
    highs = [(r - r_low) >> 12 for r_low, r in zip(lows, masks, strict=True)]
    # r' covers [0, 2^m) (every bit set somewhere); r'' is the sum of two parties' draws
    assert functools.reduce(operator.or_, lows) == 2**12 - 1
    assert max(highs) >= 2 ** (width + KAPPA - 12)


def test_generate_matrix_of_both_orientations() -> None:
    tall = Need(1, "matrix", ((5, 3), (3, 2)))  # n ≤ m: OTs on the bits of B
    wide = Need(2, "matrix", ((2, 3), (3, 5)))  # n > m: OTs on the bits of A
    for domain in (RING64, F127):
        stores, _ = generate(domain, [tall, wide])
        for need in (tall, wide):
            a, b, c = reconstruct(domain, stores, need)
            assert np.array_equal(c, domain.matmul(a, b))
    assert ot_triples.cost(RING64, [tall]).ots == (64 * 3 * 2, 64 * 3 * 2)
    assert ot_triples.cost(RING64, [wide]).ots == (64 * 2 * 3, 64 * 2 * 3)


# --- fresh and uniform ---------------------------------------------------------------------------


def test_generate_material_differs_between_runs() -> None:
    needs = [Need(1, "triple", ((64,),)), Need(2, "trunc", ((64,),), 8, 30)]
    first, _ = generate(F127, needs)
    second, _ = generate(F127, needs)
    for party in (0, 1):
        for need in needs:
            one = first[party].take(need.node, need.kind)
            two = second[party].take(need.node, need.kind)
            for x, y in zip(one, two, strict=True):
                assert not np.array_equal(x, y)


@pytest.mark.parametrize("name", ["Z64", "F61", "F127"])
def test_generate_each_share_looks_uniform(name: str) -> None:
    domain = DOMAINS[name]
    count = 4096
    triple = Need(1, "triple", ((count,),))
    square = Need(2, "square", ((count,),))
    trunc = Need(3, "trunc", ((count,),), 8, 16)
    stores, _ = generate(domain, [triple, square, trunc])
    tolerance = 6 * np.sqrt(0.25 / count)  # 6σ: about 2·10^-9 per check
    for party in (0, 1):
        shares = [
            *stores[party].take(1, "triple"),
            *stores[party].take(2, "square"),
            *stores[party].take(3, "trunc"),
        ]
        for share in shares:
            words = np.ascontiguousarray(share).reshape(-1).view(np.uint64)
            low = words[:: domain.dtype.itemsize // 8]  # the low word of every element
            for bit in range(8):
                frequency = float(np.mean((low >> np.uint64(bit)) & np.uint64(1)))
                assert abs(frequency - 0.5) < tolerance, (party, bit, frequency)


# --- rounds, traffic -----------------------------------------------------------------------------


def test_generate_yields_offline_rounds() -> None:
    needs = [
        Need(1, "triple", ((3,),)),
        Need(2, "square", ((),)),  # one element: one direction has no OTs for it
        Need(3, "matrix", ((2, 2), (2, 3))),
        Need(4, "trunc", ((2,),), 4, 10),
    ]
    _, logs = generate(F61, needs)
    rounds = ot_triples.offline_rounds(SUITE, needs)
    assert rounds == 4
    assert [len(log) for log in logs] == [rounds, rounds]
    for log in logs:  # every round sends the peer something and waits for the peer
        assert all(set(e.send) == set(e.expect) and len(e.expect) == 1 for e in log)


def test_generate_without_needs_yields_nothing() -> None:
    stores, logs = generate(RING64, [])
    assert logs == [[], []]
    assert ot_triples.offline_rounds(SUITE, []) == 0
    assert not stores[0].material
    assert not stores[1].material


def payload_bytes(log: list[Exchange]) -> int:
    return sum(
        int(a.nbytes) for exchange in log for arrays in exchange.send.values() for a in arrays
    )


@pytest.mark.parametrize("name", ["Z64", "F61", "F127"])
def test_cost_matches_measured_traffic(name: str) -> None:
    domain = DOMAINS[name]
    needs = [
        Need(1, "triple", ((100,),)),
        Need(2, "square", ((3, 3),)),
        Need(3, "matrix", ((4, 3), (3, 2))),
        Need(4, "trunc", ((10,),), 8, 18),
    ]
    _, logs = generate(domain, needs)
    predicted = ot_triples.cost(domain, needs)
    assert predicted.bytes_sent == (payload_bytes(logs[0]), payload_bytes(logs[1]))


def test_cost_per_ring_triple_is_2576_bytes() -> None:
    setup = ot_triples.cost(RING64, [Need(1, "triple", ((1,),))]).total_bytes - 2 * (
        64 * 16 + 33 * 8
    )
    per = (ot_triples.cost(RING64, [Need(1, "triple", ((1000,),))]).total_bytes - setup) / 1000
    assert per == 2 * (64 * 16 + 33 * 8) == 2576  # u: κ bits per OT; y: 64 − k bits for bit k
    assert ot_triples.cost(F127, [Need(1, "triple", ((1,),))]).ots == (127, 127)


# --- misuse and malformed peers ------------------------------------------------------------------


def test_generate_refuses_other_suites() -> None:
    need = [Need(1, "triple", ((2,),))]
    for suite in (Suite.of("additive", 3), Suite.of("shamir", 3)):
        ctx = contexts(F61, suite)[0]
        with pytest.raises(LocalProtocolError, match="2 parties"):
            next(ot_triples.generate(ctx, need))


def replace(index: int, value: Callable[[np.ndarray], Any]) -> Callable[[Payload], Payload]:
    def edit(payload: Payload) -> Payload:
        changed = list(payload)
        changed[index] = value(changed[index])
        return changed

    return edit


MALFORMED: dict[str, tuple[int, Callable[[Payload], Payload]]] = {
    "base key dtype": (1, replace(0, lambda a: a.view(np.uint64))),
    "hash key missing": (1, lambda payload: payload[:1]),
    "base key small order": (1, replace(0, np.zeros_like)),
    "public keys shape": (2, replace(0, lambda a: a[:-1])),
    "public keys not arrays": (2, lambda payload: [b"\x00" * 8192]),  # type: ignore[list-item]
    "u shape": (3, replace(0, lambda a: a[:, :-1])),
    "corrections length": (4, replace(0, lambda a: a[:-1])),
    "corrections dtype": (4, replace(0, lambda a: a.view(np.int64))),
}


@pytest.mark.parametrize("what", sorted(MALFORMED))
def test_generate_malformed_peer_message_names_the_peer(what: str) -> None:
    at, edit = MALFORMED[what]

    def change(party: int, step: int, exchange: Exchange) -> Exchange:
        if party != 1 or step != at:
            return exchange
        return Exchange({0: edit(list(exchange.send[0]))}, exchange.expect)

    with pytest.raises(RemoteProtocolError, match=r"^party 1: ") as caught:
        generate(F61, [Need(1, "triple", ((5,),))], change)
    assert caught.value.peer == 1


@pytest.mark.parametrize("name", ["F61", "F127"])
def test_generate_rejects_corrections_outside_the_field(name: str) -> None:
    def change(party: int, step: int, exchange: Exchange) -> Exchange:
        if party != 1 or step != 4:
            return exchange
        y = exchange.send[0][0].copy()
        y[:] = np.uint64(2**64 - 1)  # ≥ p in every word
        return Exchange({0: [y]}, exchange.expect)

    with pytest.raises(RemoteProtocolError, match="not elements") as caught:
        generate(DOMAINS[name], [Need(1, "triple", ((3,),))], change)
    assert caught.value.peer == 1
