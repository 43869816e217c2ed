"""Exact matrix products over the Mersenne fields, through float64 BLAS.

Split each entry into L limbs of w bits; then every limb product is below 2^(2w) and a dot
product over k terms below k·2^(2w). With k ≤ 2^(52 − 2w) that is an exact integer in float64,
so BLAS computes all L² limb-matrix products at once, exactly: stack A's limbs as (L·m, k) and
B's as (k, L·n), multiply, and regroup by shift s = i + j:
    A·B = Σ_s (Σ_{i+j=s} A_i·B_j)·2^(w·s).
With w = 21, k ≤ 2^10 per block; the field folds the shifted columns with its own modular
arithmetic. (Z_2^64 has a compiled kernel instead: `mpc.field.ring_matmul`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

U64 = np.uint64


def _limbs(words: np.ndarray, count: int, bits: int) -> list[np.ndarray]:
    """`count` limbs of `bits` bits of little-endian multiword values (..., n_words) of uint64."""
    mask = U64((1 << bits) - 1)
    limbs = []
    for index in range(count):
        position = index * bits
        word, offset = divmod(position, 64)
        limb = words[..., word] >> U64(offset)
        if offset + bits > 64 and word + 1 < words.shape[-1]:
            limb = limb | (words[..., word + 1] << U64(64 - offset))
        limbs.append((limb & mask).astype(np.float64))
    return limbs


def as_matrices(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """2-D views of matmul operands and the shape np.matmul would give."""
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise ValueError("matmul takes vectors and matrices")
    result_shape = a.shape[:-1] + b.shape[1:]  # (m,k)@(k,n) → (m,n); a vector side drops out
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.shape[1] != b2.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align")
    return a2, b2, result_shape


def limb_products(
    a_words: np.ndarray, b_words: np.ndarray, limbs: int, bits: int
) -> list[np.ndarray]:
    """Columns by shift: col[s] = Σ_{i+j=s} A_i·B_j as uint64 (exact), for one block of k,
    from one BLAS call over all limbs × all limbs."""
    m, k = a_words.shape[:2]
    n = b_words.shape[1]
    a_limbs, b_limbs = _limbs(a_words, limbs, bits), _limbs(b_words, limbs, bits)
    stacked_a = np.stack(a_limbs).reshape(limbs * m, k)
    stacked_b = np.stack(b_limbs, axis=1).reshape(k, limbs * n)
    products = (stacked_a @ stacked_b).reshape(limbs, m, limbs, n)
    columns = [np.zeros((m, n), dtype=U64) for _ in range(2 * limbs - 1)]
    for i in range(limbs):
        for j in range(limbs):
            columns[i + j] += products[i, :, j, :].astype(U64)
    return columns


def limb_matmul(field: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b over a Mersenne `field`, exactly."""
    a2, b2, shape = as_matrices(a, b)
    per_element = a2.dtype.itemsize // 8
    words_a = np.asarray(a2, order="C").view(U64).reshape(*a2.shape, per_element)
    words_b = np.asarray(b2, order="C").view(U64).reshape(*b2.shape, per_element)
    bits = 21
    limbs = -(-field.modulus.bit_length() // bits)
    block = 1 << (52 - 2 * bits)
    # Columns of blocks add up in uint64 before one fold: a column holds at most `limbs`
    # products below 2^52 each, so 2^12 / limbs − 1 blocks stay below 2^64.
    per_fold = (1 << 12) // limbs - 1
    total: np.ndarray | None = None
    pending: list[np.ndarray] | None = None
    added = 0
    starts = range(0, max(a2.shape[1], 1), block)
    for index, start in enumerate(starts):
        columns = limb_products(
            words_a[:, start : start + block], words_b[start : start + block], limbs, bits
        )
        if pending is None:
            pending = columns
        else:
            for column, more in zip(pending, columns, strict=True):
                column += more
        added += 1
        if added != per_fold and index != len(starts) - 1:
            continue
        part = field.from_limb_columns(pending, bits)
        total = part if total is None else field.add(total, part)
        pending, added = None, 0
    assert total is not None
    return total.reshape(shape)
