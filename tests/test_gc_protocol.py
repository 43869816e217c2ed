"""Two-party garbler/evaluator generator protocols: outputs, rounds, traffic, sessions, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpc.errors import RemoteProtocolError
from mpc.gc import library
from mpc.gc.circuit import Circuit, CircuitBuilder, evaluate, to_bits
from mpc.gc.garble import EvaluateSession, GarbleSession, additive_shares
from mpc.gc.plan import Reveal, cost, frames
from mpc.gc.protocol import evaluator, garbler
from mpc.ot import protocol as ot
from mpc.rng import Csprng
from tests.twoparty import Traffic, run_two

SESSION = b"job-gc"
G, E = 0, 1  # party ids: the garbler is party 0


def run(
    c: Circuit,
    g_inputs: dict[int, np.ndarray],
    e_inputs: dict[int, np.ndarray],
    n: int,
    reveal: Reveal = "evaluator",
    **kw: object,
) -> tuple[Any, Any, Traffic]:
    g_kw: dict[str, Any] = {k: v for k, v in kw.items() if k in ("ot_sender", "frame_gates")}
    g_kw["gc"] = kw.get("g_gc")
    e_kw: dict[str, Any] = {"ot_receiver": kw.get("ot_receiver"), "gc": kw.get("e_gc")}
    return run_two(
        garbler(Csprng(), E, c, g_inputs, n, session=SESSION, reveal=reveal, **g_kw),
        evaluator(Csprng(), G, c, e_inputs, n, session=SESSION, reveal=reveal, **e_kw),
        (G, E),
    )


def bits(seed: int, n: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, (n, width)).astype(np.uint8)


@pytest.mark.parametrize("reveal", ["evaluator", "garbler", "both", "shared", "additive"])
def test_gc_protocol_millionaires_matches_plaintext(reveal: Reveal) -> None:
    n = 500
    c = library.comparison(32, "gt")
    x, y = bits(1, n, 32), bits(2, n, 32)
    truth = evaluate(c, [x, y])[0]
    out_g, out_e, traffic = run(c, {0: x}, {1: y}, n, reveal)
    if reveal == "shared":
        assert np.array_equal(out_g[0] ^ out_e[0], truth)
    elif reveal == "additive":  # shares mod 2^64 of each bit, each share uniform-looking
        assert out_g[0].dtype == out_e[0].dtype == np.uint64
        assert np.array_equal(out_g[0] + out_e[0], truth.astype(np.uint64))
        assert len(np.unique(out_e[0])) == n
    else:
        for out, learns in ((out_g, reveal in ("garbler", "both")), (out_e, reveal != "garbler")):
            assert np.array_equal(out[0], truth) if learns else out is None
    # 2 set-up rounds, the OT matrix, one table frame; one more when the garbler learns
    assert traffic.rounds == 4 + (reveal in ("garbler", "both"))


def test_gc_protocol_traffic_per_comparison() -> None:
    n = 1024
    c = library.ltz(32)  # [a < b] of additively shared 32-bit values: l − 1 ANDs
    _, _, traffic = run(c, {0: bits(1, n, 32)}, {1: bits(2, n, 32)}, n, "shared")
    setup = 32 + 16 + 128 * 64  # base OTs, once per session
    per = (traffic.bytes_sent[G] + traffic.bytes_sent[E] - setup) / n
    # OT matrix 32·16 (the labels are the OT rows: no corrections), tables 31·32 (+ header);
    # the garbler's labels come from a seed in the header
    assert 32 * 16 + 31 * 32 <= per < 32 * 16 + 31 * 32 + 1
    assert per <= 3 * 1024


@settings(max_examples=12, deadline=None)
@given(
    width=st.integers(1, 64),
    n=st.integers(1, 200),
    frame_gates=st.sampled_from([1, 50, 1 << 16]),
    seed=st.integers(0, 2**32 - 1),
)
def test_gc_protocol_streamed_frames_match_plaintext(
    width: int, n: int, frame_gates: int, seed: int
) -> None:
    c = library.maximum(3, width, index=True, shared=True)
    x, y = bits(seed, n, 3 * width), bits(seed + 1, n, 3 * width)
    _, out, traffic = run(c, {0: x}, {1: y}, n, frame_gates=frame_gates)
    assert all(np.array_equal(a, b) for a, b in zip(out, evaluate(c, [x, y]), strict=True))
    chunks = GarbleSession(Csprng()).chunk_sizes(c, n)
    assert traffic.rounds == 3 + len(frames(chunks, frame_gates))


def test_gc_protocol_frames_group_chunks() -> None:
    assert frames([], 10) == [[]]
    assert frames([4, 4, 4, 4], 8) == [[4, 4], [4, 4]]
    assert frames([9, 1, 20, 3], 8) == [[9], [1, 20], [3]]


def test_gc_protocol_one_job_reuses_the_ot_and_garbling_sessions() -> None:
    ot_s, ot_r, _ = run_two(
        ot.setup_sender(Csprng(), E, SESSION, free_xor=True),
        ot.setup_receiver(Csprng(), G, SESSION),
    )
    g_gc = GarbleSession(Csprng(), delta=ot_s.s)
    e_gc = EvaluateSession(g_gc.key)
    kw = {"ot_sender": ot_s, "ot_receiver": ot_r, "g_gc": g_gc, "e_gc": e_gc}
    for width, seed in ((8, 1), (32, 2), (17, 3)):
        c = library.comparison(width, "le")
        x, y = bits(seed, 100, width), bits(seed + 9, 100, width)
        start = g_gc.next_gate
        _, out, traffic = run(c, {0: x}, {1: y}, 100, **kw)
        assert np.array_equal(out[0], evaluate(c, [x, y])[0])
        assert traffic.rounds == 2  # no base OTs: the OT matrix, then one frame
        assert g_gc.next_gate == e_gc.next_gate == start + width * 100
    assert ot_s.next_index == ot_r.next_index > 0


def test_gc_protocol_refuses_an_ot_session_whose_s_is_no_garbling_delta() -> None:
    for seed in range(64):  # find a session with s_0 = 0 (half of them, without free_xor)
        ot_s, _, _ = run_two(
            ot.setup_sender(Csprng(bytes([seed]) * 32), E, SESSION),
            ot.setup_receiver(Csprng(), G, SESSION),
        )
        if not int(ot_s.s[0]) & 1:
            break
    c = library.comparison(8, "gt")
    run_g = garbler(Csprng(), E, c, {0: bits(1, 4, 8)}, 4, session=SESSION, ot_sender=ot_s)
    with pytest.raises(ValueError, match="free_xor"):
        next(run_g)
    ot_x, _, _ = run_two(
        ot.setup_sender(Csprng(), E, SESSION, free_xor=True),
        ot.setup_receiver(Csprng(), G, SESSION),
    )
    run_g = garbler(
        Csprng(), E, c, {0: bits(1, 4, 8)}, 4, session=SESSION, ot_sender=ot_x,
        gc=GarbleSession(Csprng()),
    )  # fmt: skip
    with pytest.raises(ValueError, match="Δ"):
        next(run_g)


def test_gc_additive_outputs_hide_the_other_word() -> None:
    """The evaluator's word opens with its label only: with the other label (C ⊕ Δ) the other
    word gives r + (1 − v), i.e. the word it cannot open encrypts the complement."""
    g = GarbleSession(Csprng())
    e = EvaluateSession(g.key)
    zero = g.zero_labels(1, 200)
    v = np.random.default_rng(3).integers(0, 2, (1, 200)).astype(np.uint64)
    held = zero.copy()
    held[..., 0] ^= v * g.delta[0]
    held[..., 1] ^= v * g.delta[1]
    words, mine = g.additive_outputs(zero, Csprng().words((1, 200)))
    theirs = additive_shares(e, held, words)
    assert np.array_equal(mine + theirs, v)
    other = held.copy()
    other[..., 0] ^= g.delta[0]
    other[..., 1] ^= g.delta[1]
    e.next_gate -= 200  # the same tweaks: what holding both labels would give
    assert np.array_equal(mine + additive_shares(e, other, words), np.uint64(1) - v)


def test_gc_protocol_inputs_from_one_party_only() -> None:
    c = library.equality(16)
    x, y = bits(1, 64, 16), bits(2, 64, 16)
    x[:10] = y[:10]
    truth = evaluate(c, [x, y])[0]
    _, out, traffic = run(c, {0: x, 1: y}, {}, 64)
    assert np.array_equal(out[0], truth)
    assert traffic.rounds == 1  # no OT at all: one frame
    _, out, traffic = run(c, {}, {0: x, 1: y}, 64)
    assert np.array_equal(out[0], truth)
    assert traffic.rounds == 4


def test_gc_protocol_circuit_without_and_gates() -> None:
    c = library.adder(1)
    x, y = bits(1, 10, 1), bits(2, 10, 1)
    _, out, _ = run(c, {0: x}, {1: y}, 10)
    assert np.array_equal(out[0], x ^ y)


def test_gc_protocol_evaluator_rejects_a_malformed_table() -> None:
    c = library.comparison(8, "lt")
    x = to_bits(np.arange(4), 8)
    g = garbler(Csprng(), E, c, {0: x, 1: x}, 4, session=SESSION)
    e = evaluator(Csprng(), G, c, {}, 4, session=SESSION)
    message = next(g).send[E]
    next(e)
    broken = [*message[:-2], message[-2][:-1], message[-1]]
    with pytest.raises(RemoteProtocolError, match="table"):
        e.send({G: broken})


def test_gc_protocol_evaluator_rejects_a_foreign_session() -> None:
    c = library.comparison(8, "lt")
    x = to_bits(np.arange(4), 8)
    g = garbler(Csprng(), E, c, {0: x, 1: x}, 4, session=SESSION)
    e = evaluator(Csprng(), G, c, {}, 4, session=SESSION, gc=EvaluateSession(bytes(16)))
    message = next(g).send[E]
    next(e)
    with pytest.raises(RemoteProtocolError, match="key"):
        e.send({G: message})


def test_gc_protocol_checks_the_input_assignment() -> None:
    c = library.comparison(8, "lt")
    with pytest.raises(ValueError, match="no input group 2"):
        next(garbler(Csprng(), E, c, {2: bits(1, 4, 8)}, 4, session=SESSION))
    with pytest.raises(ValueError, match="shape"):
        next(evaluator(Csprng(), G, c, {1: bits(1, 4, 7)}, 4, session=SESSION))


def test_gc_protocol_zero_instances_and_wires_passed_through() -> None:
    c = library.comparison(8, "lt")
    empty = np.zeros((0, 8), dtype=np.uint8)
    _, out, traffic = run(c, {0: empty}, {1: empty}, 0)
    assert out[0].shape == (0, 1)
    assert traffic.rounds == 1  # nothing to transfer obliviously
    b = CircuitBuilder()
    x, y = b.input(3), b.input(2)
    b.output([x[2], y[0], x[0]])  # outputs that are input wires: no gates at all
    c = b.build()
    xs, ys = bits(1, 20, 3), bits(2, 20, 2)
    _, out, _ = run(c, {0: xs}, {1: ys}, 20)
    assert np.array_equal(out[0], evaluate(c, [xs, ys])[0])


def test_gc_protocol_rejects_inputs_that_are_not_bits() -> None:
    c = library.comparison(4, "lt")
    with pytest.raises(ValueError, match="bits must be 0 or 1"):
        next(garbler(Csprng(), E, c, {0: np.full((2, 4), 2)}, 2, session=SESSION))


@pytest.mark.parametrize(
    ("reveal", "garbler_groups", "setup"),
    [
        ("evaluator", (0,), True),
        ("both", (0,), False),
        ("garbler", (), True),
        ("shared", (0, 1), True),
        ("additive", (0,), False),
    ],
)
def test_gc_protocol_cost_predicts_rounds_and_bytes(
    reveal: Reveal, garbler_groups: tuple[int, ...], setup: bool
) -> None:
    c = library.maximum(4, 12, index=True, shared=True)
    n = 300
    inputs = {g: bits(g, n, 48) for g in range(2)}
    kw: dict[str, Any] = {"frame_gates": 5000}
    if not setup:
        kw["ot_sender"], kw["ot_receiver"], _ = run_two(
            ot.setup_sender(Csprng(), E, SESSION, free_xor=True),
            ot.setup_receiver(Csprng(), G, SESSION),
        )
    g_in = {g: x for g, x in inputs.items() if g in garbler_groups}
    e_in = {g: x for g, x in inputs.items() if g not in garbler_groups}
    _, _, traffic = run(c, g_in, e_in, n, reveal, **kw)
    predicted = cost(c, n, garbler_groups, reveal=reveal, setup=setup, frame_gates=5000)
    assert predicted.rounds == traffic.rounds
    assert predicted.garbler_bytes == traffic.bytes_sent[G]
    assert predicted.evaluator_bytes == traffic.bytes_sent[E]
    assert predicted.and_gates == c.and_count * n
