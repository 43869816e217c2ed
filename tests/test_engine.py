"""Sans-IO tests of mpc.engine: N parties through the in-memory Router of mpc.testing.

Outputs are checked against a plaintext computation, the frames each party receives against the
communication pattern of the suite, the measured bytes and rounds against the plan's own cost,
and every malformed or unexpected frame against the RemoteProtocolError it must cause.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc import dsl
from mpc.dsl import CompileSpec, Plan, compile, load_circuit
from mpc.engine import Engine, PartyResult
from mpc.errors import LocalProtocolError, RemoteProtocolError, VerificationError
from mpc.field import F61, domain_named
from mpc.results import merge_outputs, reconstruct_driver_outputs
from mpc.suite import Suite
from mpc.testing import Router, random_pair_keys, run_plan
from mpc.wire import Frame

ROOT = Path(__file__).resolve().parent.parent
secure_sum = load_circuit(ROOT / "circuits" / "secure_sum.py")
SESSION = bytes(range(16))
BITS = 20
KEY = ("values", "value")
EXTRA = ("values", "extra")


@dsl.circuit(params={"bits": BITS})
def linear(job: dsl.Job) -> None:
    """Every linear operation: differences, public scalars and vectors, sums, broadcasts."""
    bits = int(job.params["bits"])
    a = [dsl.input(p, "values", "value", bits=bits) for p in job.parties]
    extra = dsl.input(0, "values", "extra", bits=bits)
    last = job.n_parties - 1
    rows = len(a[0])
    dsl.reveal(a[0] - a[1], "diff", to=[0])
    dsl.reveal(a[0] * 3 - 7 + a[1] * -2 + extra, "affine", to=[1, "driver"])
    weighted = sum((x * (np.arange(rows) + p + 1) for p, x in enumerate(a)), start=extra * 0)
    dsl.reveal(weighted, "weighted", to=["driver"])
    dsl.reveal(dsl.sum(a[0]) - dsl.sum(a[last]), "totals")
    dsl.reveal(a[0] + dsl.sum(a[1]), "shifted", to=[last])
    dsl.reveal(100 - a[last], "negated", to=sorted({0, last}))


def linear_plaintext(values: Mapping[int, list[int]], extra: list[int]) -> dict[str, list[int]]:
    n = len(values)
    a, last = values, n - 1
    rows = len(extra)
    return {
        "diff": [a[0][i] - a[1][i] for i in range(rows)],
        "affine": [3 * a[0][i] - 7 - 2 * a[1][i] + extra[i] for i in range(rows)],
        "weighted": [sum(a[p][i] * (i + p + 1) for p in range(n)) for i in range(rows)],
        "totals": [sum(a[0]) - sum(a[last])],
        "shifted": [a[0][i] + sum(a[1]) for i in range(rows)],
        "negated": [100 - a[last][i] for i in range(rows)],
    }


def plan_for(
    circuit: dsl.Circuit,
    protocol: str,
    n: int,
    rows: int,
    threshold: int | None = None,
    **kwargs: Any,
) -> Plan:
    return compile(
        circuit, CompileSpec(Suite.of(protocol, n, threshold), default_rows=rows, **kwargs)
    )


def column(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64).reshape(len(values))


def make_engines(
    plan: Plan, inputs: Mapping[int, Mapping[tuple[str, str], np.ndarray]]
) -> list[Engine]:
    keys = random_pair_keys(plan.suite.n_parties)
    return [
        Engine(plan, p, session=SESSION, inputs=inputs.get(p, {}), pair_keys=keys[p])
        for p in plan.suite.parties
    ]


def sum_inputs(n: int, rows: int, fill: Callable[[int, int], int]) -> dict[int, dict]:
    return {p: {KEY: column([fill(p, i) for i in range(rows)])} for p in range(n)}


suites = st.one_of(
    st.tuples(st.just("additive"), st.integers(2, 7), st.none()),
    st.integers(3, 7).flatmap(
        lambda n: st.tuples(st.just("shamir"), st.just(n), st.integers(1, (n - 1) // 2))
    ),
)


def orders(seed: int | None) -> Callable[[int], int] | None:
    if seed is None:
        return None
    if seed < 0:
        return lambda k: k - 1  # newest first
    rng = random.Random(seed)
    return lambda k: rng.randrange(k)


# --- the message pattern the protocols promise ---------------------------------------------------


def expected_messages(plan: Plan) -> dict[tuple[int, int, int], int]:
    """(receiver, sender, round) → number of elements, derived from the suite's pattern."""
    suite = plan.suite
    expected: Counter[tuple[int, int, int]] = Counter()
    for index, layer in enumerate(plan.layers):
        round_ = index + 1
        for group in layer.groups:
            for node_id in group.nodes:
                node = plan.nodes[node_id]
                size = int(np.prod(node.shape, dtype=np.int64))
                if group.op == "input":
                    owner = node.attr("party")
                    for receiver in suite.sent_input_parties(owner):
                        expected[receiver, owner, round_] += size
                else:
                    for receiver in node.attr("to"):
                        for sender in suite.reveal_senders(receiver):
                            expected[receiver, sender, round_] += size
    return dict(expected)


