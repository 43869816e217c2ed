"""Additive secret sharing over Z_2^64, whole arrays at a time.

x = x_0 + x_1 + … + x_{n−1} (mod 2^64): any n − 1 shares are jointly uniform and independent of x.
Signed values are two's complement (`RING64.encode`).

Threat model: semi-honest, no honest majority needed; n − 1 colluding parties learn nothing.
"""

from __future__ import annotations

import numpy as np

from mpc.field import RING64
from mpc.rng import Csprng


def share(x: np.ndarray, n_parties: int, rng: Csprng) -> np.ndarray:
    """Shares of ring elements x, stacked on a new first axis of length n_parties."""
    if n_parties < 2:
        raise ValueError("additive sharing needs at least 2 parties")
    x = np.asarray(x, dtype=np.uint64)
    shares = np.empty((n_parties, *x.shape), dtype=np.uint64)
    shares[1:] = RING64.random(rng, (n_parties - 1, *x.shape))
    shares[0] = RING64.sub(x, RING64.sum(shares[1:], axis=0))
    return shares


def reconstruct(shares: np.ndarray) -> np.ndarray:
    """x from all n shares stacked on the first axis."""
    return RING64.sum(np.asarray(shares, dtype=np.uint64), axis=0)


def zero_share(
    party: int, pair_streams: dict[int, Csprng], shape: int | tuple[int, ...]
) -> np.ndarray:
    """This party's share of a pseudorandom zero-sharing (PRZS) from pairwise keys.

    z_i = Σ_{j>i} G(k_ij) − Σ_{j<i} G(k_ji); the z_i sum to 0 and any n − 2 of them look uniform.
    `pair_streams[j]` is the stream party i shares with j for this one purpose (same label at both).
    """
    z = np.zeros(shape, dtype=np.uint64)
    for peer, stream in pair_streams.items():
        r = RING64.random(stream, shape)
        z = RING64.add(z, r) if peer > party else RING64.sub(z, r)
    return z
