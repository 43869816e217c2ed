"""Comparisons on boolean shares with a dealer's word triples (mpc.protocols.bitcompare).

Outputs equal numpy's for every width and both tests, packed or not, in groups of several
nodes; what each party receives is uniform-looking; a malformed opening names the peer; the
dealer's material satisfies its relations; plans with a dealer choose this protocol.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc import dsl
from mpc.dsl import CompileSpec, compile
from mpc.errors import PreprocessingError, RemoteProtocolError
from mpc.field import domain_named
from mpc.preprocessing.dealer import deal, party_store
from mpc.protocols.bitcompare import BitCompareItem, bitcompare
from mpc.protocols.context import Context, Exchange
from mpc.rng import Csprng
from mpc.suite import (
    Need,
    Suite,
    boolean_and_rounds,
    boolean_ands,
    boolean_lane,
    boolean_words,
)
from mpc.testing import random_pair_keys, run_plan, run_protocols

Z64 = domain_named("Z64")
U64 = np.uint64


def material(sizes: Sequence[int], width: int, test: str) -> tuple[list, list]:
    """Each party's material for one group of nodes of these sizes (via the real dealer)."""
    session = os.urandom(16)
    keys = {0: os.urandom(32), 1: os.urandom(32)}
    needs = [
        Need(i, "bitcompare", ((boolean_ands(width, test), boolean_words(s, width, test)), (s,)))
        for i, s in enumerate(sizes)
    ]
    corrections = deal(Z64, needs, keys, session, Csprng())
    stores = [
        party_store(Z64, p, 2, keys[p], session, needs, corrections if p else None) for p in (0, 1)
    ]
    return [[stores[p].take(i, "bitcompare") for i in range(len(sizes))] for p in (0, 1)], needs