def check_received(plan: Plan, router: Router, session: bytes | None = None) -> None:
    expected = expected_messages(plan)
    seen: dict[tuple[int, int, int], int] = {}
    for receiver, frames in enumerate(router.received):
        for sender, frame in frames:
            key = (receiver, sender, frame.round)
            assert key not in seen, f"two frames for {key}"
            if session is not None:
                assert frame.session == session
            assert (frame.sender, frame.kind, frame.step) == (sender, "data", 0)
            layer = plan.layers[frame.round - 1]
            assert set(frame.payload) == {0}, "one group per layer in these plans"
            assert len(layer.groups) == 1
            (array,) = frame.payload[0]
            assert array.dtype == np.uint64
            seen[key] = int(array.size)
    assert seen == expected


def check_outputs(
    plan: Plan, parties: list[PartyResult], driver: Mapping, expected: Mapping
) -> None:
    driver_names = {o.name for o in plan.outputs if o.driver}
    for output in plan.outputs:
        want = np.array(expected[output.name], dtype=np.int64).reshape(output.shape)
        for party in parties:
            if party.party in output.to:
                got = party.outputs[output.name]
                assert got.dtype == np.int64
                assert got.shape == want.shape
                assert np.array_equal(got, want), (output.name, party.party)
            else:
                assert output.name not in party.outputs, (output.name, party.party)
        if output.driver:
            assert np.array_equal(driver[output.name], want), output.name
    assert set(driver) == driver_names
    for party in parties:
        assert set(party.driver_shares) == driver_names
        assert set(party.outputs) <= {o.name for o in plan.outputs if party.party in o.to}


def check_cost(plan: Plan, parties: list[PartyResult]) -> None:
    cost = plan.cost()
    for party in parties:
        assert sum(party.payload_bytes_sent.values()) == cost.bytes_sent[party.party]
        assert party.rounds == plan.rounds == cost.rounds


# --- results match plaintext ---------------------------------------------------------------------


@given(
    suite=suites,
    rows=st.integers(0, 6),
    data=st.data(),
    order_seed=st.one_of(st.none(), st.just(-1), st.integers(0, 2**32)),
)
@settings(max_examples=60, deadline=None)
def test_engine_secure_sum_matches_plaintext(
    suite: tuple[str, int, int | None],
    rows: int,
    data: st.DataObject,
    order_seed: int | None,
) -> None:
    protocol, n, t = suite
    limit = 2**BITS - 1
    values = {
        p: data.draw(st.lists(st.integers(-limit, limit), min_size=rows, max_size=rows))
        for p in range(n)
    }
    plan = plan_for(secure_sum, protocol, n, rows, t, params={"bits": BITS})
    run = run_plan(
        plan,
        {p: {KEY: column(v)} for p, v in values.items()},
        order=orders(order_seed),
        session=SESSION,
    )
    expected = {
        "sum": [sum(values[p][i] for p in range(n)) for i in range(rows)],
        "total": [sum(sum(v) for v in values.values())],
    }
    check_outputs(plan, run.parties, run.driver_outputs, expected)
    assert {k: v.tolist() for k, v in run.outputs.items()} == {
        "sum": expected["sum"],
        "total": expected["total"][0],
    }
    check_cost(plan, run.parties)
    check_received(plan, run.router, SESSION)


