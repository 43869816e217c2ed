"""Cryptographically secure randomness for shares, masks, keys and labels.

`Csprng` is an AES-256-CTR keystream. `Csprng()` seeds itself from `os.urandom`; `Csprng.derive(key,
*label)` gives a deterministic stream (a PRG) that two parties holding the same key reproduce
bit for bit — the basis of seed-compressed sharing and pairwise zero-sharings. Keys of derived
streams are HMAC-SHA256(key, label), so streams with different labels are independent.

Uniform elements below a modulus come from rejection sampling (no modulo bias). Nothing secret
in this package comes from any other generator.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_CHUNK = 1 << 20
_ZEROS = bytes(_CHUNK)

LabelPart = bytes | str | int


def _encode_label(parts: Sequence[LabelPart]) -> bytes:
    """Unambiguous encoding of a label: each part type-tagged and length-prefixed."""
    out = bytearray()
    for part in parts:
        if isinstance(part, bytes):
            tag, data = b"b", part
        elif isinstance(part, str):
            tag, data = b"s", part.encode()
        else:
            tag, data = b"i", part.to_bytes(16, "big", signed=True)
        out += tag + len(data).to_bytes(4, "big") + data
    return bytes(out)


class Csprng:
    """An AES-256-CTR keystream: uniform bytes, 64-bit words and residues below any modulus."""

    __slots__ = ("_encryptor",)

    def __init__(self, seed: bytes | None = None) -> None:
        key = os.urandom(32) if seed is None else seed
        if len(key) != 32:
            raise ValueError("a Csprng seed is 32 bytes")
        self._encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()

    @classmethod
    def derive(cls, key: bytes, *label: LabelPart) -> Csprng:
        """A deterministic stream for `label` under `key`; equal inputs give equal streams."""
        return cls(hmac.new(key, _encode_label(label), hashlib.sha256).digest())

    def bytes(self, n: int) -> bytes:
        """n uniform bytes."""
        return self._keystream(n).tobytes()

    def _keystream(self, n: int) -> np.ndarray:
        buf = np.empty(n + 15, dtype=np.uint8)
        view = memoryview(buf.data)
        zeros = memoryview(_ZEROS)
        for start in range(0, n, _CHUNK):
            size = min(_CHUNK, n - start)
            self._encryptor.update_into(zeros[:size], view[start : start + size + 15])
        return buf[:n]

    def words(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform uint64 words of the given shape."""
        count = int(np.prod(shape))
        return self._keystream(8 * count).view(np.uint64).reshape(shape)

    def below(self, shape: int | tuple[int, ...], modulus: int) -> np.ndarray:
        """Uniform uint64 values in [0, modulus): mask to its bit length, reject the rest."""
        if not 1 <= modulus <= 2**64:
            raise ValueError("modulus must be in 1..2^64")
        if modulus == 2**64:
            return self.words(shape)
        count = int(np.prod(shape))
        mask = np.uint64((1 << (modulus - 1).bit_length()) - 1)
        bound = np.uint64(modulus)
        out = self.words(count)
        np.bitwise_and(out, mask, out=out)
        if not out.size or out.max() < bound:  # (for a Mersenne prime, almost always)
            return out.reshape(shape)
        bad = np.flatnonzero(out >= bound)
        while bad.size:  # each retry keeps ≥ half of the candidates: a few passes at most
            fresh = self.words(bad.size) & mask
            out[bad] = fresh
            bad = bad[fresh >= bound]
        return out.reshape(shape)

    def bits(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform bits as a uint8 array of 0/1."""
        count = int(np.prod(shape))
        packed = self._keystream((count + 7) // 8)
        return np.unpackbits(packed, count=count).reshape(shape)
