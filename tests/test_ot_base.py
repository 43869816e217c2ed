"""X25519 base OT: correctness for both choice bits, what each side holds, malformed messages."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from mpc.errors import RemoteProtocolError
from mpc.ot import base
from mpc.rng import Csprng
from tests.twoparty import run_two

SESSION = b"job-1"


def run_pure(choices: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sender = base.sender_start(Csprng(bytes([seed]) * 32), SESSION)
    message, keys = base.receiver_respond(
        Csprng(bytes([seed + 1]) * 32), SESSION, sender.public, choices
    )
    keys0, keys1 = base.sender_finish(sender, message)
    return keys0, keys1, keys


@pytest.mark.parametrize("choice", [0, 1])
def test_base_ot_receiver_gets_the_chosen_key(choice: int) -> None:
    choices = np.full(8, choice, dtype=np.uint8)
    keys0, keys1, keys = run_pure(choices)
    assert np.array_equal(keys, keys1 if choice else keys0)
    assert not np.any(np.all(keys == (keys0 if choice else keys1), axis=1))


def test_base_ot_mixed_choices_and_distinct_keys() -> None:
    choices = Csprng(bytes(32)).bits(128)
    keys0, keys1, keys = run_pure(choices)
    assert np.array_equal(keys, np.where(choices[:, None] == 1, keys1, keys0))
    assert len({k.tobytes() for k in np.concatenate([keys0, keys1])}) == 256


def test_base_ot_is_deterministic_given_the_randomness() -> None:
    choices = np.array([0, 1, 1, 0], dtype=np.uint8)
    first, second = run_pure(choices, seed=3), run_pure(choices, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    other = run_pure(choices, seed=5)
    assert not np.array_equal(first[0], other[0])


def test_base_ot_keys_depend_on_the_session() -> None:
    sender = base.sender_start(Csprng(bytes(32)), b"a")
    _, keys_a = base.receiver_respond(Csprng(bytes(32)), b"a", sender.public, np.zeros(2, np.uint8))
    _, keys_b = base.receiver_respond(Csprng(bytes(32)), b"b", sender.public, np.zeros(2, np.uint8))
    assert not np.array_equal(keys_a, keys_b)


def test_base_ot_public_keys_are_curve_points_in_the_receivers_message() -> None:
    # both keys of each pair are valid X25519 public keys: the sender cannot tell them apart
    # by validity, and neither is the all-zero (small-order) point
    sender = base.sender_start(Csprng(bytes(32)), SESSION)
    message, _ = base.receiver_respond(Csprng(bytes(32)), SESSION, sender.public, np.array([0, 1]))
    for pk in message.reshape(-1, 32):
        u = int.from_bytes(pk.tobytes(), "little")
        assert 0 < u < base.P25519
        assert base.is_on_curve(u)
        X25519PublicKey.from_public_bytes(pk.tobytes())


def test_base_ot_oblivious_point_is_on_the_curve_not_the_twist() -> None:
    u = int.from_bytes(base.oblivious_point().public_bytes_raw(), "little")
    assert base.is_on_curve(u)
    assert u not in (0, 1, 9)  # neither small order nor the base point
    assert base.oblivious_point() is base.oblivious_point()  # found once per process
    assert not base.is_on_curve(2)  # u = 2 lies on the twist of Curve25519
    assert base.is_on_curve(9)  # the base point


def test_base_ot_oblivious_keys_are_fresh_per_ot() -> None:
    # PK_{1−c} = k'·U with a fresh k' each time: no two oblivious keys repeat
    sender = base.sender_start(Csprng(), SESSION)
    message, _ = base.receiver_respond(Csprng(), SESSION, sender.public, np.zeros(64, np.uint8))
    oblivious = {pk.tobytes() for pk in message[:, 1]}
    assert len(oblivious) == 64


def test_base_ot_receiver_state_keeps_one_key_per_ot() -> None:
    # the pure receiver returns exactly one 32-byte key per OT; the oblivious scalar is dropped
    _, _, keys = run_pure(np.array([1, 0, 1], dtype=np.uint8))
    assert keys.shape == (3, base.KEY_BYTES)


@pytest.mark.parametrize("choice", [0, 1])
def test_base_ot_generator_protocol_matches_plaintext(choice: int) -> None:
    choices = np.array([choice, 1 - choice] * 4, dtype=np.uint8)
    (keys0, keys1), keys, traffic = run_two(
        base.send(Csprng(), 1, 8, SESSION), base.receive(Csprng(), 0, choices, SESSION)
    )
    assert np.array_equal(keys, np.where(choices[:, None] == 1, keys1, keys0))
    assert traffic.rounds == 2
    assert traffic.bytes_sent == {0: 32, 1: 8 * 64}


def test_base_ot_sender_rejects_a_malformed_message() -> None:
    sender = base.send(Csprng(), 1, 4, SESSION)
    next(sender)
    next(sender)
    with pytest.raises(RemoteProtocolError, match="base OT keys"):
        sender.send({1: [np.zeros((3, 2, 32), dtype=np.uint8)]})


def test_base_ot_sender_rejects_small_order_keys() -> None:
    sender = base.send(Csprng(), 1, 1, SESSION)
    next(sender)
    next(sender)
    with pytest.raises(RemoteProtocolError, match="small-order"):
        sender.send({1: [np.zeros((1, 2, 32), dtype=np.uint8)]})


def test_base_ot_receiver_rejects_a_small_order_sender_key() -> None:
    receiver = base.receive(Csprng(), 0, np.array([1]), SESSION)
    next(receiver)
    with pytest.raises(RemoteProtocolError, match="small-order"):
        receiver.send({0: [np.zeros(32, dtype=np.uint8)]})


def test_base_ot_rejects_choices_that_are_not_bits() -> None:
    with pytest.raises(ValueError, match="choices"):
        next(base.receive(Csprng(), 0, np.array([0, 2]), SESSION))
