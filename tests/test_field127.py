"""F_(2^127−1) and the exact limb matrix products of every domain, against Python integers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.field import F61, F127, RING64
from mpc.field.mersenne127 import from_words, words
from mpc.rng import Csprng

P = 2**127 - 1
EDGES = [0, 1, 2, P - 1, P - 2, 2**64 - 1, 2**64, 2**126, 2**126 - 1, 2**96 + 5, 2**32 - 1]
elements = st.one_of(st.sampled_from(EDGES), st.integers(0, P - 1))


def encode(values: list[int]) -> np.ndarray:
    lo = np.array([v & (2**64 - 1) for v in values], dtype=np.uint64)
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    return from_words(lo, hi)


def decode(array: np.ndarray) -> list[int]:
    w = words(array).reshape(-1, 2)
    return [int(lo) + (int(hi) << 64) for lo, hi in w]


pairs = st.lists(st.tuples(elements, elements), min_size=1, max_size=40)


@given(pairs)
@settings(max_examples=60, deadline=None)
def test_f127_arithmetic_matches_plaintext(values: list[tuple[int, int]]) -> None:
    xs, ys = [v[0] for v in values], [v[1] for v in values]
    a, b = encode(xs), encode(ys)
    assert decode(F127.add(a, b)) == [(x + y) % P for x, y in values]
    assert decode(F127.sub(a, b)) == [(x - y) % P for x, y in values]
    assert decode(F127.neg(a)) == [-x % P for x in xs]
    assert decode(F127.mul(a, b)) == [x * y % P for x, y in values]
    assert decode(F127.mul_scalar(a, ys[0])) == [x * ys[0] % P for x in xs]
    assert decode(F127.sum(a)) == [sum(xs) % P]


def test_f127_chunks_and_broadcasting_match_plaintext() -> None:
    rng = np.random.default_rng(3)
    xs = [int(v) for v in rng.integers(0, 2**62, 40_000)]  # several kernel chunks
    a = encode([x * 2**64 + 7 for x in xs])
    scalar = encode([12345])[0]
    assert decode(F127.mul(a, scalar))[-5:] == [(x * 2**64 + 7) * 12345 % P for x in xs[-5:]]
    matrix = a[:60].reshape(6, 10)
    assert decode(F127.sum(matrix, axis=0)) == [sum(decode(matrix[:, j])) % P for j in range(10)]


@pytest.mark.parametrize("value", [0, 1, -1, 2**62, -(2**62), 123456789])
def test_f127_encode_decode_round_trip(value: int) -> None:
    assert F127.decode(F127.encode(np.array([value]))).tolist() == [value]
    assert decode(F127.encode_int(value)) == [value % P]


def test_f127_decode_beyond_int64_gives_exact_integers() -> None:
    big = encode([2**100, P - 2**90])
    assert F127.decode(big).tolist() == [2**100, -(2**90)]
    assert F127.decode_scaled(big, 10).tolist() == [2.0**90, -(2.0**80)]


def test_f127_random_is_uniform_below_p_and_random_bits_below_the_power() -> None:
    rng = Csprng()
    values = decode(F127.random(rng, 2000))
    assert all(0 <= v < P for v in values)
    assert 0.45 < sum(v >> 126 for v in values) / 2000 < 0.55  # the top bit is fair
    for bits in (5, 64, 90):
        sample = decode(F127.random_bits(rng, 1000, bits))
        assert max(sample) < 2**bits
        assert max(sample) >= 2 ** (bits - 2)


@pytest.mark.parametrize("domain", [RING64, F61, F127], ids=["Z64", "F61", "F127"])
@pytest.mark.parametrize(("m", "k", "n"), [(3, 4, 2), (1, 1500, 1), (5, 2, 7), (4, 3, 0)])
def test_matmul_matches_plaintext(domain: object, m: int, k: int, n: int) -> None:
    rng = Csprng()
    a, b = domain.random(rng, (m, k)), domain.random(rng, (k, n))  # type: ignore[attr-defined]
    modulus = domain.modulus  # type: ignore[attr-defined]
    as_int = decode if domain is F127 else (lambda x: [int(v) for v in x.reshape(-1)])
    got = as_int(domain.matmul(a, b))  # type: ignore[attr-defined]
    A = np.array(as_int(a), dtype=object).reshape(m, k)
    B = np.array(as_int(b), dtype=object).reshape(k, n)
    assert got == [int(v) % modulus for v in (A @ B).reshape(-1)]


@pytest.mark.parametrize("domain", [RING64, F61, F127], ids=["Z64", "F61", "F127"])
def test_matmul_of_vectors_has_numpy_shapes(domain: object) -> None:
    rng = Csprng()
    v, m = domain.random(rng, 4), domain.random(rng, (4, 3))  # type: ignore[attr-defined]
    assert domain.matmul(v, v).shape == ()  # type: ignore[attr-defined]
    assert domain.matmul(v, m).shape == (3,)  # type: ignore[attr-defined]
    assert domain.matmul(m.T.copy(), v).shape == (3,)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="do not align"):
        domain.matmul(m, m)  # type: ignore[attr-defined]


@pytest.mark.parametrize("domain", [RING64, F61, F127], ids=["Z64", "F61", "F127"])
def test_matmul_of_largest_elements_stays_exact_across_folds(domain: object) -> None:
    # (−1)·(−1) summed k times is k: the largest limbs in every position, and k long enough
    # that the limb columns of many blocks add up before a fold (F127: more than one fold)
    k = 600_001
    minus_one = domain.neg(domain.encode(np.ones(k, dtype=np.int64)))  # type: ignore[attr-defined]
    got = domain.matmul(minus_one, minus_one)  # type: ignore[attr-defined]
    assert domain.decode(np.asarray(got).reshape(1)).tolist() == [k]  # type: ignore[attr-defined]


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 9),
    k=st.integers(0, 40),
    n=st.integers(1, 9),
    transpose=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_ring_matmul_of_any_layout_matches_python_integers(
    m: int, k: int, n: int, transpose: bool, seed: int
) -> None:
    # the compiled kernel takes C-contiguous rows: views (transposes, strides) are copied first
    generator = np.random.default_rng(seed)
    a = generator.integers(0, 2**64, (m, 2 * k), dtype=np.uint64)[:, ::2]
    b = generator.integers(0, 2**64, (n, k) if transpose else (k, n), dtype=np.uint64)
    b = b.T if transpose else b
    expected = (a.astype(object) @ b.astype(object)) % 2**64 if k else np.zeros((m, n), object)
    assert RING64.matmul(a, b).tolist() == expected.tolist()
