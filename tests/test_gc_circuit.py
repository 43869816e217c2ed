"""The Boolean circuit IR: builder folding, validation, levelling, plaintext evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.gc.circuit import ONE, ZERO, Circuit, CircuitBuilder, Op, evaluate, from_bits, to_bits
from tests.gc_helpers import random_circuit, reference_eval


def test_circuit_builder_folds_constants_and_trivial_gates() -> None:
    b = CircuitBuilder()
    x, y = b.input(2)
    assert b.xor(x, x) == ZERO
    assert b.xor(x, ZERO) == x
    assert b.and_(x, ZERO) == ZERO
    assert b.and_(ONE, y) == y
    assert b.and_(y, y) == y
    assert b.inv(ZERO) == ONE
    assert b.inv(ONE) == ZERO
    assert b.xor(ONE, ONE) == ZERO
    assert b.or_(x, ZERO) == x
    not_x = b.xor(x, ONE)
    b.output([not_x])
    c = b.build()
    assert (c.and_count, c.xor_count, c.inv_count) == (0, 0, 1)


def test_circuit_builder_materialises_constant_outputs() -> None:
    b = CircuitBuilder()
    (x,) = b.input(1)
    b.output([ZERO, ONE, x])
    c = b.build()
    out = evaluate(c, [np.array([[0], [1]], dtype=np.uint8)])[0]
    assert out.tolist() == [[0, 1, 0], [0, 1, 1]]


def test_circuit_counts_and_depth() -> None:
    b = CircuitBuilder()
    x = b.input(4)
    t = b.and_(b.and_(x[0], x[1]), b.xor(x[2], x[3]))  # AND-depth 2
    b.output([b.inv(t)])
    c = b.build()
    assert (c.and_count, c.xor_count, c.inv_count, c.and_depth) == (2, 1, 1, 2)
    assert c.input_widths == (4,)
    assert c.output_widths == (1,)


def make(op: list[int], a: list[int], b: list[int], out: list[int], n_wires: int = 4) -> Circuit:
    return Circuit(
        n_wires,
        (np.array([0, 1]),),
        (np.array([out[-1]]),),
        np.array(op, np.uint8),
        np.array(a),
        np.array(b),
        np.array(out),
    )


def test_circuit_rejects_gates_out_of_order() -> None:
    with pytest.raises(ValueError, match="topological"):
        make([Op.XOR, Op.AND], [0, 2], [3, 1], [2, 3])


def test_circuit_rejects_a_wire_defined_twice() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        make([Op.XOR, Op.AND], [0, 0], [1, 1], [2, 2])


def test_circuit_rejects_bad_ids_and_ops() -> None:
    with pytest.raises(ValueError, match="wire ids"):
        make([Op.XOR], [0], [7], [2])
    with pytest.raises(ValueError, match=r"AND \(0\), XOR \(1\) or INV \(2\)"):
        make([5], [0], [1], [2])


def test_circuit_arrays_are_frozen() -> None:
    c = random_circuit(1)
    with pytest.raises(ValueError, match="read-only"):
        c.a[0] = 1


def test_circuit_bits_round_trip() -> None:
    values = np.array([0, 1, 5, 2**63 + 3], dtype=np.uint64)
    bits = to_bits(values, 64)
    assert bits[2, :3].tolist() == [1, 0, 1]
    assert np.array_equal(from_bits(bits), values)
    assert to_bits(np.array([-1]), 4).tolist() == [[1, 1, 1, 1]]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 130), gates=st.integers(1, 80))
def test_circuit_evaluate_matches_plaintext(seed: int, n: int, gates: int) -> None:
    c = random_circuit(seed, gates=gates)
    data = np.random.default_rng(seed)
    inputs = [data.integers(0, 2, (n, w)).astype(np.uint8) for w in c.input_widths]
    got = evaluate(c, inputs)
    assert all(np.array_equal(g, e) for g, e in zip(got, reference_eval(c, inputs), strict=True))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gates=st.integers(1, 120))
def test_circuit_schedule_invariants(seed: int, gates: int) -> None:
    c = random_circuit(seed, gates=gates)
    sched = c.schedule
    assert sum(s.c.size + s.inv_c.size for s in sched.steps) == c.op.size
    assert sched.n_slots <= c.n_wires
    assert sum(s.is_and for s in sched.steps) == c.and_depth
    for step in sched.steps:
        written = np.concatenate([step.c, step.inv_c])
        read = np.concatenate([step.a, step.b, step.inv_a])
        assert np.unique(written).size == written.size  # no slot written twice in a step
        assert not np.intersect1d(written, read).size  # never overwrites its own inputs
        if step.is_and:
            assert step.inv_c.size == 0


def test_circuit_evaluate_checks_input_shapes() -> None:
    c = random_circuit(2)
    with pytest.raises(ValueError, match="input groups"):
        evaluate(c, [np.zeros((1, 4), np.uint8)])
    with pytest.raises(ValueError, match="shape"):
        evaluate(c, [np.zeros((1, 4), np.uint8), np.zeros((1, 2), np.uint8)])
