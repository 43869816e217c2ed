"""Comparisons of shared values with a garbled circuit: [d < 0] and [d = 0], as shared bits.

Party 0 garbles (G), party 1 evaluates (E); every other party only helps move shares.
1. Gather (when more than two parties hold parts of d): the additive parts of d (all shares for
   additive sharing; λ_i·s_i over the t + 1 parties {0..t} for Shamir) of every helper j ≥ 2
   go to G and E as a fresh two-party sharing: G derives r_j from its pair key with j, E
   receives part_j − r_j. (G and E must not collude; nobody else learns anything.)
2. Mask (prime fields only): G and E open c = d + 2^(l−1) + r₀ + r₁ with r₀, r₁ uniform in
   [0, 2^(l+κ)) chosen by G and E (statistical hiding, 2^-κ), which does not wrap since the
   compiler picked p > 2^(l+κ+2). Then d < 0 ⟺ x < y and d = 0 ⟺ x = y for the private
   integers x = c − r₀ (G) and y = r₁ + 2^(l−1) (E): a comparison of two parties' numbers.
   In Z_2^64 no mask is needed: the circuit adds the two shares' low l bits itself.
3. Garble: one circuit for every instance of the group (KSS09 comparator, l + κ + 2 ANDs, or
   the sign of the shares' sum, l − 1 ANDs; equality trees alike), G's inputs as labels, E's by
   correlated OT (one IKNP session per job, whose s is the garbling Δ), tables in one message.
4. Convert. Z_2^64 (additive): G encrypts r + v under each output label, E opens the word of
   its label: additive shares (−r, r + v) of the bit v in the same message as the tables
   (mpc.gc.garble, 16 B per comparison, no extra round). Fields: the output stays XOR-shared,
   b = b_G ⊕ b_E (free: the two colour bits), and b = b_G + b_E − 2·b_G·b_E in the suite: G and
   E input their bits, one product.

Threat model: semi-honest; the two parties G and E must not collude (the conversion in step 1
and the garbled circuit reveal nothing to either alone); for Shamir additionally t < n/2.
Rounds: [1 gather] + [1 mask] + 2 + (1 for additive, 2 for Shamir), or for Z_2^64 [1 gather] +
b + 1 with b pipelined batches: `mpc.dsl.ir.compare_steps`.
References: D. Demmler, T. Schneider, M. Zohner, "ABY", NDSS 2015 (conversions);
V. Kolesnikov, A.-R. Sadeghi, T. Schneider, CANS 2009 (comparator); PROTOCOLS.md §1.6–§1.7.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from mpc.errors import RemoteProtocolError
from mpc.field import Domain, lagrange
from mpc.gc.aes import KEY_BYTES
from mpc.gc.circuit import Circuit, CircuitBuilder
from mpc.gc.garble import EvaluateSession, GarbleSession
from mpc.gc.library import equal, greater, sign_of_sum
from mpc.gc.plan import DEFAULT_CHUNK
from mpc.gc.protocol import MAX_CHUNK, evaluator, garbler
from mpc.ot.protocol import setup_receiver, setup_sender
from mpc.protocols.compose import concurrently
from mpc.protocols.context import (
    Context,
    Exchange,
    Payload,
    ProtocolRun,
    Run,
    flat,
    received_array,
    split,
)
from mpc.protocols.inputs import InputItem, additive_share, shamir_share
from mpc.protocols.multiply import BeaverItem, ReshareItem, beaver, reshare
from mpc.suite import KAPPA, batch_bounds, pipeline_batches

GARBLER, EVALUATOR = 0, 1
SESSION_ROUNDS = 2  # setup_sessions: IKNP base OTs, the garbling key
ONE_FRAME = 1 << 62  # all tables in one message: the comparison takes exactly 2 garbling rounds
U64 = np.uint64


@dataclass(frozen=True, slots=True)
class CompareItem:
    share: np.ndarray  # this party's share of d
    test: str  # "ltz" or "eqz"
    width: int  # l: −2^(l−1) ≤ d < 2^(l−1)
    triple: tuple[np.ndarray, ...] | None  # additive: Beaver material for the conversion


def _send_garbling_key(key: bytes, chunk: int) -> Run[None]:
    """G → E: the job's garbling key and chunk size, in the second set-up round."""
    yield Exchange()
    yield Exchange({EVALUATOR: [np.frombuffer(key, np.uint8).copy(), np.array([chunk], U64)]})


