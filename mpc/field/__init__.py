"""The arithmetic domains shares live in, vectorised over numpy arrays.

| domain    | elements           | used for                                              |
|-----------|--------------------|-------------------------------------------------------|
| `RING64`  | Z_2^64, uint64     | the additive suite's integers (two's complement)      |
| `F61`     | F_(2^61−1), uint64 | the Shamir suite's integers                           |
| `F127`    | F_(2^127−1), V16   | fixed point with truncation (room for 40-bit masks)   |

A plan picks its domain from the suite and the ranges its values need (`mpc.dsl`). Every domain
offers the same interface (`Domain`), so sharing and protocols are written once.
"""

from __future__ import annotations

import gc
import importlib
import sys
from functools import lru_cache

import numpy as np

from mpc.field.base import Domain
from mpc.field.mersenne61 import MersenneField61
from mpc.field.mersenne127 import MersenneField127
from mpc.field.ring64 import Ring64

RING64 = Ring64()
F61 = MersenneField61()
F127 = MersenneField127()
DOMAINS: dict[str, Domain] = {"Z64": RING64, "F61": F61, "F127": F127}


def load_ring_matmul() -> None:
    """Import Z_2^64's compiled matrix kernel now (numba: ~0.25 s per process) and call it once
    (the first call imports more: ~10 ms), so that a job's first matrix product does not pay.
    numba brings ~80K long-lived objects: they are frozen out of the garbage collector, whose
    full passes would otherwise take 36 ms instead of 8 ms (in the middle of a protocol)."""
    if "mpc.field.ring_matmul" not in sys.modules:
        kernel = importlib.import_module("mpc.field.ring_matmul")
        square = np.ones((2, 2), dtype=np.uint64)
        kernel.ring_matmul(square, square)  # the first calls import what numba types arrays with
        kernel.ring_matmul(square, square[0])
        gc.collect()
        gc.freeze()


def domain_named(name: str) -> Domain:
    """A domain by its short name (Z64, F61, F127)."""
    try:
        return DOMAINS[name]
    except KeyError:
        raise ValueError(f"unknown domain {name!r} (known: {', '.join(DOMAINS)})") from None


@lru_cache(maxsize=4096)
def lagrange(nodes: tuple[int, ...], at: int, modulus: int = F61.modulus) -> tuple[int, ...]:
    """Lagrange basis at `at` for distinct interpolation `nodes`, mod `modulus`.

    λ_j = Π_{k≠j} (at − x_k) / (x_j − x_k), so Σ_j λ_j·f(x_j) = f(at) when deg f < len(nodes).
    """
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"interpolation nodes must be distinct: {nodes}")
    coefficients = []
    for j, xj in enumerate(nodes):
        num, den = 1, 1
        for k, xk in enumerate(nodes):
            if k != j:
                num = num * (at - xk) % modulus
                den = den * (xj - xk) % modulus
        coefficients.append(num * pow(den, modulus - 2, modulus) % modulus)
    return tuple(coefficients)


__all__ = [
    "DOMAINS",
    "F61",
    "F127",
    "RING64",
    "Domain",
    "MersenneField61",
    "MersenneField127",
    "Ring64",
    "domain_named",
    "lagrange",
]
