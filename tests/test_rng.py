"""Tests of mpc.rng: the AES-CTR Csprng, derived streams, labels, and sampling below a modulus.

Statistical tests use thresholds far out in the tail (a good generator fails them with probability
below 1e-12) while a broken generator (biased bytes, modulo bias, a stuck bit) fails by orders of
magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.rng import Csprng

KEY = bytes(range(32))
P61 = 2**61 - 1

label_part = st.one_of(st.binary(max_size=6), st.text(max_size=6), st.integers(-(2**64), 2**64))
labels = st.lists(label_part, max_size=4).map(tuple)


def chi_square(counts: np.ndarray, expected: np.ndarray | float) -> float:
    return float(np.sum((counts - expected) ** 2 / expected))


def chi_square_limit(bins: int) -> float:
    """A bound a chi-square variable with bins − 1 degrees of freedom exceeds with p < 1e-12."""
    df = bins - 1
    return df + 12 * np.sqrt(2 * df) + 40


# --- seeds and determinism -----------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_csprng_seed_must_be_32_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Csprng(bytes(length))


def test_csprng_same_seed_same_stream() -> None:
    assert Csprng(KEY).bytes(100) == Csprng(KEY).bytes(100)
    assert Csprng(KEY).bytes(100) != Csprng(bytes(32)).bytes(100)


def test_csprng_unseeded_streams_differ() -> None:
    assert Csprng().bytes(32) != Csprng().bytes(32)


def test_csprng_is_aes256_ctr_known_answer() -> None:
    # The first keystream blocks are AES_k(0), AES_k(1), …: pins the construction, so two
    # implementations (or versions) of a party derive the same shares from the same seed.
    ecb = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()
    counters = b"".join(i.to_bytes(16, "big") for i in range(3))
    assert Csprng(KEY).bytes(48) == ecb.update(counters) + ecb.finalize()


def test_csprng_stream_continues_across_calls_and_chunks() -> None:
    whole = Csprng(KEY).bytes((1 << 20) + 37)  # crosses the internal 1 MiB chunk
    rng = Csprng(KEY)
    pieces = [rng.bytes(5), rng.bytes((1 << 20) - 5), rng.bytes(0), rng.bytes(37)]
    assert b"".join(pieces) == whole


def test_csprng_words_are_little_endian_keystream() -> None:
    words = Csprng(KEY).words((2, 3))
    assert words.dtype == np.uint64
    assert words.shape == (2, 3)
    expected = np.frombuffer(Csprng(KEY).bytes(48), dtype="<u8").reshape(2, 3)
    assert np.array_equal(words, expected)


@given(label=labels)
@settings(max_examples=50, deadline=None)
def test_csprng_derive_is_deterministic(label: tuple[bytes | str | int, ...]) -> None:
    assert Csprng.derive(KEY, *label).bytes(32) == Csprng.derive(KEY, *label).bytes(32)


@given(a=labels, b=labels)
@settings(max_examples=200, deadline=None)
def test_csprng_derive_different_labels_differ(
    a: tuple[bytes | str | int, ...], b: tuple[bytes | str | int, ...]
) -> None:
    def canonical(label: tuple[bytes | str | int, ...]) -> tuple[tuple[str, object], ...]:
        return tuple((type(part).__name__, part) for part in label)

    same = canonical(a) == canonical(b)
    assert (Csprng.derive(KEY, *a).bytes(16) == Csprng.derive(KEY, *b).bytes(16)) == same


def test_csprng_derive_different_keys_differ() -> None:
    assert Csprng.derive(KEY, "input", 3).bytes(32) != Csprng.derive(bytes(32), "input", 3).bytes(
        32
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ab", "c"), ("a", "bc")),
        ((b"ab", b"c"), (b"a", b"bc")),
        (("a",), (b"a",)),
        ((1,), ("1",)),
        ((1,), (b"\x01",)),
        (("a",), ("a", "")),
        ((), ("",)),
        ((0,), (-0, 0)),
        (("a\x00",), ("a", "")),
    ],
)
def test_csprng_label_encoding_is_unambiguous(
    a: tuple[bytes | str | int, ...], b: tuple[bytes | str | int, ...]
) -> None:
    assert Csprng.derive(KEY, *a).bytes(32) != Csprng.derive(KEY, *b).bytes(32)


def test_csprng_derived_stream_differs_from_the_key_stream() -> None:
    assert Csprng.derive(KEY).bytes(32) != Csprng(KEY).bytes(32)


# --- below, bits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "modulus", [1, 2, 3, 7, 1000, 2**32 - 1, 2**32 + 1, P61, 2**63 + 1, 3 * 2**62, 2**64 - 1, 2**64]
)
def test_csprng_below_values_are_below_the_modulus(modulus: int) -> None:
    values = Csprng(KEY).below((50, 40), modulus)
    assert values.dtype == np.uint64
    assert values.shape == (50, 40)
    assert all(int(v) < modulus for v in values.flat)
    if modulus >= 1000:  # not stuck in a tiny corner of the range
        assert int(values.max()) > modulus // 2
        assert int(values.min()) < modulus // 2


@pytest.mark.parametrize("modulus", [0, -1, 2**64 + 1])
def test_csprng_below_rejects_bad_moduli(modulus: int) -> None:
    with pytest.raises(ValueError, match="modulus"):
        Csprng(KEY).below(4, modulus)


@pytest.mark.parametrize("shape", [(), 0, (0,), 5, (2, 0, 3), (3, 4)])
def test_csprng_sampling_shapes(shape: int | tuple[int, ...]) -> None:
    expected = (shape,) if isinstance(shape, int) else shape
    rng = Csprng(KEY)
    assert rng.below(shape, 3).shape == expected
    assert rng.bits(shape).shape == expected
    assert rng.words(shape).shape == expected


def test_csprng_below_modulus_one_is_zero() -> None:
    assert not Csprng(KEY).below(100, 1).any()


def test_csprng_below_is_deterministic_for_a_seed() -> None:
    assert np.array_equal(Csprng(KEY).below(1000, P61), Csprng(KEY).below(1000, P61))


def test_csprng_bytes_are_uniform() -> None:
    data = np.frombuffer(Csprng(KEY).bytes(200_000), dtype=np.uint8)
    counts = np.bincount(data, minlength=256)
    assert chi_square(counts, len(data) / 256) < chi_square_limit(256)


def test_csprng_bits_are_zero_or_one_and_balanced() -> None:
    bits = Csprng(KEY).bits(100_000)
    assert bits.dtype == np.uint8
    assert set(np.unique(bits).tolist()) == {0, 1}
    # ones ~ Binomial(n, 1/2): sd = sqrt(n)/2 ≈ 158; 8 sd is beyond 1e-15.
    assert abs(int(bits.sum()) - 50_000) < 8 * 158
    # no stuck position inside a byte (unpacking order bugs would show here)
    per_position = bits.reshape(-1, 8).sum(axis=0).astype(np.int64)  # 12,500 draws each
    assert np.all(np.abs(per_position - 6250) < 8 * np.sqrt(12_500) / 2)


def test_csprng_bits_odd_count_uses_the_stream() -> None:
    assert np.array_equal(
        Csprng(KEY).bits(13), np.unpackbits(Csprng(KEY).words(1).view(np.uint8))[:13]
    )


@pytest.mark.parametrize("modulus", [3, 5, 1000])
def test_csprng_below_small_modulus_is_uniform(modulus: int) -> None:
    values = Csprng(KEY).below(100_000, modulus)
    bins = min(modulus, 50)
    counts = np.bincount((values * np.uint64(bins) // np.uint64(modulus)).astype(np.int64))
    expected = np.array(
        [len(range(-(-b * modulus // bins), -(-(b + 1) * modulus // bins))) for b in range(bins)]
    ) * (100_000 / modulus)
    assert chi_square(counts, expected) < chi_square_limit(bins)


@pytest.mark.parametrize("modulus", [P61, 2**64 - 59])
def test_csprng_below_large_modulus_is_uniform(modulus: int) -> None:
    values = Csprng(KEY).below(100_000, modulus)
    top = (values // np.uint64(-(-modulus // 32))).astype(np.int64)  # 32 equal-width bins
    counts = np.bincount(top, minlength=32)
    assert chi_square(counts, 100_000 / 32) < chi_square_limit(32)
    low = np.bincount((values & np.uint64(255)).astype(np.int64), minlength=256)
    assert chi_square(low, 100_000 / 256) < chi_square_limit(256)


def test_csprng_below_has_no_modulo_bias() -> None:
    # m = 3·2^62: reducing a 64-bit word mod m would put half of the mass below 2^62 instead of
    # a third. Rejection sampling keeps it at 1/3 (sd ≈ 0.0015 at 10^5 samples).
    modulus = 3 * 2**62
    values = Csprng(KEY).below(100_000, modulus)
    low_share = float(np.mean(values < np.uint64(2**62)))
    assert abs(low_share - 1 / 3) < 0.015
