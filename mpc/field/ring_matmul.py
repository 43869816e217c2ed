"""Matrix products over Z_2^64, compiled: uint64 multiply-adds wrap mod 2^64 by themselves.

numpy has no BLAS for integers (its uint64 matmul is a plain loop: 18 ms at 256×256 here), and
the exact float64 route the fields take (`mpc.field.matmul`) needs six limb products per ring
product (8.5 ms). This loop, compiled by numba, is vectorised by LLVM over the output row (one
AVX-512 `vpmullq` for 8 products where the CPU has it): 2.2 ms at 256×256.

    out[i, :] += a[i, p] · b[p, :]   for every p (a column b: out[i] = Σ_p a[i, p] · b[p]).

It runs at about one vector multiply per 3 cycles whatever the size (256 to 1024 measured):
blocking for the cache changed nothing, the multiplier is the limit.

numba compiles the kernels once per machine and caches them beside this file; a process still
spends ~0.25 s importing numba and loading them, so `Ring64` imports this module on its first
matrix product, and a node or the dealer loads it before the job (`load_ring_matmul`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mpc.field.matmul import as_matrices

U64 = np.uint64
_SIGNATURE = "void(uint64[:, ::1], uint64[:, ::1], uint64[:, ::1])"


@njit(_SIGNATURE, cache=True, nogil=True, boundscheck=False)
def _product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    m, k = a.shape
    for i in range(m):
        row = out[i]
        for p in range(k):
            scale = a[i, p]
            b_row = b[p]
            for j in range(row.shape[0]):
                row[j] += scale * b_row[j]


@njit(_SIGNATURE, cache=True, nogil=True, boundscheck=False)
def _column(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    m, k = a.shape
    for i in range(m):
        total = U64(0)
        for p in range(k):
            total += a[i, p] * b[p, 0]
        out[i, 0] += total


def ring_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b over Z_2^64 (uint64 operands: vectors or matrices, as np.matmul takes them)."""
    a2, b2, shape = as_matrices(np.asarray(a, dtype=U64), np.asarray(b, dtype=U64))
    out = np.zeros((a2.shape[0], b2.shape[1]), dtype=U64)
    if out.size and a2.shape[1]:
        a2, b2 = np.ascontiguousarray(a2), np.ascontiguousarray(b2)
        if b2.shape[1] == 1:
            _column(a2, b2, out)
        else:
            _product(a2, b2, out)
    return out.reshape(shape)