def _receive_garbling_key() -> Run[EvaluateSession]:
    yield Exchange()
    received = yield Exchange({}, frozenset({GARBLER}))
    key = received_bytes(received, GARBLER, 0, KEY_BYTES)
    chunk = int(received_words(received, GARBLER, 1, 1)[0])
    return EvaluateSession(key, chunk=chunk)


def setup_sessions(ctx: Context) -> Run[None]:
    """The job's OT and garbling sessions between G and E: 2 rounds, once per job.

    IKNP with G as sender (the evaluator's input labels by correlated OT) and s_0 = 1, so s is
    also the job's garbling Δ; G's garbling key travels in the second round, so every comparison
    of the job is one garbling session (the gate counter, hence every tweak, continues from one
    comparison to the next).
    """
    me = ctx.party
    if me not in (GARBLER, EVALUATOR):
        yield Exchange()
        yield Exchange()
        return
    if me == GARBLER:
        key = ctx.rng.bytes(KEY_BYTES)
        sender, _ = yield from concurrently(
            [
                setup_sender(ctx.rng, EVALUATOR, ctx.session, free_xor=True),
                _send_garbling_key(key, DEFAULT_CHUNK),
            ]
        )
        ctx.sessions["ot"] = sender
        ctx.sessions["gc"] = GarbleSession(ctx.rng, chunk=DEFAULT_CHUNK, delta=sender.s, key=key)
        return
    receiver, evaluating = yield from concurrently(
        [setup_receiver(ctx.rng, GARBLER, ctx.session), _receive_garbling_key()]
    )
    ctx.sessions["ot"] = receiver
    ctx.sessions["gc"] = evaluating


def received_bytes(received: Mapping[int, Payload], peer: int, index: int, size: int) -> bytes:
    array = received[peer][index] if index < len(received[peer]) else None
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.shape != (size,):
        raise RemoteProtocolError(peer, "malformed garbling session key")
    return array.tobytes()


def received_words(received: Mapping[int, Payload], peer: int, index: int, size: int) -> np.ndarray:
    array = received[peer][index] if index < len(received[peer]) else None
    if not isinstance(array, np.ndarray) or array.dtype != U64 or array.shape != (size,):
        raise RemoteProtocolError(peer, "malformed garbling session parameters")
    if not 1 <= int(array[0]) <= MAX_CHUNK:
        raise RemoteProtocolError(peer, "garbling chunk size out of range")
    return array


@lru_cache(maxsize=64)
def group_circuit(width: int, test: str, ring: bool) -> Circuit:
    """G's input x and E's input y (`width` bits each), one output bit.

    Ring: x, y are the low bits of d_G and d_E (of −d_E for equality): [x + y < 0] is the sign
    of the sum (l − 1 ANDs), [x = −y] an equality tree (l − 1). Field: x, y are the private
    integers of step 2: [x < y] (KSS09, width ANDs) or [x = y] (width − 1).
    """
    b = CircuitBuilder()
    x, y = b.input(width), b.input(width)
    if test == "eqz":
        b.output([equal(b, x, y)])
    else:
        b.output([sign_of_sum(b, x, y) if ring else greater(b, y, x)])
    return b.build(f"{test}{width}{'r' if ring else 'f'}")


def _bits(lo: np.ndarray, hi: np.ndarray | None, width: int) -> np.ndarray:
    """Little-endian bits (n, width) of integers given as one or two uint64 words."""
    words = lo.reshape(-1, 1) if hi is None else np.column_stack([lo, hi])
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=1, bitorder="little")
    return np.ascontiguousarray(bits[:, :width])


