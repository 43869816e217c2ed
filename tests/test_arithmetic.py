"""Secure arithmetic: products, matrix products, fixed point, preprocessing, round merging.

Every configuration the runtime offers for products runs through the in-memory router:
shamir (resharing, no material), additive with a trusted dealer, additive with the
honest-majority provider (n ≥ 3).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc import dsl
from mpc.dsl import CompileSpec, Plan, compile
from mpc.engine import DealerMaterial, Engine, corrections_can_come_late
from mpc.errors import CompileError, LocalProtocolError, PreprocessingError
from mpc.field import domain_named
from mpc.preprocessing import Store, components
from mpc.preprocessing.dealer import deal, party_store
from mpc.preprocessing.honest_majority import generate, offline_rounds
from mpc.protocols.context import Context
from mpc.protocols.inputs import InputItem, shamir_input_pads, shamir_share
from mpc.results import merge_outputs
from mpc.rng import Csprng
from mpc.sharing import additive, shamir
from mpc.suite import KAPPA, Need, Suite
from mpc.testing import party_engines, play_dealer, random_pair_keys, run_plan, run_protocols

CONFIGS = [
    ("shamir", 3, None),
    ("shamir", 5, None),
    ("additive", 2, "dealer"),
    ("additive", 2, "ot"),
    ("additive", 3, "dealer"),
    ("additive", 3, "honest-majority"),
    ("additive", 5, "honest-majority"),
]
IDS = [f"{p}-{n}-{v or 'resharing'}" for p, n, v in CONFIGS]


def plan_of(circuit: dsl.Circuit, config: tuple[str, int, str | None], rows: int) -> Plan:
    protocol, n, provider = config
    return compile(
        circuit, CompileSpec(Suite.of(protocol, n), default_rows=rows, preprocessing=provider)
    )


@dsl.circuit
def integer_products(job: dsl.Job) -> None:
    x = dsl.input(0, "d", "x", bits=24)
    y = dsl.input(1, "d", "y", bits=24)
    m = dsl.input(0, "d", ["x", "z"], bits=24)
    dsl.reveal(x * y, "mul")
    dsl.reveal(dsl.square(y), "square")
    dsl.reveal(dsl.dot(x, y), "dot")
    dsl.reveal(m.T @ m, "gram")  # matrix × matrix
    dsl.reveal(m.T @ y, "matvec")  # matrix × vector, secret × secret
    dsl.reveal(x * y * x - 7 * y + 3, "deep")  # depth 2, with public constants


ints = st.integers(-(2**24) + 1, 2**24 - 1)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@given(data=st.data())
@settings(max_examples=6, deadline=None)
def test_integer_products_matches_plaintext(config: tuple[str, int, str | None], data: Any) -> None:
    rows = data.draw(st.integers(1, 6))
    column = st.lists(ints, min_size=rows, max_size=rows)
    x, y, z = (np.array(data.draw(column), dtype=np.int64) for _ in range(3))
    plan = plan_of(integer_products, config, rows)
    run = run_plan(plan, {0: {("d", "x"): x, ("d", "z"): z}, 1: {("d", "y"): y}})
    o, m = run.outputs, np.stack([x, z], axis=1).astype(object)
    xo, yo = x.astype(object), y.astype(object)
    assert o["mul"].tolist() == (xo * yo).tolist()
    assert o["square"].tolist() == (yo * yo).tolist()
    assert int(o["dot"]) == int(xo @ yo)
    assert o["gram"].tolist() == (m.T @ m).tolist()
    assert o["matvec"].tolist() == (m.T @ yo).tolist()
    assert o["deep"].tolist() == (xo * yo * xo - 7 * yo + 3).tolist()


@dsl.circuit(frac_bits=20)
def fixed_point(job: dsl.Job) -> None:
    x = dsl.input(0, "f", "x", fixed=True, bits=8)
    y = dsl.input(1, "f", "y", fixed=True, bits=8)
    dsl.reveal(x * y, "mul")
    dsl.reveal(dsl.dot(x, y), "dot")
    dsl.reveal(dsl.square(x) * 0.25 + y, "affine")
    dsl.reveal(x * 3 - 1.5, "scaled")


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@given(data=st.data())
@settings(max_examples=5, deadline=None)
def test_fixed_point_ops_matches_plaintext(config: tuple[str, int, str | None], data: Any) -> None:
    rows = data.draw(st.integers(1, 5))
    scaled = st.integers(-(2**27), 2**27)  # |x| < 2^8 with 20 fractional bits
    column = st.lists(scaled, min_size=rows, max_size=rows)
    xs, ys = (np.array(data.draw(column), dtype=np.int64) for _ in range(2))
    run = run_plan(plan_of(fixed_point, config, rows), {0: {("f", "x"): xs}, 1: {("f", "y"): ys}})
    x, y, ulp = xs / 2**20, ys / 2**20, 2.0**-20
    o = run.outputs
    assert o["mul"].dtype == np.float64
    assert np.all(np.abs(o["mul"] - x * y) <= ulp)  # one truncation: error below one unit
    assert abs(float(o["dot"]) - float(x @ y)) <= ulp  # truncated once, after the sum
    assert np.all(np.abs(o["affine"] - (x * x * 0.25 + y)) <= 2 * ulp)
    assert np.all(np.abs(o["scaled"] - (3 * x - 1.5)) == 0)  # no truncation: exact


@pytest.mark.parametrize("config", CONFIGS[::2], ids=IDS[::2])
def test_truncation_is_floor_or_floor_plus_one(config: tuple[str, int, str | None]) -> None:
    """Exactly ⌊x·y / 2^f⌋ or one more, for many random products (the probabilistic rounding)."""

    @dsl.circuit(frac_bits=16)
    def product(job: dsl.Job) -> None:
        dsl.reveal(
            dsl.input(0, "f", "x", fixed=True, bits=10)
            * dsl.input(1, "f", "y", fixed=True, bits=10),
            "p",
        )

    rng = np.random.default_rng(7)
    xs, ys = rng.integers(-(2**26), 2**26, (2, 500))
    run = run_plan(plan_of(product, config, 500), {0: {("f", "x"): xs}, 1: {("f", "y"): ys}})
    got = np.rint(run.outputs["p"] * 2**16).astype(object)
    floor = (xs.astype(object) * ys.astype(object)) // 2**16
    assert all(g - f in (0, 1) for g, f in zip(got, floor, strict=True))
    assert 0 < sum(g - f for g, f in zip(got, floor, strict=True)) < 500  # both cases happen


@pytest.mark.parametrize("k", [1, 4, 50])
def test_independent_products_of_one_depth_cost_one_round(k: int) -> None:
    @dsl.circuit
    def many(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "x", bits=20)
        y = dsl.input(1, "d", "y", bits=20)
        for i in range(k):
            dsl.reveal((x + i) * y, f"p{i}")

    for config, expected in [(CONFIGS[0], 3), (CONFIGS[2], 2)]:  # shamir: inputs + mul + reveal
        plan = plan_of(many, config, 3)
        assert plan.rounds == expected
        assert plan.cost().rounds == expected
        (mul_group,) = [g for layer in plan.layers for g in layer.groups if g.op == "mul"]
        assert len(mul_group.nodes) == k
        run = run_plan(plan, {0: {("d", "x"): np.arange(3)}, 1: {("d", "y"): np.arange(3) + 5}})
        assert (
            run.outputs[f"p{k - 1}"].tolist()
            == ((np.arange(3) + k - 1) * (np.arange(3) + 5)).tolist()
        )
        assert all(party.rounds == expected for party in run.parties)
        for party in run.parties:  # one message per peer per round, however many products
            senders = [s for s, f in run.router.received[party.party] if f.round == plan.rounds - 1]
            assert len(senders) == len(set(senders))


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_measured_payload_matches_the_plan(config: tuple[str, int, str | None]) -> None:
    plan = plan_of(integer_products, config, 7)
    rng = np.random.default_rng(1)
    x, y, z = rng.integers(-1000, 1000, (3, 7))
    run = run_plan(plan, {0: {("d", "x"): x, ("d", "z"): z}, 1: {("d", "y"): y}})
    measured = [sum(p.payload_bytes_sent.values()) for p in run.parties]
    assert measured == list(plan.cost().bytes_sent)


def test_shamir_dot_product_reshares_one_element() -> None:
    @dsl.circuit
    def dot(job: dsl.Job) -> None:
        x, y = dsl.input(0, "d", "x", bits=20), dsl.input(1, "d", "y", bits=20)
        dsl.reveal(dsl.dot(x, y), "dot", to=["driver"])

    plan = plan_of(dot, CONFIGS[0], 10_000)
    assert plan.domain == "F61"  # 10^4 · 2^40 < 2^60
    cost = plan.cost()
    inputs = 10_000 * 8  # each owner sends one share of its 10^4 values (n − 1 − t = 1)
    assert cost.bytes_sent == (inputs + 8, inputs + 8, 8)  # + one element per resharer


# --- what the parties see -----------------------------------------------------------------------


def beaver_openings(x: int, runs: int = 300) -> np.ndarray:
    """The values party 1 receives from party 0 while they open d = x − a (additive, 2 parties)."""

    @dsl.circuit
    def product(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "x", bits=30) * dsl.input(1, "d", "y", bits=30), "p")

    plan = plan_of(product, ("additive", 2, "dealer"), 1)
    assert plan.domain == "Z64"
    seen = []
    for _ in range(runs):
        run = run_plan(plan, {0: {("d", "x"): np.array([x])}, 1: {("d", "y"): np.array([3])}})
        layer = plan.rounds - 1  # the product's round, before the reveal
        (frame,) = [f for s, f in run.router.received[1] if s == 0 and f.round == layer]
        (payload,) = frame.payload.values()
        seen.append(payload[0].reshape(-1))
    return np.concatenate(seen)


def test_beaver_openings_are_masked() -> None:
    small, large = beaver_openings(0), beaver_openings(2**29)
    for opened, secret in ((small, 0), (large, 2**29)):
        assert not np.any(opened == np.uint64(secret))  # never the input itself
        ones = np.unpackbits(opened.view(np.uint8)).mean()
        assert 0.45 < ones < 0.55  # uniform-looking bits whatever the input
    # the two inputs cannot be told apart by the bits party 1 sees
    assert (
        abs(np.unpackbits(small.view(np.uint8)).mean() - np.unpackbits(large.view(np.uint8)).mean())
        < 0.03
    )


def test_shamir_resharing_parts_are_masked() -> None:
    @dsl.circuit
    def product(job: dsl.Job) -> None:
        x, y = dsl.input(0, "d", "x", bits=20), dsl.input(1, "d", "y", bits=20)
        dsl.reveal(x * y, "p", to=["driver"])

    plan = plan_of(product, CONFIGS[0], 2000)
    assert plan.domain == "F61"
    x = np.zeros(2000, dtype=np.int64)  # a secret of zeros: the worst case for a leak
    run = run_plan(plan, {0: {("d", "x"): x}, 1: {("d", "y"): x}})
    product_round = plan.rounds  # inputs, then the product (the reveal is to the driver only)
    received = [f for _, f in run.router.received[2] if f.round == product_round]
    parts = np.concatenate([a.reshape(-1) for f in received for p in f.payload.values() for a in p])
    assert parts.size
    assert not np.any(parts == 0)
    assert 0.45 < np.unpackbits(parts.view(np.uint8)).mean() < 0.55


# --- preprocessing -----------------------------------------------------------------------------

NEEDS = (
    Need(1, "triple", ((5,),)),
    Need(2, "square", ((3,),)),
    Need(3, "matrix", ((2, 4), (4, 3))),
    Need(4, "trunc", ((6,),), bits=16, width=60),
)


def reconstruct(domain: Any, stores: list[Store], need: Need) -> dict[str, Any]:
    shares = [store.material[need.node][1] for store in stores]
    names = [name for name, _ in components(need)]
    return {
        name: additive.reconstruct(np.stack([s[i] for s in shares]), domain)
        for i, name in enumerate(names)
    }


def check_relations(domain: Any, stores: list[Store]) -> None:
    for need in NEEDS:
        value = reconstruct(domain, stores, need)
        if need.kind == "triple":
            assert np.array_equal(value["c"], domain.mul(value["a"], value["b"]))
        elif need.kind == "square":
            assert np.array_equal(value["c"], domain.mul(value["a"], value["a"]))
        elif need.kind == "matrix":
            assert np.array_equal(value["c"], domain.matmul(value["a"], value["b"]))
        else:
            low = domain.decode(value["low"])
            assert np.all((low >= 0) & (low < 2**need.bits))
            high = domain.sub(value["mask"], value["low"])
            high = domain.decode_scaled(high, need.bits)
            assert np.all((high >= 0) & (high < 2 ** (need.width + KAPPA - need.bits) * 3))


@pytest.mark.parametrize("n", [2, 3])
def test_dealer_material_satisfies_its_relations(n: int) -> None:
    domain = domain_named("F127")
    session = os.urandom(16)
    keys = {p: os.urandom(32) for p in range(n)}
    corrections = deal(domain, NEEDS, keys, session, Csprng())
    stores = [
        party_store(domain, p, n, keys[p], session, NEEDS, corrections if p == n - 1 else None)
        for p in range(n)
    ]
    check_relations(domain, stores)
    assert set(corrections) == {need.node for need in NEEDS}  # only the last party gets anything


def test_dealer_correction_of_the_wrong_shape_is_refused() -> None:
    domain = domain_named("F61")
    session, keys = os.urandom(16), {0: os.urandom(32), 1: os.urandom(32)}
    corrections = deal(domain, NEEDS[:1], keys, session, Csprng())
    corrections[1]["c"] = corrections[1]["c"][:2]
    with pytest.raises(PreprocessingError, match="no valid c correction for node 1"):
        party_store(domain, 1, 2, keys[1], session, NEEDS[:1], corrections)


def _run_with_late_corrections(plan: Plan, inputs: dict[int, Any], supply_after: int) -> Any:
    """Run `plan` in memory with the last party built without the dealer's corrections, which
    arrive after `supply_after` frames were delivered (or when nothing else can move)."""
    session = os.urandom(16)
    dealt = play_dealer(plan, session)
    last = plan.suite.n_parties - 1
    corrections = dealt[last].corrections
    assert corrections is not None
    dealt[last] = DealerMaterial(dealt[last].key)  # the corrections come later
    engines = party_engines(plan, inputs, session, dealt)
    in_flight: list[tuple[int, int, Any]] = []
    delivered = 0
    while not all(engine.done for engine in engines):
        for sender, engine in enumerate(engines):
            in_flight.extend((sender, peer, frame) for peer, frame in engine.outbox())
        if engines[last].awaiting_corrections and (delivered >= supply_after or not in_flight):
            assert not engines[last].done
            engines[last].supply_corrections(corrections)
            continue
        sender, receiver, frame = in_flight.pop(0)
        engines[receiver].receive(sender, frame)
        delivered += 1
    assert not engines[last].awaiting_corrections
    return merge_outputs(plan, {p: e.result().outputs for p, e in enumerate(engines)})


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("supply_after", [0, 1, 2, 3, 100])
def test_dealer_corrections_may_arrive_while_the_last_party_runs(n: int, supply_after: int) -> None:
    # the last party sends its openings at once and holds every delivery until they come
    x, y, z = np.array([3, -5, 7]), np.array([2, 11, -4]), np.array([1, 0, -9])
    plan = plan_of(integer_products, ("additive", n, "dealer"), 3)
    assert corrections_can_come_late(plan)
    outputs = _run_with_late_corrections(
        plan, {0: {("d", "x"): x, ("d", "z"): z}, 1: {("d", "y"): y}}, supply_after
    )
    m = np.stack([x, z], axis=1)
    assert outputs["mul"].tolist() == (x * y).tolist()
    assert outputs["gram"].tolist() == (m.T @ m).tolist()
    assert outputs["deep"].tolist() == (x * y * x - 7 * y + 3).tolist()


def test_late_dealer_corrections_are_checked_and_taken_once() -> None:
    plan = plan_of(integer_products, ("additive", 2, "dealer"), 3)
    session = os.urandom(16)
    dealt = play_dealer(plan, session)
    corrections = dealt[1].corrections
    assert corrections is not None
    inputs = {("d", "y"): np.array([1, 2, 3])}

    def late_engine() -> Engine:
        keys = {0: os.urandom(32)}
        dealer = DealerMaterial(dealt[1].key)
        return Engine(plan, 1, session=session, inputs=inputs, pair_keys=keys, dealer=dealer)

    node = next(iter(corrections))
    broken = {k: dict(v) for k, v in corrections.items()}
    broken[node]["c"] = broken[node]["c"][:1]
    with pytest.raises(PreprocessingError, match=f"no valid c correction for node {node}"):
        late_engine().supply_corrections(broken)
    engine = late_engine()
    engine.supply_corrections(corrections)
    with pytest.raises(LocalProtocolError, match="no dealer corrections are awaited"):
        engine.supply_corrections(corrections)


def test_material_read_before_an_opening_needs_the_corrections_up_front() -> None:
    # truncation masks are added before anything is opened: no late corrections for them
    plan = plan_of(fixed_point, ("additive", 2, "dealer"), 2)
    assert not corrections_can_come_late(plan)
    session = os.urandom(16)
    with pytest.raises(LocalProtocolError, match="corrections up front"):
        Engine(
            plan,
            1,
            session=session,
            inputs={("f", "y"): np.array([1, 2])},
            pair_keys={0: os.urandom(32)},
            dealer=DealerMaterial(os.urandom(32)),
        )


@pytest.mark.parametrize("n", [3, 5])
def test_shamir_input_pads_made_before_the_values_give_the_same_shares(n: int) -> None:
    """The engine computes input pads in its constructor: sharing with them must give exactly
    the shares the one-pass sharing gives, and they must reconstruct to the owner's values."""
    suite, field = Suite.of("shamir", n), domain_named("F61")
    keys, session = random_pair_keys(n), os.urandom(16)
    x = field.encode(np.array([5, -7, 2**40, 0, -(2**50)], dtype=np.int64))
    owner = 1

    def shares(precomputed: bool) -> dict[int, Any]:
        runs = {}
        for p in range(n):
            ctx = Context(p, suite, field, session, Csprng(), keys[p], {})
            pads = shamir_input_pads(ctx, owner, 7, x.size) if precomputed else None
            values = x if p == owner else None
            runs[p] = shamir_share(ctx, [InputItem(owner, 7, x.shape, values, pads)])
        return {p: result[0] for p, result in run_protocols(runs).items()}

    with_pads, without = shares(True), shares(False)
    for p in range(n):
        assert np.array_equal(with_pads[p], without[p])
    for group in itertools.combinations(range(n), suite.threshold + 1):
        value = shamir.reconstruct([with_pads[p] for p in group], group, field)
        assert np.array_equal(value, x)


