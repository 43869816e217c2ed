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

from functools import lru_cache

from mpc.field.base import Domain
from mpc.field.mersenne61 import MersenneField61
from mpc.field.mersenne127 import MersenneField127
from mpc.field.ring64 import Ring64

RING64 = Ring64()
F61 = MersenneField61()
F127 = MersenneField127()
DOMAINS: dict[str, Domain] = {"Z64": RING64, "F61": F61, "F127": F127}


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
