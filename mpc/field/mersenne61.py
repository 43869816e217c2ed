"""F_p with p = 2^61 − 1 on uint64 arrays of canonical residues (the Shamir suite's field).

Product of a, b < 2^61 with 32-bit limbs a = a_h·2^32 + a_l (a_h < 2^29):
  a·b = hh·2^64 + mid·2^32 + ll,   hh = a_h b_h < 2^58, mid = a_h b_l + a_l b_h < 2^62, ll < 2^64
and, since 2^61 ≡ 1 (mod p): 2^64 ≡ 8, mid·2^32 ≡ (mid >> 29) + (mid mod 2^29)·2^32,
ll ≡ (ll >> 61) + (ll mod 2^61). The sum stays below 2^63; two Mersenne folds and a conditional
subtraction make it canonical (PROTOCOLS.md §4.1). Every kernel runs in place on chunks.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from mpc.field.base import U64, broadcast_pair, chunked
from mpc.field.matmul import limb_matmul
from mpc.rng import Csprng

P = U64(2**61 - 1)
_M32 = U64(0xFFFFFFFF)
_M29 = U64((1 << 29) - 1)
_S3, _S29, _S32, _S61 = U64(3), U64(29), U64(32), U64(61)


def _reduce(v: np.ndarray, tmp: np.ndarray) -> None:
    """v ← v mod p in place, for any v < 2^64."""
    np.right_shift(v, _S61, out=tmp)
    np.bitwise_and(v, P, out=v)
    np.add(v, tmp, out=v)
    np.subtract(v, P, out=tmp)  # wraps to a huge value when v < p
    np.minimum(v, tmp, out=v)


def _fold(
    out: np.ndarray, hh: np.ndarray, mid: np.ndarray, ll: np.ndarray, tmp: np.ndarray
) -> None:
    """out ← hh·2^64 + mid·2^32 + ll (mod p); consumes mid and ll."""
    np.left_shift(hh, _S3, out=out)
    np.right_shift(mid, _S29, out=tmp)
    out += tmp
    np.bitwise_and(mid, _M29, out=mid)
    np.left_shift(mid, _S32, out=mid)
    out += mid
    np.right_shift(ll, _S61, out=tmp)
    out += tmp
    np.bitwise_and(ll, P, out=ll)
    out += ll
    _reduce(out, tmp)


def _mul_kernel(
    out: np.ndarray, a: np.ndarray, b: np.ndarray, ah: np.ndarray, al: np.ndarray,
    bh: np.ndarray, bl: np.ndarray, x: np.ndarray, y: np.ndarray,
) -> None:  # fmt: skip
    np.right_shift(a, _S32, out=ah)
    np.bitwise_and(a, _M32, out=al)
    np.right_shift(b, _S32, out=bh)
    np.bitwise_and(b, _M32, out=bl)
    np.multiply(ah, bl, out=x)
    np.multiply(al, bh, out=y)
    x += y  # mid
    np.multiply(ah, bh, out=ah)  # hh
    np.multiply(al, bl, out=al)  # ll
    _fold(out, ah, x, al, y)


def _scalar_kernel(
    out: np.ndarray, a: np.ndarray, ch: np.ndarray, cl: np.ndarray,
    ah: np.ndarray, al: np.ndarray, x: np.ndarray, y: np.ndarray,
) -> None:  # fmt: skip
    np.right_shift(a, _S32, out=ah)
    np.bitwise_and(a, _M32, out=al)
    np.multiply(ah, cl, out=x)
    np.multiply(al, ch, out=y)
    x += y
    np.multiply(ah, ch, out=ah)
    np.multiply(al, cl, out=al)
    _fold(out, ah, x, al, y)


def _scalar_add_kernel(
    out: np.ndarray, a: np.ndarray, b: np.ndarray, ch: np.ndarray, cl: np.ndarray,
    ah: np.ndarray, al: np.ndarray, x: np.ndarray, y: np.ndarray,
) -> None:  # fmt: skip
    _scalar_kernel(out, a, ch, cl, ah, al, x, y)
    out += b  # both below p: the sum is below 2p
    np.subtract(out, P, out=y)
    np.minimum(out, y, out=out)


def _small_kernel(out: np.ndarray, a: np.ndarray, k: np.ndarray, tmp: np.ndarray) -> None:
    """out ← a·k mod p for 0 ≤ k < 8 (a·k < 2^64: one product, one fold)."""
    np.multiply(a, k, out=out)
    _reduce(out, tmp)


@functools.lru_cache(maxsize=256)
def _small(c: int) -> tuple[int, bool, int] | None:
    """(k, negative, j) with c ≡ ±k·2^j (mod p), k < 8, when c is that small (Lagrange weights
    and share points of small parties often are: ±k, or ±k/2 = ±k·2^60 for two points two
    apart). Such products need one multiplication and a 61-bit rotation, not four products."""
    for j in range(61):
        scaled = c * pow(2, 61 - j, 2**61 - 1) % (2**61 - 1)  # c / 2^j
        if scaled < 8:
            return scaled, False, j
        if (2**61 - 1) - scaled < 8:
            return (2**61 - 1) - scaled, True, j
    return None


def _rotate(v: np.ndarray, j: np.ndarray, tmp: np.ndarray) -> None:
    """v ← v·2^j mod p in place for canonical v: a rotation of the 61 bits (2^61 ≡ 1)."""
    if not int(j):
        return
    np.right_shift(v, U64(61) - j, out=tmp)
    np.left_shift(v, j, out=v)
    np.bitwise_and(v, P, out=v)
    np.bitwise_or(v, tmp, out=v)


def _small_shift_kernel(
    out: np.ndarray, a: np.ndarray, k: np.ndarray, j: np.ndarray, tmp: np.ndarray
) -> None:
    """out ← a·k·2^j mod p for 0 ≤ k < 8."""
    _small_kernel(out, a, k, tmp)
    _rotate(out, j, tmp)


def _small_shift_add_kernel(
    out: np.ndarray, a: np.ndarray, b: np.ndarray, k: np.ndarray, j: np.ndarray, tmp: np.ndarray
) -> None:
    _small_shift_kernel(out, a, k, j, tmp)
    _add_kernel(out, out, b, tmp)


def _small_shift_sub_kernel(
    out: np.ndarray, a: np.ndarray, b: np.ndarray, k: np.ndarray, j: np.ndarray, tmp: np.ndarray
) -> None:
    """out ← b − a·k·2^j mod p."""
    _small_shift_kernel(out, a, k, j, tmp)
    _sub_kernel(out, b, out, tmp)


def _add_kernel(out: np.ndarray, a: np.ndarray, b: np.ndarray, tmp: np.ndarray) -> None:
    np.add(a, b, out=out)
    np.subtract(out, P, out=tmp)
    np.minimum(out, tmp, out=out)


def _sub_kernel(out: np.ndarray, a: np.ndarray, b: np.ndarray, tmp: np.ndarray) -> None:
    np.subtract(a, b, out=out)
    np.add(out, P, out=tmp)  # wraps back below p when a < b
    np.minimum(out, tmp, out=out)


class MersenneField61:
    """F_p, p = 2^61 − 1, on uint64 arrays of canonical residues."""

    name = "F_(2^61-1)"
    modulus = 2**61 - 1
    exact_bound = (2**61 - 2) // 2
    dtype = np.dtype(np.uint64)
    is_field = True

    def zeros(self, shape: int | tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=U64)

    def encode(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=np.int64)
        if v.size and (v.max() >= self.modulus or v.min() <= -self.modulus):
            return np.remainder(v, np.int64(self.modulus)).view(U64)
        # |v| < p: v for v ≥ 0, v + p (as uint64: 2^64 + v + p, wrapping) for v < 0
        flat = v.reshape(-1)
        out = np.right_shift(flat, np.int64(63)).view(U64)  # all ones where v < 0
        np.bitwise_and(out, P, out=out)
        out += flat.view(U64)
        return out.reshape(v.shape)

    def encode_int(self, value: int) -> np.ndarray:
        return np.array(value % self.modulus, dtype=U64)

    def decode(self, elements: np.ndarray) -> np.ndarray:
        e = np.asarray(elements, dtype=U64).view(np.int64)
        out = (e > self.exact_bound).view(np.int8).astype(np.int64)  # 1 for negative values
        out *= -np.int64(self.modulus)
        out += e
        return out

    def decode_scaled(self, elements: np.ndarray, frac_bits: int) -> np.ndarray:
        return self.decode(elements).astype(np.float64) / 2.0**frac_bits

    def reduce(self, v: Any) -> np.ndarray:
        """Any uint64 array → canonical residues."""
        out = np.array(v, dtype=U64)
        _reduce(out, np.empty_like(out))
        return out

    def _binary(self, kernel: Any, scratch: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b, shape = broadcast_pair(np.asarray(a, dtype=U64), np.asarray(b, dtype=U64))
        out = np.empty(shape, dtype=U64)
        chunked(kernel, out.reshape(-1), [a.reshape(-1), b.reshape(-1)], scratch)
        return out

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._binary(_add_kernel, 1, a, b)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._binary(_sub_kernel, 1, a, b)

    def neg(self, a: np.ndarray) -> np.ndarray:
        return self.sub(np.zeros((), dtype=U64), a)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._binary(_mul_kernel, 6, a, b)

    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray:
        c %= self.modulus
        a = np.asarray(a, dtype=U64, order="C")
        out = np.empty(a.shape, dtype=U64)
        small = _small(c)
        if small is not None:
            k, negative, j = small
            scalars = [np.array(k, U64), np.array(j, U64)]
            chunked(_small_shift_kernel, out.reshape(-1), [a.reshape(-1), *scalars], 1)
            return self.neg(out) if negative else out
        limbs = [np.array(c >> 32, dtype=U64), np.array(c & 0xFFFFFFFF, dtype=U64)]
        chunked(_scalar_kernel, out.reshape(-1), [a.reshape(-1), *limbs], 4)
        return out

    def mul_scalar_add(self, a: np.ndarray, c: int, b: np.ndarray) -> np.ndarray:
        """a·c + b in one pass (a and b of one shape)."""
        c %= self.modulus
        a = np.asarray(a, dtype=U64, order="C")
        b = np.asarray(b, dtype=U64, order="C")
        if a.shape != b.shape:
            return self.add(self.mul_scalar(a, c), b)
        out = np.empty(a.shape, dtype=U64)
        small = _small(c)
        if small is not None:
            k, negative, j = small
            kernel = _small_shift_sub_kernel if negative else _small_shift_add_kernel
            scalars = [np.array(k, U64), np.array(j, U64)]
            chunked(kernel, out.reshape(-1), [a.reshape(-1), b.reshape(-1), *scalars], 1)
            return out
        limbs = [np.array(c >> 32, dtype=U64), np.array(c & 0xFFFFFFFF, dtype=U64)]
        chunked(_scalar_add_kernel, out.reshape(-1), [a.reshape(-1), b.reshape(-1), *limbs], 4)
        return out

    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        # Sum the 32-bit halves separately: exact in uint64 for up to 2^32 terms.
        a = np.asarray(a, dtype=U64)
        count = a.size if axis is None else a.shape[axis]
        if count >= 2**32:
            raise ValueError("sums take fewer than 2^32 terms")
        lo = self.reduce(np.sum(a & _M32, axis=axis, dtype=U64))
        hi = self.reduce(np.sum(a >> _S32, axis=axis, dtype=U64))
        return self.add(lo, self.mul_scalar(hi, 2**32))

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return limb_matmul(self, np.asarray(a, dtype=U64), np.asarray(b, dtype=U64))

    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray:
        return rng.below(shape, self.modulus)

    def random_bits(self, rng: Csprng, shape: int | tuple[int, ...], bits: int) -> np.ndarray:
        """Elements uniform in [0, 2^bits), bits ≤ 60."""
        if not 0 < bits <= 60:
            raise ValueError("F_(2^61-1) holds uniform values of at most 60 bits")
        return rng.below(shape, 2**bits)

    def low_bits(self, elements: np.ndarray, bits: int) -> np.ndarray:
        return np.asarray(elements, dtype=U64) & U64((1 << bits) - 1)

    def inverse(self, c: int) -> int:
        c %= self.modulus
        if c == 0:
            raise ZeroDivisionError("0 has no inverse in F_p")
        return pow(c, self.modulus - 2, self.modulus)

    def from_limb_columns(self, columns: list[np.ndarray], limb_bits: int) -> np.ndarray:
        """Σ_s columns[s]·2^(limb_bits·s) mod p, each column < 2^63 (for limb matrix products)."""
        total = self.zeros(columns[0].shape)
        for s, column in enumerate(columns):
            term = self.mul_scalar(self.reduce(column), pow(2, limb_bits * s, self.modulus))
            total = self.add(total, term)
        return total
