"""Additive secret sharing over a ring or field, whole arrays at a time.

x = x_0 + x_1 + … + x_{n−1}: any n − 1 shares are jointly uniform and independent of x. The
domain is a parameter (Z_2^64 by default; signed values are two's complement there).

Threat model: semi-honest, no honest majority needed; n − 1 colluding parties learn nothing.
"""

from __future__ import annotations

import numpy as np

from mpc.field import RING64, Domain
from mpc.rng import Csprng


def share(x: np.ndarray, n_parties: int, rng: Csprng, domain: Domain = RING64) -> np.ndarray:
    """Shares of domain elements x, stacked on a new first axis of length n_parties."""
    if n_parties < 2:
        raise ValueError("additive sharing needs at least 2 parties")
    x = np.asarray(x, dtype=domain.dtype)
    shares = np.empty((n_parties, *x.shape), dtype=domain.dtype)
    shares[1:] = domain.random(rng, (n_parties - 1, *x.shape))
    shares[0] = domain.sub(x, domain.sum(shares[1:], axis=0))
    return shares


def reconstruct(shares: np.ndarray, domain: Domain = RING64) -> np.ndarray:
    """x from all n shares stacked on the first axis."""
    return domain.sum(np.asarray(shares, dtype=domain.dtype), axis=0)


def zero_share(
    party: int,
    pair_streams: dict[int, Csprng],
    shape: int | tuple[int, ...],
    domain: Domain = RING64,
) -> np.ndarray:
    """This party's share of a pseudorandom zero-sharing (PRZS) from pairwise keys.

    z_i = Σ_{j>i} G(k_ij) − Σ_{j<i} G(k_ji); the z_i sum to 0 and any n − 2 of them look uniform.
    `pair_streams[j]` is the stream party i shares with j for this one purpose (same label at both).
    """
    z = domain.zeros(shape)
    for peer, stream in pair_streams.items():
        r = domain.random(stream, shape)
        z = domain.add(z, r) if peer > party else domain.sub(z, r)
    return z
