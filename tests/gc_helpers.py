"""Test helpers for garbled circuits: random circuits, a gate-by-gate reference evaluator, and
an in-process garble → evaluate run that also returns every label."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mpc.gc.circuit import Circuit, CircuitBuilder, Op
from mpc.gc.garble import EvaluateSession, GarbleSession, colours, decode_bits, evaluate, garble
from mpc.rng import Csprng


def random_circuit(
    seed: int, widths: Sequence[int] = (4, 3), gates: int = 40, outputs: int = 5
) -> Circuit:
    """A random XOR/AND/INV circuit over fresh input groups (structure from a seeded numpy rng)."""
    data = np.random.default_rng(seed)
    b = CircuitBuilder()
    wires: list[int] = []
    for w in widths:
        wires += b.input(w)
    for _ in range(gates):
        op = int(data.integers(0, 3))
        x, y = (wires[int(i)] for i in data.integers(0, len(wires), 2))
        if op == Op.INV:
            wires.append(b.inv(x))
        elif x != y:
            wires.append(b.and_(x, y) if op == Op.AND else b.xor(x, y))
    b.output([wires[int(i)] for i in data.integers(0, len(wires), outputs)])
    return b.build(f"random{seed}")


def reference_eval(circuit: Circuit, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Gate by gate, one numpy vector (over instances) per wire."""
    values: dict[int, np.ndarray] = {}
    for group, bits in zip(circuit.inputs, inputs, strict=True):
        for k, w in enumerate(group.tolist()):
            values[w] = np.asarray(bits)[:, k].astype(bool)
    for op, a, b, c in zip(
        circuit.op.tolist(),
        circuit.a.tolist(),
        circuit.b.tolist(),
        circuit.out.tolist(),
        strict=True,
    ):
        if op == Op.AND:
            values[c] = values[a] & values[b]
        elif op == Op.XOR:
            values[c] = values[a] ^ values[b]
        else:
            values[c] = ~values[a]
    return [
        np.stack([values[w] for w in g.tolist()], axis=1).astype(np.uint8) for g in circuit.outputs
    ]


def garbled_run(
    circuit: Circuit,
    inputs: Sequence[np.ndarray],
    *,
    rng: Csprng | None = None,
    chunk: int = 1 << 14,
    batch: int | None = None,
    sessions: tuple[GarbleSession, EvaluateSession] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], GarbleSession, list[np.ndarray]]:
    """Garble and evaluate in one process: (decoded bits, output zero-labels, output labels,
    the garbler's session, the tables)."""
    if sessions is None:
        g = GarbleSession(rng or Csprng(), chunk=chunk)
        e = EvaluateSession(g.key, chunk=chunk)
    else:
        g, e = sessions
    n = int(np.asarray(inputs[0]).shape[0])
    zeros = [g.zero_labels(w, n) for w in circuit.input_widths]
    labels = [g.encode(z, bits) for z, bits in zip(zeros, inputs, strict=True)]
    kw = {} if batch is None else {"batch": batch}
    tables, out0 = garble(g, circuit, zeros, **kw)
    out = evaluate(e, circuit, labels, tables, **kw)
    bits = [colours(o) ^ decode_bits(z) for o, z in zip(out, out0, strict=True)]
    return bits, out0, out, g, tables


def expected_labels(zero: np.ndarray, bits: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """W⁰ ⊕ v·Δ for an output group: zero (width, n, 2), bits (n, width)."""
    v = np.asarray(bits, dtype=np.uint64).T
    out = zero.copy()
    out[..., 0] ^= v * delta[0]
    out[..., 1] ^= v * delta[1]
    return out
