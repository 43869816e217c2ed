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
- trunc: everyone opens the masked value: shamir t·s, additive (n − 1)·s;
- compare (per group of N instances, `compare_cost`): the helpers' parts to E, the masked opening
  between G and E (fields), the IKNP matrix (16 B per evaluator bit, padded to 64 bits), G's
  header with the seed of its labels, the tables (32 B per AND), then the conversion (Z_2^64:
  two words per comparison in G's message; fields: one product in the suite).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mpc.dsl.ir import Node
from mpc.suite import (
    KAPPA,
    Need,
    Suite,
    batch_bounds,
    boolean_ands,
    boolean_comparisons,
    boolean_words,
    pipeline_batches,
)

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
    elif node.op == "reveal" and node.vtype.secret and node.vtype.kind != "bits":
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
    elif node.op == "garble":
        sent[0] += node.attr("garbler_bytes")
        sent[1] += node.attr("evaluator_bytes")
    return NodeCost(tuple(sent), tuple(to_driver))


def compare_widths(width: int, test: str, domain: str) -> tuple[int, int]:
    """(bits per instance, AND gates per instance) of a comparison circuit."""
    if domain == "Z64":
        return width, width - 1
    bits = width + KAPPA + 2
    return bits, bits if test == "ltz" else bits - 1


def compare_cost(
    nodes: Sequence[Node],
    suite: Suite,
    domain: str,
    element_bytes: int,
    provider: str | None = None,
) -> NodeCost:
    """Payload bytes of one comparison group (mpc.protocols.compare or, with a dealer between
    two additive parties, mpc.protocols.bitcompare), per party."""
    n, t = suite.n_parties, suite.threshold
    sent = [0] * n
    size = sum(node.size for node in nodes)
    if boolean_comparisons(suite, domain, provider):  # 16 B per word AND, 1 B to convert
        width, test = nodes[0].attr("width"), nodes[0].attr("test")
        words = sum(boolean_words(node.size, width, test) for node in nodes)
        return NodeCost((16 * boolean_ands(width, test) * words + size,) * n, (0,) * n)
    payload = size * element_bytes
    bits, ands = compare_widths(nodes[0].attr("width"), nodes[0].attr("test"), domain)
    holders = range(n) if suite.protocol == "additive" else range(t + 1)
    for helper in holders:
        if helper > 1:
            sent[helper] += payload  # its part, masked, to E
    if suite.protocol == "additive" and domain == "Z64":  # pipelined batches, 2 rounds each
        batches = pipeline_batches([node.size for node in nodes])
        for start, stop in batch_bounds(size, batches):
            g, e = _garble(stop - start, bits, ands)
            sent[0] += g + 16 * (stop - start)  # two words per comparison: E's share r + v
            sent[1] += e
        if batches > 1:  # one message per round and direction, led by its counts header
            sent[0] += 8 * batches * batches
            sent[1] += 8 * batches * batches
        return NodeCost(tuple(sent), (0,) * n)
    if domain != "Z64":
        sent[0] += payload  # the masked opening
        sent[1] += payload
    g, e = _garble(size, bits, ands)
    sent[0] += g
    sent[1] += e
    if suite.protocol == "additive":
        for party in range(n):
            sent[party] += 2 * payload * (n - 1)  # the conversion's product (Beaver)
    else:
        for owner in (0, 1):
            sent[owner] += payload * len(suite.sent_input_parties(owner))
        label = -1 - nodes[0].id  # mpc.protocols.compare.reshare_label
        for resharer in suite.resharers(label):
            sent[resharer] += payload * len(suite.reshare_sent(resharer))
    return NodeCost(tuple(sent), (0,) * n)


def _padded(bits: int) -> int:
    return -(-bits // 64) * 64  # IKNP extends in multiples of 64 OTs


def _garble(count: int, bits: int, ands: int) -> tuple[int, int]:
    """(G's, E's) bytes of one garbling of `count` comparisons: E's IKNP matrix (κ/8 bytes per
    OT), G's header (its labels come from the header's seed) and the tables (32 B per AND)."""
    garbler = 16 + 24 + 32 + 32 * count * ands
    return garbler, 16 * _padded(count * bits)


def node_needs(
    node: Node, nodes: Sequence[Node], suite: Suite, domain: str, provider: str | None = None
) -> Need | None:
    """The preprocessed material `node` consumes, if any."""
    if node.op == "compare" and boolean_comparisons(suite, domain, provider):
        width, test = node.attr("width"), node.attr("test")
        words = (boolean_ands(width, test), boolean_words(node.size, width, test))
        return Need(node.id, "bitcompare", (words, (node.size,)), 0, width)
    if node.op == "compare" and suite.protocol == "additive" and domain != "Z64":
        return Need(node.id, "triple", (node.shape,))  # the conversion's product (Beaver)
    if node.op == "trunc":
        return Need(node.id, "trunc", (node.shape,), node.attr("bits"), node.attr("width"))
    if suite.protocol != "additive" or node.op not in PRODUCTS:
        return None  # shamir multiplies by resharing: no triples
    if node.op == "matmul":
        a, b = (nodes[i].shape for i in node.args)
        return Need(node.id, "matrix", (a, b))
    return Need(node.id, "triple" if node.op == "mul" else "square", (node.shape,))
