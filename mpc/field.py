"""The two arithmetic domains shares live in, vectorised over uint64 arrays.

- `RING64`: the ring Z_2^64 (additive suite). Signed integers in two's complement; arithmetic wraps.
- `F61`: the Mersenne prime field F_p, p = 2^61 − 1 (Shamir suite). Elements are canonical
  residues in [0, p). Multiplication splits operands into 32-bit limbs and folds with
  2^61 ≡ 1 (mod p), so every product stays inside uint64 (PROTOCOLS.md §4.1).

A signed integer v is *exact* in a domain when |v| ≤ `exact_bound`: encode then decode returns v.
Both domains share one interface (`Domain`) so sharing and protocols are written once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from mpc.rng import Csprng

U64 = np.uint64
_M32 = U64(0xFFFFFFFF)
_M29 = U64((1 << 29) - 1)
_S3 = U64(3)
_S29 = U64(29)
_S32 = U64(32)
_S61 = U64(61)


class Domain(Protocol):
    """Elementwise arithmetic on uint64 arrays of domain elements."""

    name: str
    modulus: int
    exact_bound: int

    def encode(self, values: np.ndarray) -> np.ndarray: ...
    def decode(self, elements: np.ndarray) -> np.ndarray: ...
    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def neg(self, a: np.ndarray) -> np.ndarray: ...
    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray: ...
    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray: ...
    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray: ...


class Ring64:
    """Z_2^64 on uint64 arrays: numpy's wrap-around arithmetic is exactly the ring."""

    name = "Z_2^64"
    modulus = 2**64
    exact_bound = 2**63 - 1

    def encode(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.int64).view(U64)

    def decode(self, elements: np.ndarray) -> np.ndarray:
        return np.asarray(elements, dtype=U64).view(np.int64)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.add(a, b, dtype=U64)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.subtract(a, b, dtype=U64)

    def neg(self, a: np.ndarray) -> np.ndarray:
        return np.subtract(U64(0), a, dtype=U64)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.multiply(a, b, dtype=U64)

    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray:
        return np.multiply(a, U64(c % 2**64), dtype=U64)

    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        return np.asarray(np.sum(a, axis=axis, dtype=U64))

    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray:
        return rng.words(shape)


class MersenneField61:
    """F_p with p = 2^61 − 1 on uint64 arrays of canonical residues."""

    name = "F_(2^61-1)"
    modulus = 2**61 - 1
    exact_bound = (2**61 - 2) // 2
    _p = U64(2**61 - 1)

    def encode(self, values: np.ndarray) -> np.ndarray:
        return np.remainder(np.asarray(values, dtype=np.int64), np.int64(self.modulus)).view(U64)

    def decode(self, elements: np.ndarray) -> np.ndarray:
        e = np.asarray(elements, dtype=U64).view(np.int64)
        return np.where(e > self.exact_bound, e - np.int64(self.modulus), e)

    def reduce(self, v: Any) -> np.ndarray:
        """Any uint64 → its canonical residue (two Mersenne folds and a conditional subtract)."""
        p = self._p
        s = np.add(v & p, v >> _S61, dtype=U64)
        return np.minimum(s, np.subtract(s, p, dtype=U64))

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        s = np.add(a, b, dtype=U64)
        return np.minimum(
            s, np.subtract(s, self._p, dtype=U64)
        )  # s − p wraps to a huge value when s < p

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = np.subtract(a, b, dtype=U64)
        return np.minimum(d, np.add(d, self._p, dtype=U64))  # d + p wraps back below p when a < b

    def neg(self, a: np.ndarray) -> np.ndarray:
        return self.sub(np.zeros_like(a, dtype=U64), a)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=U64)
        b = np.asarray(b, dtype=U64)
        return self._fold_product(a >> _S32, a & _M32, b >> _S32, b & _M32)

    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray:
        c %= self.modulus
        a = np.asarray(a, dtype=U64)
        return self._fold_product(a >> _S32, a & _M32, U64(c >> 32), U64(c & 0xFFFFFFFF))

    def _fold_product(self, a_hi: Any, a_lo: Any, b_hi: Any, b_lo: Any) -> np.ndarray:
        # a·b = hh·2^64 + mid·2^32 + ll with hh < 2^58, mid < 2^62, ll < 2^64, and mod p:
        # 2^64 ≡ 8, mid·2^32 ≡ (mid >> 29) + (mid mod 2^29)·2^32, ll ≡ (ll >> 61) + (ll mod 2^61).
        p = self._p
        hh = a_hi * b_hi
        mid = a_hi * b_lo
        mid += a_lo * b_hi
        ll = a_lo * b_lo
        s = hh << _S3
        s += mid >> _S29
        s += (mid & _M29) << _S32
        s += ll >> _S61
        s += ll & p  # s < 3·2^61 + 2^34 < 2^63
        return self.reduce(s)

    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        # Sum the 32-bit halves separately: exact in uint64 for up to 2^32 terms.
        a = np.asarray(a, dtype=U64)
        count = a.size if axis is None else a.shape[axis]
        if count >= 2**32:
            raise ValueError("F61.sum takes fewer than 2^32 terms per sum")
        lo = np.sum(a & _M32, axis=axis, dtype=U64)
        hi = np.sum(a >> _S32, axis=axis, dtype=U64)
        return np.asarray(self.add(self.reduce(lo), self.mul_scalar(self.reduce(hi), 2**32)))

    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray:
        return rng.below(shape, self.modulus)

    def inverse(self, c: int) -> int:
        c %= self.modulus
        if c == 0:
            raise ZeroDivisionError("0 has no inverse in F_p")
        return pow(c, self.modulus - 2, self.modulus)


RING64 = Ring64()
F61 = MersenneField61()


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
