"""The circuit IR: typed nodes in trace order, and the schema every op is checked against.

A node is `(id, op, args, attrs, shape, vtype)`. `args` name earlier nodes (trace order is a
topological order). `attrs` are static parameters (canonical, msgpack-able values only). `vtype`
says whether the value is secret or public, its number kind and a bound on its magnitude, which the
compiler checks against the suite's exact range so that no result silently wraps around.

Ops and their schemas live in `OPS`. Whether an op needs communication depends on the suite
(`steps`): sharing an input is free with additive seeds but one message with Shamir. The table is
the extension point for what comes next (products, comparisons, `where`, group-by sums, joins,
fixed point): add an `OpSpec`, a cost rule in `cost.py` and a kernel in `mpc.protocols`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mpc.dsl.types import VType
from mpc.errors import CompileError
from mpc.suite import Suite, boolean_and_rounds, boolean_comparisons, pipeline_batches

AttrValue = int | str | bool | float | bytes | tuple[Any, ...] | None


@dataclass(frozen=True, slots=True)
class ConstArray:
    """A public constant array as hashable, canonical bytes (little-endian int64)."""

    shape: tuple[int, ...]
    data: bytes

    @classmethod
    def of(cls, values: np.ndarray) -> ConstArray:
        array = np.asarray(values, dtype="<i8", order="C")
        return cls(tuple(array.shape), array.tobytes())

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype="<i8").reshape(self.shape).astype(np.int64)

    def wire(self) -> tuple[Any, ...]:
        return ("i8", self.shape, self.data)


@dataclass(frozen=True, slots=True)
class Node:
    """One IR node. `site` (circuit file:line) is for error messages and not part of the plan."""

    id: int
    op: str
    args: tuple[int, ...]
    attrs: tuple[tuple[str, Any], ...]
    shape: tuple[int, ...]
    vtype: VType
    site: str | None = field(default=None, compare=False)

    def attr(self, name: str) -> Any:
        for key, value in self.attrs:
            if key == name:
                return value
        raise KeyError(f"{self.op} node has no attribute {name!r}")

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def wire(self) -> list[Any]:
        """Canonical description (for fingerprints): everything but `site`."""
        attrs = [[k, v.wire() if isinstance(v, ConstArray) else v] for k, v in self.attrs]
        v = self.vtype
        vtype = [v.secret, v.kind, v.bound.to_bytes(32, "big"), v.frac]
        return [self.id, self.op, list(self.args), attrs, list(self.shape), vtype]


StepsRule = Callable[[Node, Suite, str, str | None], int]  # (node, suite, domain, provider)


@dataclass(frozen=True, slots=True)
class OpSpec:
    """Schema of an op: operand count, required attributes and communication steps per suite."""

    name: str
    arity: int | None  # None: any number
    attrs: frozenset[str]
    steps: StepsRule
    doc: str


def _local(node: Node, suite: Suite, domain: str, provider: str | None) -> int:
    return 0


def _one_round(node: Node, suite: Suite, domain: str, provider: str | None) -> int:
    return 1


def _input_steps(node: Node, suite: Suite, domain: str, provider: str | None) -> int:
    return 1 if suite.protocol == "shamir" else 0  # additive shares come from pair-key seeds


def compare_steps(node: Node, suite: Suite, domain: str, provider: str | None) -> int:
    """Rounds of a comparison: with a dealer's word triples (mpc.protocols.bitcompare) its AND
    rounds and one to convert; else (mpc.protocols.compare) gather two-party shares, mask
    (fields), garble (2), and turn the XOR-shared bit back into the suite's sharing."""
    if boolean_comparisons(suite, domain, provider):
        return len(boolean_and_rounds(node.attr("width"), node.attr("test"))) + 1
    holders = suite.n_parties if suite.protocol == "additive" else suite.threshold + 1
    gather = 1 if holders > 2 else 0  # the other holders' parts go to the garbler/evaluator
    mask = 0 if domain == "Z64" else 1
    if suite.protocol == "additive" and domain == "Z64":  # pipelined batches: each 2 rounds
        return gather + 1 + pipeline_batches([node.size])
    convert = 1 if suite.protocol == "additive" else 2  # (input sharing is free for additive)
    return gather + mask + 2 + convert


