"""Boolean circuits: an IR of XOR/AND/INV gates, a builder with constant folding, levelling by
AND-depth with wire-slot allocation, and bit-sliced plaintext evaluation.

A `Circuit` is frozen data: gates in topological order as parallel numpy arrays (op, a, b, out;
b = −1 for INV), input and output groups as arrays of wire ids (bit k of a group = its k-th wire,
least significant first). It is built once per function and bit width and evaluated on N
independent instances at once: every wire then carries an N-vector.

Levelling (`Circuit.schedule`): a wire's depth d is its AND-depth (inputs 0; AND: 1 + max of its
inputs; XOR/INV: max of its inputs). Level d is one step of all depth-d AND gates (their inputs
are older), then steps of the depth-d linear gates by linear depth ℓ (1 + the largest ℓ of an
input of the same depth; inputs and AND outputs have ℓ = 0). Each step is one vectorised numpy
call over (gates × instances). Wires live in slots: a slot is reused after the last step that
reads its wire (released only after the step's outputs are placed, so a chunked step never
overwrites its own inputs); output wires are never released. The engines keep an
(n_slots, N, …) array instead of one row per wire.

Threat model: none (public structure; no secrets here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

import numpy as np


class Op(IntEnum):
    AND = 0
    XOR = 1
    INV = 2


ZERO = -1  # constant wires, folded away by the builder
ONE = -2


@dataclass(frozen=True, slots=True)
class Step:
    """One vectorised step: AND gates (a, b → c), or linear gates (XOR a, b → c; INV a → c)."""

    is_and: bool
    a: np.ndarray  # slots, intp
    b: np.ndarray
    c: np.ndarray
    inv_a: np.ndarray  # INV gates of a linear step (empty for AND steps)
    inv_c: np.ndarray


@dataclass(frozen=True, slots=True)
class Schedule:
    n_slots: int
    input_slots: tuple[np.ndarray, ...]
    output_slots: tuple[np.ndarray, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True, eq=False)
class Circuit:
    """A Boolean circuit over wires 0..n_wires−1 (see the module docstring)."""

    n_wires: int
    inputs: tuple[np.ndarray, ...]
    outputs: tuple[np.ndarray, ...]
    op: np.ndarray
    a: np.ndarray
    b: np.ndarray
    out: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        g = self.op.size
        if not (self.a.size == self.b.size == self.out.size == g):
            raise ValueError("op, a, b, out: one entry per gate")
        defined = np.full(self.n_wires, g, dtype=np.int64)  # index of the gate defining a wire
        ins = np.concatenate([np.zeros(0, np.int64), *self.inputs])
        if g and self.op.max() > Op.INV:
            raise ValueError("op: gates are AND (0), XOR (1) or INV (2)")
        reads = np.concatenate([self.a, self.b[self.op != Op.INV]])
        for name, wires in (("inputs", ins), ("gate outputs", self.out), ("gate inputs", reads)):
            if wires.size and (wires.min() < 0 or wires.max() >= self.n_wires):
                raise ValueError(f"{name}: wire ids must be in 0..{self.n_wires - 1}")
        both = np.concatenate([ins, self.out])
        if np.unique(both).size != both.size:
            raise ValueError("every wire is an input or the output of exactly one gate")
        defined[ins] = -1
        defined[self.out] = np.arange(g)
        order = np.arange(g)
        is_inv = self.op == Op.INV
        if np.any(defined[self.a] >= order) or np.any(defined[self.b[~is_inv]] >= order[~is_inv]):
            raise ValueError("gates must be in topological order (inputs defined earlier)")
        outs = np.concatenate([np.zeros(0, np.int64), *self.outputs])
        if np.any(defined[outs] == g):
            raise ValueError("outputs: every output wire must be defined")
        for array in (self.op, self.a, self.b, self.out, *self.inputs, *self.outputs):
            array.flags.writeable = False  # shared by every job that uses the circuit

    @property
    def and_count(self) -> int:
        return int(np.count_nonzero(self.op == Op.AND))

    @property
    def xor_count(self) -> int:
        return int(np.count_nonzero(self.op == Op.XOR))

    @property
    def inv_count(self) -> int:
        return int(np.count_nonzero(self.op == Op.INV))

    @property
    def input_widths(self) -> tuple[int, ...]:
        return tuple(int(w.size) for w in self.inputs)

    @property
    def output_widths(self) -> tuple[int, ...]:
        return tuple(int(w.size) for w in self.outputs)

    @cached_property
    def and_depth(self) -> int:
        return sum(step.is_and for step in self.schedule.steps)

    @cached_property
    def schedule(self) -> Schedule:
        return _schedule(self)


def _schedule(c: Circuit) -> Schedule:
    ops, aa, bb, oo = c.op.tolist(), c.a.tolist(), c.b.tolist(), c.out.tolist()
    depth = [0] * c.n_wires
    lin = [0] * c.n_wires
    gd: list[int] = []
    gl: list[int] = []
    and_, inv = int(Op.AND), int(Op.INV)
    for op, x, y, z in zip(ops, aa, bb, oo, strict=True):  # once per circuit (levelling)
        dx = depth[x]
        if op == and_:
            d = max(dx, depth[y]) + 1
            level = 0
        elif op == inv:
            d, level = dx, lin[x] + 1
        else:
            dy = depth[y]
            d = dx if dx > dy else dy
            level = 1 + max(lin[x] if dx == d else 0, lin[y] if dy == d else 0)
        depth[z] = d
        lin[z] = level
        gd.append(d)
        gl.append(level)
    gate_d = np.array(gd, dtype=np.int64)
    gate_l = np.array(gl, dtype=np.int64)
    # gates sorted by (depth, linear depth), INV after XOR inside a step: one group per step
    order = np.lexsort((c.op == Op.INV, gate_l, gate_d))
    keys = gate_d[order] * (c.op.size + 1) + gate_l[order]
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(keys)) + 1, [order.size]])
    n_steps = bounds.size - 1 if order.size else 0
    step_of = np.empty(c.op.size, dtype=np.int64)
    step_of[order] = np.repeat(np.arange(n_steps), np.diff(bounds)) if n_steps else order
    # last step reading each wire; outputs live to the end, unread wires die where they are born
    last = np.full(c.n_wires, -1, dtype=np.int64)
    np.maximum.at(last, c.a, step_of)
    has_b = c.op != Op.INV
    np.maximum.at(last, c.b[has_b], step_of[has_b])
    outs = np.concatenate([np.zeros(0, np.int64), *c.outputs])
    last[outs] = n_steps
    born = np.full(c.n_wires, -1, dtype=np.int64)
    born[c.out] = step_of
    last = np.maximum(last, born)
    dying = np.argsort(last, kind="stable")
    cuts = np.searchsorted(last[dying], np.arange(-1, n_steps + 1)).tolist()
    slot = np.full(c.n_wires, -1, dtype=np.int64)
    free: list[int] = []
    top = 0
    outs_in_order = c.out[order]
    bound_list = bounds.tolist()
    ins = np.concatenate([np.zeros(0, np.int64), *c.inputs])
    for k in range(-1, n_steps):  # slot allocation: once per circuit, one pass per step
        wires = ins if k < 0 else outs_in_order[bound_list[k] : bound_list[k + 1]]
        reuse = min(len(free), wires.size)
        fresh = wires.size - reuse
        taken = free[len(free) - reuse :] + list(range(top, top + fresh))
        del free[len(free) - reuse :]
        top += fresh
        slot[wires] = taken
        dead = slot[dying[cuts[k + 1] : cuts[k + 2]]]  # after the step: never its own inputs
        free.extend(dead[dead >= 0].tolist())  # (−1: wire ids that no gate or input defines)
    sa, sb, sc = (slot[w].astype(np.intp)[order] for w in (c.a, np.maximum(c.b, 0), c.out))
    is_and = (c.op[order] == Op.AND).tolist()
    is_inv = (c.op[order] == Op.INV).astype(np.int64)
    n_inv = np.add.reduceat(is_inv, bounds[:-1]).tolist() if n_steps else []
    steps = []
    for k in range(n_steps):
        lo, hi = bound_list[k], bound_list[k + 1]
        mid = hi - n_inv[k]
        steps.append(Step(is_and[lo], sa[lo:mid], sb[lo:mid], sc[lo:mid], sa[mid:hi], sc[mid:hi]))
    return Schedule(
        top,
        tuple(slot[w].astype(np.intp) for w in c.inputs),
        tuple(slot[w].astype(np.intp) for w in c.outputs),
        tuple(steps),
    )


class CircuitBuilder:
    """Builds a Circuit gate by gate, folding constants (ZERO, ONE) and trivial gates away."""

    def __init__(self) -> None:
        self._ops: list[int] = []
        self._a: list[int] = []
        self._b: list[int] = []
        self._out: list[int] = []
        self._inputs: list[list[int]] = []
        self._outputs: list[list[int]] = []
        self._next = 0

    def _emit(self, op: Op, x: int, y: int) -> int:
        z = self._next
        self._next += 1
        self._ops.append(op)
        self._a.append(x)
        self._b.append(y)
        self._out.append(z)
        return z

    def input(self, width: int) -> list[int]:
        """A new input group of `width` wires (bit 0 first)."""
        wires = list(range(self._next, self._next + width))
        self._next += width
        self._inputs.append(wires)
        return wires

    def xor(self, x: int, y: int) -> int:
        if x == y:
            return ZERO
        if x == ZERO or y == ZERO:
            return y if x == ZERO else x
        if x == ONE or y == ONE:
            return self.inv(y if x == ONE else x)
        return self._emit(Op.XOR, x, y)

    def and_(self, x: int, y: int) -> int:
        if x == ZERO or y == ZERO:
            return ZERO
        if x == ONE or y == ONE:
            return y if x == ONE else x
        if x == y:
            return x
        return self._emit(Op.AND, x, y)

    def inv(self, x: int) -> int:
        if x < 0:
            return ONE if x == ZERO else ZERO
        return self._emit(Op.INV, x, -1)

    def or_(self, x: int, y: int) -> int:
        return self.xor(self.xor(x, y), self.and_(x, y))

    def mux(self, s: int, x: int, y: int) -> int:
        """s ? x : y = y ⊕ (s ∧ (x ⊕ y)): one AND."""
        return self.xor(y, self.and_(s, self.xor(x, y)))

    def output(self, wires: Sequence[int]) -> None:
        """Declare an output group (bit 0 first)."""
        self._outputs.append(list(wires))

    def build(self, name: str = "") -> Circuit:
        """The circuit without gates that no output depends on; constant outputs become gates on
        the first input (x ⊕ x, ¬(x ⊕ x))."""
        outputs = []
        for group in self._outputs:
            if any(w < 0 for w in group):
                if not self._inputs or not self._inputs[0]:
                    raise ValueError("a constant output needs at least one input wire")
                w0 = self._inputs[0][0]
                zero = self._emit(Op.XOR, w0, w0)
                one = self._emit(Op.INV, zero, -1)
                group = [zero if w == ZERO else one if w == ONE else w for w in group]
            outputs.append(np.array(group, dtype=np.int64))
        live = [False] * self._next
        for wires in outputs:
            for w in wires.tolist():
                live[w] = True
        keep = []
        for g in range(len(self._ops) - 1, -1, -1):  # once per circuit: drop dead gates
            if live[self._out[g]]:
                keep.append(g)
                live[self._a[g]] = True
                if self._ops[g] != Op.INV:
                    live[self._b[g]] = True
        kept = np.array(keep[::-1], dtype=np.int64)
        return Circuit(
            self._next,
            tuple(np.array(g, dtype=np.int64) for g in self._inputs),
            tuple(outputs),
            np.array(self._ops, dtype=np.uint8)[kept],
            np.array(self._a, dtype=np.int64)[kept],
            np.array(self._b, dtype=np.int64)[kept],
            np.array(self._out, dtype=np.int64)[kept],
            name,
        )


# --- plaintext evaluation, bit-sliced: 64 instances per uint64 word -------------------------------


def to_bits(values: np.ndarray, width: int) -> np.ndarray:
    """Integers (n,) → bits (n, width) uint8, bit k = (value >> k) & 1 (two's complement)."""
    v = np.asarray(values).astype(np.uint64).reshape(-1, 1)
    return ((v >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)


def from_bits(bits: np.ndarray) -> np.ndarray:
    """Bits (n, width ≤ 64) → uint64 values."""
    b = np.asarray(bits).astype(np.uint64)
    values: np.ndarray = (b << np.arange(b.shape[1], dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    return values


def evaluate(circuit: Circuit, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Plaintext outputs (n, width) uint8 for input groups of bits (n, width) uint8."""
    if len(inputs) != len(circuit.inputs):
        raise ValueError(f"inputs: the circuit has {len(circuit.inputs)} input groups")
    n = int(np.asarray(inputs[0]).shape[0]) if inputs else 1
    words = -(-n // 64)
    sched = circuit.schedule
    slots = np.zeros((max(sched.n_slots, 1), words), dtype=np.uint64)
    for bits, where, width in zip(inputs, sched.input_slots, circuit.input_widths, strict=True):
        b = np.asarray(bits, dtype=np.uint8)
        if b.shape != (n, width):
            raise ValueError(f"inputs: expected bits of shape ({n}, {width}), got {b.shape}")
        padded = np.zeros((width, words * 64), dtype=np.uint8)
        padded[:, :n] = b.T
        slots[where] = np.packbits(padded, axis=1, bitorder="little").view(np.uint64)
    for step in sched.steps:
        if step.is_and:
            slots[step.c] = slots[step.a] & slots[step.b]
        else:
            slots[step.c] = slots[step.a] ^ slots[step.b]
            slots[step.inv_c] = ~slots[step.inv_a]
    out = []
    for where in sched.output_slots:
        bits = np.unpackbits(slots[where].view(np.uint8), axis=1, bitorder="little")
        out.append(np.ascontiguousarray(bits[:, :n].T))
    return out
