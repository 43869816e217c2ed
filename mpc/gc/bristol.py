"""Bristol Fashion circuits (the format of EMP-toolkit, MP-SPDZ and SCALE-MAMBA) → `Circuit`.

Format: line 1 `gates wires`; line 2 `niv n_1 … n_niv` (input groups and their widths; the
first n_1 wires are input 0, the next n_2 input 1, …); line 3 `nov m_1 … m_nov` (outputs: the
last m_1 + … + m_nov wires, in order); then one gate a line in topological order:

    2 1 a b c XOR      c = a ⊕ b               2 1 a b c AND      c = a ∧ b
    1 1 a c INV        c = ¬a                  1 1 v c EQ         c = constant v ∈ {0, 1}
    1 1 a c EQW        c = a                   2k k a₁…a_k b₁…b_k c₁…c_k MAND   c_i = a_i ∧ b_i

Blank lines are ignored. The gates go through `CircuitBuilder`, so constants (EQ) and copies
(EQW) fold away. Parse errors are `CompileError`s whose site is `file:line`.

Bit order: wire k of an input or output group is bit k of the number, counting from the least
significant bit; as a big-endian hex string, the first wire is the last bit of the string
(`hex_to_bits` / `bits_to_hex`).

Threat model: the file may come from anyone: it is parsed, never executed, and every wire
reference is checked. Its structure is public.

Reference: N. Smart et al., "'Bristol Fashion' MPC Circuits",
https://homes.esat.kuleuven.be/~nsmart/MPC/ ; SCALE-MAMBA `src/GC/Circuit.h` (MAND wire order).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mpc.datasets import bits_to_hex, hex_to_bits
from mpc.errors import CompileError
from mpc.gc import plan
from mpc.gc.circuit import ONE, ZERO, Circuit, CircuitBuilder
from mpc.gc.plan import Reveal

__all__ = ["BristolCircuit", "bits_to_hex", "hex_to_bits", "load", "loader", "parse"]
_UNSET = -3  # a Bristol wire not assigned yet (builder wires are ≥ 0, constants −1 / −2)


def load(path: str | Path) -> Circuit:
    """Parse a Bristol Fashion file (errors name `path:line`)."""
    p = Path(path)
    return parse(p.read_text(), name=p.name, source=str(p))


GARBLE_FRAME_GATES = 1 << 20  # tables per frame when a job garbles a Bristol circuit (32 MiB)


@dataclass(frozen=True, slots=True)
class BristolCircuit:
    """A loaded Bristol file as `dsl.bristol` sees it: its widths, digest and costs."""

    name: str
    digest: str  # SHA-256 of the file: part of the plan's fingerprint
    circuit: Circuit = field(compare=False)

    @property
    def input_widths(self) -> tuple[int, ...]:
        return tuple(self.circuit.input_widths)

    @property
    def output_widths(self) -> tuple[int, ...]:
        return tuple(self.circuit.output_widths)

    def run_cost(self, rows: int, garbler_groups: Sequence[int], reveal: Reveal) -> tuple[int, ...]:
        """(rounds, garbler's bytes, evaluator's bytes) of one run on `rows` instances with the
        job's OT session (mpc.protocols.garble)."""
        cost = plan.cost(
            self.circuit, rows, garbler_groups, reveal=reveal, setup=False,
            frame_gates=GARBLE_FRAME_GATES,
        )  # fmt: skip
        return cost.rounds, cost.garbler_bytes, cost.evaluator_bytes


def loader(allowed: Sequence[str | Path] | None = None) -> Callable[[str], BristolCircuit]:
    """Loads Bristol files for `dsl.bristol(name)`: any path (`allowed=None`: the driver, local
    tools), or only the files listed in `allowed` (a node: its config's `circuits`), matched by
    path or by file name. Each file is parsed once per loader."""
    files = None if allowed is None else [Path(f).resolve() for f in allowed]
    cache: dict[Path, BristolCircuit] = {}

    def load_named(name: str) -> BristolCircuit:
        path = Path(name).resolve()
        if files is not None and path not in files:
            matches = [f for f in files if f.name == Path(name).name]
            if len(matches) != 1:
                listed = ", ".join(f.name for f in files) or "none"
                raise CompileError(
                    f"Bristol circuit {name!r} is not among this party's circuits ({listed})"
                )
            path = matches[0]
        if path not in cache:
            try:
                data = path.read_bytes()
            except OSError as error:
                raise CompileError(f"cannot read Bristol circuit {name!r}: {error}") from None
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise CompileError(f"Bristol circuit {name!r} is not UTF-8 text") from None
            circuit = parse(text, name=path.name, source=str(path))
            cache[path] = BristolCircuit(path.name, hashlib.sha256(data).hexdigest(), circuit)
        return cache[path]

    return load_named