def compare(ctx: Context, items: list[CompareItem], label: int) -> ProtocolRun:
    """Shares of [d < 0] or [d = 0] for every item (0/1 values in the suite's domain).

    `label` (the group's first node) keeps this group's pair streams and sub-protocols apart.
    """
    suite, domain, me = ctx.suite, ctx.domain, ctx.party
    ring = domain.name == "Z_2^64"
    shapes = [item.share.shape for item in items]
    d = flat([item.share for item in items], domain)
    size = d.size
    width = items[0].width
    test = items[0].test
    if any(item.width != width or item.test != test for item in items):
        raise ValueError("a comparison group has one test and one width (see the scheduler)")

    # 1. Gather a two-party sharing of d at G and E.
    if suite.protocol == "additive":
        holders = list(suite.parties)
        part = d if me in holders else None
    else:
        holders = list(range(suite.threshold + 1))
        weight = lagrange(tuple(p + 1 for p in holders), 0, domain.modulus)
        part = domain.mul_scalar(d, weight[me]) if me in holders else None
    helpers = [j for j in holders if j not in (GARBLER, EVALUATOR)]
    if helpers:
        send = {}
        if me in helpers and part is not None:
            pad = domain.random(ctx.pair_stream(GARBLER, "gather", label), size)
            send = {EVALUATOR: [domain.sub(part, pad)]}
        received = yield Exchange(send, frozenset(helpers) if me == EVALUATOR else frozenset())
        if me == GARBLER and part is not None:
            for j in helpers:
                stream = ctx.pair_stream(j, "gather", label)
                part = domain.add(part, domain.random(stream, size))
        elif me == EVALUATOR and part is not None:
            for j in helpers:
                part = domain.add(part, received_array(received[j], j, 0, size, domain))
    mine = part if me in (GARBLER, EVALUATOR) else None

    # 2. Mask (fields): the private integers x (G) and y (E), W = l + κ + 2 bits.
    inputs: dict[int, np.ndarray] = {}
    if ring:
        bits = width
        if mine is not None:
            words = np.asarray(mine, dtype=U64)
            if me == GARBLER:
                inputs = {0: _bits(words, None, bits)}
            else:
                own = np.subtract(U64(0), words) if test == "eqz" else words
                inputs = {1: _bits(own, None, bits)}
    else:
        bits = width + KAPPA + 2
        peer = EVALUATOR if me == GARBLER else GARBLER
        mask = domain.random_bits(ctx.rng, size, width + KAPPA) if mine is not None else None
        send = {}
        if mine is not None and mask is not None:
            masked = domain.add(mine, mask)
            if me == GARBLER:
                masked = domain.add(masked, domain.encode_int(1 << (width - 1)))
            send = {peer: [masked]}
        received = yield Exchange(send, frozenset({peer}) if mine is not None else frozenset())
        if mine is not None and mask is not None:
            other = received_array(received[peer], peer, 0, size, domain)
            c = domain.add(send[peer][0], other)  # = d + 2^(l−1) + r₀ + r₁, no wrap
            value = (
                domain.sub(c, mask)
                if me == GARBLER
                else domain.add(mask, domain.encode_int(1 << (width - 1)))
            )
            lo, hi = _words(value)
            inputs = {0 if me == GARBLER else 1: _bits(lo, hi, bits)}

    # 3 + 4. Garble (XOR shares b_G ⊕ b_E), then convert into the suite's sharing.
    circuit = group_circuit(bits, test, ring)
    if suite.protocol == "additive" and ring:
        batches = pipeline_batches([item.share.size for item in items])
        bit = yield from _pipelined(ctx, circuit, inputs, size, batches)
        return list(split(bit, shapes))
    shares: np.ndarray | None = None
    if me == GARBLER:
        out = yield from garbler(
            ctx.rng, EVALUATOR, circuit, inputs, size, session=ctx.session, reveal="shared",
            ot_sender=ctx.sessions["ot"], gc=ctx.sessions["gc"], frame_gates=ONE_FRAME,
        )  # fmt: skip
        assert out is not None
        shares = out[0][:, 0]
    elif me == EVALUATOR:
        out = yield from evaluator(
            ctx.rng, GARBLER, circuit, inputs, size, session=ctx.session, reveal="shared",
            ot_receiver=ctx.sessions["ot"], gc=ctx.sessions["gc"],
        )  # fmt: skip
        assert out is not None
        shares = out[0][:, 0]
    else:
        yield Exchange()
        yield Exchange()
    # b = b_G + b_E − 2·b_G·b_E: G and E input their bits, one product in the suite
    chosen = domain.encode(shares.astype(np.int64)) if shares is not None else None
    owned = [
        InputItem(owner, f"cmp:{label}:{owner}", (size,), chosen if me == owner else None)
        for owner in (GARBLER, EVALUATOR)
    ]
    if suite.protocol == "additive":
        b_g, b_e = (additive_share(ctx, item) for item in owned)
        triple = _joined([item.triple for item in items], domain)
        (product,) = yield from beaver(ctx, [BeaverItem("mul", b_g, b_e, triple)])
    else:
        shared = yield from shamir_share(ctx, owned)
        b_g, b_e = (share for share in shared if share is not None)
        local = domain.mul(b_g, b_e)
        (product,) = yield from reshare(ctx, [ReshareItem(local, reshare_label(label))])
    assert product is not None
    bit = domain.sub(domain.add(b_g, b_e), domain.mul_scalar(product, 2))
    return list(split(bit, shapes))


