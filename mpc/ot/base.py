"""Base oblivious transfer from X25519 alone: one real key, one key nobody knows the log of.

Protocol (κ OTs at once, two messages; B = the X25519 base point, u-coordinates only):

    S: a ← random scalar;  A = a·B                                      S → R: A
    R, for OT i with choice c_i: k_i ← random; PK_{i,c_i} = k_i·B;
       PK_{i,1−c_i} = k'_i·U with a fresh k'_i that R then forgets         R → S: (PK_i0, PK_i1)
    S: key_{i,b} = KDF(i, b, A, PK_i0, PK_i1, a·PK_ib)      for b ∈ {0, 1}
    R: key_{i,c_i} = KDF(i, c_i, A, PK_i0, PK_i1, k_i·A)

U is one public point of Curve25519 whose discrete logarithm nobody knows: the first u-coordinate
ON the curve (Euler test on u³ + 486662u² + u) in a SHA-256 stream under a fixed tag, found once
per process ("nothing up my sleeve"; the test matters: a point on the twist would stay on the
twist and give c_i away). KDF = SHA-256 over a domain tag, the session id, i, b and the transcript.
X25519 clamps scalars to multiples of 8, so both public keys are points of the prime-order
subgroup with fresh random scalars (of B and of U): S cannot tell which one is real without the
logarithm of U. R knows the logarithm of PK_{c_i} to base B only; key_{1−c_i} needs a·k'_i·U, i.e.
CDH(A, U), which stays hidden (a hash of a CDH value, random-oracle model).

Threat model: semi-honest (both parties follow the protocol). Not secure against a malicious
receiver, which could build both public keys with known logs and learn both keys; a malicious
sender is harmless to the receiver's choice bits. For the malicious model use Chou–Orlandi or
MRR20 over a prime-order group (PROTOCOLS.md §2.1). Randomness (scalars, points) comes from the
caller's Csprng, so known-answer tests can pin it.

References: S. Even, O. Goldreich, A. Lempel, "A randomized protocol for signing contracts",
CACM 1985 (obliviously sampled public keys); M. Bellare, S. Micali, "Non-interactive oblivious
transfer", CRYPTO '89; D. J. Bernstein, "Curve25519", PKC 2006 and RFC 7748 (X25519, clamping);
PROTOCOLS.md §2.1 (this construction, validated for both choice bits).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Generator, Mapping
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from mpc.errors import RemoteProtocolError
from mpc.ot.payload import expect_array
from mpc.protocols.context import Exchange, Payload
from mpc.rng import Csprng

P25519 = 2**255 - 19
MONTGOMERY_A = 486662
POINT_BYTES = 32
KEY_BYTES = 32
_TAG = b"mpc.ot.base/x25519/v1"


def _private(rng: Csprng) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(rng.bytes(32))


def is_on_curve(u: int) -> bool:
    """Whether u (0 < u < p) is the u-coordinate of a point of Curve25519 (not of its twist)."""
    f = (u * u * u + MONTGOMERY_A * u * u + u) % P25519
    return f != 0 and pow(f, (P25519 - 1) // 2, P25519) == 1


@functools.cache
def oblivious_point() -> X25519PublicKey:
    """U: the first on-curve u-coordinate of SHA-256(tag ‖ counter), counter = 0, 1, …"""
    for counter in itertools.count():
        digest = hashlib.sha256(_TAG + b"/U/" + counter.to_bytes(4, "big")).digest()
        u = int.from_bytes(digest, "little") & ((1 << 255) - 1)
        if 0 < u < P25519 and is_on_curve(u):
            return X25519PublicKey.from_public_bytes(u.to_bytes(32, "little"))
    raise AssertionError("unreachable")  # pragma: no cover


def check_bits(bits: np.ndarray, name: str) -> np.ndarray:
    """`bits` as a flat uint8 array of 0/1; ValueError naming the argument otherwise."""
    flat = np.asarray(bits).reshape(-1)
    if flat.size and (flat.dtype.kind not in "biu" or flat.min() < 0 or flat.max() > 1):
        raise ValueError(f"{name}: bits must be 0 or 1")
    return flat.astype(np.uint8, copy=False)


def _kdf(
    session: bytes, index: int, bit: int, a: bytes, pk0: bytes, pk1: bytes, shared: bytes
) -> bytes:
    h = hashlib.sha256(_TAG)
    h.update(len(session).to_bytes(4, "big") + session)
    h.update(index.to_bytes(4, "big") + bytes([bit]) + a + pk0 + pk1 + shared)
    return h.digest()


@dataclass(frozen=True, slots=True)
class SenderState:
    """The base-OT sender between its two messages: its secret scalar and first message."""

    session: bytes
    secret: X25519PrivateKey
    public: bytes  # A, the first message


def sender_start(rng: Csprng, session: bytes) -> SenderState:
    """Message 1 of the sender: A = a·B (`state.public`)."""
    secret = _private(rng)
    return SenderState(session, secret, secret.public_key().public_bytes_raw())


def receiver_respond(
    rng: Csprng, session: bytes, sender_public: bytes, choices: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The receiver's message (count, 2, 32) uint8 of (PK_i0, PK_i1) and its keys (count, 32).

    Raises ValueError if `sender_public` is a small-order point (a broken sender).
    """
    bits = check_bits(choices, "choices")
    big_a = X25519PublicKey.from_public_bytes(sender_public)
    message = np.empty((bits.size, 2, POINT_BYTES), dtype=np.uint8)
    keys = np.empty((bits.size, KEY_BYTES), dtype=np.uint8)
    point = oblivious_point()
    for i, c in enumerate(bits.tolist()):  # one loop step per base OT (κ = 128 of them)
        real = _private(rng)
        oblivious = _private(rng).exchange(point)  # k'·U; k' is dropped right here
        pk = [b"", b""]
        pk[c], pk[1 - c] = real.public_key().public_bytes_raw(), oblivious
        message[i, 0], message[i, 1] = (
            np.frombuffer(pk[0], np.uint8),
            np.frombuffer(pk[1], np.uint8),
        )
        shared = real.exchange(big_a)
        keys[i] = np.frombuffer(_kdf(session, i, c, sender_public, pk[0], pk[1], shared), np.uint8)
    return message, keys


