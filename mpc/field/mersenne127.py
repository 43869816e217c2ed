"""F_p with p = 2^127 − 1: the field that holds fixed-point values with room for truncation masks.

Catrina–Saxena truncation opens x + r with r drawn l + κ bits wide, so it needs p > 2^(l+κ+1)
(PROTOCOLS.md §4.3); with κ = 40 the 61-bit field leaves no room for a product of two
fixed-point numbers, this one leaves l ≤ 85 bits.

Elements are 16-byte voids (two little-endian uint64 words, value = lo + hi·2^64, canonical in
[0, p)), so array shape operations treat one element as one item. Products split both operands
into four 32-bit limbs: 16 limb products, each split into 32-bit halves, accumulate into eight
columns (< 2^35), carry-propagate to a 256-bit value V, and fold V = L + H·2^127 ≡ L + H twice.
All kernels run in place on cache-sized chunks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mpc.field.base import CHUNK, U64, broadcast_pair
from mpc.field.matmul import limb_matmul
from mpc.rng import Csprng

MODULUS = 2**127 - 1
_M32 = U64(0xFFFFFFFF)
_M31 = U64(0x7FFFFFFF)
_M63 = U64(2**63 - 1)
_ALL = U64(2**64 - 1)
_S1, _S31, _S32, _S63 = U64(1), U64(31), U64(32), U64(63)
DTYPE = np.dtype("V16")


def words(elements: np.ndarray) -> np.ndarray:
    """(…, 2) uint64 view of an element array (lo, hi)."""
    array = np.asarray(elements, order="C")  # a strided view (a matrix column) is copied
    if array.dtype != DTYPE:
        raise TypeError(f"expected F_(2^127-1) elements (V16), got {array.dtype}")
    return array.reshape(-1).view(U64).reshape(*array.shape, 2)  # (0-d arrays cannot change dtype)


def from_words(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    stacked = np.stack([np.asarray(lo, dtype=U64), np.asarray(hi, dtype=U64)], axis=-1)
    return np.ascontiguousarray(stacked).view(DTYPE).reshape(stacked.shape[:-1])


class _Scratch:
    """Reusable chunk buffers for the kernels of one call."""

    def __init__(self, count: int, size: int) -> None:
        self.buffers = [np.empty(size, dtype=U64) for _ in range(count)]

    def take(self, size: int) -> list[np.ndarray]:
        return [b[:size] for b in self.buffers]


def _canonical(
    l0: np.ndarray, l1: np.ndarray, l2: np.ndarray, l3: np.ndarray, t: np.ndarray
) -> None:
    """32-bit limbs of a value in [0, 2^128) → its canonical residue mod p, in place."""
    for _ in range(2):  # fold bit 127 and above: 2^127 ≡ 1
        np.right_shift(l3, _S31, out=t)
        np.bitwise_and(l3, _M31, out=l3)
        l0 += t
        for low, high in ((l0, l1), (l1, l2), (l2, l3)):
            np.right_shift(low, _S32, out=t)
            np.bitwise_and(low, _M32, out=low)
            high += t
    # now the value is in [0, p]; p itself is 0
    is_p = (l0 == _M32) & (l1 == _M32) & (l2 == _M32) & (l3 == _M31)
    for limb in (l0, l1, l2, l3):
        limb[is_p] = 0


def _product(a: list[Any], b: list[Any], c: list[np.ndarray], t: np.ndarray, u: np.ndarray) -> None:
    """Columns c[0..7] (32-bit, carried) of the 256-bit product of 4-limb a and b."""
    for column in c:
        column.fill(0)
    for i in range(4):
        for j in range(4):
            np.multiply(a[i], b[j], out=t)
            np.bitwise_and(t, _M32, out=u)
            c[i + j] += u
            np.right_shift(t, _S32, out=t)
            c[i + j + 1] += t
    for k in range(7):
        np.right_shift(c[k], _S32, out=t)
        c[k + 1] += t
        np.bitwise_and(c[k], _M32, out=c[k])


def _fold_product(
    c: list[np.ndarray], out_lo: np.ndarray, out_hi: np.ndarray, h: list[np.ndarray], t: np.ndarray
) -> None:
    """out ← V mod p for V = Σ c_k 2^(32k) < 2^254 (uses h as 4 scratch limbs)."""
    for k in range(4):  # H = V >> 127, as 32-bit limbs
        np.right_shift(c[k + 3], _S31, out=h[k])
        if k + 4 < 8:
            np.left_shift(c[k + 4], _S1, out=t)
            np.bitwise_and(t, _M32, out=t)
            np.bitwise_or(h[k], t, out=h[k])
    np.bitwise_and(c[3], _M31, out=c[3])  # L = V mod 2^127
    for k in range(4):
        c[k] += h[k]
    for k in range(3):
        np.right_shift(c[k], _S32, out=t)
        np.bitwise_and(c[k], _M32, out=c[k])
        c[k + 1] += t
    _canonical(c[0], c[1], c[2], c[3], t)
    np.left_shift(c[1], _S32, out=t)
    np.bitwise_or(c[0], t, out=out_lo)
    np.left_shift(c[3], _S32, out=t)
    np.bitwise_or(c[2], t, out=out_hi)


def _split(lo: np.ndarray, hi: np.ndarray, limbs: list[np.ndarray]) -> None:
    np.bitwise_and(lo, _M32, out=limbs[0])
    np.right_shift(lo, _S32, out=limbs[1])
    np.bitwise_and(hi, _M32, out=limbs[2])
    np.right_shift(hi, _S32, out=limbs[3])


class MersenneField127:
    """F_p, p = 2^127 − 1, on arrays of 16-byte elements."""

    name = "F_(2^127-1)"
    modulus = MODULUS
    exact_bound = (MODULUS - 1) // 2
    dtype = DTYPE
    is_field = True

    # --- conversions -----------------------------------------------------------------------------
    def zeros(self, shape: int | tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=DTYPE)

    def encode(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=np.int64)
        magnitude = from_words(np.abs(v).astype(U64), np.zeros(v.shape, dtype=U64))
        negative = self.neg(magnitude)
        return np.where(v < 0, negative, magnitude)

    def encode_int(self, value: int) -> np.ndarray:
        value %= MODULUS
        return from_words(
            np.array(value & (2**64 - 1), dtype=U64), np.array(value >> 64, dtype=U64)
        )

    def _signed_parts(self, elements: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(negative?, magnitude lo, magnitude hi) of the centred representatives."""
        w = words(elements)
        negative = w[..., 1] >= U64(2**62)  # value > (p − 1)/2
        magnitude = words(np.where(negative, self.neg(elements), elements))
        return negative, magnitude[..., 0], magnitude[..., 1]

    def decode(self, elements: np.ndarray) -> np.ndarray:
        """Signed integers: int64 when they all fit, else exact Python ints (an object array)."""
        negative, lo, hi = self._signed_parts(elements)
        if not np.any(hi != 0) and not np.any(lo >= U64(2**63)):
            magnitude = lo.astype(np.int64)
            return np.where(negative, -magnitude, magnitude)
        magnitude = np.asarray(hi.astype(object) * 2**64 + lo.astype(object), dtype=object)
        exact: np.ndarray = np.where(negative, -magnitude, magnitude)
        return exact

    def decode_scaled(self, elements: np.ndarray, frac_bits: int) -> np.ndarray:
        negative, lo, hi = self._signed_parts(elements)
        value = (hi.astype(np.float64) * 2.0**64 + lo.astype(np.float64)) / 2.0**frac_bits
        return np.where(negative, -value, value)

    def low_bits(self, elements: np.ndarray, bits: int) -> np.ndarray:
        if not 0 < bits <= 64:
            raise ValueError("low_bits takes 1..64 bits")
        return words(elements)[..., 0] & (_ALL if bits == 64 else U64((1 << bits) - 1))

    def inverse(self, c: int) -> int:
        c %= MODULUS
        if c == 0:
            raise ZeroDivisionError("0 has no inverse in F_p")
        return pow(c, MODULUS - 2, MODULUS)

    def random_bits(self, rng: Csprng, shape: int | tuple[int, ...], bits: int) -> np.ndarray:
        """Elements uniform in [0, 2^bits), bits ≤ 126."""
        if not 0 < bits <= 126:
            raise ValueError("F_(2^127-1) holds uniform values of at most 126 bits")
        count = int(np.prod(shape))
        lo = rng.words(count) if bits >= 64 else rng.below(count, 2**bits)
        hi = rng.below(count, 2 ** (bits - 64)) if bits > 64 else np.zeros(count, dtype=U64)
        return from_words(lo, hi).reshape(shape)

    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        w = rng.words((count, 2))
        w[:, 1] &= _M63
        bad = np.flatnonzero((w[:, 0] == _ALL) & (w[:, 1] == _M63))
        while bad.size:  # p itself: probability 2^-127 per element
            fresh = rng.words((bad.size, 2))
            fresh[:, 1] &= _M63
            w[bad] = fresh
            bad = bad[(fresh[:, 0] == _ALL) & (fresh[:, 1] == _M63)]
        return w.view(DTYPE).reshape(shape)

    # --- arithmetic --------------------------------------------------------------------------
    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b, shape = broadcast_pair(np.asarray(a), np.asarray(b))
        wa, wb = words(a).reshape(-1, 2), words(b).reshape(-1, 2)
        out = np.empty((wa.shape[0], 2), dtype=U64)
        scratch = _Scratch(3, min(CHUNK, max(len(wa), 1)))
        for start in range(0, len(wa), CHUNK):
            stop = min(start + CHUNK, len(wa))
            lo, hi, t = scratch.take(stop - start)
            carry = np.empty(stop - start, dtype=np.bool_)
            np.add(wa[start:stop, 0], wb[start:stop, 0], out=lo)  # wraps
            np.less(lo, wa[start:stop, 0], out=carry)
            np.add(wa[start:stop, 1], wb[start:stop, 1], out=hi)  # < 2^64: both words < 2^63
            np.add(hi, carry, out=hi, casting="unsafe")
            np.right_shift(hi, _S63, out=t)  # bit 127: 2^127 ≡ 1
            np.bitwise_and(hi, _M63, out=hi)
            np.add(lo, t, out=lo)
            np.less(lo, t, out=carry)
            np.add(hi, carry, out=hi, casting="unsafe")
            is_p = (lo == _ALL) & (hi == _M63)  # a + b = p exactly
            lo[is_p] = 0
            hi[is_p] = 0
            out[start:stop, 0] = lo
            out[start:stop, 1] = hi
        return out.view(DTYPE).reshape(shape)

    def neg(self, a: np.ndarray) -> np.ndarray:
        w = words(a)
        zero = (w[..., 0] == 0) & (w[..., 1] == 0)
        lo = np.where(zero, U64(0), np.invert(w[..., 0]))
        hi = np.where(zero, U64(0), _M63 - w[..., 1])
        return from_words(lo, hi)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.add(a, self.neg(np.asarray(b)))

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b, shape = broadcast_pair(np.asarray(a), np.asarray(b))
        wa, wb = words(a).reshape(-1, 2), words(b).reshape(-1, 2)
        out = np.empty((wa.shape[0], 2), dtype=U64)
        scratch = _Scratch(18, min(CHUNK, max(len(wa), 1)))
        for start in range(0, len(wa), CHUNK):
            stop = min(start + CHUNK, len(wa))
            s = scratch.take(stop - start)
            a_limbs, b_limbs, c, t, u = s[0:4], s[4:8], s[8:16], s[16], s[17]
            _split(wa[start:stop, 0], wa[start:stop, 1], a_limbs)
            _split(wb[start:stop, 0], wb[start:stop, 1], b_limbs)
            _product(a_limbs, b_limbs, c, t, u)
            _fold_product(c, out[start:stop, 0], out[start:stop, 1], a_limbs, t)
        return out.view(DTYPE).reshape(shape)

    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray:
        c %= MODULUS
        a = np.asarray(a, order="C")
        wa = words(a).reshape(-1, 2)
        scalar = [U64((c >> (32 * k)) & 0xFFFFFFFF) for k in range(4)]
        out = np.empty((wa.shape[0], 2), dtype=U64)
        scratch = _Scratch(14, min(CHUNK, max(len(wa), 1)))
        for start in range(0, len(wa), CHUNK):
            stop = min(start + CHUNK, len(wa))
            s = scratch.take(stop - start)
            a_limbs, columns, t, u = s[0:4], s[4:12], s[12], s[13]
            _split(wa[start:stop, 0], wa[start:stop, 1], a_limbs)
            _product(a_limbs, scalar, columns, t, u)
            _fold_product(columns, out[start:stop, 0], out[start:stop, 1], a_limbs, t)
        return out.view(DTYPE).reshape(a.shape)

    def mul_scalar_add(self, a: np.ndarray, c: int, b: np.ndarray) -> np.ndarray:
        return self.add(self.mul_scalar(a, c), b)

    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        w = words(np.asarray(a))
        count = w[..., 0].size if axis is None else w.shape[axis]
        if count >= 2**31:
            raise ValueError("sums take fewer than 2^31 terms")
        limbs = [w[..., 0] & _M32, w[..., 0] >> _S32, w[..., 1] & _M32, w[..., 1] >> _S32]
        columns = [np.asarray(np.sum(limb, axis=axis, dtype=U64)) for limb in limbs]
        return self.from_limb_columns(columns, 32)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return limb_matmul(self, np.asarray(a), np.asarray(b))

    def from_limb_columns(self, columns: list[np.ndarray], limb_bits: int) -> np.ndarray:
        """Σ_s columns[s]·2^(limb_bits·s) mod p, each column a uint64 array < 2^63."""
        total = self.zeros(columns[0].shape)
        for shift, column in enumerate(columns):
            element = from_words(column, np.zeros(column.shape, dtype=U64))
            total = self.add(total, self.mul_scalar(element, pow(2, limb_bits * shift, MODULUS)))
        return total
