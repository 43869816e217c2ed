"""Two-party garbled-circuit evaluation as generator protocols: `garbler(...)` and `evaluator(...)`.

One circuit on N instances, end to end. Each input group of the circuit belongs to one party
(the keys of its `inputs`); the garbler's bits are sent as labels, the evaluator's come by IKNP
correlated OT: the garbler is the OT sender and its garbling Δ is the IKNP sender's s (lsb fixed
to 1), so the sender's rows q_j are the zero-labels and the receiver's rows t_j = q_j ⊕ r_j·Δ
the labels of its choices, with no correction on the wire (the correlated-OT functionality that
IKNP gives before hashing; emp-sh2pc uses the same). Rounds (each = one `yield Exchange`):

    [set-up, only if no OT session is given and the evaluator has inputs: 2 rounds, mpc.ot.protocol]
    A  E → G   IKNP matrix u for the evaluator's m = N·(its input width) bits   (16 B per bit)
               (skipped when m = 0)
    B  G → E   header: [key u8[16], params u64[3] = (chunk, batch, frame_gates), seed u8[32]],
               then frame 0
    C… G → E   frames 1 … F−1
    D  E → G   colour bits (N, width) u8 per output group, only when the garbler learns outputs

A frame is the (2c, 2) u64 tables of consecutive chunks (T_G rows then T_E rows), closed once it
holds `frame_gates` gates; the last frame also carries the decode bits (N, width) u8 per output
group when the evaluator learns outputs. The garbler yields frame k + 1 without waiting, so the
evaluator works on frame k meanwhile (streaming). F = max(1, frames of the chunk plan), which the
evaluator computes from the header with `EvaluateSession.chunk_sizes`.

The garbler's own bits cost no label on the wire: its active labels are L = PRG(seed, group)
for a fresh seed in the header, and its zero-labels W⁰ = L ⊕ x·Δ. The evaluator's view is the
same as with labels sent (its active labels, uniform and independent of Δ and x, and nothing
else: the seed determines only them); half-gates privacy under TCCR holds for any active
labels chosen independently of Δ.

Outputs (`reveal`): "evaluator" (evaluator returns bits, garbler None), "garbler", "both",
"shared": no decoding, garbler returns lsb(C⁰), evaluator lsb(C), XOR shares of every output bit
(free Y2B), bits (N, width) uint8 per output group; or "additive": additive shares mod 2^64 of
every output bit, (N, width) uint64, from two words per output wire in the last frame
(`GarbleSession.additive_outputs`: 16 B per output bit, no extra round).

Threat model: semi-honest garbler and evaluator (half-gates privacy under TCCR, semi-honest IKNP and
base OT); the party that learns outputs learns nothing else; "shared" and "additive" reveal nothing
to either.
References: mpc.gc.garble (ZRE15), mpc.ot.iknp (IKNP03), D. Demmler, T. Schneider, M. Zohner,
"ABY", NDSS 2015 (Y2B, Y2A); X. Wang, A. Malozemoff, J. Katz, emp-toolkit (correlated-OT labels).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

import numpy as np

from mpc.errors import RemoteProtocolError
from mpc.gc.aes import KEY_BYTES
from mpc.gc.circuit import Circuit
from mpc.gc.garble import EvaluateSession, GarbleSession, additive_shares, colours, decode_bits
from mpc.gc.plan import DEFAULT_CHUNK, FRAME_GATES, Reveal, batch_size, frames
from mpc.ot import iknp
from mpc.ot import protocol as ot
from mpc.ot.base import check_bits
from mpc.ot.payload import expect_array, payload_length
from mpc.protocols.context import Exchange, Payload
from mpc.rng import Csprng

Run = Generator[Exchange, Mapping[int, Payload], list[np.ndarray] | None]
MAX_CHUNK = 1 << 20
SEED_BYTES = 32


def _groups(circuit: Circuit, inputs: Mapping[int, np.ndarray], n: int, mine: bool) -> list[int]:
    for g, bits in inputs.items():
        if not 0 <= g < len(circuit.inputs):
            raise ValueError(f"inputs: the circuit has no input group {g}")
        if np.shape(bits) != (n, circuit.input_widths[g]):
            raise ValueError(
                f"inputs[{g}]: expected bits of shape ({n}, {circuit.input_widths[g]})"
            )
        check_bits(bits, f"inputs[{g}]")
    return [g for g in range(len(circuit.inputs)) if (g in inputs) == mine]


def _active_labels(seed: bytes, group: int, width: int, n: int) -> np.ndarray:
    """The garbler's active input labels of one group, (width, n, 2) uint64, from the seed."""
    return Csprng.derive(seed, "mpc.gc/garbler-inputs", group).words((width, n, 2))


