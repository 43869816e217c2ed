"""The compiled plan: frozen, serialisable, fingerprinted, and able to report its own cost.

Execution order for every party:
  1. `prologue`: local nodes that need no communication;
  2. each `Layer` in turn: its `groups` exchange messages for `steps` communication rounds
     (every interactive node of one depth and op is one group: one vectorised message per peer),
     then its `after` nodes are computed locally.
Outputs are the `reveal` nodes; each names its receivers (party ids and/or the driver).

The fingerprint is SHA-256 over a canonical msgpack encoding of everything that affects what
the parties compute (not source locations); parties compare it before exchanging any data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import msgpack

from mpc.dsl.cost import node_cost
from mpc.dsl.ir import Node
from mpc.suite import Suite

PLAN_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Group:
    """Interactive nodes of one op in one layer, run as one vectorised protocol instance."""

    op: str
    nodes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Layer:
    groups: tuple[Group, ...]
    steps: int
    after: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    node: int
    to: tuple[int, ...]
    driver: bool
    kind: str
    shape: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class InputSpec:
    node: int
    party: int
    dataset: str
    column: str
    bits: int
    rows: int


@dataclass(frozen=True, slots=True)
class Cost:
    """Predicted communication: rounds, and payload bytes each party sends."""

    rounds: int
    bytes_sent: tuple[int, ...]
    bytes_to_driver: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "bytes_sent": list(self.bytes_sent),
            "bytes_to_driver": list(self.bytes_to_driver),
        }


@dataclass(frozen=True)
class Plan:
    circuit: str
    suite: Suite
    params: tuple[tuple[str, Any], ...]
    nodes: tuple[Node, ...]
    prologue: tuple[int, ...]
    layers: tuple[Layer, ...]

    # --- derived views ---------------------------------------------------------------------------
    @cached_property
    def outputs(self) -> tuple[Output, ...]:
        return tuple(
            Output(n.attr("name"), n.id, n.attr("to"), n.attr("driver"), n.vtype.kind, n.shape)
            for n in self.nodes
            if n.op == "reveal"
        )

    @cached_property
    def inputs(self) -> tuple[InputSpec, ...]:
        return tuple(
            InputSpec(
                n.id,
                n.attr("party"),
                n.attr("dataset"),
                n.attr("column"),
                n.attr("bits"),
                n.shape[0],
            )
            for n in self.nodes
            if n.op == "input"
        )

    def inputs_of(self, party: int) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.party == party)

    @property
    def rounds(self) -> int:
        return sum(layer.steps for layer in self.layers)

    def cost(self) -> Cost:
        n = self.suite.n_parties
        sent = [0] * n
        to_driver = [0] * n
        for node in self.nodes:
            c = node_cost(node, self.suite)
            for party in range(n):
                sent[party] += c.sent[party]
                to_driver[party] += c.to_driver[party]
        return Cost(self.rounds, tuple(sent), tuple(to_driver))

    # --- identity --------------------------------------------------------------------------------
    def wire(self) -> list[Any]:
        """Canonical description: equal plans give equal encodings."""
        return [
            PLAN_FORMAT,
            self.circuit,
            [self.suite.protocol, self.suite.n_parties, self.suite.threshold],
            [list(p) for p in self.params],
            [node.wire() for node in self.nodes],
            list(self.prologue),
            [
                [[[g.op, list(g.nodes)] for g in layer.groups], layer.steps, list(layer.after)]
                for layer in self.layers
            ],
        ]

    @cached_property
    def fingerprint(self) -> str:
        encoded = msgpack.packb(self.wire(), use_bin_type=True)
        return hashlib.sha256(encoded).hexdigest()

    def summary(self) -> dict[str, Any]:
        """What `mpc plan` prints: shape of the computation and its cost."""
        cost = self.cost()
        return {
            "circuit": self.circuit,
            "protocol": self.suite.protocol,
            "n_parties": self.suite.n_parties,
            "threshold": self.suite.threshold,
            "fingerprint": self.fingerprint,
            "rounds": cost.rounds,
            "bytes_sent": list(cost.bytes_sent),
            "bytes_to_driver": list(cost.bytes_to_driver),
            "nodes": len(self.nodes),
            "inputs": [
                {"party": i.party, "dataset": i.dataset, "column": i.column, "rows": i.rows}
                for i in self.inputs
            ],
            "outputs": [
                {"name": o.name, "to": list(o.to), "driver": o.driver, "shape": list(o.shape)}
                for o in self.outputs
            ],
        }
