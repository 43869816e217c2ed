"""Comparisons (garbled circuits between parties 0 and 1) through the DSL, in every suite.

The outputs must equal numpy's answer; the bytes each party sends must equal the plan's
prediction; the rounds must be the plan's; helpers and the two GC parties see only masked values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc import dsl
from mpc import suite as suite_module
from mpc.dsl import CompileSpec, Plan, compile
from mpc.preprocessing.providers import MADE_BY_PARTIES
from mpc.suite import Suite
from mpc.testing import run_plan

CONFIGS = [
    ("additive", 2, "dealer"),
    ("additive", 2, "ot"),
    ("shamir", 3, None),
    ("additive", 3, "dealer"),
    ("shamir", 5, None),
    ("additive", 3, "honest-majority"),
]
IDS = [f"{p}-{n}-{v or 'resharing'}" for p, n, v in CONFIGS]
BITS = 20


def plan_of(circuit: dsl.Circuit, config: tuple[str, int, str | None], rows: int) -> Plan:
    protocol, n, provider = config
    return compile(
        circuit, CompileSpec(Suite.of(protocol, n), default_rows=rows, preprocessing=provider)
    )


@dsl.circuit
def tests(job: dsl.Job) -> None:
    a = dsl.input(0, "d", "a", bits=BITS)
    b = dsl.input(1, "d", "b", bits=BITS)
    dsl.reveal(a < b, "lt")
    dsl.reveal(a <= b, "le")
    dsl.reveal(a > b, "gt")
    dsl.reveal(a >= b, "ge")
    dsl.reveal(a == b, "eq")
    dsl.reveal(a != b, "ne")
    dsl.reveal(a < 5, "lt_public")
    dsl.reveal(dsl.where(a > b, a, b), "larger")


@dsl.circuit
def selections(job: dsl.Job) -> None:
    m = dsl.input(0, "d", ["a", "b", "c"], bits=BITS)
    dsl.reveal(dsl.maximum(m), "max")
    dsl.reveal(dsl.minimum(m), "min")
    dsl.reveal(dsl.argmax(m), "argmax")


def expected_tests(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b, "eq": a == b, "ne": a != b,
        "lt_public": a < 5, "larger": np.maximum(a, b),
    }  # fmt: skip


values = st.integers(-(2**BITS) + 1, 2**BITS - 1)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@given(data=st.data())
@settings(max_examples=4, deadline=None)
def test_comparisons_match_numpy(config: tuple[str, int, str | None], data: Any) -> None:
    rows = data.draw(st.integers(1, 9))
    a = np.array(data.draw(st.lists(values, min_size=rows, max_size=rows)), dtype=np.int64)
    # ties and neighbours on purpose: equality and the boundaries are where bugs live
    near = st.sampled_from([0, 1, -1])
    b = a + np.array(data.draw(st.lists(near, min_size=rows, max_size=rows)), dtype=np.int64)
    swap = data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    b = np.where(swap, np.array(data.draw(st.lists(values, min_size=rows, max_size=rows))), b)
    b = np.clip(b, -(2**BITS) + 1, 2**BITS - 1)
    run = run_plan(plan_of(tests, config, rows), {0: {("d", "a"): a}, 1: {("d", "b"): b}})
    for name, want in expected_tests(a, b).items():
        np.testing.assert_array_equal(run.outputs[name], want.astype(np.int64), err_msg=name)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_extremes_and_argmax(config: tuple[str, int, str | None]) -> None:
    rng = np.random.default_rng(7)
    columns = rng.integers(-(2**BITS) + 1, 2**BITS, (3, 6))
    columns[1, 0] = columns[0, 0]  # a tie: argmax names the first
    m = columns.T
    run = run_plan(
        plan_of(selections, config, 6),
        {0: {("d", "a"): columns[0], ("d", "b"): columns[1], ("d", "c"): columns[2]}},
    )
    np.testing.assert_array_equal(run.outputs["max"], m.max(axis=1))
    np.testing.assert_array_equal(run.outputs["min"], m.min(axis=1))
    np.testing.assert_array_equal(run.outputs["argmax"], m.argmax(axis=1))


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_bytes_and_rounds_match_the_plan(config: tuple[str, int, str | None]) -> None:
    plan = plan_of(tests, config, 100)
    rng = np.random.default_rng(3)
    a, b = rng.integers(-1000, 1000, (2, 100))
    run = run_plan(plan, {0: {("d", "a"): a}, 1: {("d", "b"): b}})
    measured = [sum(p.payload_bytes_sent.values()) for p in run.parties]
    assert measured == list(plan.cost().bytes_sent)
    steps = {(f.round, f.step) for received in run.router.received for _, f in received}
    assert len({s for s in steps if s[0] > 0}) == plan.rounds  # every round carries messages
    assert all(p.rounds == plan.rounds for p in run.parties)
    provider = MADE_BY_PARTIES.get(plan.preprocessing or "")
    made = provider.offline_rounds(plan.suite, plan.needs()) if provider else 0
    # the OT/garbling sessions (2 rounds) run alongside the parties' own preprocessing; two
    # additive parties with a dealer compare on boolean shares: no sessions at all
    sessions = 0 if config == ("additive", 2, "dealer") else 2
    assert all(p.offline_rounds == max(sessions, made) for p in run.parties)


def test_two_party_ring_comparison_needs_no_preprocessing() -> None:
    """Additive n = 2 in Z_2^64: the bit conversion is a correlated OT, no triple, no dealer."""

    @dsl.circuit
    def only_tests(job: dsl.Job) -> None:
        a = dsl.input(0, "d", "a", bits=BITS)
        b = dsl.input(1, "d", "b", bits=BITS)
        dsl.reveal(a < b, "lt")
        dsl.reveal(a == b, "eq")

    plan = compile(only_tests, CompileSpec(Suite.of("additive", 2), default_rows=4))
    assert (plan.domain, plan.preprocessing, plan.needs()) == ("Z64", None, ())
    a = np.array([-3, 0, 7, 2**BITS - 1])
    b = np.array([-3, 1, 6, -(2**BITS) + 1])
    run = run_plan(plan, {0: {("d", "a"): a}, 1: {("d", "b"): b}})
    np.testing.assert_array_equal(run.outputs["lt"], (a < b).astype(np.int64))
    np.testing.assert_array_equal(run.outputs["eq"], (a == b).astype(np.int64))


def test_helpers_send_masked_parts_only() -> None:
    """A helper's part of d reaches E as part − pad: equal inputs give different messages."""
    plan = plan_of(tests, ("additive", 3, "dealer"), 50)
    a = np.zeros(50, dtype=np.int64)
    run = run_plan(plan, {0: {("d", "a"): a}, 1: {("d", "b"): a}})
    sent = [
        array
        for sender, frame in run.router.received[1]
        if sender == 2
        for arrays in frame.payload.values()
        for array in arrays
        if isinstance(array, np.ndarray) and array.size == 50
    ]
    assert sent
    assert all(len(np.unique(array)) > 40 for array in sent)