@given(
    suite=suites,
    rows=st.integers(0, 5),
    data=st.data(),
    order_seed=st.one_of(st.none(), st.just(-1), st.integers(0, 2**32)),
)
@settings(max_examples=60, deadline=None)
def test_engine_linear_circuit_matches_plaintext(
    suite: tuple[str, int, int | None],
    rows: int,
    data: st.DataObject,
    order_seed: int | None,
) -> None:
    protocol, n, t = suite
    limit = 2**BITS - 1
    ints = st.lists(st.integers(-limit, limit), min_size=rows, max_size=rows)
    values = {p: data.draw(ints) for p in range(n)}
    extra = data.draw(ints)
    plan = plan_for(linear, protocol, n, rows, t)
    inputs = {p: {KEY: column(v)} for p, v in values.items()}
    inputs[0][EXTRA] = column(extra)
    run = run_plan(plan, inputs, order=orders(order_seed), session=SESSION)
    check_outputs(plan, run.parties, run.driver_outputs, linear_plaintext(values, extra))
    check_cost(plan, run.parties)
    check_received(plan, run.router)


@pytest.mark.parametrize(("protocol", "n"), [("additive", 3), ("shamir", 5)])
def test_engine_extreme_values_matches_plaintext(protocol: str, n: int) -> None:
    bits = 40
    top = 2**bits - 1
    rows = 6
    pattern = [top, -top, 0, 1, -1, top]
    plan = plan_for(secure_sum, protocol, n, rows, params={"bits": bits})
    run = run_plan(plan, {p: {KEY: column(pattern)} for p in range(n)})
    assert run.outputs["sum"].tolist() == [n * v for v in pattern]
    assert run.outputs["total"].tolist() == n * sum(pattern)


@pytest.mark.parametrize("protocol", ["additive", "shamir"])
def test_engine_outputs_to_a_subset_and_the_driver(protocol: str) -> None:
    n, rows = 5, 4
    plan = plan_for(secure_sum, protocol, n, rows, receivers=(1, 3, "driver"))
    inputs = sum_inputs(n, rows, lambda p, i: 10 * p + i)
    run = run_plan(plan, inputs)
    expected = {"sum": [100 + 5 * i for i in range(rows)], "total": [400 + 30]}
    check_outputs(plan, run.parties, run.driver_outputs, expected)
    for party in (0, 2, 4):
        assert run.parties[party].outputs == {}
    assert run.driver_outputs["total"].shape == ()
    check_cost(plan, run.parties)
    check_received(plan, run.router)


@pytest.mark.parametrize("protocol", ["additive", "shamir"])
def test_engine_driver_only_outputs_are_shares_at_the_parties(protocol: str) -> None:
    n, rows = 3, 3
    plan = plan_for(secure_sum, protocol, n, rows, receivers=("driver",))
    run = run_plan(plan, sum_inputs(n, rows, lambda p, i: p - i))
    assert all(party.outputs == {} for party in run.parties)
    assert run.driver_outputs["sum"].tolist() == [3, 0, -3]
    # no single party's share is the answer
    for party in run.parties:
        decoded = domain_named(plan.domain).decode(party.driver_shares["sum"]).tolist()
        assert decoded != [3, 0, -3]
    check_cost(plan, run.parties)


@pytest.mark.parametrize("protocol", ["additive", "shamir"])
def test_engine_reveals_public_values_to_named_parties(protocol: str) -> None:
    @dsl.circuit
    def public(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "values", "value"), "x")
        dsl.reveal(dsl.constant(np.array([5, 6])) + 1, "c", to=[0, 1])

    plan = plan_for(public, protocol, 3, 2)
    run = run_plan(plan, {0: {KEY: column([1, 2])}})
    assert run.parties[0].outputs["c"].tolist() == [6, 7]
    assert run.parties[1].outputs["c"].tolist() == [6, 7]
    assert "c" not in run.parties[2].outputs


