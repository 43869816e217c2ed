"""Communication cost of each op under each suite: payload bytes each party sends.

The pattern (who sends to whom) comes from `mpc.suite`, the same source the protocols read, so a
plan's predicted bytes equal the payload bytes its protocols put on the wire (tests check this).
Framing overhead (headers, msgpack, TLS) is not included.
"""

from __future__ import annotations

from dataclasses import dataclass

from mpc.dsl.ir import Node
from mpc.suite import Suite

ELEMENT_BYTES = 8  # a ring or field element travels as one uint64


@dataclass(frozen=True, slots=True)
class NodeCost:
    """Bytes each party sends to other parties and to the driver for one node."""

    sent: tuple[int, ...]
    to_driver: tuple[int, ...]


def node_cost(node: Node, suite: Suite) -> NodeCost:
    n = suite.n_parties
    sent = [0] * n
    to_driver = [0] * n
    payload = ELEMENT_BYTES * node.size
    if node.op == "input" and suite.protocol == "shamir":
        owner = node.attr("party")
        sent[owner] += payload * len(suite.sent_input_parties(owner))
    elif node.op == "reveal" and node.vtype.secret:
        for receiver in node.attr("to"):
            for sender in suite.reveal_senders(receiver):
                sent[sender] += payload
        if node.attr("driver"):
            to_driver = [payload] * n
    return NodeCost(tuple(sent), tuple(to_driver))