@pytest.mark.parametrize("n", [3, 5])
def test_honest_majority_material_satisfies_its_relations(n: int) -> None:
    domain = domain_named("F127")
    suite = Suite.of("additive", n)
    keys = random_pair_keys(n)
    session = os.urandom(16)
    contexts = [Context(p, suite, domain, session, Csprng(), keys[p], {}) for p in range(n)]
    stores = run_protocols({p: generate(contexts[p], NEEDS) for p in range(n)})
    check_relations(domain, [stores[p] for p in range(n)])
    assert offline_rounds(suite, NEEDS) == (2 if n == 3 else 3)


def test_material_is_consumed_once() -> None:
    store = Store()
    store.put(NEEDS[0], (np.zeros(5),))
    store.take(1, "triple")
    with pytest.raises(PreprocessingError, match="already used"):
        store.take(1, "triple")
    with pytest.raises(PreprocessingError, match="no square material for node 9"):
        store.take(9, "square")
    store.put(NEEDS[1], (np.zeros(3),))
    with pytest.raises(PreprocessingError, match="holds square material, not triple"):
        store.take(2, "triple")


def test_engine_refuses_to_reuse_material() -> None:
    @dsl.circuit
    def product(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "x") * dsl.input(1, "d", "y"), "p")

    plan = plan_of(product, ("additive", 2, "dealer"), 2)
    session = b"s" * 16
    dealt = play_dealer(plan, session)
    engine = Engine(
        plan,
        0,
        session=session,
        inputs={("d", "x"): np.arange(2)},
        pair_keys={1: b"k" * 32},
        dealer=dealt[0],
    )
    (mul,) = [n for n in plan.nodes if n.op == "mul"]
    engine.start()
    with pytest.raises(PreprocessingError, match="already used"):
        engine._ops.material(mul, "triple")  # the engine took it when the product started