@pytest.mark.parametrize(("rows", "batch"), [(50, 8), (40, 40), (33, 16)])
def test_pipelined_batches_match_numpy_bytes_and_rounds(
    monkeypatch: pytest.MonkeyPatch, rows: int, batch: int
) -> None:
    """Big groups run in batches (garble i while evaluating i − 1): same answers, predicted
    bytes and rounds (batches + 1)."""
    monkeypatch.setattr(suite_module, "PIPELINE_BATCH", batch)
    plan = plan_of(tests, ("additive", 2, "ot"), rows)
    batches = suite_module.pipeline_batches([rows])
    compare_layers = [layer for layer in plan.layers if layer.groups[0].op == "compare"]
    assert all(layer.steps == batches + 1 for layer in compare_layers)
    rng = np.random.default_rng(rows)
    a, b = rng.integers(-(2**BITS) + 1, 2**BITS, (2, rows))
    b[::3] = a[::3]
    run = run_plan(plan, {0: {("d", "a"): a}, 1: {("d", "b"): b}})
    for name, want in expected_tests(a, b).items():
        np.testing.assert_array_equal(run.outputs[name], want.astype(np.int64), err_msg=name)
    measured = [sum(p.payload_bytes_sent.values()) for p in run.parties]
    assert measured == list(plan.cost().bytes_sent)
    assert all(p.rounds == plan.rounds for p in run.parties)
