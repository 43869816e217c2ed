"""The circuit library: AND counts per width and plaintext correctness."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.gc import library
from mpc.gc.circuit import CircuitBuilder, evaluate, from_bits, to_bits

WIDTHS = range(1, 65)


def values(data: np.random.Generator, n: int, width: int) -> np.ndarray:
    v = data.integers(0, 2**63, n, dtype=np.uint64) ^ (
        data.integers(0, 2, n, dtype=np.uint64) << np.uint64(63)
    )
    return v & np.uint64((1 << width) - 1)


def signed(v: np.ndarray, width: int) -> np.ndarray:
    """Two's complement value of l-bit v as Python ints (object array)."""
    return np.array(
        [int(x) - (1 << width) if int(x) >> (width - 1) else int(x) for x in v], dtype=object
    )


def test_library_and_counts_for_every_width() -> None:
    for w in WIDTHS:
        for op in ("lt", "le", "gt", "ge"):
            assert library.comparison(w, op).and_count == w
            assert library.comparison(w, op, signed=True).and_count == w
        assert library.equality(w).and_count == w - 1
        assert library.equality(w).and_depth == math.ceil(math.log2(w))
        assert library.ltz(w).and_count == w - 1
        assert library.ltz(w, negate=True).and_count == w - 1
        assert library.adder(w).and_count == w - 1
        assert library.adder(w, difference=True).and_count == w - 1
        assert library.multiplexer(w).and_count == w


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_library_max_tree_and_counts(count: int) -> None:
    w = 16
    index_bits = max(1, (count - 1).bit_length())
    assert library.maximum(count, w).and_count == (count - 1) * 2 * w
    argmax = library.maximum(count, w, index=True)
    # index selects at the leaves fold into the comparison bits: at most ⌈log₂ count⌉ per node
    assert argmax.and_count <= (count - 1) * (2 * w + index_bits)
    assert library.maximum(count, w, shared=True).and_count == (count - 1) * 2 * w + count * (w - 1)


def test_library_circuits_are_built_once_per_width() -> None:
    assert library.comparison(32, "lt") is library.comparison(32, "lt")
    assert library.comparison(32, "lt") is not library.comparison(32, "le")


@settings(max_examples=80, deadline=None)
@given(width=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_library_comparisons_match_plaintext(width: int, seed: int) -> None:
    data = np.random.default_rng(seed)
    x, y = values(data, 64, width), values(data, 64, width)
    y[:8] = x[:8]  # ties
    bits = [to_bits(x, width), to_bits(y, width)]
    for op, f in (
        ("lt", np.less),
        ("le", np.less_equal),
        ("gt", np.greater),
        ("ge", np.greater_equal),
    ):
        assert np.array_equal(evaluate(library.comparison(width, op), bits)[0][:, 0], f(x, y))
        sx, sy = signed(x, width), signed(y, width)
        got = evaluate(library.comparison(width, op, signed=True), bits)[0][:, 0]
        assert np.array_equal(got, f(sx, sy).astype(np.uint8))
    assert np.array_equal(evaluate(library.equality(width), bits)[0][:, 0], x == y)


@settings(max_examples=80, deadline=None)
@given(width=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_library_arithmetic_matches_plaintext(width: int, seed: int) -> None:
    data = np.random.default_rng(seed)
    mask = np.uint64((1 << width) - 1)
    x, y = values(data, 64, width), values(data, 64, width)
    bits = [to_bits(x, width), to_bits(y, width)]
    assert np.array_equal(from_bits(evaluate(library.adder(width), bits)[0]), (x + y) & mask)
    got = from_bits(evaluate(library.adder(width, difference=True), bits)[0])
    assert np.array_equal(got, (x - y) & mask)
    msb = ((x + y) & mask) >> np.uint64(width - 1)
    assert np.array_equal(evaluate(library.ltz(width), bits)[0][:, 0], msb)
    assert np.array_equal(evaluate(library.ltz(width, negate=True), bits)[0][:, 0], 1 - msb)
    s = data.integers(0, 2, (64, 1)).astype(np.uint8)
    got = from_bits(evaluate(library.multiplexer(width), [s, *bits])[0])
    assert np.array_equal(got, np.where(s[:, 0] == 1, x, y))


@settings(max_examples=30, deadline=None)
@given(width=st.integers(2, 63), seed=st.integers(0, 2**32 - 1))
def test_library_shared_less_than_matches_plaintext(width: int, seed: int) -> None:
    # [a < b] for additive shares a = a0 + a1, b = b0 + b1 (mod 2^l), |a − b| < 2^{l−1}
    data = np.random.default_rng(seed)
    mask = np.uint64((1 << width) - 1)
    half = 1 << (width - 2)
    a = data.integers(-half, half, 64)
    b = data.integers(-half, half, 64)
    a0, b0 = values(data, 64, width), values(data, 64, width)
    a1 = (a.astype(np.uint64) - a0) & mask
    b1 = (b.astype(np.uint64) - b0) & mask
    d0, d1 = library.local_difference(a0, b0, width), library.local_difference(a1, b1, width)
    got = evaluate(library.ltz(width), [to_bits(d0, width), to_bits(d1, width)])[0][:, 0]
    assert np.array_equal(got, a < b)
    # a = b by equality of d0 and −d1
    eq = evaluate(library.equality(width), [to_bits(d0, width), to_bits((-d1) & mask, width)])
    assert np.array_equal(eq[0][:, 0], a == b)


@settings(max_examples=30, deadline=None)
@given(
    count=st.integers(1, 9),
    width=st.integers(1, 20),
    is_signed=st.booleans(),
    shared=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_library_max_argmax_matches_plaintext(
    count: int, width: int, is_signed: bool, shared: bool, seed: int
) -> None:
    data = np.random.default_rng(seed)
    mask = np.uint64((1 << width) - 1)
    v = np.stack([values(data, 50, width) for _ in range(count)], axis=1)
    v[:5, -1] = v[:5, 0]  # ties: the lower index wins
    c = library.maximum(count, width, signed=is_signed, shared=shared, index=True)
    if shared:
        s0 = np.stack([values(data, 50, width) for _ in range(count)], axis=1)
        s1 = (v - s0) & mask
        inputs: list[np.ndarray] = [
            np.concatenate([to_bits(s[:, j], width) for j in range(count)], axis=1)
            for s in (s0, s1)
        ]
    else:
        inputs = [np.concatenate([to_bits(v[:, j], width) for j in range(count)], axis=1)]
    best, where = evaluate(c, inputs)
    keys = np.stack([signed(v[:, j], width) for j in range(count)], axis=1) if is_signed else v
    expected = np.array([np.argmax(row) for row in keys.tolist()])
    assert np.array_equal(from_bits(where), expected)
    assert np.array_equal(from_bits(best), v[np.arange(50), expected])


def test_library_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="op"):
        library.comparison(8, "ne")
    b = CircuitBuilder()
    with pytest.raises(ValueError, match="same width"):
        library.greater(b, b.input(2), b.input(3))
    with pytest.raises(ValueError, match="at least one value"):
        library.max_tree(b, [])
