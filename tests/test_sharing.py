"""Tests of mpc.sharing: additive and Shamir sharing reconstruct, hide the secret, detect tampering.

Hiding is tested statistically: many independent sharings of two different secrets (one array of
N copies is N independent sharings) give the same distribution of what a coalition too small to
reconstruct sees. A scheme that leaks the secret into those shares fails by orders of magnitude.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.field import F61, RING64
from mpc.rng import Csprng
from mpc.sharing import additive, shamir

P = 2**61 - 1
SHAPES = [(), (0,), (1,), (5,), (2, 3), (3, 0, 2)]
SAMPLES = 4000
SECRET_A = 0
SECRET_B = 2**40 + 0xABCDE  # differs from SECRET_A in low and high bits


def seeds() -> st.SearchStrategy[bytes]:
    return st.binary(min_size=32, max_size=32)


def values_of(shape: tuple[int, ...], lo: int, hi: int) -> st.SearchStrategy[np.ndarray]:
    size = int(np.prod(shape, dtype=np.int64))
    return st.lists(st.integers(lo, hi), min_size=size, max_size=size).map(
        lambda v: np.array(v, dtype=np.uint64).reshape(shape)
    )


def chi_square_uniform(labels: np.ndarray, bins: int) -> float:
    counts = np.bincount(labels.astype(np.int64).reshape(-1), minlength=bins)
    expected = labels.size / bins
    return float(np.sum((counts - expected) ** 2 / expected))


def chi_square_limit(bins: int) -> float:
    df = bins - 1
    return df + 12 * np.sqrt(2 * df) + 40  # p < 1e-12 for a true chi-square(df)


def two_sample_chi_square(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    ca = np.bincount(a.astype(np.int64), minlength=bins).astype(float)
    cb = np.bincount(b.astype(np.int64), minlength=bins).astype(float)
    total = ca + cb
    mask = total > 0
    return float(np.sum((ca[mask] - cb[mask]) ** 2 / total[mask]))


def coalition_views(shares: list[np.ndarray]) -> list[np.ndarray]:
    """4-bit labels of what a coalition sees: each share's low bits and bits 38..39 (the secrets
    differ there), and the low bits of each pair of shares jointly (catches linear relations)."""
    three = np.uint64(3)
    views = [((s & three) << np.uint64(2)) | ((s >> np.uint64(38)) & three) for s in shares]
    views += [
        ((a & three) << np.uint64(2)) | (b & three) for a, b in itertools.combinations(shares, 2)
    ]
    return views


def check_hiding(views: dict[int, list[np.ndarray]], what: object) -> None:
    """Every view is uniform for each secret, and indistinguishable between the two secrets."""
    for secret, labels in views.items():
        for k, label in enumerate(labels):
            assert chi_square_uniform(label, 16) < chi_square_limit(16), (what, secret, k)
    for k, (a, b) in enumerate(zip(views[SECRET_A], views[SECRET_B], strict=True)):
        assert two_sample_chi_square(a, b, 16) < chi_square_limit(16), (what, k)


# --- additive ------------------------------------------------------------------------------------


@given(
    n=st.integers(2, 7),
    shape=st.sampled_from(SHAPES),
    data=st.data(),
    seed=seeds(),
)
@settings(max_examples=120, deadline=None)
def test_additive_share_reconstruct_matches_plaintext(
    n: int, shape: tuple[int, ...], data: st.DataObject, seed: bytes
) -> None:
    x = data.draw(values_of(shape, 0, 2**64 - 1))
    shares = additive.share(x, n, Csprng(seed))
    assert shares.shape == (n, *shape)
    assert shares.dtype == np.uint64
    assert np.array_equal(additive.reconstruct(shares), x)
    # reconstruction is the ring sum, computed independently with Python ints
    flat = shares.reshape(n, -1)
    for i, v in enumerate(x.reshape(-1)):
        assert sum(int(s) for s in flat[:, i]) % 2**64 == int(v)


@given(n=st.integers(2, 7), values=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=10))
@settings(max_examples=60, deadline=None)
def test_additive_signed_values_matches_plaintext(n: int, values: list[int]) -> None:
    x = RING64.encode(np.array(values, dtype=np.int64))
    assert RING64.decode(additive.reconstruct(additive.share(x, n, Csprng()))).tolist() == values


def test_additive_share_needs_two_parties() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        additive.share(np.zeros(3, dtype=np.uint64), 1, Csprng())


@pytest.mark.parametrize("n", [2, 3, 5])
def test_additive_any_n_minus_1_shares_are_independent_of_the_secret(n: int) -> None:
    rng = Csprng(bytes(32))
    shares = {
        secret: additive.share(np.full(SAMPLES, secret, dtype=np.uint64), n, rng)
        for secret in (SECRET_A, SECRET_B)
    }
    for coalition in itertools.combinations(range(n), n - 1):
        views = {}
        for secret, s in shares.items():
            # the coalition's sum is minus the share it misses, plus the secret: must look uniform
            total = RING64.sum(s[list(coalition)], axis=0)
            views[secret] = coalition_views([s[i] for i in coalition]) + coalition_views([total])
        check_hiding(views, coalition)


def test_additive_shares_differ_between_sharings() -> None:
    x = np.zeros(64, dtype=np.uint64)
    first, second = additive.share(x, 3, Csprng()), additive.share(x, 3, Csprng())
    assert not np.array_equal(first, second)
    assert np.count_nonzero(first) > 3 * 64 - 3  # a share of 0 is not 0


@given(n=st.integers(2, 7), shape=st.sampled_from(SHAPES), key_seed=seeds())
@settings(max_examples=60, deadline=None)
def test_additive_zero_share_sums_to_zero(n: int, shape: tuple[int, ...], key_seed: bytes) -> None:
    master = Csprng(key_seed)
    keys = {(i, j): master.bytes(32) for i in range(n) for j in range(i + 1, n)}

    def streams(party: int) -> dict[int, Csprng]:
        return {
            peer: Csprng.derive(keys[min(party, peer), max(party, peer)], "zero", 7)
            for peer in range(n)
            if peer != party
        }

    zs = [additive.zero_share(i, streams(i), shape) for i in range(n)]
    assert all(z.shape == shape and z.dtype == np.uint64 for z in zs)
    assert not RING64.sum(np.stack(zs), axis=0).any()
    if int(np.prod(shape, dtype=np.int64)) >= 5:
        assert all(np.count_nonzero(z) > 0 for z in zs)  # each share looks random, not zero
        assert not np.array_equal(zs[0], zs[1])


# --- Shamir ---------------------------------------------------------------------------------------


@st.composite
def shamir_cases(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(3, 7))
    t = draw(st.integers(1, n - 1))
    return n, t


@given(case=shamir_cases(), shape=st.sampled_from(SHAPES), data=st.data(), seed=seeds())
@settings(max_examples=100, deadline=None)
def test_shamir_reconstruct_from_every_subset_matches_plaintext(
    case: tuple[int, int], shape: tuple[int, ...], data: st.DataObject, seed: bytes
) -> None:
    n, t = case
    x = data.draw(values_of(shape, 0, P - 1))
    shares = shamir.share(x, n, t, Csprng(seed))
    assert shares.shape == (n, *shape)
    assert int(shares.max(initial=0)) < P
    for size in (t + 1, n):
        for parties in itertools.combinations(range(n), size):
            got = shamir.reconstruct([shares[p] for p in parties], parties)
            assert np.array_equal(got, x), parties
    # shares in any order reconstruct too
    order = list(reversed(range(n)))[: t + 1]
    assert np.array_equal(shamir.reconstruct([shares[p] for p in order], order), x)


@given(case=shamir_cases(), values=st.lists(st.integers(-(2**60 - 1), 2**60 - 1), max_size=8))
@settings(max_examples=60, deadline=None)
def test_shamir_signed_values_matches_plaintext(case: tuple[int, int], values: list[int]) -> None:
    n, t = case
    shares = shamir.share(F61.encode(np.array(values, dtype=np.int64)), n, t, Csprng())
    parties = list(range(n - t - 1, n))
    got = shamir.reconstruct([shares[p] for p in parties], parties)
    assert F61.decode(got).tolist() == values


def test_shamir_shares_are_points_of_one_polynomial_of_degree_t() -> None:
    n, t = 7, 3
    x = np.arange(10, dtype=np.uint64)
    shares = shamir.share(x, n, t, Csprng(bytes(32)))
    points = [1, 2, 3, 4]
    for party in range(4, 7):
        assert np.array_equal(
            shamir.interpolate(list(shares[:4]), points, party + 1), shares[party]
        )
    # fewer than t + 1 points do not determine f(0): t points give a different value
    wrong = shamir.interpolate(list(shares[:3]), [1, 2, 3], 0)
    assert not np.array_equal(wrong, x)


def test_shamir_threshold_zero_is_the_secret_everywhere() -> None:
    x = np.array([5, 6], dtype=np.uint64)
    shares = shamir.share(x, 3, 0, Csprng())
    assert all(np.array_equal(s, x) for s in shares)


@pytest.mark.parametrize(("n", "t"), [(3, 3), (3, 4), (3, -1)])
def test_shamir_share_rejects_bad_thresholds(n: int, t: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        shamir.share(np.zeros(2, dtype=np.uint64), n, t, Csprng())


@pytest.mark.parametrize(("n", "t"), [(3, 1), (5, 2), (7, 3)])
def test_shamir_any_t_shares_are_independent_of_the_secret(n: int, t: int) -> None:
    rng = Csprng(bytes(32))
    shares = {
        secret: shamir.share(np.full(SAMPLES, secret, dtype=np.uint64), n, t, rng)
        for secret in (SECRET_A, SECRET_B)
    }
    for coalition in itertools.combinations(range(n), t):
        views = {secret: coalition_views([s[i] for i in coalition]) for secret, s in shares.items()}
        check_hiding(views, coalition)


def test_shamir_share_of_zero_is_not_zero() -> None:
    shares = shamir.share(np.zeros(100, dtype=np.uint64), 5, 2, Csprng())
    assert np.count_nonzero(shares) > 5 * 100 - 5


@pytest.mark.parametrize(("n", "t"), [(4, 1), (5, 2), (7, 3), (7, 2)])
def test_shamir_is_consistent_catches_a_tampered_share(n: int, t: int) -> None:
    shares = list(shamir.share(np.arange(6, dtype=np.uint64), n, t, Csprng()))
    parties = list(range(n))
    assert shamir.is_consistent(shares, parties, t)
    # a permuted (but correctly labelled) set of shares is still consistent
    perm = parties[::-1]
    assert shamir.is_consistent([shares[p] for p in perm], perm, t)
    for victim in parties:  # tampering any one share, base or checked, is caught
        for element in (0, 5):
            tampered = [s.copy() for s in shares]
            tampered[victim][element] = F61.add(tampered[victim][element], np.uint64(1))
            assert not shamir.is_consistent(tampered, parties, t), (victim, element)


def test_shamir_is_consistent_catches_a_wrong_label() -> None:
    shares = list(shamir.share(np.arange(6, dtype=np.uint64), 5, 2, Csprng()))
    assert not shamir.is_consistent(shares, [0, 1, 2, 4, 3], 2)


def test_shamir_is_consistent_catches_a_polynomial_of_higher_degree() -> None:
    shares = list(shamir.share(np.arange(6, dtype=np.uint64), 5, 3, Csprng()))
    assert not shamir.is_consistent(shares, list(range(5)), 2)
