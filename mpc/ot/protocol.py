"""Two-party OT protocols as generators (the `Exchange` convention of mpc.protocols.context).

Each `yield Exchange(send, expect)` is one round; both parties of a protocol yield the same number
of times. `peer` is the other party's id. Arrays on the wire: uint8 for keys and bit matrices,
uint64 for messages.

Session set-up (once per pair and job; base OTs with roles reversed, 2 rounds):

    setup_receiver(rng, peer, session) → IknpReceiver     round 1 sends [A: u8[32], key: u8[16]]
    setup_sender(rng, peer, session)   → IknpSender       round 2 sends [PK: u8[128, 2, 32]]

Extension batches (any number per session; fresh tweaks and stream positions each time):

    send_random(S, peer, m, words)            → (x⁰, x¹)   1 round: R → S u8[128, m'/8]
    receive_random(R, peer, choices, words)   → x^r
    send_chosen(S, peer, m0, m1)              → None       2 rounds: u, then S → R [y⁰, y¹]
    receive_chosen(R, peer, choices, words)   → m^r
    send_correlated(S, peer, m, delta, additive) → x⁰      2 rounds: u, then S → R [y]
    receive_correlated(R, peer, choices, words, additive) → x⁰ ⊕ r·Δ (or x⁰ + r·Δ)

Messages are (m, words) uint64 (words = ⌈ℓ/64⌉; 2 for 128-bit blocks). Threat model and formulas:
mpc.ot.base (semi-honest base OT) and mpc.ot.iknp (semi-honest IKNP).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TypeVar

import numpy as np

from mpc.errors import RemoteProtocolError
from mpc.gc.aes import KEY_BYTES
from mpc.ot import base, iknp
from mpc.ot.iknp import KAPPA, IknpReceiver, IknpSender
from mpc.ot.payload import expect_array
from mpc.protocols.context import Exchange, Payload
from mpc.rng import Csprng

T = TypeVar("T")
Run = Generator[Exchange, Mapping[int, Payload], T]


def setup_receiver(rng: Csprng, peer: int, session: bytes) -> Run[IknpReceiver]:
    """The extension receiver's set-up: it is the base-OT sender and picks the TCR hash key."""
    state = base.sender_start(rng, session)
    key = rng.bytes(KEY_BYTES)
    public = np.frombuffer(state.public, dtype=np.uint8).copy()
    yield Exchange({peer: [public, np.frombuffer(key, dtype=np.uint8).copy()]}, frozenset())
    received = yield Exchange({}, frozenset({peer}))
    message = expect_array(received, peer, 0, np.uint8, (KAPPA, 2, base.POINT_BYTES), "base OT")
    try:
        keys0, keys1 = base.sender_finish(state, message)
    except ValueError:
        raise RemoteProtocolError(peer, "base OT: a public key is a small-order point") from None
    return IknpReceiver(keys0, keys1, key)


def setup_sender(
    rng: Csprng, peer: int, session: bytes, *, free_xor: bool = False
) -> Run[IknpSender]:
    """The extension sender's set-up: base-OT receiver with random choices s ∈ {0,1}^κ.

    `free_xor`: s_0 = 1, so that s can be a garbling Δ (lsb 1) and the correlated rows
    (q_j, q_j ⊕ s) free-XOR labels (mpc.gc.protocol); the other 127 bits stay random.
    """
    received = yield Exchange({}, frozenset({peer}))
    public = expect_array(received, peer, 0, np.uint8, (base.POINT_BYTES,), "base OT key")
    key = expect_array(received, peer, 1, np.uint8, (KEY_BYTES,), "TCR hash key")
    s = rng.bits(KAPPA)
    if free_xor:
        s[0] = 1
    try:
        message, seeds = base.receiver_respond(rng, session, public.tobytes(), s)
    except ValueError:
        raise RemoteProtocolError(
            peer, "base OT: the sender's key is a small-order point"
        ) from None
    yield Exchange({peer: [message]}, frozenset())
    return IknpSender(s, seeds, key.tobytes())


def _receive_u(
    sender: IknpSender, received: Mapping[int, Payload], peer: int, m: int
) -> iknp.SenderBatch:
    u = expect_array(received, peer, 0, np.uint8, (KAPPA, iknp.padded(m) // 8), "IKNP matrix u")
    return sender.extend(u, m)


def send_random(
    sender: IknpSender, peer: int, m: int, words: int = 2
) -> Run[tuple[np.ndarray, np.ndarray]]:
    """m random OTs: returns S's (x⁰, x¹), (m, words) uint64 each."""
    received = yield Exchange({}, frozenset({peer}))
    batch = _receive_u(sender, received, peer, m)
    return iknp.sender_pads(sender, batch, words)


def receive_random(
    receiver: IknpReceiver, peer: int, choices: np.ndarray, words: int = 2
) -> Run[np.ndarray]:
    """m random OTs: returns x^{r_j}, (m, words) uint64."""
    batch = receiver.extend(choices)
    yield Exchange({peer: [batch.u]}, frozenset())
    return iknp.receiver_pads(receiver, batch, words)


def send_chosen(sender: IknpSender, peer: int, m0: np.ndarray, m1: np.ndarray) -> Run[None]:
    """Chosen-message OTs of (m, words) uint64 messages m0, m1."""
    m = np.asarray(m0).shape[0]
    received = yield Exchange({}, frozenset({peer}))
    batch = _receive_u(sender, received, peer, m)
    y0, y1 = iknp.chosen_corrections(sender, batch, m0, m1)
    yield Exchange({peer: [y0, y1]}, frozenset())
    return None


def receive_chosen(
    receiver: IknpReceiver, peer: int, choices: np.ndarray, words: int
) -> Run[np.ndarray]:
    """m^{r_j} for each choice, (m, words) uint64."""
    batch = receiver.extend(choices)
    yield Exchange({peer: [batch.u]}, frozenset())
    received = yield Exchange({}, frozenset({peer}))
    m = batch.choices.size
    y0 = expect_array(received, peer, 0, np.uint64, (m, words), "OT message y0")
    y1 = expect_array(received, peer, 1, np.uint64, (m, words), "OT message y1")
    return iknp.chosen_finish(receiver, batch, y0, y1)


def send_correlated(
    sender: IknpSender, peer: int, m: int, delta: np.ndarray, *, additive: bool = False
) -> Run[np.ndarray]:
    """m correlated OTs (pairs (x⁰, x⁰ ⊕ Δ) or (x⁰, x⁰ + Δ)); returns x⁰, (m, words) uint64."""
    received = yield Exchange({}, frozenset({peer}))
    batch = _receive_u(sender, received, peer, m)
    x0, y = iknp.correlated_corrections(sender, batch, delta, additive=additive)
    yield Exchange({peer: [y]}, frozenset())
    return x0


def receive_correlated(
    receiver: IknpReceiver, peer: int, choices: np.ndarray, words: int, *, additive: bool = False
) -> Run[np.ndarray]:
    """x⁰ ⊕ r_j·Δ_j (or x⁰ + r_j·Δ_j) for each choice, (m, words) uint64."""
    batch = receiver.extend(choices)
    yield Exchange({peer: [batch.u]}, frozenset())
    received = yield Exchange({}, frozenset({peer}))
    y = expect_array(received, peer, 0, np.uint64, (batch.choices.size, words), "OT correction")
    return iknp.correlated_finish(receiver, batch, y, additive=additive)
