"""How each IR op runs at one party: local kernels, and the protocol of each interactive group.

Local ops are the domain's arithmetic on shares (public operands enter through
`protocols.linear.public_share`). Interactive ops of one layer run as one protocol per op:
input sharing, opening, products (Shamir resharing or additive Beaver with the store's triples)
and truncation (with the store's masks). The engine (`mpc.engine`) owns values and frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mpc.dsl import Node, Plan
from mpc.dsl.arith import key_from_attr
from mpc.dsl.ir import ConstArray
from mpc.errors import LocalProtocolError, PreprocessingError
from mpc.preprocessing import Store
from mpc.protocols.bitcompare import BitCompareItem, bitcompare
from mpc.protocols.compare import CompareItem, compare
from mpc.protocols.context import Context, ProtocolRun, Run
from mpc.protocols.garble import run_circuit
from mpc.protocols.inputs import InputItem, InputPads, additive_share, shamir_share
from mpc.protocols.linear import public_share
from mpc.protocols.multiply import BeaverItem, ReshareItem, ResharePads, beaver, reshare
from mpc.protocols.reveal import RevealItem, reveal
from mpc.protocols.truncate import TruncItem, truncate
from mpc.results import decode_value
from mpc.suite import boolean_comparisons

Value = np.ndarray


class Operations:
    """The kernels of one party for one plan."""

    def __init__(
        self,
        plan: Plan,
        ctx: Context,
        store: Callable[[], Store | None],
        pads: Callable[[int], ResharePads | InputPads | None],
    ) -> None:
        self.plan = plan
        self.ctx = ctx
        self.domain = ctx.domain
        self._store = store
        self._pads = pads  # takes (and forgets) a node's precomputed pads
        # two additive parties with a dealer compare on boolean shares, not by garbling
        self.boolean_comparisons = boolean_comparisons(plan.suite, plan.domain, plan.preprocessing)

    def secret(self, node_id: int) -> bool:
        return self.plan.nodes[node_id].vtype.secret

    def share_of(self, node_id: int, value: Value) -> Value:
        """A value as this party's share (a public value becomes its public share)."""
        return value if self.secret(node_id) else public_share(self.ctx, value)

    def input_item(self, node: Node) -> InputItem:
        owner = node.attr("party")
        values = None
        if owner == self.ctx.party:
            values = self.domain.encode(self.ctx.inputs[node.id])
        pads = self._pads(node.id)
        input_pads = pads if isinstance(pads, InputPads) else None
        return InputItem(owner, node.id, node.shape, values, input_pads)

    def material(self, node: Node, kind: str) -> tuple[Value, ...]:
        store = self._store()
        if store is None:
            raise PreprocessingError(f"node {node.id} needs {kind} material and there is none")
        return store.take(node.id, kind)

    # --- local ops -------------------------------------------------------------------------------
    def local(self, node: Node, args: Sequence[Value]) -> Value:
        domain, op = self.domain, node.op
        if op == "const":
            value: ConstArray = node.attr("value")
            return domain.encode(value.array())
        if op == "input":
            return additive_share(self.ctx, self.input_item(node))
        if op == "input_bits":  # private: the owner's bits, nothing elsewhere
            if node.attr("party") != self.ctx.party:
                return NOTHING
            return self.ctx.inputs[node.id]
        if op in ("add", "sub"):
            a, b = (self.share_of(i, v) for i, v in zip(node.args, args, strict=True))
            combined = domain.add(a, b) if op == "add" else domain.sub(a, b)
            return np.broadcast_to(combined, node.shape).copy()
        if op == "neg":
            return domain.neg(args[0])
        if op == "mul_public":
            return np.broadcast_to(domain.mul(args[0], args[1]), node.shape).copy()
        if op == "matmul_public":
            return domain.matmul(args[0], args[1])
        if op == "sum":
            return domain.sum(args[0], axis=node.attr("axis"))
        if op == "transpose":
            return np.ascontiguousarray(args[0].T)
        if op == "index":
            return np.array(args[0][key_from_attr(node.attr("key"))])
        if op == "concat":
            shares = [self.share_of(i, v) for i, v in zip(node.args, args, strict=True)]
            return np.concatenate(shares, axis=node.attr("axis"))
        raise LocalProtocolError(f"no local kernel for op {op!r}")

    # --- interactive groups ---------------------------------------------------------------------
    def start(self, op: str, nodes: Sequence[Node], args: Sequence[Sequence[Value]]) -> ProtocolRun:
        """The protocol that computes every node of one group (one op of one layer)."""
        ctx = self.ctx
        if op == "input":
            return shamir_share(ctx, [self.input_item(node) for node in nodes])
        if op == "reveal":
            items = [
                RevealItem(self.share_of(node.args[0], a[0]), node.attr("to"))
                for node, a in zip(nodes, args, strict=True)
            ]
            return reveal(ctx, items)
        if op in ("mul", "square", "matmul"):
            if ctx.suite.protocol == "shamir":
                return reshare(
                    ctx, [self._local_product(n, a) for n, a in zip(nodes, args, strict=True)]
                )
            return beaver(ctx, [self._beaver_item(n, a) for n, a in zip(nodes, args, strict=True)])
        if op == "compare" and self.boolean_comparisons:
            words = [
                BitCompareItem(self.share_of(node.args[0], a[0]), self.material(node, "bitcompare"))
                for node, a in zip(nodes, args, strict=True)
            ]
            return bitcompare(ctx, words, nodes[0].attr("test"), nodes[0].attr("width"))
        if op == "compare":
            comparisons = []
            beaver_conversion = ctx.suite.protocol == "additive" and ctx.domain.name != "Z_2^64"
            for node, a in zip(nodes, args, strict=True):
                triple = self.material(node, "triple") if beaver_conversion else None
                share = self.share_of(node.args[0], a[0])
                comparisons.append(
                    CompareItem(share, node.attr("test"), node.attr("width"), triple)
                )
            return compare(ctx, comparisons, nodes[0].id)
        if op == "garble":
            (node,) = nodes
            owners = [self.plan.nodes[i].attr("party") for i in node.args]
            groups = enumerate(zip(args[0], owners, strict=True))
            mine = {g: bits for g, (bits, owner) in groups if owner == ctx.party}
            external = dict(self.plan.externals)[node.attr("circuit")]
            run = run_circuit(
                ctx, external.circuit, mine, node.shape[0], node.attr("to"), node.attr("steps")
            )
            return _one(run)
        if op == "trunc":
            truncations = []
            for node, a in zip(nodes, args, strict=True):
                low, mask = self.material(node, "trunc")
                truncations.append(
                    TruncItem(a[0], node.attr("bits"), node.attr("width"), low, mask)
                )
            return truncate(ctx, truncations)
        raise LocalProtocolError(f"no interactive protocol for op {op!r}")

    def _local_product(self, node: Node, args: Sequence[Value]) -> ReshareItem:
        domain = self.domain
        if node.op == "square":
            local = domain.mul(args[0], args[0])
        elif node.op == "matmul":
            local = domain.matmul(args[0], args[1])
        else:
            local = _full(domain.mul(args[0], args[1]), node.shape)
        pads = self._pads(node.id)
        reshare_pads = pads if isinstance(pads, ResharePads) else None
        return ReshareItem(np.asarray(local).reshape(node.shape), node.id, reshare_pads)

    def _beaver_item(self, node: Node, args: Sequence[Value]) -> BeaverItem:
        if node.op == "square":
            return BeaverItem("square", args[0], None, self.material(node, "square"))
        if node.op == "matmul":
            return BeaverItem("matmul", args[0], args[1], self.material(node, "matrix"))
        x, y = (_full(a, node.shape) for a in args)
        return BeaverItem("mul", x, y, self.material(node, "triple"))

    def decode(self, node: Node, value: Value) -> np.ndarray:
        """An output as plain values: int64 for integers, float64 for fixed point, hex strings
        for the bits of an imported circuit."""
        return decode_value(self.domain, node.vtype.kind, node.vtype.frac, value)


def _full(value: Value, shape: tuple[int, ...]) -> Value:
    """`value` broadcast to `shape` as an array of its own (no copy when it has that shape)."""
    if value.shape == shape:
        return value
    return np.broadcast_to(value, shape).copy()


NOTHING = np.zeros(0, dtype=np.uint8)  # a private value at a party that does not hold it


def _one(run: Run[np.ndarray | None]) -> ProtocolRun:
    """A protocol with one result, as a group's run (one result per node)."""
    value = yield from run
    return [value if value is not None else NOTHING]
