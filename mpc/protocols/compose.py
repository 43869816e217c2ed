"""Run several sub-protocols of one party at once: each round, one message per peer.

`concurrently(runs)` advances every run by one round per round. What the runs send a peer in a
round travels as one message: a uint64 header with each run's number of arrays, then the arrays.
A run that has finished sends nothing (count 0); the combined run ends when all have finished, so
it takes as many rounds as the longest. Parties must compose the same runs in the same order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mpc.errors import RemoteProtocolError
from mpc.protocols.context import Exchange, Payload, Run

U64 = np.uint64
_DONE = object()


def concurrently(runs: list[Run[Any]]) -> Run[list[Any]]:
    """The results of `runs` (in order), all run side by side."""
    results: list[Any] = [_DONE] * len(runs)
    current: list[Exchange | None] = []
    for k, run in enumerate(runs):
        try:
            current.append(next(run))
        except StopIteration as stop:
            results[k] = stop.value
            current.append(None)
    while any(exchange is not None for exchange in current):
        send: dict[int, Payload] = {}
        peers = {peer for e in current if e is not None for peer in e.send}
        for peer in sorted(peers):
            parts = [e.send.get(peer, []) if e is not None else [] for e in current]
            counts = np.array([len(p) for p in parts], dtype=U64)
            send[peer] = [counts, *(array for p in parts for array in p)]
        expect = frozenset(peer for e in current if e is not None for peer in e.expect)
        received = yield Exchange(send, expect)
        pieces = {peer: _split(received[peer], peer, len(runs)) for peer in expect}
        for k, exchange in enumerate(current):
            if exchange is None:
                continue
            mine = {peer: pieces[peer][k] for peer in exchange.expect}
            try:
                current[k] = runs[k].send(mine)
            except StopIteration as stop:
                results[k] = stop.value
                current[k] = None
    return results


def _split(message: Payload, peer: int, count: int) -> list[list[np.ndarray]]:
    head = message[0] if message else None
    if (
        not isinstance(head, np.ndarray)
        or head.dtype != U64
        or head.shape != (count,)
        or int(head.sum()) != len(message) - 1
    ):
        raise RemoteProtocolError(peer, "malformed combined message (counts header)")
    pieces, start = [], 1
    for n in head.tolist():
        pieces.append(list(message[start : start + n]))
        start += n
    return pieces