def run_groups(values: Sequence[np.ndarray], width: int, test: str) -> tuple[list, list]:
    """[d < 0] or [d = 0] for a group of nodes (one array each), additively shared at random."""
    rng = np.random.default_rng(width)
    stores, _ = material([v.size for v in values], width, test)
    keys = random_pair_keys(2)
    shares: list[list[np.ndarray]] = [[], []]
    for v in values:
        first = rng.integers(0, 2**64, v.size, dtype=np.uint64, endpoint=False).reshape(v.shape)
        shares[0].append(first)
        shares[1].append(v.astype(U64) - first)
    runs = {
        p: bitcompare(
            Context(p, Suite.of("additive", 2), Z64, b"s" * 16, Csprng(), keys[p], {}),
            [BitCompareItem(s, m) for s, m in zip(shares[p], stores[p], strict=True)],
            test,
            width,
        )
        for p in (0, 1)
    }
    out = run_protocols(runs)
    return [a + b for a, b in zip(out[0], out[1], strict=True)], [out[0], out[1]]


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(2, 64),
    test=st.sampled_from(["ltz", "eqz"]),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_bitcompare_matches_plaintext(width: int, test: str, sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    limit = 2 ** (width - 1)
    values = []
    for size in sizes:
        v = rng.integers(-limit, limit, size)
        v[: min(size, 4)] = [0, -1, limit - 1, -limit][: min(size, 4)]  # the boundaries
        values.append(v)
    got, _ = run_groups(values, width, test)
    for v, z in zip(values, got, strict=True):
        want = v < 0 if test == "ltz" else v == 0
        np.testing.assert_array_equal(z, want.astype(U64))


def test_bitcompare_packs_several_comparisons_per_word() -> None:
    assert (boolean_lane(33, "ltz"), boolean_words(100, 33, "ltz")) == (32, 50)
    assert (boolean_lane(34, "ltz"), boolean_words(100, 34, "ltz")) == (64, 100)
    assert (boolean_lane(9, "ltz"), boolean_words(17, 9, "ltz")) == (8, 3)
    assert (boolean_lane(33, "eqz"), boolean_lane(16, "eqz")) == (64, 16)
    assert boolean_and_rounds(33, "ltz") == [1, 2, 2, 2, 2, 1]  # 1 + 2·(5 − 1) + 1 ANDs
    assert boolean_and_rounds(33, "eqz") == [1] * 6


def test_bitcompare_openings_are_masked() -> None:
    """Every AND opening a party receives is masked by the dealer's u, v: the same inputs
    (all zero) give different, uniform-looking words."""
    values = [np.zeros(400, dtype=np.int64)]
    stores, _ = material([400], 33, "ltz")
    keys = random_pair_keys(2)
    seen: list[np.ndarray] = []

    def recording(p: int):  # type: ignore[no-untyped-def]
        ctx = Context(p, Suite.of("additive", 2), Z64, b"s" * 16, Csprng(), keys[p], {})
        run = bitcompare(ctx, [BitCompareItem(values[0].astype(U64), stores[p][0])], "ltz", 33)
        exchange = next(run)
        try:
            while True:
                received = yield exchange
                if p == 1:
                    seen.extend(a for a in received[0] if a.dtype == U64)
                exchange = run.send(received)
        except StopIteration as stop:
            return stop.value

    run_protocols({0: recording(0), 1: recording(1)})
    assert len(seen) == 2 * len(boolean_and_rounds(33, "ltz"))  # e and f of each AND round
    words = np.concatenate([a.reshape(-1) for a in seen])
    assert words.size == 2 * boolean_ands(33, "ltz") * 200  # two comparisons per word
    assert len(np.unique(words)) == words.size  # no repeats: nothing but masked randomness
    ones = np.unpackbits(words.view(np.uint8)).mean()
    assert 0.45 < ones < 0.55


def test_bitcompare_malformed_opening_names_the_peer() -> None:
    stores, _ = material([8], 20, "ltz")
    keys = random_pair_keys(2)
    ctx = Context(0, Suite.of("additive", 2), Z64, b"s" * 16, Csprng(), keys[0], {})
    run = bitcompare(ctx, [BitCompareItem(np.zeros(8, U64), stores[0][0])], "ltz", 20)
    exchange = next(run)
    assert isinstance(exchange, Exchange)
    with pytest.raises(RemoteProtocolError, match="party 1"):
        run.send({1: [np.zeros(3, U64), np.zeros(3, U64)]})


def test_bitcompare_dealer_material_relations_hold() -> None:
    stores, _ = material([70], 33, "ltz")
    (a0, b0, c0, bit0, v0), (a1, b1, c1, bit1, v1) = stores[0][0], stores[1][0]
    assert (a0.shape, bit0.shape) == ((boolean_ands(33, "ltz"), 35), (70,))
    np.testing.assert_array_equal((a0 ^ a1) & (b0 ^ b1), c0 ^ c1)
    np.testing.assert_array_equal((bit0 ^ bit1) & U64(1), v0 + v1)
    assert 0 < int(((bit0 ^ bit1) & U64(1)).sum()) < 70  # ρ is a random bit


def test_bitcompare_material_is_consume_once() -> None:
    session, keys = os.urandom(16), {0: os.urandom(32), 1: os.urandom(32)}
    need = Need(3, "bitcompare", ((2, 4), (4,)))
    store = party_store(Z64, 0, 2, keys[0], session, [need], None)
    store.take(3, "bitcompare")
    with pytest.raises(PreprocessingError, match="already used"):
        store.take(3, "bitcompare")


@dsl.circuit
def compares(job: dsl.Job) -> None:
    a = dsl.input(0, "d", "a", bits=31)
    b = dsl.input(1, "d", "b", bits=31)
    dsl.reveal(a > b, "gt")
    dsl.reveal(a == b, "eq")


def test_plans_with_a_dealer_compare_on_boolean_shares() -> None:
    """Two additive parties with a dealer: word triples from the dealer, no OT or garbling
    session, the plan's bytes and rounds as measured."""
    plan = compile(
        compares, CompileSpec(Suite.of("additive", 2), default_rows=501, preprocessing="dealer")
    )
    assert (plan.preprocessing, plan.domain) == ("dealer", "Z64")
    assert {need.kind for need in plan.needs()} == {"bitcompare"}
    rng = np.random.default_rng(5)
    a, b = rng.integers(-(2**31) + 1, 2**31, (2, 501))
    b[:50] = a[:50]
    run = run_plan(plan, {0: {("d", "a"): a}, 1: {("d", "b"): b}})
    np.testing.assert_array_equal(run.outputs["gt"], (a > b).astype(np.int64))
    np.testing.assert_array_equal(run.outputs["eq"], (a == b).astype(np.int64))
    assert [sum(p.payload_bytes_sent.values()) for p in run.parties] == list(plan.cost().bytes_sent)
    assert [(p.rounds, p.offline_rounds) for p in run.parties] == [(plan.rounds, 0)] * 2
    # without a dealer the same circuit garbles and needs no material at all
    free = compile(compares, CompileSpec(Suite.of("additive", 2), default_rows=501))
    assert (free.needs(), free.preprocessing) == ((), None)
