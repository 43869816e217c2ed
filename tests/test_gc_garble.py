"""Half-gates garbling: equals the plaintext circuit, one label per wire, exact ZRE15 equations,
unique tweaks, tamper sensitivity, chunking and batching."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.gc import library
from mpc.gc.aes import FixedKeyAes, lsb
from mpc.gc.circuit import Circuit, CircuitBuilder, Op, evaluate, to_bits
from mpc.gc.garble import EvaluateSession, GarbleSession, garble
from mpc.gc.garble import evaluate as evaluate_tables
from mpc.rng import Csprng
from tests.gc_helpers import expected_labels, garbled_run, random_circuit, reference_eval

LIBRARY: dict[str, Callable[[int], Circuit]] = {
    "lt": lambda w: library.comparison(w, "lt"),
    "ge": lambda w: library.comparison(w, "ge"),
    "gt_signed": lambda w: library.comparison(w, "gt", signed=True),
    "le": lambda w: library.comparison(w, "le"),
    "eq": library.equality,
    "ltz": library.ltz,
    "add": library.adder,
    "sub": lambda w: library.adder(w, difference=True),
    "mux": library.multiplexer,
    "argmax3": lambda w: library.maximum(3, w, index=True),
}


def random_inputs(c: Circuit, n: int, seed: int) -> list[np.ndarray]:
    data = np.random.default_rng(seed)
    return [data.integers(0, 2, (n, w)).astype(np.uint8) for w in c.input_widths]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_garble_library_every_width_matches_plaintext(name: str) -> None:
    g = GarbleSession(Csprng())
    sessions = (g, EvaluateSession(g.key))  # one job: the gate counter runs on
    for width in range(1, 65):
        c = LIBRARY[name](width)
        inputs = random_inputs(c, 9, width)
        bits, _, _, _, _ = garbled_run(c, inputs, sessions=sessions)
        assert same(bits, evaluate(c, inputs)), width


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(LIBRARY)),
    width=st.integers(1, 64),
    n=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
)
def test_garble_library_matches_plaintext(name: str, width: int, n: int, seed: int) -> None:
    c = LIBRARY[name](width)
    inputs = random_inputs(c, n, seed)
    bits, _, _, _, _ = garbled_run(c, inputs, rng=Csprng(seed.to_bytes(32, "little")))
    assert same(bits, evaluate(c, inputs))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    gates=st.integers(1, 120),
    n=st.integers(1, 70),
    chunk=st.sampled_from([1, 3, 16, 1 << 14]),
    batch=st.sampled_from([None, 1, 7]),
)
def test_garble_random_circuits_match_plaintext(
    seed: int, gates: int, n: int, chunk: int, batch: int | None
) -> None:
    c = random_circuit(seed, widths=(5, 4), gates=gates, outputs=6)
    inputs = random_inputs(c, n, seed)
    bits, _, _, _, _ = garbled_run(c, inputs, chunk=chunk, batch=batch)
    assert same(bits, reference_eval(c, inputs))


def all_wires_circuit(seed: int) -> Circuit:
    """A random circuit in which every gate output is also a circuit output."""
    c = random_circuit(seed, gates=60)
    b = CircuitBuilder()
    ids: dict[int, int] = {}
    for group in c.inputs:
        for old, new in zip(group.tolist(), b.input(group.size), strict=True):
            ids[old] = new
    for op, x, y, z in zip(c.op.tolist(), c.a.tolist(), c.b.tolist(), c.out.tolist(), strict=True):
        ids[z] = b._emit(Op(op), ids[x], ids[y] if op != Op.INV else -1)
    b.output([ids[z] for z in c.out.tolist()])
    return b.build()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_garble_evaluator_holds_one_label_per_wire(seed: int) -> None:
    c = all_wires_circuit(seed)
    inputs = random_inputs(c, 50, seed)
    _, zero, labels, g, _ = garbled_run(c, inputs)
    values = evaluate(c, inputs)[0]
    # every wire: the evaluator's label is W⁰ ⊕ v·Δ for the wire's true value v, so it holds
    # exactly one of the two labels; its colour is lsb(W⁰) ⊕ v because lsb(Δ) = 1
    assert np.array_equal(labels[0], expected_labels(zero[0], values, g.delta))
    assert np.array_equal(lsb(labels[0]), lsb(zero[0]) ^ values.T)
    other = expected_labels(zero[0], 1 - values, g.delta)
    assert not np.any(np.all(labels[0] == other, axis=-1))
    assert g.delta[0] & np.uint64(1) == 1


def reference_garble(
    c: Circuit, zeros: list[np.ndarray], delta: np.ndarray, key: bytes, first_gate: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """ZRE15 gate by gate with the exact TCCR hash; gates numbered in processing order."""
    aes = FixedKeyAes(key)
    n = zeros[0].shape[1]
    wire: dict[int, np.ndarray] = {}
    for group, z in zip(c.inputs, zeros, strict=True):
        for k, w in enumerate(group.tolist()):
            wire[w] = z[k]
    g = first_gate
    tables: list[np.ndarray] = []
    for op, a, b, out in zip(
        c.op.tolist(), c.a.tolist(), c.b.tolist(), c.out.tolist(), strict=True
    ):
        if op == Op.XOR:
            wire[out] = wire[a] ^ wire[b]
        elif op == Op.INV:
            wire[out] = wire[a] ^ delta
        else:
            a0, b0 = wire[a], wire[b]
            j = np.arange(g, g + n, dtype=np.uint64) * np.uint64(2)
            g += n
            pa = (a0[:, :1] & np.uint64(1)).astype(bool)
            pb = (b0[:, :1] & np.uint64(1)).astype(bool)
            ha0, ha1 = aes.hash(a0, j), aes.hash(a0 ^ delta, j)
            hb0, hb1 = aes.hash(b0, j + np.uint64(1)), aes.hash(b0 ^ delta, j + np.uint64(1))
            tg = ha0 ^ ha1 ^ np.where(pb, delta, 0).astype(np.uint64)
            te = hb0 ^ hb1 ^ a0
            wg = ha0 ^ np.where(pa, tg, 0).astype(np.uint64)
            we = hb0 ^ np.where(pb, te ^ a0, 0).astype(np.uint64)
            wire[out] = wg ^ we
            tables.append(np.concatenate([tg, te]))
    return tables, [np.stack([wire[w] for w in grp.tolist()]) for grp in c.outputs]


def test_garble_tables_follow_the_half_gates_equations_exactly() -> None:
    # a circuit with one AND gate per level: one table chunk per gate, in gate order
    b = CircuitBuilder()
    x, y = b.input(6), b.input(6)
    b.output([library.greater(b, x, y)])
    c = b.build()
    g = GarbleSession(Csprng(bytes(32)))
    g.next_gate = 12345
    zeros = [g.zero_labels(6, 5), g.zero_labels(6, 5)]
    expected_tables, expected_out = reference_garble(c, zeros, g.delta, g.key, 12345)
    tables, out = garble(g, c, zeros)
    assert len(tables) == len(expected_tables) == c.and_count
    assert all(np.array_equal(t, e) for t, e in zip(tables, expected_tables, strict=True))
    assert np.array_equal(out[0], expected_out[0])
    assert g.next_gate == 12345 + c.and_count * 5


def test_garble_gate_ids_never_repeat_within_a_session() -> None:
    c = library.comparison(8, "lt")
    inputs = random_inputs(c, 40, 0)
    g = GarbleSession(Csprng())
    e = EvaluateSession(g.key)
    used: list[range] = []
    for _ in range(3):
        start = g.next_gate
        bits, _, _, _, _ = garbled_run(c, inputs, sessions=(g, e))
        assert same(bits, evaluate(c, inputs))
        assert e.next_gate == g.next_gate == start + c.and_count * 40
        used.append(range(start, g.next_gate))
    # each gate id g gives the tweaks 2g and 2g + 1: disjoint id ranges, disjoint tweaks
    ids = [i for r in used for i in r]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("half", [0, 1], ids=["T_G", "T_E"])
def test_garble_flipped_table_byte_changes_the_output(half: int) -> None:
    # flip one byte of one row (one gate, one instance) at a time: if the evaluator used that
    # row, its output label is neither of the two valid labels; otherwise nothing changes
    c = library.comparison(32, "gt")
    n = 16
    inputs = random_inputs(c, n, 5)
    g = GarbleSession(Csprng())
    zeros = [g.zero_labels(32, n) for _ in range(2)]
    labels = [g.encode(z, x) for z, x in zip(zeros, inputs, strict=True)]
    tables, out0 = garble(g, c, zeros)
    assert len(tables) == c.and_count  # one AND per level: one chunk (2n rows) per gate
    truth = evaluate(c, inputs)[0]
    good = evaluate_tables(EvaluateSession(g.key), c, labels, tables)[0]
    wrong = expected_labels(out0[0], 1 - truth, g.delta)
    changed = 0
    for gate in range(c.and_count):
        for instance in (gate % n, (gate * 7 + 3) % n):
            bad = [t.copy() for t in tables]
            bad[gate].view(np.uint8).reshape(-1, 16)[half * n + instance, gate % 16] ^= 0x5A
            out = evaluate_tables(EvaluateSession(g.key), c, labels, bad)[0]
            others = np.arange(n) != instance
            assert np.array_equal(out[:, others], good[:, others])
            if not np.array_equal(out[:, instance], good[:, instance]):
                changed += 1
                assert not np.array_equal(out[:, instance], wrong[:, instance])
    assert changed >= c.and_count // 2  # each row is used with probability 1/2


def test_garble_xor_shares_of_the_outputs_are_free() -> None:
    c = library.ltz(16)
    inputs = random_inputs(c, 100, 3)
    _, zero, labels, _, _ = garbled_run(c, inputs)
    garbler_share, evaluator_share = lsb(zero[0]).T, lsb(labels[0]).T
    assert np.array_equal(garbler_share ^ evaluator_share, evaluate(c, inputs)[0])


def test_garble_large_batches_use_both_chunk_kinds() -> None:
    c = library.comparison(4, "lt")
    inputs = random_inputs(c, 5000, 4)
    for chunk in (64, 1 << 14):  # 5000 instances: gate-by-gate parts, then gathered parts
        bits, _, _, _, _ = garbled_run(c, inputs, chunk=chunk)
        assert same(bits, evaluate(c, inputs))


def test_garble_evaluate_rejects_wrong_tables() -> None:
    c = library.comparison(4, "lt")
    inputs = random_inputs(c, 3, 4)
    g = GarbleSession(Csprng())
    zeros = [g.zero_labels(4, 3) for _ in range(2)]
    labels = [g.encode(z, x) for z, x in zip(zeros, inputs, strict=True)]
    tables, _ = garble(g, c, zeros)
    with pytest.raises(ValueError, match="fewer tables"):
        evaluate_tables(EvaluateSession(g.key), c, labels, tables[:-1])
    with pytest.raises(ValueError, match="more tables"):
        evaluate_tables(EvaluateSession(g.key), c, labels, [*tables, tables[0]])
    with pytest.raises(ValueError, match="table"):
        evaluate_tables(EvaluateSession(g.key), c, labels, [t[:-1] for t in tables])


def test_garble_checks_the_input_labels() -> None:
    c = library.comparison(4, "lt")
    g = GarbleSession(Csprng())
    with pytest.raises(ValueError, match="input groups"):
        next(g.garble_stream(c, [g.zero_labels(4, 2)]))
    with pytest.raises(ValueError, match="shape"):
        next(g.garble_stream(c, [g.zero_labels(4, 2), g.zero_labels(3, 2)]))
    with pytest.raises(ValueError, match="same number"):
        next(g.garble_stream(c, [g.zero_labels(4, 2), g.zero_labels(4, 3)]))


def test_garble_encode_gives_the_garblers_labels() -> None:
    g = GarbleSession(Csprng())
    zero = g.zero_labels(8, 10)
    bits = to_bits(np.arange(10), 8)
    assert np.array_equal(g.encode(zero, bits), expected_labels(zero, bits, g.delta))