@pytest.mark.parametrize(
    "protocol",
    [
        "additive",
        "shamir",
    ],
)
def test_engine_reveals_public_values_to_the_driver(protocol: str) -> None:
    @dsl.circuit
    def public(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "values", "value"), "x")
        dsl.reveal(dsl.constant(np.array([5, 6])) - 7, "c", to=["driver"])

    plan = plan_for(public, protocol, 3, 2)
    run = run_plan(plan, {0: {KEY: column([1, 2])}})
    assert run.driver_outputs["c"].tolist() == [-2, -1]


# --- what travels --------------------------------------------------------------------------------


def test_engine_shamir_input_shares_hide_the_inputs() -> None:
    n, rows = 3, 400
    received: dict[int, list[np.ndarray]] = {0: [], 2**40 - 1: []}
    for secret in received:
        for _ in range(5):  # fresh keys each run
            plan = plan_for(secure_sum, "shamir", n, rows)
            run = run_plan(plan, sum_inputs(n, rows, lambda p, i, s=secret: s))
            for frames in run.router.received:
                for _, frame in frames:
                    if frame.round == 1:
                        received[secret].append(frame.payload[0][0])
    for secret, arrays in received.items():
        shares = np.concatenate(arrays)
        assert shares.size == 5 * n * rows  # every party got one owner's explicit share
        assert int(shares.max()) < 2**61 - 1
        encoded = int(F61.encode(np.array([secret], dtype=np.int64))[0])
        assert np.count_nonzero(shares == np.uint64(encoded)) <= 1  # not the input itself
        # every bit of a uniform element of F_p is a fair coin (sd of the count ≈ 19)
        bits = (shares[:, None] >> np.arange(61, dtype=np.uint64)) & np.uint64(1)
        ones = bits.sum(axis=0).astype(np.int64)
        assert np.all(np.abs(ones - shares.size / 2) < 8 * np.sqrt(shares.size) / 2), ones
    low_a = np.concatenate(received[0]) & np.uint64(15)
    low_b = np.concatenate(received[2**40 - 1]) & np.uint64(15)
    ca = np.bincount(low_a.astype(np.int64), minlength=16)
    cb = np.bincount(low_b.astype(np.int64), minlength=16)
    assert float(np.sum((ca - cb) ** 2 / (ca + cb))) < 15 + 12 * np.sqrt(30) + 40


@pytest.mark.parametrize(("protocol", "n"), [("additive", 3), ("shamir", 3)])
def test_engine_reveal_shares_are_not_the_values(protocol: str, n: int) -> None:
    rows = 200
    plan = plan_for(secure_sum, protocol, n, rows)
    run = run_plan(plan, sum_inputs(n, rows, lambda p, i: 0))
    last = len(plan.layers)
    for frames in run.router.received:
        for _, frame in frames:
            if frame.round == last:
                shares = frame.payload[0][0]
                assert np.count_nonzero(shares) >= rows - 1  # shares of 0 are not 0
    assert run.outputs["sum"].tolist() == [0] * rows


def test_engine_additive_inputs_need_no_messages() -> None:
    plan = plan_for(secure_sum, "additive", 4, 3, receivers=("driver",))
    run = run_plan(plan, sum_inputs(4, 3, lambda p, i: p))
    assert run.router.received == [[], [], [], []]
    assert all(p.payload_bytes_sent == {} and p.rounds == 0 for p in run.parties)
    assert run.driver_outputs["total"].tolist() == 18


# --- the engine's interface and its input checks --------------------------------------------------


def fresh_shamir(rows: int = 4) -> tuple[Plan, list[Engine], dict[tuple[int, int], Frame]]:
    """3-party shamir secure sum; first-round frames by (sender, receiver), nothing delivered."""
    plan = plan_for(secure_sum, "shamir", 3, rows)
    engines = make_engines(plan, sum_inputs(3, rows, lambda p, i: p + i))
    frames = {(s, peer): f for s, e in enumerate(engines) for peer, f in e.outbox()}
    return plan, engines, frames


