"""How a garbling is cut up, and what a two-party run costs: both sides compute the same.

A garbling of a circuit on N instances runs in batches of instances (`batch_size`: as many as
keep the live labels within SLOT_BUDGET bytes); each batch goes through the circuit's steps, and
each AND step is cut into chunks of at most `chunk` gates (`parts`): gate by gate over ranges of
instances when a batch has at least `direct_threshold(chunk)` instances, else whole gates over
all instances. One chunk = one AES call per hash pass = one (2c, 2) table. Frames group chunks
until they hold `frame_gates` gates (`frames`). `cost` gives the rounds and payload bytes of
mpc.gc.protocol for a circuit, so a planner can predict them without running anything.

Threat model: none (public parameters only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from mpc.gc.circuit import Circuit
from mpc.ot import base, iknp

DEFAULT_CHUNK = 1 << 15  # AND gates per AES call (PROTOCOLS.md §1.5: 2^14–2^16 was fastest)
SLOT_BUDGET = 64 << 20  # bytes of live labels per batch of instances
FRAME_GATES = 1 << 16  # gates per streamed frame: 2 MiB of tables
LABEL_BYTES = 16
KEY_BYTES = 16
HEADER_BYTES = KEY_BYTES + 3 * 8 + 32  # session key, (chunk, batch, frame_gates), label seed

Reveal = Literal["evaluator", "garbler", "both", "shared", "additive"]
Part = tuple[int, int, int, int]  # gates g0..g1 × instances r0..r1 of a step


def batch_size(circuit: Circuit, n: int, budget: int = SLOT_BUDGET) -> int:
    """Instances garbled together: all n, or as many as fit `budget` bytes of live labels."""
    per_instance = max(1, circuit.schedule.n_slots) * LABEL_BYTES
    return max(1, min(n, budget // per_instance))


def direct_threshold(chunk: int) -> int:
    """Batches of at least this many instances are cut gate by gate (labels used in place)."""
    return max(1, chunk // 4)


def parts(gates: int, nb: int, chunk: int, direct: int) -> Iterator[Part]:
    """The chunks of a step of `gates` gates on `nb` instances: gate by gate (instance ranges of
    at most `chunk`) when nb ≥ `direct`, else groups of whole gates of at most `chunk` gates."""
    if nb >= direct:
        for g in range(gates):
            for r0 in range(0, nb, chunk):
                yield g, g + 1, r0, min(nb, r0 + chunk)
    else:
        per = max(1, chunk // nb)
        for g0 in range(0, gates, per):
            yield g0, min(gates, g0 + per), 0, nb


def chunk_sizes(
    circuit: Circuit, n: int, batch: int | None = None, chunk: int = DEFAULT_CHUNK
) -> list[int]:
    """The gate count of every table chunk of a garbling, in stream order."""
    nb = batch or batch_size(circuit, n)
    sizes: list[int] = []
    for r0 in range(0, n, nb):
        width = min(n, r0 + nb) - r0
        for step in circuit.schedule.steps:
            if step.is_and:
                cut = parts(step.c.size, width, chunk, direct_threshold(chunk))
                sizes.extend((g1 - g0) * (s1 - s0) for g0, g1, s0, s1 in cut)
    return sizes


def frames(sizes: Sequence[int], frame_gates: int) -> list[list[int]]:
    """Chunk sizes grouped into frames of at least `frame_gates` gates (the last may be less)."""
    out: list[list[int]] = [[]]
    total = 0
    for size in sizes:
        if total >= frame_gates:
            out.append([])
            total = 0
        out[-1].append(size)
        total += size
    return out


@dataclass(frozen=True, slots=True)
class Cost:
    """Rounds and payload bytes (array bytes, before framing) of one garbler/evaluator run."""

    rounds: int
    garbler_bytes: int  # garbler → evaluator
    evaluator_bytes: int  # evaluator → garbler
    and_gates: int
    ots: int


def cost(
    circuit: Circuit,
    n: int,
    garbler_groups: Sequence[int],
    *,
    reveal: Reveal = "evaluator",
    setup: bool = True,
    chunk: int = DEFAULT_CHUNK,
    frame_gates: int = FRAME_GATES,
) -> Cost:
    """What mpc.gc.protocol sends for `circuit` on n instances when the garbler owns the input
    groups `garbler_groups`; `setup`: whether the base OTs run (no OT session given)."""
    widths = circuit.input_widths
    m = n * sum(w for g, w in enumerate(widths) if g not in garbler_groups)
    outputs = n * sum(circuit.output_widths)
    f = len(frames(chunk_sizes(circuit, n, None, chunk), frame_gates))
    to_garbler = from_garbler = rounds = 0
    if m:
        rounds += 1  # the IKNP matrix
        to_garbler += 16 * iknp.padded(m)  # the labels are the OT rows: no corrections
        if setup:
            rounds += 2
            to_garbler += base.POINT_BYTES + KEY_BYTES
            from_garbler += iknp.KAPPA * 2 * base.POINT_BYTES
    from_garbler += HEADER_BYTES  # the garbler's labels come from the header's seed
    from_garbler += 2 * LABEL_BYTES * circuit.and_count * n
    rounds += f
    if reveal in ("evaluator", "both"):
        from_garbler += outputs  # decode bits, one byte each
    if reveal == "additive":
        from_garbler += 16 * outputs  # two words per output bit
    if reveal in ("garbler", "both"):
        rounds += 1
        to_garbler += outputs  # colour bits
    return Cost(rounds, from_garbler, to_garbler, circuit.and_count * n, m)
