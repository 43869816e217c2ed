"""Fixed-key AES as a public random permutation π on 128-bit blocks, and the TCCR hash over it.

Blocks are `(n, 2)` uint64 arrays: row r is the little-endian 128-bit value
`x[r, 0] + 2^64·x[r, 1]`, and its 16 bytes in memory are exactly the AES block. π is AES-128 under a
key that is **fresh and random per session** (a parameter, never a module-level key), applied to
whole buffers in ECB mode with `update_into` into preallocated buffers (ECB is stateless, so one
encryptor serves the whole session).

Hash (GKWY20, §7, tweakable circular correlation robust):

    H(x, i) = π(π(x) ⊕ i) ⊕ π(x)          i = a 64-bit tweak in the low word, high word 0

The same construction is the TCR hash IKNP needs (tweak = OT index) and the TCCR hash half-gates
needs (tweak = 2g, 2g + 1 for AND gate g). Security holds per session in the random-permutation
model as long as no (tweak) is used for two different purposes under one key: callers keep a
counter and every hash call in a session takes fresh tweaks. IKNP and garbling use different keys.

Threat model: π is public (its key is sent in the clear); the security argument needs only that
the key is chosen at random after the adversary commits to its precomputation, i.e. per session
(GKWWY20 multi-instance bound). Never use the untweaked π(x) ⊕ x for garbling.

References: C. Guo, J. Katz, X. Wang, Y. Yu, "Efficient and Secure Multiparty Computation from
Fixed-Key Block Ciphers", IEEE S&P 2020, https://eprint.iacr.org/2019/074 (TCCR, §7.3); C. Guo,
J. Katz, X. Wang, C. Weng, Y. Yu, "Better Concrete Security for Half-Gates Garbling (in the
Multi-Instance Setting)", CRYPTO 2020, https://eprint.iacr.org/2019/1168; emp-tool
`emp-tool/utils/tccrh.h`.
"""

from __future__ import annotations

import sys

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

if sys.byteorder != "little":  # the (n, 2) uint64 view of AES blocks assumes little-endian words
    raise ImportError("mpc.gc needs a little-endian machine")

BLOCK_BYTES = 16
KEY_BYTES = 16
CHUNK_ROWS = 1 << 15  # rows per AES call in the chunked helpers: stays in L2 (512 KiB per buffer)


def block_buffer(rows: int) -> np.ndarray:
    """A zeroed (rows + 1, 2) uint64 buffer: `rows` blocks and the spare row update_into needs."""
    return np.zeros((rows + 1, 2), dtype=np.uint64)


class FixedKeyAes:
    """π = AES-128 under one session key, on `(n, 2)` uint64 block arrays."""

    __slots__ = ("_encryptor", "_p", "_z", "key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise ValueError(f"key: a fixed-key AES key is {KEY_BYTES} bytes")
        self.key = key
        self._encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        self._p = block_buffer(CHUNK_ROWS)
        self._z = block_buffer(CHUNK_ROWS)

    def permute_into(self, src: np.ndarray, dst: np.ndarray) -> None:
        """`dst[:n] = π(src)` for n = len(src); `dst` is C-contiguous with at least n + 1 rows
        (`update_into` wants 15 spare bytes); `src` may be `dst[:n]` (in place)."""
        n = src.shape[0]
        if dst.shape[0] <= n:
            raise ValueError("dst: needs one spare row beyond the blocks (update_into)")
        self._encryptor.update_into(src.data.cast("B"), dst[: n + 1].data.cast("B"))

    def permute(self, x: np.ndarray) -> np.ndarray:
        """π(x) in a new `(n, 2)` array."""
        x = np.ascontiguousarray(x, dtype=np.uint64).reshape(-1, 2)
        out = block_buffer(x.shape[0])
        self.permute_into(x, out)
        return out[: x.shape[0]]

    def hash(
        self,
        x: np.ndarray,
        tweak: int | np.ndarray,
        *,
        high: int = 0,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """TCCR `H(x_r, i_r) = π(π(x_r) ⊕ i_r) ⊕ π(x_r)` for every row r.

        `tweak` is the first of consecutive tweaks (`i_r = tweak + r`) or a uint64 array of one
        tweak per row; it goes in the low word and `high` in the high word of the tweak block.
        Chunked through two reused buffers; the result goes to `out` (may be `x`) or a new array.
        """
        x = np.ascontiguousarray(x, dtype=np.uint64).reshape(-1, 2)
        n = x.shape[0]
        if out is None:
            out = np.empty((n, 2), dtype=np.uint64)
        p, z = self._p, self._z
        for start in range(0, n, CHUNK_ROWS):
            stop = min(n, start + CHUNK_ROWS)
            c = stop - start
            if isinstance(tweak, np.ndarray):
                t = tweak[start:stop].astype(np.uint64, copy=False)
            else:
                t = np.arange(tweak + start, tweak + stop, dtype=np.uint64)
            self.permute_into(x[start:stop], p)  # P = π(x)
            pc = p[:c]
            pc[:, 0] ^= t  # Y = P ⊕ i (the tweak block is (i, high))
            if high:
                pc[:, 1] ^= np.uint64(high)
            self.permute_into(pc, z)  # Z = π(Y)
            o = out[start:stop]
            np.bitwise_xor(z[:c], pc, out=o)  # Z ⊕ Y = H ⊕ i, so undo the tweak:
            o[:, 0] ^= t
            if high:
                o[:, 1] ^= np.uint64(high)
        return out


def lsb(blocks: np.ndarray) -> np.ndarray:
    """The colour (point-and-permute) bit of each block: bit 0 of the low word, as uint8."""
    return (blocks[..., 0] & np.uint64(1)).astype(np.uint8)