def test_engine_outbox_and_waiting_for() -> None:
    _, engines, frames = fresh_shamir()
    # n = 3, t = 1: owner o seeds party o + 1 and sends its share to party o + 2
    assert set(frames) == {(0, 2), (1, 0), (2, 1)}
    assert engines[0].outbox() == []  # emptied
    assert engines[0].waiting_for() == frozenset({1})
    assert not engines[0].done
    with pytest.raises(LocalProtocolError, match="not finished"):
        engines[0].result()
    engines[0].receive(1, frames[1, 0])
    assert engines[0].waiting_for() == frozenset({1})  # round 2: party 1 reveals to party 0
    (peer, frame), *rest = engines[0].outbox()
    assert (peer, frame.round, rest) == (2, 2, [])


def expect_remote(engine: Engine, peer: int, frame: Frame, match: str, round_: int) -> None:
    with pytest.raises(RemoteProtocolError, match=match) as info:
        engine.receive(peer, frame)
    error = info.value
    assert error.peer == peer
    assert error.round == round_
    assert f"party {peer} (round {round_})" in str(error)


def test_engine_rejects_a_frame_of_another_session() -> None:
    _, engines, frames = fresh_shamir()
    frame = dataclasses.replace(frames[1, 0], session=bytes(16))
    expect_remote(engines[0], 1, frame, "another session", 1)


def test_engine_rejects_a_frame_from_a_pretender() -> None:
    _, engines, frames = fresh_shamir()
    expect_remote(
        engines[0], 1, dataclasses.replace(frames[1, 0], sender=2), "claims to be from 2", 1
    )
    expect_remote(engines[0], 2, frames[1, 0], "claims to be from 1", 1)


@pytest.mark.parametrize("kind", ["hello", "part", "abort", "bogus"])
def test_engine_rejects_unknown_kinds(kind: str) -> None:
    _, engines, frames = fresh_shamir()
    expect_remote(engines[0], 1, dataclasses.replace(frames[1, 0], kind=kind), repr(kind), 1)


def test_engine_rejects_a_duplicate_frame() -> None:
    _, engines, frames = fresh_shamir()
    # party 1 finishes round 1 first and sends its round-2 reveal share to party 0 early
    engines[1].receive(2, frames[2, 1])
    ((peer, early),) = engines[1].outbox()
    assert (peer, early.round) == (0, 2)
    engines[0].receive(1, early)  # buffered: party 0 is still in round 1
    expect_remote(engines[0], 1, early, "duplicate frame", 2)


def test_engine_rejects_a_stale_frame() -> None:
    _, engines, frames = fresh_shamir()
    engines[0].receive(1, frames[1, 0])
    expect_remote(engines[0], 1, frames[1, 0], "stale", 1)


@pytest.mark.parametrize("round_", [0, 3, 99])
def test_engine_rejects_a_round_outside_the_plan(round_: int) -> None:
    _, engines, frames = fresh_shamir()
    expect_remote(
        engines[0], 1, dataclasses.replace(frames[1, 0], round=round_), "out-of-plan", round_
    )


@pytest.mark.parametrize("step", [1, 7, 10**6])
def test_engine_rejects_a_step_outside_the_layer(step: int) -> None:
    _, engines, frames = fresh_shamir()
    bogus = dataclasses.replace(frames[1, 0], step=step)
    expect_remote(engines[0], 1, bogus, "out-of-plan", 1)


def test_engine_rejects_a_frame_after_the_job() -> None:
    plan = plan_for(secure_sum, "additive", 2, 2)
    engines = make_engines(plan, sum_inputs(2, 2, lambda p, i: i))
    Router(engines).run()
    frame = Frame(SESSION, 1, 0, 1, "data", {0: [np.zeros(3, dtype=np.uint64)]})
    expect_remote(engines[0], 1, frame, "after the job finished", 1)


@pytest.mark.parametrize("payload", [[np.zeros(4, dtype=np.uint64)], None, "x", b"x", 3])
def test_engine_rejects_a_payload_that_is_not_a_map(payload: Any) -> None:
    _, engines, frames = fresh_shamir()
    expect_remote(engines[0], 1, dataclasses.replace(frames[1, 0], payload=payload), "map", 1)


@pytest.mark.parametrize("payload", [{}, {1: [np.zeros(4, dtype=np.uint64)]}, {"0": []}])
def test_engine_rejects_missing_or_unknown_groups(payload: dict[Any, Any]) -> None:
    _, engines, frames = fresh_shamir()
    bad = dataclasses.replace(frames[1, 0], payload=payload)
    expect_remote(engines[0], 1, bad, r"carries groups .*expected \[0\]", 1)