def parse(text: str, *, name: str = "", source: str = "<bristol>") -> Circuit:
    """Parse Bristol Fashion text into a Circuit."""
    lines = [(i + 1, f) for i, line in enumerate(text.splitlines()) if (f := line.split())]
    if len(lines) < 3:
        raise CompileError("a Bristol circuit needs three header lines", f"{source}:1")

    def fail(no: int, message: str) -> CompileError:
        return CompileError(message, f"{source}:{no}")

    def ints(no: int, fields: Sequence[str]) -> list[int]:
        try:
            values = [int(f) for f in fields]
        except ValueError:
            raise fail(no, f"expected integers, got {' '.join(fields)!r}") from None
        if any(v < 0 for v in values):
            raise fail(no, "negative numbers are not allowed")
        return values

    (l1, h1), (l2, h2), (l3, h3) = lines[:3]
    head = ints(l1, h1)
    if len(head) != 2:
        raise fail(l1, "line 1 is `gates wires`")
    n_gates, n_wires = head
    ins, outs = ints(l2, h2), ints(l3, h3)
    if not ins or len(ins) != ins[0] + 1:
        raise fail(l2, "line 2 is the number of inputs, then the width of each")
    if not outs or len(outs) != outs[0] + 1:
        raise fail(l3, "line 3 is the number of outputs, then the width of each")
    if sum(ins[1:]) + sum(outs[1:]) > n_wires:
        raise fail(l1, "more input and output wires than wires")
    gates = lines[3:]
    if len(gates) != n_gates:
        raise fail(l1, f"header says {n_gates} gates, found {len(gates)}")

    b = CircuitBuilder()
    wire = [_UNSET] * n_wires
    start = 0
    for width in ins[1:]:
        wire[start : start + width] = b.input(width)
        start += width

    def read(no: int, w: int) -> int:
        if not 0 <= w < n_wires or wire[w] == _UNSET:
            raise fail(no, f"wire {w} is used before it is assigned")
        return wire[w]

    def write(no: int, w: int, value: int) -> None:
        if not 0 <= w < n_wires:
            raise fail(no, f"wire {w} is out of range (the circuit has {n_wires} wires)")
        if wire[w] != _UNSET:
            raise fail(no, f"wire {w} is assigned twice")
        wire[w] = value

    for no, fields in gates:  # parsing: once per circuit, one step per line
        op = fields[-1]
        try:
            nums = [int(f) for f in fields[:-1]]
        except ValueError:
            raise fail(no, f"expected integers before the gate type, got {fields[:-1]}") from None
        if len(nums) < 2 or len(nums) != 2 + nums[0] + nums[1]:
            raise fail(no, "a gate line is `inputs outputs in… out… TYPE`")
        shape = (nums[0], nums[1])
        if shape == (2, 1) and op in ("XOR", "AND"):
            x, y = read(no, nums[2]), read(no, nums[3])
            write(no, nums[4], b.xor(x, y) if op == "XOR" else b.and_(x, y))
        elif shape == (1, 1) and op == "INV":
            write(no, nums[3], b.inv(read(no, nums[2])))
        elif shape == (1, 1) and op == "EQW":
            write(no, nums[3], read(no, nums[2]))
        elif shape == (1, 1) and op == "EQ":
            if nums[2] > 1 or nums[2] < 0:
                raise fail(no, f"EQ assigns a constant 0 or 1, not {nums[2]}")
            write(no, nums[3], ONE if nums[2] else ZERO)
        elif op == "MAND" and nums[0] == 2 * nums[1]:
            k, io = nums[1], nums[2:]
            values = [b.and_(read(no, io[i]), read(no, io[k + i])) for i in range(k)]
            for i in range(k):
                write(no, io[2 * k + i], values[i])
        else:
            raise fail(no, f"unknown gate {op!r} with {nums[0]} inputs and {nums[1]} outputs")

    start = n_wires - sum(outs[1:])
    for width in outs[1:]:
        b.output([read(l3, w) for w in range(start, start + width)])
        start += width
    return b.build(name)
