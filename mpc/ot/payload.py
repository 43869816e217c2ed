"""Checking what a peer sent before an OT or garbling step uses it.

Arrays arrive from the wire as read-only numpy arrays of any allowed dtype and shape; a protocol
step states what it expects and gets a `RemoteProtocolError` naming the peer otherwise.

Threat model: the peer may send anything; nothing it sends is used before its dtype and shape
are checked (the contents are the protocol's business).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mpc.errors import RemoteProtocolError
from mpc.protocols.context import Payload


def expect_array(
    received: Mapping[int, Payload],
    peer: int,
    index: int,
    dtype: type[np.generic],
    shape: tuple[int, ...],
    what: str,
) -> np.ndarray:
    """The `index`-th array `peer` sent: exactly `dtype` and `shape`, else RemoteProtocolError."""
    payload = received.get(peer)
    if not isinstance(payload, list) or index >= len(payload):
        raise RemoteProtocolError(peer, f"{what}: missing from the message")
    array = payload[index]
    if not isinstance(array, np.ndarray):
        raise RemoteProtocolError(peer, f"{what}: expected an array, got {type(array).__name__}")
    if array.dtype != np.dtype(dtype) or array.shape != shape:
        want = f"{np.dtype(dtype)}{list(shape)}"
        raise RemoteProtocolError(
            peer, f"{what}: expected {want}, got {array.dtype}{list(array.shape)}"
        )
    return array


def payload_length(received: Mapping[int, Payload], peer: int, what: str) -> int:
    """How many arrays `peer` sent (checked to be a list)."""
    payload = received.get(peer)
    if not isinstance(payload, list):
        raise RemoteProtocolError(peer, f"{what}: missing message")
    return len(payload)