def sender_finish(state: SenderState, message: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both keys of every OT, (count, 32) uint8 each. ValueError on a small-order public key."""
    count = message.shape[0]
    keys0 = np.empty((count, KEY_BYTES), dtype=np.uint8)
    keys1 = np.empty((count, KEY_BYTES), dtype=np.uint8)
    for i in range(count):
        pk0, pk1 = message[i, 0].tobytes(), message[i, 1].tobytes()
        for bit, pk, out in ((0, pk0, keys0), (1, pk1, keys1)):
            shared = state.secret.exchange(X25519PublicKey.from_public_bytes(pk))
            out[i] = np.frombuffer(
                _kdf(state.session, i, bit, state.public, pk0, pk1, shared), np.uint8
            )
    return keys0, keys1


BaseOtRun = Generator[Exchange, Mapping[int, Payload], tuple[np.ndarray, np.ndarray]]
BaseOtReceiveRun = Generator[Exchange, Mapping[int, Payload], np.ndarray]


def send(rng: Csprng, peer: int, count: int, session: bytes) -> BaseOtRun:
    """Sender of `count` base OTs with `peer`, 2 rounds; returns (keys0, keys1), (count, 32) uint8.

    Round 1 sends A (uint8[32]); round 2 receives the public keys (uint8[count, 2, 32]).
    """
    state = sender_start(rng, session)
    yield Exchange({peer: [np.frombuffer(state.public, dtype=np.uint8).copy()]}, frozenset())
    received = yield Exchange({}, frozenset({peer}))
    message = expect_array(received, peer, 0, np.uint8, (count, 2, POINT_BYTES), "base OT keys")
    try:
        return sender_finish(state, message)
    except ValueError:
        raise RemoteProtocolError(peer, "base OT: a public key is a small-order point") from None


def receive(rng: Csprng, peer: int, choices: np.ndarray, session: bytes) -> BaseOtReceiveRun:
    """Receiver of len(choices) base OTs with `peer`, 2 rounds; returns its keys (count, 32)."""
    choices = check_bits(choices, "choices")
    received = yield Exchange({}, frozenset({peer}))
    public = expect_array(received, peer, 0, np.uint8, (POINT_BYTES,), "base OT sender key")
    try:
        message, keys = receiver_respond(rng, session, public.tobytes(), choices)
    except ValueError:
        raise RemoteProtocolError(
            peer, "base OT: the sender's key is a small-order point"
        ) from None
    yield Exchange({peer: [message]}, frozenset())
    return keys