def _reveal_steps(node: Node, suite: Suite, domain: str, provider: str | None) -> int:
    # Shares for the driver, and public values, need no exchange between the parties; nor do
    # the bits of a garbled circuit (its run delivered them to their receivers).
    return 1 if node.attr("to") and node.vtype.secret and node.vtype.kind != "bits" else 0


def _garble_steps(node: Node, suite: Suite, domain: str, provider: str | None) -> int:
    steps: int = node.attr("steps")  # from the circuit, its rows and its receivers (gc.plan)
    return steps


def _spec(name: str, arity: int | None, attrs: set[str], steps: StepsRule, doc: str) -> OpSpec:
    return OpSpec(name, arity, frozenset(attrs), steps, doc)


OPS: Mapping[str, OpSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "input", 0, {"party", "dataset", "column", "bits"}, _input_steps, "a party's columns"
        ),
        _spec("const", 0, {"value"}, _local, "a public constant"),
        _spec("add", 2, set(), _local, "a + b (either may be public)"),
        _spec("sub", 2, set(), _local, "a − b (either may be public)"),
        _spec("neg", 1, set(), _local, "−a"),
        _spec("mul_public", 2, set(), _local, "secret a times public b, elementwise"),
        _spec("matmul_public", 2, {"public"}, _local, "a @ b with one side public"),
        _spec("sum", 1, {"axis"}, _local, "sum of elements (all, or along an axis)"),
        _spec("transpose", 1, set(), _local, "matrix transpose"),
        _spec("index", 1, {"key"}, _local, "basic indexing with public slices and integers"),
        _spec("concat", None, {"axis"}, _local, "concatenation along an axis"),
        _spec("mul", 2, set(), _one_round, "secret a times secret b, elementwise"),
        _spec("square", 1, set(), _one_round, "secret a squared, elementwise"),
        _spec("matmul", 2, set(), _one_round, "secret a @ secret b (vectors and matrices)"),
        _spec("trunc", 1, {"bits", "width"}, _one_round, "drop `bits` low bits (fixed point)"),
        _spec("compare", 1, {"test", "width"}, compare_steps, "[a < 0] or [a = 0] (garbled)"),
        _spec("reveal", 1, {"name", "to", "driver"}, _reveal_steps, "open to parties/driver"),
        _spec("input_bits", 0, {"party", "dataset", "column", "bits"}, _local, "private bits"),
        _spec(
            "garble",
            None,
            {"circuit", "name", "to", "steps", "garbler_bytes", "evaluator_bytes"},
            _garble_steps,
            "an imported boolean circuit on private bits, garbled by party 0 for party 1",
        ),
    )
}


def check_node(node: Node) -> None:
    """Raise CompileError unless `node` matches its op's schema."""
    spec = OPS.get(node.op)
    if spec is None:
        raise CompileError(f"unknown op {node.op!r}", node.site)
    if spec.arity is not None and len(node.args) != spec.arity:
        raise CompileError(
            f"{node.op} takes {spec.arity} operands, got {len(node.args)}", node.site
        )
    names = {k for k, _ in node.attrs}
    if names != spec.attrs:
        missing = sorted(spec.attrs - names)
        extra = sorted(names - spec.attrs)
        raise CompileError(
            f"{node.op}: attributes do not match the schema (missing {missing}, extra {extra})",
            node.site,
        )
    if any(a >= node.id for a in node.args):
        raise CompileError(f"{node.op}: operands must be earlier nodes", node.site)


def make_attrs(**attrs: Any) -> tuple[tuple[str, Any], ...]:
    """Attributes in canonical (sorted) order."""
    return tuple(sorted(attrs.items()))
