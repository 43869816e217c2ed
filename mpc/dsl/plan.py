"""The compiled plan: frozen, serialisable, fingerprinted, and able to report its own cost.

Execution order for every party:
  1. `prologue`: local nodes that need no communication;
  2. each `Layer` in turn: its `groups` exchange messages for `steps` communication rounds
     (every interactive node of one depth and op is one group: one vectorised message per peer),
     then its `after` nodes are computed locally.
Outputs are the `reveal` nodes; each names its receivers (party ids and/or the driver).
The plan fixes its arithmetic domain (`Z64`, `F61` or `F127`) and its preprocessing provider;
`needs()` lists the preprocessed material each node consumes (sized before the online phase).

The fingerprint is SHA-256 over a canonical msgpack encoding of everything that affects what
the parties compute (not source locations); parties compare it before exchanging any data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgpack

from mpc.dsl.cost import compare_cost, node_cost, node_needs
from mpc.dsl.ir import Node
from mpc.suite import Need, Suite

PLAN_FORMAT = 2
ELEMENT_BYTES = {"Z64": 8, "F61": 8, "F127": 16}
# what Cost.preprocessing counts, in elements of the material
NEED_NAMES = {
    "triple": "triples",
    "square": "square_pairs",
    "matrix": "matrix_triple_elements",
    "trunc": "truncation_pairs",
    "bitcompare": "comparison_material",
}


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
    frac: int
    shape: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One `dsl.input`: a party's columns (decimals when `frac` > 0, stored scaled by 2^frac);
    or one `dsl.input_bits`: a hex column read as `bits` private bits per row (`hex`)."""

    node: int
    party: int
    dataset: str
    columns: tuple[str, ...]
    matrix: bool
    bits: int
    frac: int
    rows: int
    hex: bool = False


@dataclass(frozen=True, slots=True)
class Cost:
    """Predicted online communication (rounds, payload bytes each party sends) and the
    preprocessed material the online phase consumes."""

    rounds: int
    bytes_sent: tuple[int, ...]
    bytes_to_driver: tuple[int, ...]
    preprocessing: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "bytes_sent": list(self.bytes_sent),
            "bytes_to_driver": list(self.bytes_to_driver),
            "preprocessing": dict(self.preprocessing),
        }


@dataclass(frozen=True)
class Plan:
    circuit: str
    suite: Suite
    params: tuple[tuple[str, Any], ...]
    nodes: tuple[Node, ...]
    prologue: tuple[int, ...]
    layers: tuple[Layer, ...]
    domain: str = "Z64"
    preprocessing: str | None = None
    # imported circuits by digest (the digest is in the garble node, so in the fingerprint)
    externals: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    # --- derived views ---------------------------------------------------------------------------
    @cached_property
    def outputs(self) -> tuple[Output, ...]:
        return tuple(
            Output(
                n.attr("name"),
                n.id,
                n.attr("to"),
                n.attr("driver"),
                n.vtype.kind,
                n.vtype.frac,
                n.shape,
            )
            for n in self.nodes
            if n.op == "reveal"
        )

    @cached_property
    def inputs(self) -> tuple[InputSpec, ...]:
        specs = []
        for n in self.nodes:
            if n.op not in ("input", "input_bits"):
                continue
            column = n.attr("column")
            columns = (column,) if isinstance(column, str) else tuple(column)
            specs.append(
                InputSpec(
                    n.id,
                    n.attr("party"),
                    n.attr("dataset"),
                    columns,
                    not isinstance(column, str),
                    n.attr("bits"),
                    n.vtype.frac,
                    n.shape[0],
                    n.op == "input_bits",
                )
            )
        return tuple(specs)

    def inputs_of(self, party: int) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.party == party)

    @property
    def rounds(self) -> int:
        return sum(layer.steps for layer in self.layers)

    @property
    def multiplies_matrices(self) -> bool:
        """Whether a node is a matrix product (secret or with a public side)."""
        return any(n.op in ("matmul", "matmul_public") for n in self.nodes)

    @property
    def element_bytes(self) -> int:
        return ELEMENT_BYTES[self.domain]

    def needs(self) -> tuple[Need, ...]:
        """The preprocessed material of every node, in node order."""
        found = (
            node_needs(node, self.nodes, self.suite, self.domain, self.preprocessing)
            for node in self.nodes
        )
        return tuple(need for need in found if need is not None)

    def cost(self) -> Cost:
        n = self.suite.n_parties
        sent = [0] * n
        to_driver = [0] * n
        costs = [node_cost(node, self.nodes, self.suite, self.element_bytes) for node in self.nodes]
        for layer in self.layers:  # comparisons cost per group (one circuit each)
            for group in layer.groups:
                if group.op == "compare":
                    members = [self.nodes[i] for i in group.nodes]
                    costs.append(
                        compare_cost(
                            members, self.suite, self.domain, self.element_bytes, self.preprocessing
                        )
                    )
        for c in costs:
            for party in range(n):
                sent[party] += c.sent[party]
                to_driver[party] += c.to_driver[party]
        counts: dict[str, int] = {}
        for need in self.needs():
            name = NEED_NAMES[need.kind]
            counts[name] = counts.get(name, 0) + need.size
        return Cost(self.rounds, tuple(sent), tuple(to_driver), counts)

    # --- identity ------------------------------------------------------------------------------

    def wire(self) -> list[Any]:
        """Canonical description: equal plans give equal encodings."""
        return [
            PLAN_FORMAT,
            self.circuit,
            [self.suite.protocol, self.suite.n_parties, self.suite.threshold],
            [self.domain, self.preprocessing],
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
            "domain": self.domain,
            "preprocessing": self.preprocessing,
            "needs": cost.preprocessing,
            "fingerprint": self.fingerprint,
            "rounds": cost.rounds,
            "bytes_sent": list(cost.bytes_sent),
            "bytes_to_driver": list(cost.bytes_to_driver),
            "nodes": len(self.nodes),
            "inputs": [
                {"party": i.party, "dataset": i.dataset, "columns": list(i.columns), "rows": i.rows}
                for i in self.inputs
            ],
            "outputs": [
                {
                    "name": o.name,
                    "to": list(o.to),
                    "driver": o.driver,
                    "kind": o.kind,
                    "shape": list(o.shape),
                }
                for o in self.outputs
            ],
        }
