"""Communication cost of each op under each suite, and the preprocessing each op consumes.

The pattern (who sends to whom) comes from `mpc.suite`, the same source the protocols read, so a
plan's predicted payload bytes equal what its protocols put on the wire (tests check this).
Framing overhead (headers, msgpack, TLS) is not included.

Online payload per op (s = elements of the result or opened value, e = element bytes):
- input, shamir: the owner sends n − 1 − t shares (the other t come from pair-key seeds);
- reveal: each receiver gets t shares (shamir) or n − 1 shares (additive); the driver n;
- mul / square / matmul, shamir: each of 2t + 1 resharers sends n − 1 − t parts of the result;
- mul, additive (Beaver): everyone opens d and e to everyone: 2s(n − 1); square: s(n − 1);
  matmul: (|A| + |B|)(n − 1) with a matrix triple;
- trunc: everyone opens the masked value: shamir t·s, additive (n − 1)·s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mpc.dsl.ir import Node
from mpc.suite import Need, Suite

PRODUCTS = ("mul", "square", "matmul")


@dataclass(frozen=True, slots=True)
class NodeCost:
    """Bytes each party sends to other parties and to the driver for one node."""

    sent: tuple[int, ...]
    to_driver: tuple[int, ...]


def _size(shape: tuple[int, ...]) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def node_cost(node: Node, nodes: Sequence[Node], suite: Suite, element_bytes: int) -> NodeCost:
    n, t = suite.n_parties, suite.threshold
    sent = [0] * n
    to_driver = [0] * n
    payload = element_bytes * node.size
    additive = suite.protocol == "additive"
    if node.op == "input" and not additive:
        owner = node.attr("party")
        sent[owner] += payload * len(suite.sent_input_parties(owner))
    elif node.op == "reveal" and node.vtype.secret:
        for receiver in node.attr("to"):
            for sender in suite.reveal_senders(receiver):
                sent[sender] += payload
        if node.attr("driver"):
            to_driver = [payload] * n
    elif node.op in PRODUCTS and not additive:
        for resharer in suite.resharers(node.id):
            sent[resharer] += payload * len(suite.reshare_sent(resharer))
    elif node.op in PRODUCTS:
        if node.op == "matmul":
            opened = sum(_size(nodes[a].shape) for a in node.args)
        else:
            opened = node.size * (2 if node.op == "mul" else 1)
        sent = [opened * element_bytes * (n - 1)] * n
    elif node.op == "trunc":
        sent = [payload * (n - 1 if additive else t)] * n
    return NodeCost(tuple(sent), tuple(to_driver))


def node_needs(node: Node, nodes: Sequence[Node], suite: Suite) -> Need | None:
    """The preprocessed material `node` consumes, if any."""
    if node.op == "trunc":
        return Need(node.id, "trunc", (node.shape,), node.attr("bits"), node.attr("width"))
    if suite.protocol != "additive" or node.op not in PRODUCTS:
        return None  # shamir multiplies by resharing: no triples
    if node.op == "matmul":
        a, b = (nodes[i].shape for i in node.args)
        return Need(node.id, "matrix", (a, b))
    return Need(node.id, "triple" if node.op == "mul" else "square", (node.shape,))
