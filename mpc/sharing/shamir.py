"""Shamir secret sharing over a prime field, whole arrays at a time.

A secret x is the constant term of a random polynomial f of degree t; party i holds f(i + 1).
Any t + 1 shares reconstruct x by Lagrange interpolation at 0; any t shares are uniform and
independent of x. Lagrange coefficients are cached per set of points. The field is a parameter
(F_(2^61−1) by default, F_(2^127−1) for fixed point).

Threat model: semi-honest, honest majority (t < n/2 when products are computed).
Reference: A. Shamir, "How to share a secret", CACM 1979.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mpc.field import F61, Domain, lagrange
from mpc.rng import Csprng


def share(
    x: np.ndarray, n_parties: int, threshold: int, rng: Csprng, field: Domain = F61
) -> np.ndarray:
    """Shares f(1), …, f(n) of field elements x, stacked on a new first axis (f of degree t)."""
    if not 0 <= threshold < n_parties:
        raise ValueError(f"threshold {threshold} out of range for {n_parties} parties")
    x = np.asarray(x, dtype=field.dtype)
    coefficients = field.random(rng, (threshold, *x.shape))
    shares = np.empty((n_parties, *x.shape), dtype=field.dtype)
    for party in range(n_parties):  # Horner in each of the n points; vectorised over x
        point = party + 1
        acc = field.zeros(x.shape)
        for k in range(threshold - 1, -1, -1):
            acc = field.add(field.mul_scalar(acc, point), coefficients[k])
        shares[party] = field.add(field.mul_scalar(acc, point), x)
    return shares


def combine(
    values: Sequence[np.ndarray], coefficients: Sequence[int], field: Domain = F61
) -> np.ndarray:
    """Σ_j c_j·v_j over the field, for public coefficients c_j."""
    acc = field.mul_scalar(values[0], coefficients[0])
    for v, c in zip(values[1:], coefficients[1:], strict=True):
        acc = field.mul_scalar_add(v, c, acc)
    return acc


def reconstruct(
    shares: Sequence[np.ndarray], parties: Sequence[int], field: Domain = F61
) -> np.ndarray:
    """x = f(0) from the shares held by `parties` (at least t + 1 of them)."""
    points = tuple(p + 1 for p in parties)
    return combine(shares, lagrange(points, 0, field.modulus), field)


def interpolate(
    known: Sequence[np.ndarray],
    known_points: Sequence[int],
    at_point: int,
    field: Domain = F61,
) -> np.ndarray:
    """f(at_point) from the values of f at `known_points` (f of degree < len(known))."""
    return combine(known, lagrange(tuple(known_points), at_point, field.modulus), field)


def is_consistent(
    shares: Sequence[np.ndarray], parties: Sequence[int], threshold: int, field: Domain = F61
) -> bool:
    """Whether the shares of `parties` (more than t + 1) all lie on one polynomial of degree t."""
    base = list(shares[: threshold + 1])
    base_points = [p + 1 for p in parties[: threshold + 1]]
    for share_, party in zip(shares[threshold + 1 :], parties[threshold + 1 :], strict=True):
        if not np.array_equal(interpolate(base, base_points, party + 1, field), share_):
            return False
    return True
