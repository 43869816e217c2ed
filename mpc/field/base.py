"""What every arithmetic domain offers, and the shared machinery for fast kernels.

A domain stores elements in numpy arrays of its own `dtype` (uint64 for Z_2^64 and F_(2^61−1),
16-byte voids for F_(2^127−1)), so shape operations (reshape, concatenate, split, broadcast) treat
one element as one item whatever its width. Arithmetic runs on cache-sized chunks with reused
scratch buffers (`chunked`): a 2^14-element chunk keeps every temporary in L2, which made the
61-bit field product four times faster than whole-array numpy expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from mpc.rng import Csprng

U64 = np.uint64
CHUNK = 1 << 14


class Domain(Protocol):
    """Elementwise and matrix arithmetic on arrays of domain elements."""

    name: str
    modulus: int
    exact_bound: int  # |v| ≤ exact_bound decodes exactly
    dtype: np.dtype[Any]
    is_field: bool

    def zeros(self, shape: int | tuple[int, ...]) -> np.ndarray: ...
    def encode(self, values: np.ndarray) -> np.ndarray: ...
    def encode_int(self, value: int) -> np.ndarray: ...
    def decode(self, elements: np.ndarray) -> np.ndarray: ...
    def decode_scaled(self, elements: np.ndarray, frac_bits: int) -> np.ndarray: ...
    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def neg(self, a: np.ndarray) -> np.ndarray: ...
    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def mul_scalar(self, a: np.ndarray, c: int) -> np.ndarray: ...
    def mul_scalar_add(self, a: np.ndarray, c: int, b: np.ndarray) -> np.ndarray: ...
    def sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray: ...
    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
    def random(self, rng: Csprng, shape: int | tuple[int, ...]) -> np.ndarray: ...
    def low_bits(self, elements: np.ndarray, bits: int) -> np.ndarray: ...
    def inverse(self, c: int) -> int: ...
    def random_bits(self, rng: Csprng, shape: int | tuple[int, ...], bits: int) -> np.ndarray: ...


Kernel = Callable[..., None]


def chunked(
    kernel: Kernel,
    out: np.ndarray,
    inputs: Sequence[np.ndarray],
    scratch: int,
) -> np.ndarray:
    """Apply `kernel(out_chunk, *input_chunks, *scratch_buffers)` over aligned 1-D chunks.

    Inputs are flat uint64 views of equal length (scalars may be passed as 0-d arrays and are
    not sliced); `scratch` buffers of CHUNK words are allocated once and reused.
    """
    n = out.shape[0]
    buffers = [np.empty(min(CHUNK, max(n, 1)), dtype=U64) for _ in range(scratch)]
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        size = stop - start
        parts = [x if x.ndim == 0 else x[start:stop] for x in inputs]
        kernel(out[start:stop], *parts, *(b[:size] for b in buffers))
    return out


def broadcast_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Operands broadcast to one shape (contiguous copies only where broadcasting demands it)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    if a.shape != shape:
        a = np.broadcast_to(a, shape)
    if b.shape != shape:
        b = np.broadcast_to(b, shape)
    return np.asarray(a, order="C"), np.asarray(b, order="C"), tuple(shape)
