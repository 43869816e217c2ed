"""Probabilistic truncation of fixed-point values in a prime field: one opening.

For a shared x with −2^(l−1) ≤ x < 2^(l−1), drop m low bits using preprocessed shares of
r' uniform in [0, 2^m) and r = r''·2^m + r' with r'' uniform in [0, 2^(l+κ−m)):
    open c = 2^(l−1) + x + r,   c' = c mod 2^m,   y = (x − c' + r') · (2^m)^(−1)  (in F_p).
Then y = ⌊x / 2^m⌋ + u with u ∈ {0, 1} and Pr[u = 1] = (x mod 2^m)/2^m: the error is below one
unit in the last place, always (not only with high probability). c hides x statistically
(distance ≤ 2^−κ) because r'' is κ bits wider than x; p > 2^(l+κ+1) keeps c from wrapping,
which the compiler checks when it picks the field.

Threat model: semi-honest, as the suite; reveals c, which is statistically independent of x.
Reference: O. Catrina, A. Saxena, "Secure computation with fixed-point numbers", FC 2010
(the protocol MPyC's np_trunc implements).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.protocols.context import Context, ProtocolRun
from mpc.protocols.linear import public_share
from mpc.protocols.reveal import open_to_all


@dataclass(frozen=True, slots=True)
class TruncItem:
    x: np.ndarray
    bits: int  # m
    width: int  # l
    low: np.ndarray  # shares of r'
    mask: np.ndarray  # shares of r = r''·2^m + r'


def truncate(ctx: Context, items: list[TruncItem]) -> ProtocolRun:
    """Shares of ⌊x / 2^m⌋ (+ at most 1) for every item: one round."""
    field = ctx.domain
    masked = []
    for item in items:
        offset = public_share(ctx, field.encode_int(1 << (item.width - 1)))
        masked.append(field.add(field.add(item.x, item.mask), offset))
    opened = yield from open_to_all(ctx, masked)
    results: list[np.ndarray | None] = []
    for item, c in zip(items, opened, strict=True):
        assert c is not None
        low = field.encode(field.low_bits(c, item.bits).astype(np.int64))
        difference = field.add(field.sub(item.x, public_share(ctx, low)), item.low)
        results.append(field.mul_scalar(difference, field.inverse(1 << item.bits)))
    return results
