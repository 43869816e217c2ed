"""Tests of mpc.field: Z_2^64 and F_(2^61-1) against Python-int arithmetic, Lagrange, inverses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.field import F61, RING64, lagrange
from mpc.rng import Csprng

P = 2**61 - 1
R = 2**64
F_EDGES = [0, 1, 2, P - 1, P - 2, 2**32 - 1, 2**32, 2**32 + 1, 2**60, 2**60 - 1, 2**61 - 2]
R_EDGES = [0, 1, 2, 2**32 - 1, 2**32, 2**60, 2**61 - 1, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1]

DOMAINS = [(F61, P, F_EDGES), (RING64, R, R_EDGES)]


def elements(modulus: int, edges: list[int]) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(edges), st.integers(0, modulus - 1))


def element_lists(modulus: int, edges: list[int], size: int | None = None) -> st.SearchStrategy:
    lo, hi = (0, 24) if size is None else (size, size)
    return st.lists(elements(modulus, edges), min_size=lo, max_size=hi)


def arr(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64).reshape(len(values))


def pairs(modulus: int, edges: list[int]) -> st.SearchStrategy[tuple[list[int], list[int]]]:
    return st.integers(0, 24).flatmap(
        lambda n: st.tuples(element_lists(modulus, edges, n), element_lists(modulus, edges, n))
    )


def as_ints(a: np.ndarray) -> list[int]:
    return [int(v) for v in np.asarray(a).reshape(-1)]


def check_elementwise(result: np.ndarray, expected: list[int], modulus: int) -> None:
    result = np.asarray(result)
    assert result.dtype == np.uint64
    assert as_ints(result) == expected
    assert all(v < modulus for v in as_ints(result))


# --- elementwise arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(("domain", "modulus", "edges"), DOMAINS, ids=["F61", "RING64"])
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_domain_add_sub_mul_matches_plaintext(
    domain: object, modulus: int, edges: list[int], data: st.DataObject
) -> None:
    a, b = data.draw(pairs(modulus, edges))
    x, y = arr(a), arr(b)
    check_elementwise(
        domain.add(x, y), [(u + v) % modulus for u, v in zip(a, b, strict=True)], modulus
    )
    check_elementwise(
        domain.sub(x, y), [(u - v) % modulus for u, v in zip(a, b, strict=True)], modulus
    )
    check_elementwise(
        domain.mul(x, y), [(u * v) % modulus for u, v in zip(a, b, strict=True)], modulus
    )
    check_elementwise(domain.neg(x), [(-u) % modulus for u in a], modulus)


@pytest.mark.parametrize(("domain", "modulus", "edges"), DOMAINS, ids=["F61", "RING64"])
def test_domain_edge_products_matches_plaintext(
    domain: object, modulus: int, edges: list[int]
) -> None:
    a = [u for u in edges for _ in edges]
    b = [v for _ in edges for v in edges]
    check_elementwise(
        domain.mul(arr(a), arr(b)), [(u * v) % modulus for u, v in zip(a, b, strict=True)], modulus
    )
    check_elementwise(
        domain.add(arr(a), arr(b)), [(u + v) % modulus for u, v in zip(a, b, strict=True)], modulus
    )
    check_elementwise(
        domain.sub(arr(a), arr(b)), [(u - v) % modulus for u, v in zip(a, b, strict=True)], modulus
    )


@pytest.mark.parametrize(("domain", "modulus", "edges"), DOMAINS, ids=["F61", "RING64"])
@given(data=st.data(), c=st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1])))
@settings(max_examples=150, deadline=None)
def test_domain_mul_scalar_matches_plaintext(
    domain: object, modulus: int, edges: list[int], data: st.DataObject, c: int
) -> None:
    a = data.draw(element_lists(modulus, edges))
    check_elementwise(domain.mul_scalar(arr(a), c), [(u * c) % modulus for u in a], modulus)


@pytest.mark.parametrize(("domain", "modulus", "edges"), DOMAINS, ids=["F61", "RING64"])
@given(data=st.data(), rows=st.integers(0, 6), cols=st.integers(0, 6))
@settings(max_examples=100, deadline=None)
def test_domain_sum_matches_plaintext(
    domain: object, modulus: int, edges: list[int], data: st.DataObject, rows: int, cols: int
) -> None:
    flat = data.draw(element_lists(modulus, edges, rows * cols))
    a = arr(flat).reshape(rows, cols)
    grid = [[flat[r * cols + c] for c in range(cols)] for r in range(rows)]
    assert int(domain.sum(a)) == sum(flat) % modulus
    assert as_ints(domain.sum(a, axis=0)) == [
        sum(grid[r][c] for r in range(rows)) % modulus for c in range(cols)
    ]
    assert as_ints(domain.sum(a, axis=1)) == [sum(row) % modulus for row in grid]
    assert domain.sum(a, axis=0).shape == (cols,)


@pytest.mark.parametrize(("domain", "modulus", "top"), [(F61, P, P - 1), (RING64, R, R - 1)])
def test_domain_sum_of_many_large_terms_matches_plaintext(
    domain: object, modulus: int, top: int
) -> None:
    count = 3_000_000
    a = np.full(count, top, dtype=np.uint64)
    a[::7] = 2**32 - 1
    a[1::7] = 2**60
    expected = (
        (count - len(range(0, count, 7)) - len(range(1, count, 7))) * top
        + len(range(0, count, 7)) * (2**32 - 1)
        + len(range(1, count, 7)) * 2**60
    ) % modulus
    assert int(domain.sum(a)) == expected


def test_f61_reduce_matches_plaintext() -> None:
    values = [0, 1, P - 1, P, P + 1, 2 * P, 2 * P + 5, 2**62, 2**63, 2**64 - 1, 2**64 - P]
    rng = Csprng(bytes(32))
    values += as_ints(rng.words(200))
    assert as_ints(F61.reduce(arr(values))) == [v % P for v in values]


@given(st.lists(st.integers(0, 2**64 - 1), max_size=30))
@settings(max_examples=100, deadline=None)
def test_f61_reduce_any_word_matches_plaintext(values: list[int]) -> None:
    assert as_ints(F61.reduce(arr(values))) == [v % P for v in values]


def test_f61_operations_keep_the_shape_of_2d_arrays() -> None:
    a = arr(list(range(6))).reshape(2, 3)
    for result in (F61.add(a, a), F61.sub(a, a), F61.mul(a, a), F61.neg(a), F61.mul_scalar(a, 3)):
        assert result.shape == (2, 3)


# --- encode / decode -----------------------------------------------------------------------------


@given(st.lists(st.integers(-(2**60 - 1), 2**60 - 1), max_size=30))
@settings(max_examples=150, deadline=None)
def test_f61_decode_encode_is_identity_on_the_exact_range(values: list[int]) -> None:
    encoded = F61.encode(np.array(values, dtype=np.int64))
    assert encoded.dtype == np.uint64
    assert as_ints(encoded) == [v % P for v in values]
    decoded = F61.decode(encoded)
    assert decoded.dtype == np.int64
    assert decoded.tolist() == values


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30))
@settings(max_examples=150, deadline=None)
def test_f61_encode_matches_plaintext_on_all_of_int64(values: list[int]) -> None:
    edges = [-(2**63), 2**63 - 1, P, -P, P - 1, -(P - 1), P + 1, -(P + 1), 0, -1]
    for batch in (values, values + edges):
        encoded = F61.encode(np.array(batch, dtype=np.int64))
        assert encoded.dtype == np.uint64
        assert as_ints(encoded) == [v % P for v in batch]
    assert as_ints(F61.encode(np.array(-5, dtype=np.int64)).reshape(1)) == [P - 5]


def test_f61_exact_bound_is_tight() -> None:
    bound = F61.exact_bound
    assert bound == 2**60 - 1
    edge = np.array([-bound, bound, 0, -1, 1], dtype=np.int64)
    assert np.array_equal(F61.decode(F61.encode(edge)), edge)
    beyond = np.array([bound + 1], dtype=np.int64)
    assert not np.array_equal(F61.decode(F61.encode(beyond)), beyond)


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30))
@settings(max_examples=150, deadline=None)
def test_ring64_decode_encode_is_identity_matches_plaintext(values: list[int]) -> None:
    encoded = RING64.encode(np.array(values, dtype=np.int64))
    assert encoded.dtype == np.uint64
    assert as_ints(encoded) == [v % R for v in values]
    assert RING64.decode(encoded).tolist() == values


@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_f61_encode_any_int64_matches_plaintext(values: list[int]) -> None:
    assert as_ints(F61.encode(np.array(values, dtype=np.int64))) == [v % P for v in values]


@pytest.mark.parametrize(("domain", "bound"), [(F61, 2**60 - 1), (RING64, 2**63 - 1)])
def test_domain_signed_arithmetic_decodes_within_the_exact_range(
    domain: object, bound: int
) -> None:
    a = np.array([bound // 2, -(bound // 2), 17, -5], dtype=np.int64)
    b = np.array([bound // 2, -(bound // 2), -20, -7], dtype=np.int64)
    ea, eb = domain.encode(a), domain.encode(b)
    assert domain.decode(domain.add(ea, eb)).tolist() == [
        int(x) + int(y) for x, y in zip(a, b, strict=True)
    ]
    assert domain.decode(domain.sub(ea, eb)).tolist() == [
        int(x) - int(y) for x, y in zip(a, b, strict=True)
    ]
    assert domain.decode(domain.mul_scalar(ea, -3)).tolist()[2:] == [-51, 15]


def test_domain_random_is_in_range_and_varied() -> None:
    rng = Csprng(bytes(32))
    values = F61.random(rng, (100, 10))
    assert values.shape == (100, 10)
    assert int(values.max()) < P
    assert len(np.unique(values)) == 1000
    ring = RING64.random(rng, 1000)
    assert int(ring.max()) >= 2**63  # uses the full 64 bits
    assert len(np.unique(ring)) == 1000


# --- Lagrange, inverse ---------------------------------------------------------------------------


@given(
    coefficients=st.lists(st.integers(0, P - 1), min_size=1, max_size=7),
    data=st.data(),
    at=st.integers(0, P - 1),
)
@settings(max_examples=150, deadline=None)
def test_lagrange_interpolation_matches_plaintext(
    coefficients: list[int], data: st.DataObject, at: int
) -> None:
    degree = len(coefficients) - 1
    nodes = data.draw(
        st.lists(
            st.one_of(st.integers(1, 10), st.integers(0, P - 1)),
            min_size=degree + 1,
            max_size=degree + 3,
            unique=True,
        )
    )

    def f(x: int) -> int:
        return sum(c * pow(x, k, P) for k, c in enumerate(coefficients)) % P

    weights = lagrange(tuple(nodes), at)
    assert len(weights) == len(nodes)
    assert sum(w * f(x) for w, x in zip(weights, nodes, strict=True)) % P == f(at)


def test_lagrange_at_a_node_is_its_indicator() -> None:
    assert lagrange((1, 2, 3), 2) == (0, 1, 0)


def test_lagrange_other_modulus_matches_plaintext() -> None:
    # f(x) = 3 + 5x + 7x^2 over F_101, from f(1), f(2), f(4), at 9
    def f(x: int) -> int:
        return (3 + 5 * x + 7 * x * x) % 101

    weights = lagrange((1, 2, 4), 9, 101)
    assert sum(w * f(x) for w, x in zip(weights, (1, 2, 4), strict=True)) % 101 == f(9)


def test_lagrange_rejects_repeated_nodes() -> None:
    with pytest.raises(ValueError, match="distinct"):
        lagrange((1, 2, 1), 0)


@given(st.integers(-(2**80), 2**80).filter(lambda c: c % P != 0))
@settings(max_examples=100, deadline=None)
def test_f61_inverse_matches_plaintext(c: int) -> None:
    inv = F61.inverse(c)
    assert 0 < inv < P
    assert (c * inv) % P == 1


@pytest.mark.parametrize("c", [0, P, -P, 5 * P])
def test_f61_inverse_of_zero_raises(c: int) -> None:
    with pytest.raises(ZeroDivisionError):
        F61.inverse(c)


@pytest.mark.parametrize("c", [*range(-9, 10), 2**61 - 9, 2**61 - 2, 2**32 + 5])
def test_f61_small_scalars_take_the_short_path_exactly(c: int) -> None:
    """Scalars ≡ ±k (k < 8) use one product; every c must agree with plaintext, also fused."""
    p = 2**61 - 1
    values = [0, 1, 2, p - 1, p - 2, 2**60, 2**61 - 9, 12345678901234567] * 3
    a, b = arr(values), arr(values[::-1])
    want = [(u * c) % p for u in values]
    assert F61.mul_scalar(a, c).tolist() == want
    assert F61.mul_scalar_add(a, c, b).tolist() == [
        (w + v) % p for w, v in zip(want, values[::-1], strict=True)
    ]


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(0, 7),
    j=st.integers(0, 60),
    negative=st.booleans(),
    values=st.lists(st.integers(0, 2**61 - 2), min_size=1, max_size=20),
)
def test_f61_scalars_times_powers_of_two_take_the_rotation_path_exactly(
    k: int, j: int, negative: bool, values: list[int]
) -> None:
    """c ≡ ±k·2^j (e.g. ±k/2, the weights between points two apart) is one small product and a
    61-bit rotation; it must agree with plaintext, also fused with an addition."""
    from mpc.field.mersenne61 import _small

    p = 2**61 - 1
    c = (-1 if negative else 1) * k * pow(2, j, p) % p
    assert _small(c) is not None
    a, b = arr(values), arr(values[::-1])
    want = [(u * c) % p for u in values]
    assert F61.mul_scalar(a, c).tolist() == want
    assert F61.mul_scalar_add(a, c, b).tolist() == [
        (w + v) % p for w, v in zip(want, values[::-1], strict=True)
    ]