def test_engine_rejects_an_extra_group() -> None:
    _, engines, frames = fresh_shamir()
    payload = {**frames[1, 0].payload, 1: [np.zeros(4, dtype=np.uint64)]}
    expect_remote(engines[0], 1, dataclasses.replace(frames[1, 0], payload=payload), "groups", 1)


def test_engine_rejects_a_frame_nobody_expects() -> None:
    _, engines, frames = fresh_shamir()
    # party 2 sends nothing to party 0 in round 1 (party 0 holds a seeded share of 2's input)
    stray = Frame(SESSION, 1, 0, 2, "data", {0: [np.zeros(4, dtype=np.uint64)]})
    engines[0].receive(2, stray)  # buffered: it might be early
    with pytest.raises(RemoteProtocolError, match="nobody expects") as info:
        engines[0].receive(1, frames[1, 0])
    assert (info.value.peer, info.value.round) == (2, 1)


BAD_ARRAYS = [
    pytest.param([np.zeros(3, dtype=np.uint64)], id="short"),
    pytest.param([np.zeros(5, dtype=np.uint64)], id="long"),
    pytest.param([np.zeros(4, dtype=np.int64)], id="int64"),
    pytest.param([np.zeros(4, dtype=np.float64)], id="float"),
    pytest.param(["0000"], id="string"),
    pytest.param([], id="empty"),
    pytest.param(np.zeros(4, dtype=np.uint64), id="bare-array"),
]


@pytest.mark.parametrize("arrays", BAD_ARRAYS)
def test_engine_rejects_wrong_arrays_naming_the_peer(arrays: Any) -> None:
    _, engines, frames = fresh_shamir()
    with pytest.raises(RemoteProtocolError, match=r"expected|missing") as info:
        engines[0].receive(1, dataclasses.replace(frames[1, 0], payload={0: arrays}))
    assert info.value.peer == 1
    assert str(info.value).startswith("party 1")


@pytest.mark.parametrize("round_", [1, 2])
def test_engine_wrong_arrays_name_the_round(round_: int) -> None:
    _, engines, frames = fresh_shamir()
    if round_ == 2:
        engines[0].receive(1, frames[1, 0])
        engines[0].outbox()  # its round-2 frames go out (as a transport takes them)
        engines[1].receive(2, frames[2, 1])
        ((_, frame),) = engines[1].outbox()
    else:
        frame = frames[1, 0]
    bad = dataclasses.replace(frame, payload={0: [np.zeros(3, dtype=np.uint64)]})
    expect_remote(engines[0], 1, bad, "expected", round_)


def test_engine_rejects_bad_construction() -> None:
    plan = plan_for(secure_sum, "additive", 3, 2)
    keys = random_pair_keys(3)
    inputs = {KEY: column([1, 2])}
    with pytest.raises(LocalProtocolError, match="party 3 is not one of the plan's 3"):
        Engine(plan, 3, session=SESSION, inputs=inputs, pair_keys=keys[0])
    with pytest.raises(LocalProtocolError, match=r"pair keys needed for parties \[1, 2\]"):
        Engine(plan, 0, session=SESSION, inputs=inputs, pair_keys={1: keys[0][1]})


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (None, "input values.value of party 0 is missing"),
        (np.array([1, 2, 3], dtype=np.int32), r"expected int64\[3\], got int32\[3\]"),
        (np.array([1, 2], dtype=np.int64), r"expected int64\[3\], got int64\[2\]"),
        (np.array([[1, 2, 3]], dtype=np.int64), r"expected int64\[3\], got int64\[1, 3\]"),
        (np.array([1.0, 2.0, 3.0]), r"expected int64\[3\], got float64\[3\]"),
        (np.array([0, 2**BITS, 0], dtype=np.int64), f"exceeds 2\\^{BITS}"),
        (np.array([0, -(2**BITS), 0], dtype=np.int64), f"exceeds 2\\^{BITS}"),
        (np.array([2**62, 0, 0], dtype=np.int64), f"exceeds 2\\^{BITS}"),
    ],
    ids=["missing", "int32", "short", "2d", "float", "too-big", "too-small", "huge"],
)
def test_engine_rejects_bad_inputs(values: np.ndarray | None, match: str) -> None:
    plan = plan_for(secure_sum, "shamir", 3, 3, params={"bits": BITS})
    inputs = {} if values is None else {KEY: values}
    with pytest.raises(LocalProtocolError, match=match):
        Engine(plan, 0, session=SESSION, inputs=inputs, pair_keys=random_pair_keys(3)[0])


