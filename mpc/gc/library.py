"""Boolean circuits for comparisons, equality, arithmetic, selection and max/argmax, built once per
bit width (cached) from builder-level functions on wire lists (bit 0 = least significant).

- x > y, x ≥ y (and <, ≤ by swapping the operands), l ANDs — KSS09:
  c₀ = 0 (>) or 1 (≥), c_{i+1} = x_i ⊕ ((x_i ⊕ c_i) ∧ (y_i ⊕ c_i)), result c_l.
- x = y, l − 1 ANDs: ∧_i ¬(x_i ⊕ y_i) as a balanced tree (depth ⌈log₂ l⌉).
- x + y, x − y mod 2^l, l − 1 ANDs: ripple carry c_{i+1} = c_i ⊕ ((x_i ⊕ c_i) ∧ (y_i ⊕ c_i));
  x − y = x + ¬y + 1.
- sign(d₀ + d₁), the LTZ of an additively shared d, l − 1 ANDs: the carries only,
  msb = d₀,ₗ₋₁ ⊕ d₁,ₗ₋₁ ⊕ c_{l−1}.
- s ? x : y, l ANDs: z_i = y_i ⊕ (s ∧ (x_i ⊕ y_i)).
- max / argmax of k values: a tournament tree, per node a comparison (l) and a select (l, plus
  ⌈log₂ k⌉ for the index): (k − 1)(2l + ⌈log₂ k⌉) ANDs at most.

Signed (two's complement) comparison flips both most significant bits first (free INV gates).

For additively shared values a = a₀ + a₁, b = b₀ + b₁ (mod 2^l) each party computes its share of
d = a − b locally, then `ltz(l)` on (d₀, d₁) gives [a < b] provided |a − b| < 2^{l−1}: l − 1 ANDs.
[a ≤ b] = ¬[b < a] (`ltz(l, negate=True)` on b − a), [a = b] = `equality(l)` on (d₀, −d₁).
These are the circuits the A2Y conversion of ABY feeds (PROTOCOLS.md §1.6–1.7).

Threat model: none here (public circuit structure); secrecy comes from how they are evaluated.

References: V. Kolesnikov, A.-R. Sadeghi, T. Schneider, "Improved Garbled Circuit Building Blocks
and Applications to Auctions and Computing Minima", CANS 2009 (comparator, l ANDs);
D. Demmler, T. Schneider, M. Zohner, "ABY", NDSS 2015 (conversions).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np

from mpc.gc.circuit import ONE, ZERO, Circuit, CircuitBuilder

Wires = list[int]


# --- builder-level functions ---------------------------------------------------------------------


def greater(b: CircuitBuilder, x: Sequence[int], y: Sequence[int], *, strict: bool = True) -> int:
    """[x > y] (strict) or [x ≥ y] for unsigned x, y: KSS09, len(x) ANDs."""
    if len(x) != len(y):
        raise ValueError("x, y: operands of a comparison have the same width")
    c = ZERO if strict else ONE
    for xi, yi in zip(x, y, strict=True):  # builder time, once per bit of the circuit
        c = b.xor(xi, b.and_(b.xor(xi, c), b.xor(yi, c)))  # a la [KSS09]
    return c


def flip_sign(b: CircuitBuilder, x: Sequence[int]) -> Wires:
    """x ⊕ 2^{l−1}: maps two's complement order onto unsigned order."""
    return [*x[:-1], b.inv(x[-1])]


