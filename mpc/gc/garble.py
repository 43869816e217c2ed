"""Half-gates garbling with free-XOR and point-and-permute, levelled and vectorised over instances.

Garbler: global Δ (128 bit, lsb(Δ) = 1), zero-labels W⁰ from the CSPRNG; W¹ = W⁰ ⊕ Δ. XOR:
C⁰ = A⁰ ⊕ B⁰; INV: C⁰ = A⁰ ⊕ Δ (evaluator: C = A). AND gate g, tweaks j = 2g, j' = 2g + 1,
p_a = lsb(A⁰), p_b = lsb(B⁰), H the TCCR hash of mpc.gc.aes (ZRE15 Fig. 2, PROTOCOLS.md §1.2):

    T_G = H(A⁰, j) ⊕ H(A⁰ ⊕ Δ, j) ⊕ p_b·Δ          W_G⁰ = H(A⁰, j) ⊕ p_a·T_G
    T_E = H(B⁰, j') ⊕ H(B⁰ ⊕ Δ, j') ⊕ A⁰           W_E⁰ = H(B⁰, j') ⊕ p_b·(T_E ⊕ A⁰)
    C⁰  = W_G⁰ ⊕ W_E⁰                               table (T_G, T_E): 32 bytes per AND
    Evaluator with A, B (s_a = lsb(A), s_b = lsb(B)):
    C = H(A, j) ⊕ s_a·T_G ⊕ H(B, j') ⊕ s_b·(T_E ⊕ A)    = C⁰ ⊕ (a ∧ b)·Δ

Vectorisation (PROTOCOLS.md §1.5): wires live in slots (mpc.gc.circuit.Schedule), as an
(n_slots, N, 2) uint64 array for a batch of N instances (N capped so that the live labels take
at most SLOT_BUDGET bytes). Each step is one pass; an AND step is cut into chunks of at most
`chunk` gates: one gate × a range of instances (contiguous slot slices, used in place) or
several gates × all instances (gathered). Per chunk the garbler hashes [A⁰; A¹; B¹; B⁰] with
whole-buffer AES calls (`update_into`) into reused buffers and computes
H' = π(y) ⊕ y, y = π(x) ⊕ j, i.e. H ⊕ j in the low word: j cancels in T_G and T_E (the same
tweak twice) and leaves j ⊕ j' = 1 in C⁰ and C, which both sides remove, so the labels and
tables are exactly those of the equations above. Gate g counts from the session counter
`next_gate` in processing order (step by step, gate-major, instance-minor) and the counter
advances by every chunk, so no tweak is used twice under one key in a session (garbler and
evaluator count alike; several circuits in one job share one session).

Tables stream: `garble_stream` yields one (2c, 2) table per chunk (rows T_G then T_E) as soon
as it is made; `evaluate_stream` asks for each chunk's table by yielding its gate count, so the
evaluator can run on chunk k while the garbler makes chunk k + 1.

Outputs: decode bit d = lsb(C⁰) (value = lsb(C) ⊕ d), or keep lsb(C⁰) and lsb(C) as XOR shares
of the value (free Y2B, ABY), or turn them into additive shares mod 2^64 by encrypting under the
output labels (`additive_outputs`): for each output wire the garbler sends two words indexed by
colour, e[lsb(C^v)] = H(C^v, j) ⊕ (r + v) for v ∈ {0, 1} (C^v = C⁰ ⊕ v·Δ, r uniform, j = 2g a
fresh tweak of the session counter) and keeps −r; the evaluator, holding C = C^v, reads
e[lsb(C)] ⊕ H(C, j) = r + v. It cannot open the other word (that needs C ⊕ Δ), and r + v is
uniform, so neither learns v (as in garbled-output-to-arithmetic conversions, e.g. ABY's Y2A
done by the garbler's choice of r). Label arrays are wire-major: (width, N, 2) uint64 per input
group.

Threat model: semi-honest garbler and evaluator; the evaluator holds one label per wire
(W⁰ ⊕ v·Δ) and learns nothing but the outputs it decodes (privacy of half-gates under TCCR).

References: S. Zahur, M. Rosulek, D. Evans, "Two Halves Make a Whole", EUROCRYPT 2015,
https://eprint.iacr.org/2014/756; V. Kolesnikov, T. Schneider, "Improved Garbled Circuit: Free
XOR Gates and Applications", ICALP 2008; D. Beaver, S. Micali, P. Rogaway, STOC 1990
(point-and-permute); GKWY20 (TCCR); emp-tool `emp-tool/gc/halfgate_gen.h`, `halfgate_eva.h`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence

import numpy as np

from mpc.gc.aes import KEY_BYTES, FixedKeyAes, block_buffer, lsb
from mpc.gc.circuit import Circuit, Schedule, Step
from mpc.gc.plan import DEFAULT_CHUNK, Part, batch_size, chunk_sizes, direct_threshold, parts
from mpc.rng import Csprng

_ONE = np.uint64(1)


class _Engine:
    """What garbler and evaluator share: the hash, reused buffers, the gate counter.

    A part of a step is either one gate × an instance range (its labels are contiguous slot
    slices, used in place) or several gates × all instances (gathered into buffers). Batches of at
    least `direct` instances use the first kind: fewer copies, one numpy call per gate.
    """

    def __init__(self, key: bytes, chunk: int, rows: int) -> None:
        if chunk < 1:
            raise ValueError("chunk: at least one gate per chunk")
        self.aes = FixedKeyAes(key)
        self.key = key
        self.chunk = chunk
        self.direct = direct_threshold(chunk)
        self.next_gate = 0
        self._x = block_buffer(rows * chunk)
        self._y = block_buffer(rows * chunk)
        self._z = block_buffer(rows * chunk)
        self._ma = np.empty((chunk, 2), dtype=np.uint64)
        self._mb = np.empty((chunk, 2), dtype=np.uint64)
        self._t = np.empty((chunk, 2), dtype=np.uint64)
        self._c = np.empty((chunk, 2), dtype=np.uint64)
        self._tw = np.empty(chunk, dtype=np.uint64)
        self._even = np.arange(0, 2 * chunk, 2, dtype=np.uint64)

    def output_pads(self, labels: np.ndarray, first_gate: int) -> np.ndarray:
        """Low words of H(label, 2g) for labels (k, 2), g = first_gate + row (TCCR, fresh
        tweaks: the caller reserves g with `reserve`)."""
        tweaks = np.arange(first_gate, first_gate + labels.shape[0], dtype=np.uint64) << _ONE
        return self.aes.hash(labels, tweaks)[:, 0]

    def reserve(self, gates: int) -> int:
        """The first of `gates` fresh gate numbers (tweaks 2g) for hashing outside the circuit."""
        first = self.next_gate
        self.next_gate += gates
        return first

    def _parts(self, gates: int, nb: int, direct: int) -> Iterator[Part]:
        return parts(gates, nb, self.chunk, direct)

    def chunk_sizes(self, circuit: Circuit, n: int, batch: int | None = None) -> list[int]:
        """The gate count of every table chunk in stream order (garbler and evaluator agree)."""
        return chunk_sizes(circuit, n, batch, self.chunk)

    @staticmethod
    def _operand(slots: np.ndarray, idx: np.ndarray, part: Part, buffer: np.ndarray) -> np.ndarray:
        """The labels of the part's gate inputs `idx`: a slot slice, or gathered into `buffer`."""
        g0, g1, r0, r1 = part
        if g1 - g0 == 1:
            return slots[idx[g0], r0:r1]
        np.take(slots, idx[g0:g1], axis=0, out=buffer.reshape(g1 - g0, r1, 2))
        return buffer

    @staticmethod
    def _target(slots: np.ndarray, idx: np.ndarray, part: Part, buffer: np.ndarray) -> np.ndarray:
        g0, g1, r0, r1 = part
        return slots[idx[g0], r0:r1] if g1 - g0 == 1 else buffer

    @staticmethod
    def _store(slots: np.ndarray, idx: np.ndarray, part: Part, result: np.ndarray) -> None:
        g0, g1, _, r1 = part
        if g1 - g0 > 1:
            slots[idx[g0:g1]] = result.reshape(g1 - g0, r1, 2)

    @staticmethod
    def _mask(labels: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Rows of all-ones where lsb(label) = 1, zeros elsewhere (both words)."""
        m = out[: labels.shape[0]]
        np.bitwise_and(labels[:, 0], _ONE, out=m[:, 0])
        np.negative(m[:, 0], out=m[:, 0])
        np.copyto(m[:, 1], m[:, 0])
        return m

    def _permute(self, src: np.ndarray, row: int) -> None:
        """Y[row : row + len(src)] = π(src); call in increasing `row` (spare row overwritten)."""
        self.aes.permute_into(src, self._y[row:])

    def _hash_prime(self, rows: int, halves: int) -> np.ndarray:
        """Z[:rows] = H'(Y[:rows]) where Y already holds π(x): tweak j = 2g on the first half of
        the rows, j' = 2g + 1 on the second, g = next_gate + row within the part."""
        c = rows // halves
        y, z = self._y[:rows], self._z
        tw = self._tw[:c]
        np.add(self._even[:c], np.uint64(2 * self.next_gate), out=tw)  # j = 2g
        view = y.reshape(halves, c, 2)
        view[: halves // 2, :, 0] ^= tw
        view[halves // 2 :, :, 0] ^= tw | _ONE  # j' = 2g + 1
        self.aes.permute_into(y, z)  # π(π(x) ⊕ j)
        np.bitwise_xor(z[:rows], y, out=z[:rows])  # H' = H ⊕ j (low word)
        self.next_gate += c
        return z[:rows]

    def _linear(self, slots: np.ndarray, step: Step, delta_tile: np.ndarray | None) -> None:
        nb = slots.shape[1]
        direct = min(self.direct, 256)  # one numpy call per gate pays off early here
        for part in self._parts(step.c.size, nb, direct):
            c = (part[1] - part[0]) * (part[3] - part[2])
            a = self._operand(slots, step.a, part, self._x[:c])
            b = self._operand(slots, step.b, part, self._y[:c])
            out = self._target(slots, step.c, part, self._x[:c])
            np.bitwise_xor(a, b, out=out)
            self._store(slots, step.c, part, out)
        for part in self._parts(step.inv_c.size, nb, direct):
            c = (part[1] - part[0]) * (part[3] - part[2])
            a = self._operand(slots, step.inv_a, part, self._x[:c])
            out = self._target(slots, step.inv_c, part, self._x[:c])
            if delta_tile is not None:  # garbler: ¬ swaps the labels' meaning, C⁰ = A⁰ ⊕ Δ
                np.bitwise_xor(a, delta_tile[:c], out=out)
            elif out is not a:
                np.copyto(out, a)
            self._store(slots, step.inv_c, part, out)


class GarbleSession(_Engine):
    """The garbler's job-wide state: Δ, the session AES key (sent to the evaluator), the counter.

    Δ is fresh from the CSPRNG, or `delta` (lsb 1): the IKNP sender's s of a job whose evaluator
    inputs come by correlated OT (mpc.gc.protocol), so the OT rows are the input labels.
    """

    def __init__(
        self,
        rng: Csprng,
        *,
        chunk: int = DEFAULT_CHUNK,
        delta: np.ndarray | None = None,
        key: bytes | None = None,
    ) -> None:
        super().__init__(key if key is not None else rng.bytes(KEY_BYTES), chunk, 4)
        self.rng = rng
        if delta is None:
            delta = rng.words(2)
            delta[0] |= _ONE  # lsb(Δ) = 1: the two labels of a wire have opposite colours
        elif delta.shape != (2,) or delta.dtype != np.uint64 or not int(delta[0]) & 1:
            raise ValueError("delta: a (2,) uint64 block with lsb 1")
        self.delta = delta.copy()
        self._delta_tile = np.empty((chunk, 2), dtype=np.uint64)
        self._delta_tile[:] = delta

    def zero_labels(self, width: int, n: int) -> np.ndarray:
        """Fresh zero-labels W⁰ for `width` wires × n instances: (width, n, 2) uint64."""
        return self.rng.words((width, n, 2))

    def additive_outputs(
        self, zero_outputs: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For output zero-labels (width, n, 2) and masks r (width, n) uint64: the words
        (width, n, 2) for the evaluator, e[lsb(C^v)] = H(C^v, j) ⊕ (r + v), and the garbler's
        additive shares −r mod 2^64 (width, n)."""
        width, n = masks.shape
        zero = zero_outputs.reshape(-1, 2)
        first = self.reserve(width * n)
        one = _xor_block(zero, self.delta)
        colour = (zero[:, 0] & _ONE).astype(np.intp)  # lsb(C⁰); lsb(C¹) = 1 − that
        r = masks.reshape(-1)
        words = np.empty((width * n, 2), dtype=np.uint64)
        rows = np.arange(width * n)
        words[rows, colour] = self.output_pads(zero, first) ^ r
        words[rows, 1 - colour] = self.output_pads(one, first) ^ (r + _ONE)
        return words.reshape(width, n, 2), np.negative(masks)

    def encode(self, zero: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """The labels W⁰ ⊕ x·Δ of the garbler's own input bits (n, width) → (width, n, 2)."""
        mask = np.ascontiguousarray(np.asarray(bits).T).astype(np.uint64)
        np.negative(mask, out=mask)  # all ones where the bit is 1
        out = np.empty_like(zero)
        for k in range(2):  # per word: Δ_k broadcasts as a scalar
            np.bitwise_and(mask, self.delta[k], out=out[..., k])
        out ^= zero
        return out

    def garble_stream(
        self, circuit: Circuit, zero_inputs: Sequence[np.ndarray], *, batch: int | None = None
    ) -> Generator[np.ndarray, None, list[np.ndarray]]:
        """Garble `circuit` for the instances of `zero_inputs` ((width, n, 2) per input group).

        Yields one table (2c, 2) uint64 per chunk; returns the output zero-labels per group.
        """
        sched = circuit.schedule
        n = _instances(circuit, zero_inputs)
        nb = batch or batch_size(circuit, n)
        outputs = [np.empty((w, n, 2), dtype=np.uint64) for w in circuit.output_widths]
        slots = np.empty((max(1, sched.n_slots), min(nb, n), 2), dtype=np.uint64)
        for r0 in range(0, n, nb):  # one pass of the whole circuit per batch of instances
            r1 = min(n, r0 + nb)
            slots = _load(slots, sched, zero_inputs, r0, r1)
            for step in sched.steps:
                if not step.is_and:
                    self._linear(slots, step, self._delta_tile)
                    continue
                for part in self._parts(step.c.size, slots.shape[1], self.direct):
                    yield self._garble_part(slots, step, part)
            for out, where in zip(outputs, sched.output_slots, strict=True):
                out[:, r0:r1] = slots[where]
        return outputs

    def _garble_part(self, slots: np.ndarray, step: Step, part: Part) -> np.ndarray:
        c = (part[1] - part[0]) * (part[3] - part[2])
        x, dt = self._x, self._delta_tile[:c]  # X = [A⁰; A¹; B¹; B⁰], hashed in that order
        a0 = self._operand(slots, step.a, part, x[0:c])
        b0 = self._operand(slots, step.b, part, x[3 * c : 4 * c])
        np.bitwise_xor(a0, dt, out=x[c : 2 * c])
        np.bitwise_xor(b0, dt, out=x[2 * c : 3 * c])
        pa, pb = self._mask(a0, self._ma), self._mask(b0, self._mb)
        if part[1] - part[0] == 1:  # a0, b0 are slot slices: three AES calls
            self._permute(a0, 0)
            self._permute(x[c : 3 * c], c)
            self._permute(b0, 3 * c)
        else:
            self._permute(x[: 4 * c], 0)
        h = self._hash_prime(4 * c, 4)
        ha0, ha1, hb1, hb0 = h[0:c], h[c : 2 * c], h[2 * c : 3 * c], h[3 * c :]
        table = np.empty((2 * c, 2), dtype=np.uint64)
        tg, te = table[:c], table[c:]
        t = self._t[:c]
        np.bitwise_xor(ha0, ha1, out=tg)  # T_G = H(A⁰) ⊕ H(A¹) ⊕ p_b·Δ
        np.bitwise_and(pb, dt, out=t)
        tg ^= t
        np.bitwise_xor(hb0, hb1, out=hb1)  # D = H(B⁰) ⊕ H(B¹)
        np.bitwise_xor(hb1, a0, out=te)  # T_E = D ⊕ A⁰
        np.bitwise_and(pa, tg, out=t)  # C⁰ = H(A⁰) ⊕ p_a·T_G ⊕ H(B⁰) ⊕ p_b·D
        ha0 ^= t
        np.bitwise_and(pb, hb1, out=t)
        hb0 ^= t
        c0 = self._target(slots, step.c, part, self._c[:c])
        np.bitwise_xor(ha0, hb0, out=c0)
        c0[:, 0] ^= _ONE  # remove j ⊕ j' left by H'
        self._store(slots, step.c, part, c0)
        return table


class EvaluateSession(_Engine):
    """The evaluator's job-wide state: the garbler's session AES key and the gate counter."""

    def __init__(self, key: bytes, *, chunk: int = DEFAULT_CHUNK) -> None:
        super().__init__(key, chunk, 2)

    def evaluate_stream(
        self, circuit: Circuit, inputs: Sequence[np.ndarray], *, batch: int | None = None
    ) -> Generator[int, np.ndarray, list[np.ndarray]]:
        """Evaluate on input labels ((width, n, 2) per group): yields the gate count c of each
        chunk and must be sent its (2c, 2) table; returns the output labels per group."""
        sched = circuit.schedule
        n = _instances(circuit, inputs)
        nb = batch or batch_size(circuit, n)
        outputs = [np.empty((w, n, 2), dtype=np.uint64) for w in circuit.output_widths]
        slots = np.empty((max(1, sched.n_slots), min(nb, n), 2), dtype=np.uint64)
        for r0 in range(0, n, nb):
            r1 = min(n, r0 + nb)
            slots = _load(slots, sched, inputs, r0, r1)
            for step in sched.steps:
                if not step.is_and:
                    self._linear(slots, step, None)
                    continue
                for part in self._parts(step.c.size, slots.shape[1], self.direct):
                    c = (part[1] - part[0]) * (part[3] - part[2])
                    table = yield c
                    if table.shape != (2 * c, 2) or table.dtype != np.uint64:
                        raise ValueError(f"table: expected uint64[{2 * c}, 2], got {table.shape}")
                    self._evaluate_part(slots, step, part, table)
            for out, where in zip(outputs, sched.output_slots, strict=True):
                out[:, r0:r1] = slots[where]
        return outputs

    def _evaluate_part(self, slots: np.ndarray, step: Step, part: Part, table: np.ndarray) -> None:
        c = (part[1] - part[0]) * (part[3] - part[2])
        x = self._x  # X = [A; B]
        a = self._operand(slots, step.a, part, x[0:c])
        b = self._operand(slots, step.b, part, x[c : 2 * c])
        sa, sb = self._mask(a, self._ma), self._mask(b, self._mb)
        if part[1] - part[0] == 1:
            self._permute(a, 0)
            self._permute(b, c)
        else:
            self._permute(x[: 2 * c], 0)
        t = self._t[:c]
        np.bitwise_xor(table[c:], a, out=t)  # T_E ⊕ A
        h = self._hash_prime(2 * c, 2)
        ha, hb = h[:c], h[c:]
        t &= sb  # C = H(A) ⊕ H(B) ⊕ s_a·T_G ⊕ s_b·(T_E ⊕ A)
        ha ^= t
        np.bitwise_and(sa, table[:c], out=t)
        ha ^= t
        out = self._target(slots, step.c, part, self._c[:c])
        np.bitwise_xor(ha, hb, out=out)
        out[:, 0] ^= _ONE  # remove j ⊕ j'
        self._store(slots, step.c, part, out)


def additive_shares(session: EvaluateSession, labels: np.ndarray, words: np.ndarray) -> np.ndarray:
    """The evaluator's additive shares r + v (width, n) uint64 from its output labels
    (width, n, 2) and the garbler's words (width, n, 2) of `GarbleSession.additive_outputs`."""
    flat = labels.reshape(-1, 2)
    first = session.reserve(flat.shape[0])
    colour = (flat[:, 0] & _ONE).astype(np.intp)
    chosen = words.reshape(-1, 2)[np.arange(flat.shape[0]), colour]
    shares: np.ndarray = chosen ^ session.output_pads(flat, first)
    return shares.reshape(labels.shape[:2])


def _xor_block(rows: np.ndarray, block: np.ndarray) -> np.ndarray:
    out = np.empty_like(rows)
    np.bitwise_xor(rows[:, 0], block[0], out=out[:, 0])
    np.bitwise_xor(rows[:, 1], block[1], out=out[:, 1])
    return out


def _instances(circuit: Circuit, labels: Sequence[np.ndarray]) -> int:
    if len(labels) != len(circuit.inputs):
        raise ValueError(f"inputs: the circuit has {len(circuit.inputs)} input groups")
    for x, w in zip(labels, circuit.input_widths, strict=True):
        if x.ndim != 3 or x.shape[0] != w or x.shape[2] != 2 or x.dtype != np.uint64:
            raise ValueError(f"inputs: expected uint64 labels of shape ({w}, n, 2)")
    counts = {int(x.shape[1]) for x in labels}
    if len(counts) > 1:
        raise ValueError("inputs: every group has the same number of instances")
    return counts.pop() if counts else 1


def _load(
    slots: np.ndarray, sched: Schedule, labels: Sequence[np.ndarray], r0: int, r1: int
) -> np.ndarray:
    if slots.shape[1] != r1 - r0:  # the last, smaller batch
        slots = np.empty((slots.shape[0], r1 - r0, 2), dtype=np.uint64)
    for x, where in zip(labels, sched.input_slots, strict=True):
        slots[where] = x[:, r0:r1]
    return slots


def decode_bits(zero_outputs: np.ndarray) -> np.ndarray:
    """The garbler's decode bits lsb(C⁰) of an output group (width, n, 2) → (n, width) uint8; they
    are also the garbler's XOR share of the outputs when they stay shared (free Y2B)."""
    return np.ascontiguousarray(lsb(zero_outputs).T)


def colours(labels: np.ndarray) -> np.ndarray:
    """The evaluator's colour bits lsb(C) of an output group → (n, width) uint8: its XOR share."""
    return np.ascontiguousarray(lsb(labels).T)


def garble(
    session: GarbleSession, circuit: Circuit, zero_inputs: Sequence[np.ndarray], **kw: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """All tables of a garbling at once (tests, small circuits): (tables, output zero-labels)."""
    run = session.garble_stream(circuit, zero_inputs, **kw)
    tables = []
    while True:
        try:
            tables.append(next(run))
        except StopIteration as stop:
            outputs: list[np.ndarray] = stop.value
            return tables, outputs


def evaluate(
    session: EvaluateSession,
    circuit: Circuit,
    inputs: Sequence[np.ndarray],
    tables: Sequence[np.ndarray],
    **kw: int,
) -> list[np.ndarray]:
    """Evaluate with all tables given up front; ValueError if their number does not match."""
    run = session.evaluate_stream(circuit, inputs, **kw)
    feed = iter(tables)
    try:
        next(run)
        while True:
            run.send(next(feed))
    except StopIteration as stop:
        if next(feed, None) is not None:
            raise ValueError("tables: more tables than the circuit has chunks") from None
        if stop.value is None:
            raise ValueError("tables: fewer tables than the circuit has chunks") from None
        result: list[np.ndarray] = stop.value
        return result