@dsl.circuit
def column_sums(job: dsl.Job) -> None:
    m = dsl.input(0, "m", ["a", "b", "c"], bits=BITS)
    dsl.reveal(dsl.sum(m, axis=0), "sums")


def test_engine_names_the_column_of_a_matrix_input_that_is_out_of_range() -> None:
    plan = plan_for(column_sums, "shamir", 3, 2)
    good = {("m", name): np.array([1, -2], dtype=np.int64) for name in "abc"}
    assert run_plan(plan, {0: good}).outputs["sums"].tolist() == [-1, -1, -1]
    bad = {**good, ("m", "b"): np.array([0, -(2**BITS)], dtype=np.int64)}
    with pytest.raises(LocalProtocolError, match=f"input m.b exceeds 2\\^{BITS}"):
        Engine(plan, 0, session=SESSION, inputs=bad, pair_keys=random_pair_keys(3)[0])


def test_engine_accepts_inputs_at_the_bound() -> None:
    top = 2**BITS - 1
    plan = plan_for(secure_sum, "shamir", 3, 2, params={"bits": BITS})
    run = run_plan(plan, sum_inputs(3, 2, lambda p, i: top if i == 0 else -top))
    assert run.outputs["sum"].tolist() == [3 * top, -3 * top]


def test_engine_ignores_inputs_the_plan_does_not_need() -> None:
    plan = plan_for(secure_sum, "additive", 2, 1)
    inputs = sum_inputs(2, 1, lambda p, i: 5)
    inputs[0][("other", "column")] = column([1, 2, 3])
    assert run_plan(plan, inputs).outputs["total"].tolist() == 10


# --- results: driver outputs, agreement -----------------------------------------------------------


def driver_run(protocol: str, n: int = 3, rows: int = 3) -> tuple[Plan, dict[int, dict]]:
    plan = plan_for(secure_sum, protocol, n, rows, receivers=("driver",))
    run = run_plan(plan, sum_inputs(n, rows, lambda p, i: p * i))
    return plan, {r.party: dict(r.driver_shares) for r in run.parties}


@pytest.mark.parametrize(("n", "victim"), [(3, 0), (3, 2), (5, 1), (5, 4)])
@pytest.mark.parametrize("output", ["sum", "total"])
def test_results_tampered_shamir_driver_share_is_caught(n: int, victim: int, output: str) -> None:
    plan, shares = driver_run("shamir", n)
    assert reconstruct_driver_outputs(plan, shares)["total"].tolist() == sum(range(n)) * 3
    share = shares[victim][output].copy()
    share.reshape(-1)[0] = F61.add(share.reshape(-1)[0], np.uint64(1))
    shares[victim][output] = share
    with pytest.raises(VerificationError, match=f"shares of output '{output}' are inconsistent"):
        reconstruct_driver_outputs(plan, shares)


@pytest.mark.parametrize("protocol", ["additive", "shamir"])
def test_results_missing_or_malformed_driver_share(protocol: str) -> None:
    plan, shares = driver_run(protocol)
    missing = {p: dict(s) for p, s in shares.items()}
    del missing[1]["total"]
    with pytest.raises(VerificationError, match="party 1 sent no share of output 'total'"):
        reconstruct_driver_outputs(plan, missing)
    with pytest.raises(VerificationError, match="party 2 sent no share"):
        reconstruct_driver_outputs(plan, {0: shares[0], 1: shares[1]})
    for bad in (shares[2]["sum"][:-1], shares[2]["sum"].astype(np.int64), np.array([1])):
        malformed = {**shares, 2: {**shares[2], "sum": bad}}
        with pytest.raises(VerificationError, match="party 2's share of 'sum' is malformed"):
            reconstruct_driver_outputs(plan, malformed)


