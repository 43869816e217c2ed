"""An imported boolean circuit run on private bits: party 0 garbles, party 1 evaluates.

Each input group belongs to party 0 or 1 (`dsl.input_bits`): party 0's bits enter as its
labels, party 1's by correlated OT on the job's IKNP session (set up in the offline stage, so a
run costs no base OTs); the tables stream in frames of `GARBLE_FRAME_GATES` gates, which the
evaluator works on while the next arrives. The receivers (`to` ⊆ {0, 1}) learn the output bits:
the evaluator through the decode bits, the garbler through the evaluator's colour bits. Other
parties take no part (they pass the rounds).

Threat model: semi-honest garbler and evaluator (half-gates garbling, IKNP OT); a receiver
learns the outputs and nothing else about the other party's bits, the other learns nothing. The
circuit itself is public. See mpc.gc.protocol for the rounds and mpc.gc.plan for their cost.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mpc.gc.bristol import GARBLE_FRAME_GATES
from mpc.gc.circuit import Circuit
from mpc.gc.plan import Reveal
from mpc.gc.protocol import evaluator, garbler
from mpc.protocols.context import Context, Exchange, Run

GARBLER, EVALUATOR = 0, 1
MODES: Mapping[tuple[int, ...], Reveal] = {(0,): "garbler", (1,): "evaluator", (0, 1): "both"}


def run_circuit(
    ctx: Context,
    circuit: Circuit,
    inputs: Mapping[int, np.ndarray],
    rows: int,
    to: tuple[int, ...],
    steps: int,
) -> Run[np.ndarray | None]:
    """The output bits (rows, width) at the receivers `to`; None elsewhere. `inputs` maps this
    party's input groups to their bits (rows, width); `steps` is the plan's round count."""
    me = ctx.party
    reveal = MODES[to]
    out: list[np.ndarray] | None = None
    if me == GARBLER:
        out = yield from garbler(
            ctx.rng, EVALUATOR, circuit, inputs, rows, session=ctx.session, reveal=reveal,
            ot_sender=ctx.sessions.get("ot"), gc=ctx.sessions.get("gc"),
            frame_gates=GARBLE_FRAME_GATES,
        )  # fmt: skip
    elif me == EVALUATOR:
        out = yield from evaluator(
            ctx.rng, GARBLER, circuit, inputs, rows, session=ctx.session, reveal=reveal,
            ot_receiver=ctx.sessions.get("ot"), gc=ctx.sessions.get("gc"),
        )  # fmt: skip
    else:
        for _ in range(steps):
            yield Exchange()
    return out[0] if out is not None and me in to else None
