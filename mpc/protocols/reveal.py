"""Revealing shared values to named parties: one round, one array per sender–receiver pair.

Receiver r gets the shares of `suite.reveal_senders(r)`: every other share for additive sharing
(x = Σ x_i), t shares for Shamir, which with its own make t + 1 points of the degree-t polynomial
(x = Σ λ_i f(i+1), Lagrange at 0). All values revealed in one round travel concatenated.

Threat model: semi-honest. A receiver learns the value and shares that are uniformly distributed
given the value; parties that are not receivers learn nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mpc.protocols.context import Context, Exchange, Payload, ProtocolRun, received_array
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
    return shamir.reconstruct([own, *others.values()], parties)


def reveal(ctx: Context, items: list[RevealItem]) -> ProtocolRun:
    """Decoded values (int64) for the items this party receives, None for the others."""
    suite, me = ctx.suite, ctx.party
    outgoing: dict[int, list[np.ndarray]] = {}
    mine = [i for i, item in enumerate(items) if me in item.receivers]
    for item in items:
        for receiver in suite.reveal_targets(me, item.receivers):
            if receiver != me:
                outgoing.setdefault(receiver, []).append(item.share.reshape(-1))
    senders = suite.reveal_senders(me) if mine else ()
    send: dict[int, Payload] = {peer: [np.concatenate(arrays)] for peer, arrays in outgoing.items()}
    received = yield Exchange(send, frozenset(senders))
    results: list[np.ndarray | None] = [None] * len(items)
    if not mine:
        return results
    sizes = [items[i].share.size for i in mine]
    own = np.concatenate([items[i].share.reshape(-1) for i in mine])
    others = {s: received_array(received[s], s, 0, sum(sizes)) for s in senders}
    flat = ctx.domain.decode(reconstruct(ctx, own, others))
    for i, piece in zip(mine, np.split(flat, np.cumsum(sizes)[:-1]), strict=True):
        results[i] = piece.reshape(items[i].share.shape)
    return results