def test_results_receivers_that_disagree_are_caught() -> None:
    plan = plan_for(secure_sum, "additive", 3, 2)
    run = run_plan(plan, sum_inputs(3, 2, lambda p, i: 1))
    per_party = {r.party: dict(r.outputs) for r in run.parties}
    assert merge_outputs(plan, per_party)["sum"].tolist() == [3, 3]
    per_party[2]["sum"] = np.array([3, 4])
    with pytest.raises(VerificationError, match="receivers disagree on output 'sum'"):
        merge_outputs(plan, per_party)


# --- the router ----------------------------------------------------------------------------------


class DroppingEngine:
    """An engine whose first outgoing frame is lost."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dropped: list[tuple[int, Frame]] = []

    def outbox(self) -> list[tuple[int, Frame]]:
        out = self._engine.outbox()
        if out and not self.dropped:
            self.dropped.append(out.pop(0))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@pytest.mark.parametrize(("protocol", "n"), [("additive", 3), ("shamir", 3), ("shamir", 5)])
def test_router_reports_a_deadlock_when_a_frame_is_lost(protocol: str, n: int) -> None:
    plan = plan_for(secure_sum, protocol, n, 2)
    engines: list[Any] = make_engines(plan, sum_inputs(n, 2, lambda p, i: 1))
    engines[1] = DroppingEngine(engines[1])
    with pytest.raises(LocalProtocolError, match="deadlock: parties wait for") as info:
        Router(engines).run()
    ((receiver, _),) = engines[1].dropped
    assert f"{receiver}: [1]" in str(info.value)  # the victim waits for the dropper
    assert not engines[receiver].done


def test_router_without_wire_gives_the_same_results() -> None:
    plan = plan_for(linear, "shamir", 5, 3)
    values = {p: [p, -p, 2 * p] for p in range(5)}
    inputs = {p: {KEY: column(v)} for p, v in values.items()}
    inputs[0][EXTRA] = column([7, 8, 9])
    engines = make_engines(plan, inputs)
    parties = Router(engines, through_wire=False).run()
    expected = linear_plaintext(values, [7, 8, 9])
    driver = reconstruct_driver_outputs(plan, {r.party: r.driver_shares for r in parties})
    check_outputs(plan, parties, driver, expected)


@pytest.mark.parametrize(
    ("protocol", "n", "t"),
    [("additive", n, None) for n in range(2, 8)]
    + [("shamir", n, t) for n in range(3, 8) for t in range(1, (n - 1) // 2 + 1)],
)
def test_engine_secure_sum_every_supported_n_matches_plaintext(
    protocol: str, n: int, t: int | None
) -> None:
    """secure_sum at full input width (|x| < 2^40) for every n and threshold the suites allow."""
    rows = 100
    generator = np.random.default_rng(n * 10 + (t or 0))
    values = {p: generator.integers(-(2**40) + 1, 2**40, rows) for p in range(n)}
    plan = plan_for(secure_sum, protocol, n, rows, t)
    run = run_plan(plan, {p: {KEY: v} for p, v in values.items()})
    expected = np.sum(list(values.values()), axis=0)
    assert run.outputs["sum"].tolist() == expected.tolist()
    assert int(run.outputs["total"]) == int(expected.sum())
    for party in run.parties:  # every party is a receiver by default
        assert party.outputs["sum"].tolist() == expected.tolist()


def test_engine_pauses_to_send_before_working_on_frames_that_came_early() -> None:
    _, engines, frames = fresh_shamir()
    engines[1].receive(2, frames[2, 1])
    ((_, round_2),) = engines[1].outbox()
    engines[0].receive(1, round_2)  # party 1's round-2 frame, before party 0 finished round 1
    assert not engines[0].paused
    engines[0].receive(1, frames[1, 0])  # round 1 done; round 2's input is already here
    assert engines[0].paused  # its own round-2 frames must go out before it works on round 2
    sent = engines[0].outbox()
    assert sent
    assert all(frame.round == 2 for _, frame in sent)
    assert engines[0].current_round == 2
    assert not engines[0].done
    engines[0].resume()
    assert not engines[0].paused
    assert engines[0].current_round == 3 or engines[0].done  # round 2 used the early frame
