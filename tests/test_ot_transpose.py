"""The SWAR bit-matrix transpose against unpackbits/packbits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.ot.transpose import transpose_bits


def reference(matrix: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(matrix, axis=1, bitorder="little")
    return np.packbits(np.ascontiguousarray(bits.T), axis=1, bitorder="little")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.sampled_from([64, 128, 192]),
    words=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_transpose_matches_plaintext(rows: int, words: int, seed: int) -> None:
    m = np.random.default_rng(seed).integers(0, 256, size=(rows, words * 8), dtype=np.uint8)
    out = transpose_bits(m)
    assert out.shape == (words * 64, rows // 8)
    assert np.array_equal(out, reference(m))
    assert np.array_equal(transpose_bits(out), m)  # an involution up to shape


def test_transpose_single_bits_land_where_expected() -> None:
    m = np.zeros((128, 16), dtype=np.uint8)
    m[5, 100 // 8] |= 1 << (100 % 8)  # bit (row 5, column 100)
    out = transpose_bits(m)
    assert np.count_nonzero(out) == 1
    assert out[100, 5 // 8] == 1 << (5 % 8)


def test_transpose_overwrite_uses_the_input_as_scratch() -> None:
    m = np.random.default_rng(1).integers(0, 256, size=(128, 64), dtype=np.uint8)
    expected = reference(m)
    keep = m.copy()
    assert np.array_equal(transpose_bits(m), expected)
    assert np.array_equal(m, keep)  # not overwritten by default
    assert np.array_equal(transpose_bits(m, overwrite=True), expected)


def test_transpose_of_an_empty_matrix() -> None:
    assert transpose_bits(np.zeros((128, 0), dtype=np.uint8)).shape == (0, 16)


@pytest.mark.parametrize("shape", [(100, 8), (128, 7)])
def test_transpose_rejects_shapes_that_are_not_multiples_of_64(shape: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="multiples of 64"):
        transpose_bits(np.zeros(shape, dtype=np.uint8))
