"""Value types of the DSL and the arithmetic rules between them.

A value is secret or public, an integer or a fixed-point number with `frac` fractional bits
(stored as the integer v·2^frac), and carries a bound on the magnitude of what is stored. The
bound is exact arithmetic on Python ints, so the compiler can prove that no result wraps around
the domain it picks, and size the masks of truncations.

Rules (a, b operands; f the circuit's fractional bits):
- int ± fixed → fixed: the int is scaled by 2^f first;
- fixed × fixed → fixed after truncating f bits (a `trunc` node); int × fixed → fixed;
- a dot or matrix product sums k products: its bound is k·|a|·|b|, truncated once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mpc.suite import KAPPA

Kind = Literal["int", "fixed", "bits"]  # bits: a private bit vector (Bristol circuits)
__all__ = ["KAPPA", "Kind", "VType", "fixed", "integer", "truncation_fits", "truncation_width"]


@dataclass(frozen=True, slots=True)
class VType:
    """What a node holds: secret or public, number kind, |stored value| ≤ bound, fraction bits."""

    secret: bool
    kind: Kind
    bound: int
    frac: int = 0

    def describe(self) -> str:
        visibility = "secret" if self.secret else "public"
        scale = f" with {self.frac} fractional bits" if self.kind == "fixed" else ""
        return f"{visibility} {self.kind}{scale} (|x| ≤ 2^{self.bound.bit_length()})"

    def with_bound(self, bound: int, secret: bool | None = None) -> VType:
        return VType(self.secret if secret is None else secret, self.kind, bound, self.frac)


def integer(secret: bool, bound: int) -> VType:
    return VType(secret, "int", bound, 0)


def fixed(secret: bool, bound: int, frac: int) -> VType:
    return VType(secret, "fixed", bound, frac)


def truncation_width(bound: int) -> int:
    """l such that every value v with |v| ≤ bound satisfies −2^(l−1) ≤ v < 2^(l−1)."""
    return bound.bit_length() + 1


def truncation_fits(width: int, modulus: int, contributors: int) -> bool:
    """Whether Catrina–Saxena truncation of l-bit values is sound in F_p.

    The opened value is 2^(l−1) + x + r with r < contributors·2^(l+κ), so it must stay below p:
    2^l + contributors·2^(l+κ) < p (PROTOCOLS.md §4.3, with r'' summed over contributors).
    """
    return (1 << width) + contributors * (1 << (width + KAPPA)) < modulus
