"""Comparisons of two parties' additive shares on boolean shares, with a dealer's word triples.

Parties 0 and 1 hold d = d₀ + d₁ mod 2^64 with −2^(l−1) ≤ d < 2^(l−1). The bits of one
comparison live in one 64-bit word, XOR-shared; shifts, XORs and public masks are local, and
every AND of a round is one Beaver AND of whole words for all comparisons at once (GMW) with the
dealer's triples w = u ∧ v (all XOR-shared):

    open e = x ⊕ u, f = y ⊕ v;     z_i = w_i ⊕ (e ∧ v_i) ⊕ (f ∧ u_i) ⊕ [i = 0]·(e ∧ f)

ltz: [d < 0] is bit l − 1 of a + b for a = d₀ mod 2^l (party 0) and b = d₁ mod 2^l (party 1):
a_{l−1} ⊕ b_{l−1} ⊕ c, c the carry into bit l − 1, i.e. the group generate of bits 0..l−2. With
g = a ∧ b (one AND) and p = a ⊕ b (whose XOR shares are a and b themselves), a Kogge–Stone prefix
on words, for s = 1, 2, 4, … < l − 1 (g and p ∧ g' never both 1, so ⊕ is ∨):

    G ← G ⊕ (P ∧ (G ≪ s)),    P ← P ∧ (P ≪ s)      (the last level needs no P)

eqz: [d = 0] = ∧ᵢ ¬(aᵢ ⊕ b'ᵢ) over the l low bits, b' = −d₁ mod 2^l: party 0 shares ¬a (bits
above l set), party 1 b', and E ← E ∧ (E ≫ s) for s = 1, 2, 4, … < l leaves the AND in bit 0.

Convert (daBit): the dealer's bit ρ, XOR-shared (bit 0 of each party's word) and additively
shared (r₀ + r₁ = ρ mod 2^64); the parties open c = z ⊕ ρ (one byte each) and take
[z] = c + (1 − 2c)·[ρ] (party 0 adds c).

Rounds: `mpc.suite.boolean_and_rounds(l, test)` + 1 (l = 33: 6 + 1 for ltz, 6 + 1 for eqz); per
comparison each party sends 16 B per word AND and 1 B, 161 B for a 33-bit ltz.
Threat model: semi-honest parties and a trusted dealer that colludes with neither (it knows
the triples and ρ, never the data); each party sees only the openings e, f and c, which the
dealer's uniform u, v, ρ mask.
References: O. Goldreich, S. Micali, A. Wigderson, STOC 1987 (GMW); D. Beaver, CRYPTO '91
(triples); P. M. Kogge, H. S. Stone, IEEE Trans. Computers 1973 (prefix carries); the same
shape as CrypTen's binary comparisons with its trusted-first-party triples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mpc.ot.payload import expect_array
from mpc.protocols.context import Context, Exchange, ProtocolRun, Run, split
from mpc.suite import boolean_lane, boolean_levels

U64 = np.uint64
_ONE = U64(1)
_ALL = U64(0xFFFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True, slots=True)
class BitCompareItem:
    share: np.ndarray  # this party's share of d, uint64
    material: tuple[np.ndarray, ...]  # the dealer's u, v, w (k, s) and ρ (bit 0), r (s,)


def _low(bits: int) -> U64:
    return _ALL if bits >= 64 else U64((1 << bits) - 1)


def bitcompare(ctx: Context, items: Sequence[BitCompareItem], test: str, width: int) -> ProtocolRun:
    """Shares in Z_2^64 of [d < 0] (test "ltz") or [d = 0] ("eqz") for every item."""
    me = ctx.party
    shapes = [item.share.shape for item in items]
    flats = [np.asarray(item.share, dtype=U64).reshape(-1) for item in items]
    d = np.concatenate(flats)
    u, v, w = (np.concatenate([item.material[k] for item in items], axis=1) for k in range(3))
    rho, r = (np.concatenate([item.material[k] for item in items]) for k in (3, 4))
    triples = _Triples(u, v, w)
    lanes = _Lanes(boolean_lane(width, test), [f.size for f in flats])
    levels = boolean_levels(width, test)
    if test == "ltz":
        m = width - 1
        own = lanes.pack(d & _low(m))  # a (party 0) or b (party 1): also this share of p
        zero = np.zeros_like(own)
        x, y = (own, zero) if me == 0 else (zero, own)
        (g,) = yield from _ands(ctx, triples, [(x, y)])
        p = own
        for level in range(levels):
            shift = U64(1 << level)
            keep = lanes.above(1 << level)  # (≪ s) must not carry into the next lane
            pairs = [(p, (g << shift) & keep)]
            if level < levels - 1:
                pairs.append((p, (p << shift) & keep))
            out = yield from _ands(ctx, triples, pairs)
            g = g ^ out[0]
            if level < levels - 1:
                p = out[1]
        top = (d >> U64(m)) & _ONE if m < 64 else np.zeros_like(d)
        z = top ^ lanes.unpack(g, m - 1) if m else top
    else:
        low, lane = _low(width), _low(lanes.bits)
        # party 0: ¬a, with ones above the value's bits up to the lane's end; party 1: b'
        e = lanes.pack((~d & low) | (lane ^ low) if me == 0 else np.negative(d) & low)
        for level in range(levels):
            (e,) = yield from _ands(ctx, triples, [(e, e >> U64(1 << level))])
        z = lanes.unpack(e, 0)
    triples.check_used()
    # daBit: open c = z ⊕ ρ, then [z] = c + (1 − 2c)·[ρ]
    mine = ((z ^ rho) & _ONE).astype(np.uint8)
    peer = 1 - me
    received = yield Exchange({peer: [mine]}, frozenset({peer}))
    theirs = expect_array(received, peer, 0, np.uint8, mine.shape, "daBit opening")
    c = ((mine ^ theirs) & 1).astype(U64)
    share = (U64(1) - (c << _ONE)) * r
    if me == 0:
        share += c
    return list(split(share, shapes))


class _Lanes:
    """64 // bits comparisons per word, each item's comparisons packed into its own words."""

    def __init__(self, bits: int, sizes: list[int]) -> None:
        self.bits = bits
        self.per_word = 64 // bits
        self.sizes = sizes
        self.offsets = np.arange(self.per_word, dtype=U64) * U64(bits)

    def pack(self, values: np.ndarray) -> np.ndarray:
        """Words of the values (each below 2^bits), item by item."""
        words, start = [], 0
        for size in self.sizes:
            part = values[start : start + size]
            start += size
            padded = np.zeros(-(-size // self.per_word) * self.per_word, dtype=U64)
            padded[:size] = part
            lanes = padded.reshape(-1, self.per_word) << self.offsets
            words.append(np.bitwise_or.reduce(lanes, axis=1))
        return np.concatenate(words)

    def unpack(self, words: np.ndarray, position: int) -> np.ndarray:
        """Bit `position` of every lane, item by item: one value per comparison."""
        bits, start = [], 0
        for size in self.sizes:
            count = -(-size // self.per_word)
            part = words[start : start + count]
            start += count
            lanes = (part[:, None] >> (self.offsets + U64(position))) & _ONE
            bits.append(lanes.reshape(-1)[:size])
        return np.concatenate(bits)

    def above(self, shift: int) -> U64:
        """The public mask of every lane's bits from `shift` up."""
        lane = ((1 << self.bits) - 1) ^ ((1 << shift) - 1)
        return U64(sum(lane << (k * self.bits) for k in range(self.per_word)))


class _Triples:
    """The dealer's word triples of a group, handed out in order, one row per AND."""

    def __init__(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> None:
        self.u, self.v, self.w = u, v, w
        self.next = 0

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self.next
        if k + count > self.u.shape[0]:
            raise ValueError("a comparison group ran out of its word triples")
        self.next += count
        return self.u[k : k + count], self.v[k : k + count], self.w[k : k + count]

    def check_used(self) -> None:
        if self.next != self.u.shape[0]:
            raise ValueError("a comparison group left word triples unused")


def _ands(
    ctx: Context, triples: _Triples, pairs: list[tuple[np.ndarray, np.ndarray]]
) -> Run[list[np.ndarray]]:
    """x ∧ y for every pair of XOR-shared word arrays, in one round (Beaver ANDs)."""
    me, peer = ctx.party, 1 - ctx.party
    u, v, w = triples.take(len(pairs))
    e = np.stack([x for x, _ in pairs]) ^ u
    f = np.stack([y for _, y in pairs]) ^ v
    received = yield Exchange({peer: [e, f]}, frozenset({peer}))
    # (new arrays: what was sent is never modified)
    e = e ^ expect_array(received, peer, 0, U64, e.shape, "AND opening e")
    f = f ^ expect_array(received, peer, 1, U64, f.shape, "AND opening f")
    z = w ^ (e & v) ^ (f & u)
    if me == 0:
        z ^= e & f
    return list(z)
