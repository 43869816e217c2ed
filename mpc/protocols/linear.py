"""Local operations on shares: linear maps need no communication.

For a linear sharing, shares of a ± b are sums of shares, of c·a scaled shares, of Σ a summed
shares (the domain's own operations). The one suite-specific rule is how a public constant c
enters: additive sharing gives it to party 0 (shares (c, 0, …, 0)); Shamir gives it to everyone
(the constant polynomial c).

Threat model: nothing is sent, nothing is revealed.
"""

from __future__ import annotations

import numpy as np

from mpc.protocols.context import Context


def adds_public_values(ctx: Context) -> bool:
    """Whether this party's share of a public value is the value itself (Shamir: every
    party, the constant polynomial; additive: party 0, the others hold 0)."""
    return ctx.suite.protocol == "shamir" or ctx.party == 0


def public_share(ctx: Context, encoded: np.ndarray) -> np.ndarray:
    """This party's share of a public value (already encoded in the domain)."""
    if adds_public_values(ctx):
        return encoded
    return ctx.domain.zeros(np.shape(encoded))
