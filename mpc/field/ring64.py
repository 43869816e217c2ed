"""The ring Z_2^64 on uint64 arrays (the additive suite's integers).

Every operation returns an array, also for 0-d operands (numpy would give a scalar).

numpy's wrap-around uint64 arithmetic is exactly the ring; signed integers are two's complement.
Matrix products run in a compiled kernel (`mpc.field.ring_matmul`, imported on first use).
"""

from __future__ import annotations

import numpy as np

from mpc.field.base import U64
from mpc.rng import Csprng


class Ring64:
    """Z_2^64: signed values |v| < 2^63 decode exactly."""

    name = "Z_2^64"
    modulus = 2**64
    exact_bound = 2**63 - 1
    dtype = np.dtype(np.uint64)
    is_field = False

    def zeros(self, shape: int | tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=U64)

    def encode(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.int64).view(U64)

    def encode_int(self, value: int) -> np.ndarray:
        return np.array(value % 2**64, dtype=U64)

    def decode(self, elements: np.ndarray) -> np.ndarray:
        return np.asarray(elements, dtype=U64).view(np.int64)

    def decode_scaled(self, elements: np.ndarray, frac_bits: int) -> np.ndarray:
        return self.decode(elements).astype(np.float64) / 2.0**frac_bits

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.add(a, b, dtype=U64))

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.subtract(a, b, dtype=U64))

    def neg(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(np.subtract(U64(0), a, dtype=U64))

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.multiply(a, b, dtype=U64))

    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray:
        return np.asarray(np.multiply(a, U64(c % 2**64), dtype=U64))

    def mul_scalar_add(self, a: np.ndarray, c: int, b: np.ndarray) -> np.ndarray:
        return self.add(self.mul_scalar(a, c), b)

    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        return np.asarray(np.sum(a, axis=axis, dtype=U64))

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from mpc.field.ring_matmul import ring_matmul  # numba: ~0.25 s to load, so only now

        return ring_matmul(a, b)

    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray:
        return rng.words(shape)

    def random_bits(self, rng: Csprng, shape: int | tuple[int, ...], bits: int) -> np.ndarray:
        """Elements uniform in [0, 2^bits)."""
        return rng.below(shape, 2**bits)

    def inverse(self, c: int) -> int:
        if c % 2 == 0:
            raise ZeroDivisionError("only odd numbers are invertible in Z_2^64")
        return pow(c, -1, 2**64)

    def low_bits(self, elements: np.ndarray, bits: int) -> np.ndarray:
        return np.asarray(elements, dtype=U64) & U64((1 << bits) - 1 if bits < 64 else 2**64 - 1)
