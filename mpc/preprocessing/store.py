"""Consume-once storage of preprocessed material, and what each kind consists of.

| kind     | components (shares)              | relation                          |
|----------|----------------------------------|-----------------------------------|
| `triple` | a, b, c                          | c = a·b                           |
| `square` | a, c                             | c = a²                            |
| `matrix` | a (m×k), b (k×n), c (m×n)        | c = a @ b                         |
| `trunc`  | low, mask                        | low < 2^m, mask = r''·2^m + low   |
| `bitcompare` | a, b, c (k × s words); bit, value (s) | c = a ∧ b and ⊕ bit ≡ value (mod 2) |

`bitcompare` is XOR-shared except `value`: the word triples of k ANDs on the w words of s
comparisons (several per word) and one daBit each (ρ = bit 0 of the XOR of the `bit` shares,
additively shared as `value`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mpc.errors import PreprocessingError
from mpc.suite import Need


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return a[:-1] + b[1:]


def components(need: Need) -> list[tuple[str, tuple[int, ...]]]:
    """The named components of a need and their shapes."""
    if need.kind == "triple":
        shape = need.shapes[0]
        return [("a", shape), ("b", shape), ("c", shape)]
    if need.kind == "square":
        shape = need.shapes[0]
        return [("a", shape), ("c", shape)]
    if need.kind == "matrix":
        a, b = need.shapes
        return [("a", a), ("b", b), ("c", _matmul_shape(a, b))]
    if need.kind == "trunc":
        shape = need.shapes[0]
        return [("low", shape), ("mask", shape)]
    if need.kind == "bitcompare":
        words, count = need.shapes  # (k ANDs, w words), (s comparisons,)
        return [("a", words), ("b", words), ("c", words), ("bit", count), ("value", count)]
    raise PreprocessingError(f"unknown kind of preprocessed material {need.kind!r}")


@dataclass
class Store:
    """Material by node, handed out once."""

    material: dict[int, tuple[str, tuple[np.ndarray, ...]]] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)

    def put(self, need: Need, arrays: tuple[np.ndarray, ...]) -> None:
        if need.node in self.material:
            raise PreprocessingError(f"material for node {need.node} was stored twice")
        self.material[need.node] = (need.kind, arrays)

    def take(self, node: int, kind: str) -> tuple[np.ndarray, ...]:
        """The material of `node`; a second take of the same batch is refused."""
        if node in self.used:
            raise PreprocessingError(f"the {kind} material of node {node} was already used")
        if node not in self.material:
            raise PreprocessingError(f"no {kind} material for node {node}")
        stored_kind, arrays = self.material[node]
        if stored_kind != kind:
            raise PreprocessingError(f"node {node} holds {stored_kind} material, not {kind}")
        self.used.add(node)
        del self.material[node]  # consume-once, and free the memory
        return arrays
