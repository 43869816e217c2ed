"""IKNP OT extension (semi-honest): m OTs from κ = 128 base OTs, plus its random, chosen-message and
correlated variants, as sans-IO state objects and pure functions over numpy arrays.

Roles flip for the base OTs: the extension receiver R holds both seeds (k_i⁰, k_i¹) of base OT i,
the extension sender S holds s ∈ {0,1}^κ and k_i^{s_i}. G(k) is an AES-CTR stream
(`Csprng.derive(k, "iknp", i)`) that continues from batch to batch. For a batch of m choices r:

    R: t^i = G(k_i⁰), u^i = t^i ⊕ G(k_i¹) ⊕ r                     R → S: u (κ × m bits = 16 B/OT)
    S: q^i = G(k_i^{s_i}) ⊕ s_i·u^i       ⇒ row-wise q_j = t_j ⊕ r_j·s   (after the bit transpose)
    random OT:    S: x_j⁰ = H(j, q_j),  x_j¹ = H(j, q_j ⊕ s);    R: x_j^{r_j} = H(j, t_j)
    chosen:       S → R: y_j^b = m_j^b ⊕ x_j^b;               R: m_j^{r_j} = y_j^{r_j} ⊕ H(j, t_j)
    correlated (Δ-OT, one correction per OT): S's pair is (x_j⁰, x_j⁰ ⊕ Δ_j);
                  S → R: y_j = x_j⁰ ⊕ Δ_j ⊕ x_j¹;                R: H(j, t_j) ⊕ r_j·y_j
    additive correlated (mod 2^64, for Gilboa products): pair (x_j⁰, x_j⁰ + Δ_j),
                  y_j = x_j⁰ + Δ_j − x_j¹;                        R: H(j, t_j) + r_j·y_j

H is the TCR hash of `mpc.gc.aes` under a session key R draws and sends with the base OTs. Messages
of w 64-bit words use ⌈w/2⌉ hash blocks, block b with tweak (j, b) (j in the low word, b in the
high word). Tweak uniqueness: j is a session counter (`next_index`) that both sides advance by the
padded batch size m' (m rounded up to 64) on every batch, so no (j, b) repeats in a session even
though the base-OT seeds are reused; the PRG streams likewise never rewind.

Threat model: semi-honest sender and receiver. R learns exactly one message per OT (the other is
H(j, t_j ⊕ s) for the s it never sees); S learns nothing about r (u is masked by G(k_i^{1−s_i})).
Not secure against a malicious receiver (no KOS15 consistency check) nor with a malicious base OT.

References: Y. Ishai, J. Kilian, K. Nissim, E. Petrank, "Extending Oblivious Transfers
Efficiently", CRYPTO 2003; G. Asharov, Y. Lindell, T. Schneider, M. Zohner, "More Efficient
Oblivious Transfer and Extensions for Faster Secure Computation", CCS 2013 (correlated OT);
GKWY20 (TCR from fixed-key AES, https://eprint.iacr.org/2019/074); PROTOCOLS.md §2.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.gc.aes import FixedKeyAes
from mpc.ot.base import check_bits
from mpc.ot.transpose import transpose_bits
from mpc.rng import Csprng

KAPPA = 128
SEED_BYTES = 32


def padded(m: int) -> int:
    """The batch size the streams and tweaks advance by: m rounded up to a multiple of 64."""
    return -(-m // 64) * 64


def _stream(seed: np.ndarray, column: int) -> Csprng:
    return Csprng.derive(seed.tobytes(), "iknp", column)


def _pack(bits: np.ndarray, total: int) -> np.ndarray:
    """Bits → (total/64,) uint64 words, little-endian bit order, zero-padded."""
    padded_bits = np.zeros(total, dtype=np.uint8)
    padded_bits[: bits.size] = bits
    return np.packbits(padded_bits, bitorder="little").view(np.uint64)


@dataclass(frozen=True, slots=True)
class ReceiverBatch:
    """One extension batch at R: the message u for S, the rows t_j, the choices and tweaks."""

    u: np.ndarray  # (κ, m'/8) uint8
    rows: np.ndarray  # (m, 2) uint64: t_j
    choices: np.ndarray  # (m,) uint8
    first_index: int


@dataclass(frozen=True, slots=True)
class SenderBatch:
    """One extension batch at S: the rows q_j = t_j ⊕ r_j·s and their tweaks."""

    rows: np.ndarray  # (m, 2) uint64: q_j
    first_index: int


class IknpReceiver:
    """The extension receiver's session: both seeds of each base OT, the hash, the counter."""

    __slots__ = ("_g0", "_g1", "aes", "next_index")

    def __init__(self, seeds0: np.ndarray, seeds1: np.ndarray, hash_key: bytes) -> None:
        if seeds0.shape != (KAPPA, SEED_BYTES) or seeds1.shape != (KAPPA, SEED_BYTES):
            raise ValueError(f"seeds: expected ({KAPPA}, {SEED_BYTES}) uint8 arrays")
        self._g0 = [_stream(seeds0[i], i) for i in range(KAPPA)]
        self._g1 = [_stream(seeds1[i], i) for i in range(KAPPA)]
        self.aes = FixedKeyAes(hash_key)
        self.next_index = 0

    def extend(self, choices: np.ndarray) -> ReceiverBatch:
        """u for S and this side's rows t_j for m = len(choices) new OTs."""
        bits = check_bits(choices, "choices")
        m = bits.size
        total = padded(m)
        r = _pack(bits, total)
        t = np.empty((KAPPA, total // 64), dtype=np.uint64)
        u = np.empty((KAPPA, total // 64), dtype=np.uint64)
        for i in range(KAPPA):  # one step per base OT
            t[i] = self._g0[i].words(total // 64)
            np.bitwise_xor(t[i], self._g1[i].words(total // 64), out=u[i])
            u[i] ^= r
        rows = transpose_bits(t.view(np.uint8), overwrite=True).view(np.uint64)[:m]
        first = self.next_index
        self.next_index += total
        return ReceiverBatch(u.view(np.uint8), rows, bits, first)


class IknpSender:
    """The extension sender's session: s, the seeds k_i^{s_i}, the hash, the counter."""

    __slots__ = ("_g", "_s_bits", "aes", "next_index", "s")

    def __init__(self, s_bits: np.ndarray, seeds: np.ndarray, hash_key: bytes) -> None:
        bits = check_bits(s_bits, "s_bits")
        if bits.size != KAPPA or seeds.shape != (KAPPA, SEED_BYTES):
            raise ValueError(f"s_bits, seeds: expected {KAPPA} bits and {KAPPA} seeds")
        self._s_bits = bits
        self._g = [_stream(seeds[i], i) for i in range(KAPPA)]
        self.s = _pack(bits, KAPPA)  # s as one 128-bit block (2,) uint64
        self.aes = FixedKeyAes(hash_key)
        self.next_index = 0

    def extend(self, u: np.ndarray, m: int) -> SenderBatch:
        """The rows q_j for R's message u (κ, m'/8) uint8 of a batch of m OTs."""
        total = padded(m)
        if u.shape != (KAPPA, total // 8) or u.dtype != np.uint8:
            raise ValueError(f"u: expected uint8[{KAPPA}, {total // 8}]")
        u64 = u.view(np.uint64) if u.flags.c_contiguous else np.ascontiguousarray(u).view(np.uint64)
        q = np.empty((KAPPA, total // 64), dtype=np.uint64)
        for i in range(KAPPA):  # one step per base OT
            q[i] = self._g[i].words(total // 64)
            if self._s_bits[i]:
                q[i] ^= u64[i]
        rows = transpose_bits(q.view(np.uint8), overwrite=True).view(np.uint64)[:m]
        first = self.next_index
        self.next_index += total
        return SenderBatch(rows, first)


# --- hashing rows into pads of w words ------------------------------------------------------------


def _pads(aes: FixedKeyAes, rows: np.ndarray, first: int, words: int) -> np.ndarray:
    """(m, words) uint64: H(j, row_j) block b (tweak (first + j, b)) for b < ⌈words/2⌉."""
    if words < 1:
        raise ValueError("words: at least one 64-bit word per message")
    m = rows.shape[0]
    blocks = -(-words // 2)
    if blocks == 1:
        h = aes.hash(rows, first)
        return h if words == 2 else np.ascontiguousarray(h[:, :1])
    out = np.empty((m, 2 * blocks), dtype=np.uint64)
    for b in range(blocks):  # one hash pass per 128-bit block of the messages
        out[:, 2 * b : 2 * b + 2] = aes.hash(rows, first, high=b)
    return np.ascontiguousarray(out[:, :words])


def _xor_block(rows: np.ndarray, block: np.ndarray) -> np.ndarray:
    """rows ⊕ block for a (2,) block, column by column (no length-2 inner broadcast loops)."""
    out = np.empty_like(rows)
    np.bitwise_xor(rows[:, 0], block[0], out=out[:, 0])
    np.bitwise_xor(rows[:, 1], block[1], out=out[:, 1])
    return out


def sender_pads(
    sender: IknpSender, batch: SenderBatch, words: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random-OT outputs (x⁰, x¹) of S, (m, words) uint64 each."""
    x0 = _pads(sender.aes, batch.rows, batch.first_index, words)
    x1 = _pads(sender.aes, _xor_block(batch.rows, sender.s), batch.first_index, words)
    return x0, x1


def receiver_pads(receiver: IknpReceiver, batch: ReceiverBatch, words: int) -> np.ndarray:
    """Random-OT output x^{r_j} of R, (m, words) uint64."""
    return _pads(receiver.aes, batch.rows, batch.first_index, words)


def _check_messages(array: np.ndarray, m: int, name: str) -> np.ndarray:
    a = np.asarray(array)
    if a.dtype != np.uint64 or a.ndim != 2 or a.shape[0] != m:
        raise ValueError(f"{name}: expected a uint64 array of shape ({m}, words)")
    return a


def chosen_corrections(
    sender: IknpSender, batch: SenderBatch, m0: np.ndarray, m1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """S's message (y⁰, y¹) = (m⁰ ⊕ x⁰, m¹ ⊕ x¹) for messages of shape (m, words) uint64."""
    m = batch.rows.shape[0]
    m0, m1 = _check_messages(m0, m, "m0"), _check_messages(m1, m, "m1")
    if m0.shape != m1.shape:
        raise ValueError("m0, m1: the two messages of each OT must have the same shape")
    x0, x1 = sender_pads(sender, batch, m0.shape[1])
    return x0 ^ m0, x1 ^ m1


def chosen_finish(
    receiver: IknpReceiver, batch: ReceiverBatch, y0: np.ndarray, y1: np.ndarray
) -> np.ndarray:
    """R's messages m^{r_j} from S's (y⁰, y¹)."""
    pads = receiver_pads(receiver, batch, y0.shape[1])
    choice = batch.choices.astype(bool)
    for k in range(pads.shape[1]):  # one pass per 64-bit word of the messages
        pads[:, k] ^= np.where(choice, y1[:, k], y0[:, k])
    return pads


def correlated_corrections(
    sender: IknpSender, batch: SenderBatch, delta: np.ndarray, *, additive: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """S's zero messages x⁰ (m, words) and the correction y for R.

    XOR (Δ-OT): pairs (x⁰, x⁰ ⊕ Δ); `delta` is one block for all OTs ((words,) uint64, e.g. the
    128-bit garbling Δ as (2,)) or one per OT ((m, words)). Additive (`additive=True`): pairs
    (x⁰, x⁰ + Δ_j mod 2^64) wordwise, `delta` of shape (m, words).
    """
    m = batch.rows.shape[0]
    d = np.asarray(delta)
    if d.dtype != np.uint64 or d.ndim not in (1, 2) or (d.ndim == 2 and d.shape[0] != m):
        raise ValueError(f"delta: expected uint64 of shape (words,) or ({m}, words)")
    words = d.shape[-1]
    x0, x1 = sender_pads(sender, batch, words)
    y = np.empty_like(x0)
    for k in range(words):  # column by column: a shared Δ broadcasts as a scalar
        dk = d[k] if d.ndim == 1 else d[:, k]
        if additive:
            np.add(x0[:, k], dk, out=y[:, k])
            y[:, k] -= x1[:, k]
        else:
            np.bitwise_xor(x0[:, k], dk, out=y[:, k])
            y[:, k] ^= x1[:, k]
    return x0, y


def correlated_finish(
    receiver: IknpReceiver, batch: ReceiverBatch, y: np.ndarray, *, additive: bool = False
) -> np.ndarray:
    """R's outputs x⁰ ⊕ r_j·Δ_j (or x⁰ + r_j·Δ_j) from the corrections y (m, words)."""
    pads = receiver_pads(receiver, batch, y.shape[1])
    r = batch.choices.astype(np.uint64)
    for k in range(pads.shape[1]):
        if additive:
            pads[:, k] += y[:, k] * r
        else:
            pads[:, k] ^= y[:, k] * r
    return pads
