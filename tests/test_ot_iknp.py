"""IKNP OT extension: random, chosen-message and correlated variants, session reuse, views."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.errors import RemoteProtocolError
from mpc.ot import iknp
from mpc.ot import protocol as ot
from mpc.ot.iknp import IknpReceiver, IknpSender
from mpc.rng import Csprng
from tests.twoparty import run_two

SESSION = b"job-iknp"


def new_pair() -> tuple[IknpSender, IknpReceiver]:
    sender, receiver, traffic = run_two(
        ot.setup_sender(Csprng(), 1, SESSION), ot.setup_receiver(Csprng(), 0, SESSION)
    )
    assert traffic.rounds == 2
    return sender, receiver


@pytest.fixture(scope="module")
def pair() -> tuple[IknpSender, IknpReceiver]:
    return new_pair()


def pick(choices: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    return np.where(choices[:, None] == 1, x1, x0)


@pytest.mark.parametrize("choice", [0, 1])
@pytest.mark.parametrize("m", [1, 64, 1000])
def test_iknp_random_ot_gives_the_chosen_message(
    pair: tuple[IknpSender, IknpReceiver], choice: int, m: int
) -> None:
    sender, receiver = pair
    choices = np.full(m, choice, dtype=np.uint8)
    (x0, x1), xr, _ = run_two(ot.send_random(sender, 1, m), ot.receive_random(receiver, 0, choices))
    assert np.array_equal(xr, x1 if choice else x0)
    # the receiver's output never equals the message it did not choose
    assert not np.any(np.all(xr == (x0 if choice else x1), axis=1))


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 300), words=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_iknp_variants_match_plaintext(
    pair: tuple[IknpSender, IknpReceiver], m: int, words: int, seed: int
) -> None:
    sender, receiver = pair
    data = np.random.default_rng(seed)
    choices = data.integers(0, 2, m).astype(np.uint8)
    m0, m1 = (data.integers(0, 2**63, (m, words), dtype=np.uint64) for _ in range(2))
    _, got, _ = run_two(
        ot.send_chosen(sender, 1, m0, m1), ot.receive_chosen(receiver, 0, choices, words)
    )
    assert np.array_equal(got, pick(choices, m0, m1))
    delta = data.integers(0, 2**63, (m, words), dtype=np.uint64)
    x0, got, _ = run_two(
        ot.send_correlated(sender, 1, m, delta), ot.receive_correlated(receiver, 0, choices, words)
    )
    assert np.array_equal(got, pick(choices, x0, x0 ^ delta))
    x0, got, _ = run_two(
        ot.send_correlated(sender, 1, m, delta, additive=True),
        ot.receive_correlated(receiver, 0, choices, words, additive=True),
    )
    assert np.array_equal(got, pick(choices, x0, x0 + delta))


def test_iknp_delta_ot_with_one_global_delta(pair: tuple[IknpSender, IknpReceiver]) -> None:
    sender, receiver = pair
    choices = Csprng(bytes(32)).bits(777)
    delta = np.array([0x1234567890ABCDEF | 1, 0xFEDCBA0987654321], dtype=np.uint64)
    x0, labels, traffic = run_two(
        ot.send_correlated(sender, 1, 777, delta), ot.receive_correlated(receiver, 0, choices, 2)
    )
    assert np.array_equal(labels, pick(choices, x0, x0 ^ delta))
    # receiver → sender: the κ × m' bit matrix, 16 bytes per OT; sender → receiver: one correction
    assert traffic.bytes_sent == {0: 16 * 777, 1: 16 * iknp.padded(777)}


def test_iknp_batches_reuse_the_session_with_fresh_tweaks(
    pair: tuple[IknpSender, IknpReceiver],
) -> None:
    sender, receiver = pair
    choices = np.zeros(100, dtype=np.uint8)
    seen = []
    for _ in range(3):
        start = sender.next_index
        assert receiver.next_index == start
        (x0, _), xr, _ = run_two(
            ot.send_random(sender, 1, 100), ot.receive_random(receiver, 0, choices)
        )
        assert np.array_equal(x0, xr)
        assert sender.next_index == receiver.next_index == start + iknp.padded(100)
        seen.append(x0)
    # same choices, new batch: new streams and new tweaks give new messages
    assert not np.array_equal(seen[0], seen[1])
    assert not np.array_equal(seen[1], seen[2])


def test_iknp_rows_satisfy_the_extension_relation(pair: tuple[IknpSender, IknpReceiver]) -> None:
    # q_j = t_j ⊕ r_j·s: the receiver's rows are the sender's, shifted by s exactly where r_j = 1
    sender, receiver = pair
    choices = Csprng(bytes(32)).bits(256)
    batch = receiver.extend(choices)
    rows = sender.extend(batch.u, 256).rows
    diff = rows ^ batch.rows
    assert np.all(diff[choices == 0] == 0)
    assert np.all(diff[choices == 1] == sender.s)
    assert not hasattr(receiver, "s")  # the receiver never holds s


def test_iknp_sender_rejects_a_malformed_matrix(pair: tuple[IknpSender, IknpReceiver]) -> None:
    sender, _ = pair
    run = ot.send_random(sender, 1, 100)
    next(run)
    with pytest.raises(RemoteProtocolError, match="IKNP matrix u"):
        run.send({1: [np.zeros((128, 8), dtype=np.uint8)]})


def test_iknp_receiver_rejects_a_malformed_correction(
    pair: tuple[IknpSender, IknpReceiver],
) -> None:
    _, receiver = pair
    run = ot.receive_correlated(receiver, 0, np.ones(10, np.uint8), 2)
    next(run)
    run.send({})
    with pytest.raises(RemoteProtocolError, match="OT correction"):
        run.send({0: [np.zeros((10, 1), dtype=np.uint64)]})


def test_iknp_setup_rejects_a_bad_hash_key() -> None:
    run = ot.setup_sender(Csprng(), 1, SESSION)
    next(run)
    with pytest.raises(RemoteProtocolError, match="TCR hash key"):
        run.send({1: [np.full(32, 9, dtype=np.uint8), np.zeros(15, dtype=np.uint8)]})


def test_iknp_rejects_bad_arguments(pair: tuple[IknpSender, IknpReceiver]) -> None:
    sender, receiver = pair
    with pytest.raises(ValueError, match="choices"):
        receiver.extend(np.array([0, 3]))
    with pytest.raises(ValueError, match="delta"):
        iknp.correlated_corrections(
            sender, iknp.SenderBatch(np.zeros((4, 2), np.uint64), 0), np.zeros(3)
        )
    with pytest.raises(ValueError, match="seeds"):
        IknpReceiver(np.zeros((127, 32), np.uint8), np.zeros((128, 32), np.uint8), bytes(16))
