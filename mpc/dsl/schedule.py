"""Scheduling: prune what no output needs, give every node a depth, merge each depth's rounds.

depth(local node)       = max depth of its operands (0 without operands)
depth(interactive node) = max depth of its operands + 1
Interactive nodes of one depth form one layer; inside a layer, nodes of the same op form one group
that runs as a single vectorised protocol (MP-SPDZ's round merging), so k independent operations
of one depth cost the rounds of one. Local nodes run as soon as their depth's layer is done.
"""

from __future__ import annotations

from typing import Any

from mpc.dsl.ir import OPS, Node
from mpc.dsl.plan import Group, Layer
from mpc.suite import Suite


def prune(nodes: list[Node]) -> list[Node]:
    """Nodes the outputs depend on, renumbered densely in trace order."""
    live = [False] * len(nodes)
    for node in reversed(nodes):
        if node.op == "reveal":
            live[node.id] = True
        if live[node.id]:
            for arg in node.args:
                live[arg] = True
    renumber: dict[int, int] = {}
    kept: list[Node] = []
    for node in nodes:
        if live[node.id]:
            renumber[node.id] = len(kept)
            kept.append(
                Node(
                    len(kept),
                    node.op,
                    tuple(renumber[a] for a in node.args),
                    node.attrs,
                    node.shape,
                    node.vtype,
                    node.site,
                )
            )
    return kept


def group_key(node: Node) -> tuple[Any, ...]:
    """What must agree for nodes to run as one protocol instance: the op (and a comparison's
    test and width, which fix its circuit)."""
    if node.op == "compare":
        return (node.op, node.attr("test"), node.attr("width"))
    if node.op == "garble":
        return (node.op, node.id)  # one circuit run each
    return (node.op,)


def steps_of(node: Node, suite: Suite, domain: str, provider: str | None = None) -> int:
    return OPS[node.op].steps(node, suite, domain, provider)


def schedule(
    nodes: list[Node], suite: Suite, domain: str, provider: str | None = None
) -> tuple[tuple[int, ...], tuple[Layer, ...]]:
    """(prologue, layers) for densely numbered nodes in trace order."""
    depth = [0] * len(nodes)
    for node in nodes:
        base = max((depth[a] for a in node.args), default=0)
        depth[node.id] = base + 1 if steps_of(node, suite, domain, provider) else base
    n_layers = max(depth, default=0)
    interactive: list[dict[tuple[Any, ...], list[int]]] = [{} for _ in range(n_layers + 1)]
    local: list[list[int]] = [[] for _ in range(n_layers + 1)]
    for node in nodes:
        if steps_of(node, suite, domain, provider):
            interactive[depth[node.id]].setdefault(group_key(node), []).append(node.id)
        else:
            local[depth[node.id]].append(node.id)
    layers = []
    for d in range(1, n_layers + 1):
        groups = tuple(Group(key[0], tuple(ids)) for key, ids in interactive[d].items())
        steps = max(steps_of(nodes[g.nodes[0]], suite, domain, provider) for g in groups)
        layers.append(Layer(groups, steps, tuple(local[d])))
    return tuple(local[0]), tuple(layers)