def equal(b: CircuitBuilder, x: Sequence[int], y: Sequence[int]) -> int:
    """[x = y]: AND tree over ¬(x_i ⊕ y_i), len(x) − 1 ANDs, depth ⌈log₂ len(x)⌉."""
    if len(x) != len(y):
        raise ValueError("x, y: operands of an equality have the same width")
    level = [b.inv(b.xor(xi, yi)) for xi, yi in zip(x, y, strict=True)]
    while len(level) > 1:
        pairs = [b.and_(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(level) - len(level) % 2 :]
    return level[0] if level else ONE


def add(b: CircuitBuilder, x: Sequence[int], y: Sequence[int], *, carry: int = ZERO) -> Wires:
    """x + y + carry mod 2^l (ripple carry, l − 1 ANDs; the carry out is not computed)."""
    if len(x) != len(y):
        raise ValueError("x, y: operands of an addition have the same width")
    out = []
    for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
        out.append(b.xor(b.xor(xi, yi), carry))
        if i < len(x) - 1:
            carry = b.xor(carry, b.and_(b.xor(xi, carry), b.xor(yi, carry)))
    return out


def subtract(b: CircuitBuilder, x: Sequence[int], y: Sequence[int]) -> Wires:
    """x − y mod 2^l = x + ¬y + 1 (l − 1 ANDs)."""
    return add(b, x, [b.inv(yi) for yi in y], carry=ONE)


def sign_of_sum(b: CircuitBuilder, x: Sequence[int], y: Sequence[int]) -> int:
    """The most significant bit of x + y mod 2^l (carries only: l − 1 ANDs)."""
    if len(x) != len(y) or not x:
        raise ValueError("x, y: shares of the same non-zero width")
    carry = ZERO
    for xi, yi in zip(x[:-1], y[:-1], strict=True):
        carry = b.xor(carry, b.and_(b.xor(xi, carry), b.xor(yi, carry)))
    return b.xor(b.xor(x[-1], y[-1]), carry)


def select(b: CircuitBuilder, s: int, x: Sequence[int], y: Sequence[int]) -> Wires:
    """s ? x : y bitwise (len(x) ANDs)."""
    if len(x) != len(y):
        raise ValueError("x, y: both branches of a select have the same width")
    return [b.mux(s, xi, yi) for xi, yi in zip(x, y, strict=True)]


def constant(value: int, width: int) -> Wires:
    """A public constant as constant wires (folded by the builder)."""
    return [ONE if (value >> i) & 1 else ZERO for i in range(width)]


def max_tree(
    b: CircuitBuilder, values: Sequence[Sequence[int]], *, signed: bool = False
) -> tuple[Wires, Wires]:
    """(max, argmax) of the values by a tournament tree; ties go to the lower index."""
    if not values:
        raise ValueError("values: at least one value")
    index_bits = max(1, (len(values) - 1).bit_length())
    nodes = [(list(v), constant(i, index_bits)) for i, v in enumerate(values)]
    while len(nodes) > 1:  # one round of the tournament per tree level
        nxt = []
        for i in range(0, len(nodes) - 1, 2):
            (x, ix), (y, iy) = nodes[i], nodes[i + 1]
            kx, ky = (flip_sign(b, x), flip_sign(b, y)) if signed else (x, y)
            right = greater(b, ky, kx)  # the right one wins only if strictly greater
            nxt.append((select(b, right, y, x), select(b, right, iy, ix)))
        if len(nodes) % 2:
            nxt.append(nodes[-1])
        nodes = nxt
    return nodes[0]


# --- circuits built once per width ---------------------------------------------------------------

Comparison = Literal["lt", "le", "gt", "ge"]


@lru_cache(maxsize=256)
def comparison(width: int, op: Comparison, *, signed: bool = False) -> Circuit:
    """[x op y] for l-bit x (input 0) and y (input 1): l ANDs, one output bit."""
    if op not in ("lt", "le", "gt", "ge"):
        raise ValueError(f"op: one of lt, le, gt, ge, not {op!r}")
    b = CircuitBuilder()
    x, y = b.input(width), b.input(width)
    if signed:
        x, y = flip_sign(b, x), flip_sign(b, y)
    if op in ("lt", "le"):
        x, y = y, x  # x < y ⟺ y > x
    b.output([greater(b, x, y, strict=op in ("lt", "gt"))])
    return b.build(f"{op}{width}{'s' if signed else ''}")


@lru_cache(maxsize=256)
def equality(width: int) -> Circuit:
    """[x = y] for l-bit x, y: l − 1 ANDs."""
    b = CircuitBuilder()
    x, y = b.input(width), b.input(width)
    b.output([equal(b, x, y)])
    return b.build(f"eq{width}")


@lru_cache(maxsize=256)
def ltz(width: int, *, negate: bool = False) -> Circuit:
    """[d₀ + d₁ < 0] (two's complement mod 2^l) from the two shares: l − 1 ANDs; `negate`: [≥ 0]."""
    b = CircuitBuilder()
    d0, d1 = b.input(width), b.input(width)
    msb = sign_of_sum(b, d0, d1)
    b.output([b.inv(msb) if negate else msb])
    return b.build(f"{'gez' if negate else 'ltz'}{width}")


def local_difference(a_share: np.ndarray, b_share: np.ndarray, width: int) -> np.ndarray:
    """A party's share of d = a − b mod 2^l from its shares of a and b (no communication); the
    two parties' d-shares are the inputs of `ltz(width)`, which then gives [a < b]."""
    mask = np.uint64((1 << width) - 1) if width < 64 else np.uint64(2**64 - 1)
    a = np.asarray(a_share).astype(np.uint64)
    b = np.asarray(b_share).astype(np.uint64)
    d: np.ndarray = (a - b) & mask
    return d


@lru_cache(maxsize=256)
def adder(width: int, *, difference: bool = False) -> Circuit:
    """x + y (or x − y) mod 2^l: l − 1 ANDs, an l-bit output."""
    b = CircuitBuilder()
    x, y = b.input(width), b.input(width)
    b.output(subtract(b, x, y) if difference else add(b, x, y))
    return b.build(f"{'sub' if difference else 'add'}{width}")


@lru_cache(maxsize=256)
def multiplexer(width: int) -> Circuit:
    """s ? x : y with inputs (s: 1 bit, x, y: l bits): l ANDs."""
    b = CircuitBuilder()
    (s,), x, y = b.input(1), b.input(width), b.input(width)
    b.output(select(b, s, x, y))
    return b.build(f"mux{width}")


@lru_cache(maxsize=64)
def maximum(
    count: int, width: int, *, signed: bool = False, shared: bool = False, index: bool = False
) -> Circuit:
    """max (and with `index` also argmax) of `count` l-bit values.

    Inputs: one group of count·l bits (value j = bits j·l … j·l + l − 1), or with `shared` two
    such groups whose sums mod 2^l are the values ((l − 1) ANDs more per value).
    Outputs: [max] or [max, argmax (⌈log₂ count⌉ bits, at least 1)].
    """
    b = CircuitBuilder()
    first = b.input(count * width)
    values = [first[j * width : (j + 1) * width] for j in range(count)]
    if shared:
        second = b.input(count * width)
        values = [add(b, v, second[j * width : (j + 1) * width]) for j, v in enumerate(values)]
    best, where = max_tree(b, values, signed=signed)
    b.output(best)
    if index:
        b.output(where)
    return b.build(f"{'argmax' if index else 'max'}{count}x{width}")