def _pipelined(
    ctx: Context, circuit: Circuit, inputs: Mapping[int, np.ndarray], size: int, batches: int
) -> Run[np.ndarray]:
    """`_garble_to_additive` on `batches` slices, batch i starting in round i: in each round
    the garbler garbles one batch while the evaluator evaluates the one before and extends OTs
    for the next (batches + 1 rounds; messages of one round travel together)."""
    if batches == 1:
        return (yield from _garble_to_additive(ctx, circuit, inputs, size))
    runs: list[Run[Any]] = []
    for index, (start, stop) in enumerate(batch_bounds(size, batches)):
        part = {g: bits[start:stop] for g, bits in inputs.items()}
        runs.append(_after(index, _garble_to_additive(ctx, circuit, part, stop - start)))
    if ctx.party not in (GARBLER, EVALUATOR):
        for _ in range(batches + 1):
            yield Exchange()
        return np.zeros(size, dtype=U64)
    parts = yield from concurrently(runs)
    return np.concatenate(parts)


def _after(rounds: int, run: Run[Any]) -> Run[Any]:
    """`run`, started `rounds` rounds late."""
    for _ in range(rounds):
        yield Exchange()
    return (yield from run)


def _garble_to_additive(
    ctx: Context, circuit: Circuit, inputs: Mapping[int, np.ndarray], size: int
) -> Run[np.ndarray]:
    """Additive shares in Z_2^64 of the circuit's output bit, in two rounds:

    A  E → G  the IKNP matrix for E's input bits;
    B  G → E  G's labels, the tables and the two words per comparison that give E r + v
              (mpc.gc.garble: G keeps −r).
    """
    me = ctx.party
    if me == GARBLER:
        out = yield from garbler(
            ctx.rng, EVALUATOR, circuit, inputs, size, session=ctx.session, reveal="additive",
            ot_sender=ctx.sessions["ot"], gc=ctx.sessions["gc"], frame_gates=ONE_FRAME,
        )  # fmt: skip
    elif me == EVALUATOR:
        out = yield from evaluator(
            ctx.rng, GARBLER, circuit, inputs, size, session=ctx.session, reveal="additive",
            ot_receiver=ctx.sessions["ot"], gc=ctx.sessions["gc"],
        )  # fmt: skip
    else:
        yield Exchange()
        yield Exchange()
        return np.zeros(size, dtype=U64)
    assert out is not None
    share: np.ndarray = out[0][:, 0]
    return share


def reshare_label(label: int) -> int:
    """The label of a comparison group's resharing (apart from every node's own)."""
    return -1 - label


def _words(elements: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Low and high uint64 words of non-negative domain elements."""
    if elements.dtype == np.uint64:
        return elements.reshape(-1), None
    words = elements.reshape(-1).view(U64).reshape(-1, 2)
    return words[:, 0].copy(), words[:, 1].copy()


def _joined(triples: list[tuple[np.ndarray, ...] | None], domain: Domain) -> tuple[np.ndarray, ...]:
    parts = [t for t in triples if t is not None]
    if len(parts) != len(triples):
        raise ValueError("every comparison of the additive suite needs a triple")
    return tuple(np.concatenate([p[k].reshape(-1) for p in parts]) for k in range(3))