def _choices(inputs: Mapping[int, np.ndarray], groups: list[int]) -> np.ndarray:
    """The evaluator's bits in wire-major order (group, wire, instance): its OT choices."""
    parts = [np.asarray(inputs[g], dtype=np.uint8).T.reshape(-1) for g in groups]
    return np.concatenate([np.zeros(0, np.uint8), *parts])


def garbler(
    rng: Csprng,
    peer: int,
    circuit: Circuit,
    inputs: Mapping[int, np.ndarray],
    n: int,
    *,
    session: bytes,
    reveal: Reveal = "evaluator",
    ot_sender: iknp.IknpSender | None = None,
    gc: GarbleSession | None = None,
    frame_gates: int = FRAME_GATES,
) -> Run:
    """The garbler: `inputs` maps its input groups to bits (n, width); returns the output bits it
    learns (per `reveal`; its additive shares for "additive") or None. `ot_sender`/`gc` continue
    a job's OT and garbling sessions (then gc.delta must be ot_sender.s)."""
    own = _groups(circuit, inputs, n, True)
    theirs = [g for g in range(len(circuit.inputs)) if g not in own]
    m = n * sum(circuit.input_widths[g] for g in theirs)
    if m and ot_sender is None:
        ot_sender = yield from ot.setup_sender(rng, peer, session, free_xor=True)
    if m and ot_sender is not None and not int(ot_sender.s[0]) & 1:
        raise ValueError("ot_sender: garbling needs an OT session with s_0 = 1 (free_xor=True)")
    if gc is None:
        delta = ot_sender.s if m and ot_sender is not None else None
        gc = GarbleSession(rng, chunk=DEFAULT_CHUNK, delta=delta)
    elif m and ot_sender is not None and not np.array_equal(gc.delta, ot_sender.s):
        raise ValueError("gc: the garbling Δ must be the OT session's s (free-XOR labels by OT)")
    zeros = [np.empty((w, n, 2), np.uint64) for w in circuit.input_widths]  # (if m = 0)
    seed = rng.bytes(SEED_BYTES)
    for g in own:  # W⁰ = L ⊕ x·Δ for the active labels L the evaluator derives from the seed
        zeros[g] = gc.encode(_active_labels(seed, g, circuit.input_widths[g], n), inputs[g])
    batch = batch_size(circuit, n)
    header = np.array([gc.chunk, batch, frame_gates], dtype=np.uint64)
    send: Payload = [np.frombuffer(gc.key, np.uint8).copy(), header]
    send.append(np.frombuffer(seed, np.uint8).copy())
    if m and ot_sender is not None:
        received = yield Exchange({}, frozenset({peer}))
        u = expect_array(received, peer, 0, np.uint8, (iknp.KAPPA, iknp.padded(m) // 8), "u")
        rows = ot_sender.extend(u, m).rows  # q_j: the zero-labels of the evaluator's bits
        start = 0
        for g in theirs:
            w = circuit.input_widths[g]
            zeros[g] = rows[start : start + w * n].reshape(w, n, 2)
            start += w * n
    plan = frames(gc.chunk_sizes(circuit, n, batch), frame_gates)
    stream = gc.garble_stream(circuit, zeros, batch=batch)
    decode: list[np.ndarray] = []
    shares: list[np.ndarray] = []
    for k, frame in enumerate(plan):
        send += [next(stream) for _ in frame]
        if k == len(plan) - 1:
            try:
                next(stream)
                raise AssertionError("the garbling made more chunks than planned")
            except StopIteration as stop:
                zero_outputs: list[np.ndarray] = stop.value
            decode = [decode_bits(z) for z in zero_outputs]
            if reveal in ("evaluator", "both"):
                send += decode
            if reveal == "additive":
                for z in zero_outputs:
                    words, mine = gc.additive_outputs(z, rng.words(z.shape[:2]))
                    send.append(words)
                    shares.append(np.ascontiguousarray(mine.T))
        yield Exchange({peer: send}, frozenset())
        send = []
    if reveal == "shared":
        return decode
    if reveal == "additive":
        return shares
    if reveal == "evaluator":
        return None
    received = yield Exchange({}, frozenset({peer}))
    shape = [(n, w) for w in circuit.output_widths]
    got = [expect_array(received, peer, i, np.uint8, s, "colours") for i, s in enumerate(shape)]
    return [c ^ d for c, d in zip(got, decode, strict=True)]


def evaluator(
    rng: Csprng,
    peer: int,
    circuit: Circuit,
    inputs: Mapping[int, np.ndarray],
    n: int,
    *,
    session: bytes,
    reveal: Reveal = "evaluator",
    ot_receiver: iknp.IknpReceiver | None = None,
    gc: EvaluateSession | None = None,
) -> Run:
    """The evaluator: `inputs` maps its input groups to bits (n, width); returns the output bits
    it learns (per `reveal`) or None. `ot_receiver`/`gc` continue a job's sessions."""
    own = _groups(circuit, inputs, n, True)
    theirs = [g for g in range(len(circuit.inputs)) if g not in own]
    choices = _choices(inputs, own)
    m = choices.size
    batch_ot = None
    if m:
        if ot_receiver is None:
            ot_receiver = yield from ot.setup_receiver(rng, peer, session)
        batch_ot = ot_receiver.extend(choices)
        yield Exchange({peer: [batch_ot.u]}, frozenset())
    received = yield Exchange({}, frozenset({peer}))
    key = expect_array(received, peer, 0, np.uint8, (KEY_BYTES,), "garbling key").tobytes()
    chunk, batch, frame_gates = expect_array(received, peer, 1, np.uint64, (3,), "params").tolist()
    if not (1 <= chunk <= MAX_CHUNK and batch >= 1 and frame_gates >= 1):
        raise RemoteProtocolError(peer, f"garbling parameters out of range: {chunk, batch}")
    if gc is None:
        gc = EvaluateSession(key, chunk=chunk)
    elif gc.key != key or gc.chunk != chunk:
        raise RemoteProtocolError(peer, "garbling key or chunk differs from this job's session")
    labels = [np.empty((w, n, 2), np.uint64) for w in circuit.input_widths]  # (if m = 0)
    seed = expect_array(received, peer, 2, np.uint8, (SEED_BYTES,), "label seed").tobytes()
    for g in theirs:
        labels[g] = _active_labels(seed, g, circuit.input_widths[g], n)
    index = 3
    if m and batch_ot is not None:
        mine = batch_ot.rows  # t_j = q_j ⊕ r_j·Δ: the labels of this party's bits
        start = 0
        for g in own:
            w = circuit.input_widths[g]
            labels[g] = mine[start : start + w * n].reshape(w, n, 2)
            start += w * n
    plan = frames(gc.chunk_sizes(circuit, n, batch), frame_gates)
    run = gc.evaluate_stream(circuit, labels, batch=batch)
    want = next(run, None) if plan[0] else None
    outputs: list[np.ndarray] | None = None
    for k, frame in enumerate(plan):
        if k:
            received = yield Exchange({}, frozenset({peer}))
            index = 0
        for size in frame:
            table = expect_array(received, peer, index, np.uint64, (2 * size, 2), "table")
            index += 1
            if want != size:
                raise AssertionError("the evaluation plan and the chunk stream disagree")
            try:
                want = run.send(table)
            except StopIteration as stop:
                outputs = stop.value
    if outputs is None:  # a circuit without AND gates: no tables at all
        try:
            next(run)
        except StopIteration as stop:
            outputs = stop.value
    assert outputs is not None
    mine_bits = [colours(o) for o in outputs]
    shapes = [(n, w) for w in circuit.output_widths] if reveal in ("evaluator", "both") else []
    extra = len(outputs) if reveal == "additive" else 0
    if payload_length(received, peer, "last frame") != index + len(shapes) + extra:
        raise RemoteProtocolError(peer, "unexpected number of arrays in the last frame")
    decode = [
        expect_array(received, peer, index + i, np.uint8, s, "decode bits")
        for i, s in enumerate(shapes)
    ]
    if reveal == "additive":
        return [
            np.ascontiguousarray(
                additive_shares(
                    gc,
                    o,
                    expect_array(received, peer, index + i, np.uint64, (*o.shape[:2], 2), "words"),
                ).T
            )
            for i, o in enumerate(outputs)
        ]
    if reveal in ("garbler", "both"):
        yield Exchange({peer: mine_bits}, frozenset())
    if reveal == "shared":
        return mine_bits
    if reveal == "garbler":
        return None
    return [c ^ d for c, d in zip(mine_bits, decode, strict=True)]