@pytest.mark.parametrize(
    ("protocol", "n", "provider", "words"),
    [
        ("additive", 3, None, "need preprocessing"),
        ("additive", 2, "honest-majority", "needs n ≥ 3"),
        ("additive", 3, "ot", "two-party"),
        ("shamir", 3, "dealer", "serves the additive suite"),
        ("shamir", 3, "ot", "serves the additive suite"),
        ("additive", 2, "magic", "unknown preprocessing provider"),
    ],
)
def test_products_without_a_usable_provider_are_refused(
    protocol: str, n: int, provider: str | None, words: str
) -> None:
    @dsl.circuit
    def product(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "x") * dsl.input(1, "d", "y"), "p")

    with pytest.raises(CompileError, match=words):
        compile(product, CompileSpec(Suite.of(protocol, n), default_rows=1, preprocessing=provider))


def test_two_parties_default_to_ot_preprocessing_never_a_dealer() -> None:
    @dsl.circuit
    def product(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "x", bits=20) * dsl.input(1, "d", "y", bits=20), "p")

    plan = compile(product, CompileSpec(Suite.of("additive", 2), default_rows=3))
    assert (plan.preprocessing, plan.domain) == ("ot", "Z64")
    run = run_plan(
        plan, {0: {("d", "x"): np.array([3, -4, 5])}, 1: {("d", "y"): np.array([7, 8, -9])}}
    )
    np.testing.assert_array_equal(run.outputs["p"], [21, -32, -45])
    assert all(p.offline_rounds == 4 for p in run.parties)
