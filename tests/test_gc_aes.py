"""Fixed-key AES permutation and the TCCR hash H(x, i) = π(π(x) ⊕ i) ⊕ π(x)."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mpc.gc.aes import CHUNK_ROWS, FixedKeyAes, block_buffer, lsb
from mpc.rng import Csprng

KEY = bytes(range(16))


def reference_aes(key: bytes, blocks: np.ndarray) -> np.ndarray:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    data = encryptor.update(np.ascontiguousarray(blocks).tobytes()) + encryptor.finalize()
    return np.frombuffer(data, dtype=np.uint64).reshape(-1, 2)


def reference_tccr(key: bytes, x: np.ndarray, tweaks: np.ndarray, high: int = 0) -> np.ndarray:
    p = reference_aes(key, x)
    y = p.copy()
    y[:, 0] ^= tweaks.astype(np.uint64)
    y[:, 1] ^= np.uint64(high)
    h: np.ndarray = reference_aes(key, y) ^ p
    return h


def test_aes_permute_matches_aes_ecb_blockwise() -> None:
    x = Csprng(bytes(32)).words((1000, 2))
    assert np.array_equal(FixedKeyAes(KEY).permute(x), reference_aes(KEY, x))


def test_aes_fips197_known_answer() -> None:
    # FIPS-197 appendix C.1: the 16 bytes of a block are the row's memory, little-endian words
    key = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    plain = np.frombuffer(bytes.fromhex("00112233445566778899aabbccddeeff"), np.uint64)
    out = FixedKeyAes(key).permute(plain.reshape(1, 2))
    assert out.tobytes().hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_aes_permute_into_works_in_place_and_needs_a_spare_row() -> None:
    aes = FixedKeyAes(KEY)
    buf = block_buffer(8)
    buf[:8] = Csprng(bytes(32)).words((8, 2))
    expected = reference_aes(KEY, buf[:8])
    aes.permute_into(buf[:8], buf)
    assert np.array_equal(buf[:8], expected)
    with pytest.raises(ValueError, match="spare row"):
        aes.permute_into(buf[:8], np.empty((8, 2), dtype=np.uint64))


@pytest.mark.parametrize("n", [1, 5, CHUNK_ROWS + 3])
def test_aes_hash_matches_the_tccr_formula(n: int) -> None:
    x = Csprng(bytes(32)).words((n, 2))
    aes = FixedKeyAes(KEY)
    first = 2**40 + 7
    expected = reference_tccr(KEY, x, np.arange(first, first + n, dtype=np.uint64))
    assert np.array_equal(aes.hash(x, first), expected)
    tweaks = Csprng(bytes([1] * 32)).words(n)
    assert np.array_equal(aes.hash(x, tweaks), reference_tccr(KEY, x, tweaks))
    assert np.array_equal(aes.hash(x, 0, high=3), reference_tccr(KEY, x, np.arange(n), 3))


def test_aes_hash_in_place_and_tweak_separation() -> None:
    x = Csprng(bytes(32)).words((64, 2))
    aes = FixedKeyAes(KEY)
    expected = aes.hash(x, 10)
    same = np.repeat(x[:1], 2, axis=0)
    h = aes.hash(same, 0)
    assert not np.array_equal(h[0], h[1])  # same x, different tweaks
    y = x.copy()
    aes.hash(y, 10, out=y)
    assert np.array_equal(y, expected)


def test_aes_hash_differs_between_session_keys() -> None:
    x = Csprng(bytes(32)).words((16, 2))
    a, b = FixedKeyAes(KEY).hash(x, 0), FixedKeyAes(bytes(16)).hash(x, 0)
    assert not np.any(np.all(a == b, axis=1))


def test_aes_rejects_a_bad_key() -> None:
    with pytest.raises(ValueError, match="key"):
        FixedKeyAes(b"short")


def test_aes_lsb_is_bit_zero_of_the_low_word() -> None:
    blocks = np.array([[1, 0], [2, 1], [3, 2**63]], dtype=np.uint64)
    assert lsb(blocks).tolist() == [1, 0, 1]
