"""Opening shared values to named parties: one round, one array per sender–receiver pair.

Receiver r gets the shares of `suite.reveal_senders(r)`: every other share for additive sharing
(x = Σ x_i), t shares for Shamir, which with its own make t + 1 points of the degree-t polynomial
(x = Σ λ_i f(i+1), Lagrange at 0). All values opened in one round travel concatenated. The same
protocol opens the masked values of products and truncations to every party.

Threat model: semi-honest. A receiver learns the value and shares that are uniformly distributed
given the value; parties that are not receivers learn nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.protocols.context import Context, Exchange, ProtocolRun, flat, received_array, split
from mpc.sharing import shamir


@dataclass(frozen=True, slots=True)
class RevealItem:
    share: np.ndarray
    receivers: tuple[int, ...]


def reconstruct(ctx: Context, own: np.ndarray, others: dict[int, np.ndarray]) -> np.ndarray:
    """The value from this party's share and the shares `others` sent (reveal pattern)."""
    if ctx.suite.protocol == "additive":
        value = own
        for share in others.values():
            value = ctx.domain.add(value, share)
        return value
    parties = [ctx.party, *others]
    return shamir.reconstruct([own, *others.values()], parties, ctx.domain)


def reveal(ctx: Context, items: list[RevealItem]) -> ProtocolRun:
    """The values (domain elements) of the items this party receives, None for the others."""
    suite, me, domain = ctx.suite, ctx.party, ctx.domain
    outgoing: dict[int, list[np.ndarray]] = {}
    mine = [i for i, item in enumerate(items) if me in item.receivers]
    for item in items:
        for receiver in suite.reveal_targets(me, item.receivers):
            if receiver != me:
                outgoing.setdefault(receiver, []).append(item.share)
    senders = suite.reveal_senders(me) if mine else ()
    send = {peer: [flat(arrays, domain)] for peer, arrays in outgoing.items()}
    received = yield Exchange(send, frozenset(senders))
    results: list[np.ndarray | None] = [None] * len(items)
    if not mine:
        return results
    shapes = [items[i].share.shape for i in mine]
    own = flat([items[i].share for i in mine], domain)
    others = {s: received_array(received[s], s, 0, own.size, domain) for s in senders}
    for i, value in zip(mine, split(reconstruct(ctx, own, others), shapes), strict=True):
        results[i] = value
    return results


def open_to_all(ctx: Context, shares: list[np.ndarray]) -> ProtocolRun:
    """The values of `shares` opened to every party (a sub-protocol of products, truncations)."""
    everyone = tuple(ctx.suite.parties)
    values = yield from reveal(ctx, [RevealItem(share, everyone) for share in shares])
    return values
