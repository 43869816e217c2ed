"""The DSL functions a circuit calls: inputs, outputs, and the named operations.

Operators cover the rest: `+ - *` (elementwise, with broadcasting), `@` (vectors and matrices),
unary `-`, `.T`. Integers and floats mix with secrets as public constants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from mpc.dsl import arith
from mpc.dsl.trace import DRIVER, Receiver, Secret, Source, active_tracer, call_site, lift
from mpc.dsl.types import VType, integer
from mpc.dsl.types import fixed as fixed_type
from mpc.errors import CompileError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INT_BITS = 40
MAX_BITS = 1 << 16  # widest input_bits (Bristol inputs are up to a few thousand bits)
FIXED_BITS = 24


def input(
    party: int,
    dataset: str,
    column: str | Sequence[str],
    *,
    bits: int | None = None,
    fixed: bool = False,
) -> Secret:
    """Column(s) of `party`'s dataset `dataset`, secret-shared.

    One column gives a vector (rows,), a list of columns a matrix (rows, len(columns)).
    Integers must satisfy |x| < 2^bits (default 40); with `fixed=True` the cells are decimals
    with |x| < 2^bits (default 24), stored with the circuit's fractional bits. The owner checks
    this before anything is shared. The number of rows is public, as for every input.
    """
    tracer = active_tracer()
    site = call_site()
    if not isinstance(party, int) or isinstance(party, bool) or party not in tracer.job.parties:
        raise CompileError(
            f"input: party must be one of {list(tracer.job.parties)}, got {party!r}", site
        )
    if not isinstance(dataset, str) or not _NAME.match(dataset):
        raise CompileError(f"input: dataset must be an identifier, got {dataset!r}", site)
    columns = (column,) if isinstance(column, str) else tuple(column)
    if not columns or not all(isinstance(c, str) and c for c in columns):
        raise CompileError(f"input: columns must be non-empty strings, got {column!r}", site)
    if len(set(columns)) != len(columns):
        raise CompileError(f"input: a column is named twice in {list(columns)}", site)
    width = FIXED_BITS if fixed else INT_BITS
    width = width if bits is None else bits
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= 62:
        raise CompileError(f"input: bits must be an int in 1..62, got {bits!r}", site)
    frac = tracer.frac if fixed else 0
    if width + frac > 62:
        raise CompileError(f"input: {width} integer bits + {frac} fractional bits exceed 62", site)
    rows = int(tracer.rows(party, dataset))
    shape = (rows,) if isinstance(column, str) else (rows, len(columns))
    bound = (1 << (width + frac)) - 1
    vtype = fixed_type(True, bound, frac) if fixed else integer(True, bound)
    node = tracer.add(
        "input",
        (),
        (("bits", width), ("column", column if isinstance(column, str) else columns),
         ("dataset", dataset), ("party", party)),
        shape,
        vtype,
        site,
    )  # fmt: skip
    tracer.sources[node.id] = Source(party, dataset, columns[0], rows)
    return Secret(node)


def input_bits(party: int, dataset: str, column: str, *, bits: int) -> Secret:
    """A hex column of `party`'s dataset as private bits (rows, bits): the input of an imported
    boolean circuit (`bristol`). The bits stay with their owner (party 0 or 1) until the circuit
    takes them as garbled inputs; cells are big-endian hex numbers below 2^bits."""
    tracer = active_tracer()
    site = call_site()
    if party not in (0, 1) or isinstance(party, bool):
        raise CompileError(
            f"input_bits: party must be 0 or 1 (who run circuits), got {party!r}", site
        )
    if not isinstance(dataset, str) or not _NAME.match(dataset):
        raise CompileError(f"input_bits: dataset must be an identifier, got {dataset!r}", site)
    if not isinstance(column, str) or not column:
        raise CompileError(f"input_bits: column must be a non-empty string, got {column!r}", site)
    if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= MAX_BITS:
        raise CompileError(f"input_bits: bits must be an int in 1..{MAX_BITS}, got {bits!r}", site)
    rows = int(tracer.rows(party, dataset))
    node = tracer.add(
        "input_bits",
        (),
        (("bits", bits), ("column", column), ("dataset", dataset), ("party", party)),
        (rows, bits),
        VType(True, "bits", 1),
        site,
    )
    tracer.sources[node.id] = Source(party, dataset, column, rows)
    return Secret(node)


class Garbled:
    """The output of an imported circuit before it is revealed (it can only be revealed)."""

    def __init__(self, circuit: Any, inputs: tuple[Secret, ...], site: str | None) -> None:
        self.circuit = circuit
        self.inputs = inputs
        self.site = site

    def __repr__(self) -> str:
        return f"<garbled output of {self.circuit.name}>"


class BristolCall:
    """An imported Bristol circuit: call it on private bit inputs, one per input group."""

    def __init__(self, circuit: Any) -> None:
        self.circuit = circuit
        self.name: str = circuit.name
        self.input_widths: tuple[int, ...] = tuple(circuit.input_widths)
        self.output_widths: tuple[int, ...] = tuple(circuit.output_widths)

    def __call__(self, *inputs: Secret) -> Garbled:
        site = call_site()
        if len(inputs) != len(self.input_widths):
            raise CompileError(
                f"{self.name} takes {len(self.input_widths)} inputs, got {len(inputs)}", site
            )
        rows = None
        for k, (value, width) in enumerate(zip(inputs, self.input_widths, strict=True)):
            node = value.node if isinstance(value, Secret) else None
            if node is None or node.op != "input_bits":
                raise CompileError(f"{self.name}: input {k} must come from dsl.input_bits", site)
            if node.shape[1] != width:
                raise CompileError(
                    f"{self.name}: input {k} has {node.shape[1]} bits, the circuit takes {width}",
                    site,
                )
            if rows is not None and node.shape[0] != rows:
                raise CompileError(f"{self.name}: the inputs have different row counts", site)
            rows = node.shape[0]
        return Garbled(self.circuit, inputs, site)


def bristol(name: str) -> BristolCall:
    """An imported Bristol Fashion circuit (EMP-toolkit, MP-SPDZ, SCALE-MAMBA), loaded by the
    compiler's loader: a node loads only files its config lists among its `circuits`.

    `bristol(name)(a, b)` runs it on the rows of private bit inputs (party 0 garbles, party 1
    evaluates; each input group belongs to one of them); the result can only be revealed, to
    parties 0 and/or 1, which learn the output bits and nothing else. One output group.
    """
    tracer = active_tracer()
    site = call_site()
    if tracer.bristol is None:
        raise CompileError("this compilation has no loader for Bristol circuits", site)
    if not isinstance(name, str) or not name:
        raise CompileError(f"bristol: expected a circuit file name, got {name!r}", site)
    circuit = tracer.bristol(name)
    if len(circuit.output_widths) != 1:
        raise CompileError(
            f"{circuit.name} has {len(circuit.output_widths)} output groups; one is supported",
            site,
        )
    if tracer.job.n_parties < 2:
        raise CompileError("Bristol circuits run between parties 0 and 1", site)
    return BristolCall(circuit)


def _reveal_garbled(garbled: Garbled, name: str, parties: set[int], driver: bool) -> None:
    """The run of an imported circuit whose outputs go to `parties` ⊆ {0, 1}."""
    tracer = active_tracer()
    if driver or not parties or not parties <= {0, 1}:
        raise CompileError(
            f"reveal: the output of {garbled.circuit.name} goes to parties 0 and/or 1 only "
            f"(the garbler and the evaluator), not to {sorted(parties)}"
            + (" and the driver" if driver else ""),
            garbled.site,
        )
    circuit = garbled.circuit
    owners = [value.node.attr("party") for value in garbled.inputs]
    reveal_mode = {(0,): "garbler", (1,): "evaluator", (0, 1): "both"}[tuple(sorted(parties))]
    rows = garbled.inputs[0].node.shape[0]
    steps, garbler_bytes, evaluator_bytes = circuit.run_cost(
        rows, [g for g, owner in enumerate(owners) if owner == 0], reveal_mode
    )
    tracer.externals[circuit.digest] = circuit
    node = tracer.add(
        "garble",
        tuple(value.node.id for value in garbled.inputs),
        (
            ("circuit", circuit.digest),
            ("evaluator_bytes", evaluator_bytes),
            ("garbler_bytes", garbler_bytes),
            ("name", circuit.name),
            ("steps", steps),
            ("to", tuple(sorted(parties))),
        ),
        (rows, circuit.output_widths[0]),
        VType(True, "bits", 1),
        garbled.site,
    )
    tracer.output_names.add(name)
    tracer.add(
        "reveal",
        (node.id,),
        (("driver", False), ("name", name), ("to", tuple(sorted(parties)))),
        node.shape,
        node.vtype,
        garbled.site,
    )


def reveal(value: Any, name: str, to: Iterable[Receiver] | None = None) -> None:
    """Open `value` as output `name` to the parties in `to` and/or `"driver"`.

    `to=None` means the job's receivers (by default every party). Revealing to the driver sends
    each party's share to the driver, which reconstructs: the parties themselves learn nothing.
    Fixed-point outputs reveal as floats.
    """
    tracer = active_tracer()
    site = call_site()
    handle = value if isinstance(value, Garbled) else lift(value)
    if not isinstance(name, str) or not _NAME.match(name):
        raise CompileError(f"reveal: output name must be an identifier, got {name!r}", site)
    if name in tracer.output_names:
        raise CompileError(f"reveal: output {name!r} is revealed twice", site)
    receivers = tracer.receivers if to is None else tuple(to)
    parties: set[int] = set()
    driver = False
    for receiver in receivers:
        if receiver == DRIVER:
            driver = True
        elif (
            isinstance(receiver, int)
            and not isinstance(receiver, bool)
            and receiver in tracer.job.parties
        ):
            parties.add(receiver)
        else:
            raise CompileError(
                f"reveal: receivers are party ids 0..{tracer.job.n_parties - 1} or 'driver', "
                f"got {receiver!r}",
                site,
            )
    if not parties and not driver:
        raise CompileError(f"reveal: output {name!r} has no receiver", site)
    if isinstance(handle, Garbled):
        _reveal_garbled(handle, name, parties, driver)
        return
    if handle.vtype.kind == "bits":
        raise CompileError("reveal: private bits are revealed through a circuit (bristol)", site)
    tracer.output_names.add(name)
    tracer.add(
        "reveal",
        (handle.node.id,),
        (("driver", driver), ("name", name), ("to", tuple(sorted(parties)))),
        handle.shape,
        handle.vtype,
        site,
    )


def sum(value: Any, axis: int | None = None) -> Secret:
    """Σ of the elements of `value` (all of them, or along `axis`). Local: no communication."""
    return arith.total(value, axis)


def dot(x: Any, y: Any) -> Secret:
    """Σ_i x_i·y_i of two vectors (one communication round; Shamir sends one element)."""
    a, b = lift(x), lift(y)
    if len(a.shape) != 1 or len(b.shape) != 1:
        raise CompileError(
            f"dot: takes two vectors, got shapes {a.shape} and {b.shape} (use @)", call_site()
        )
    return arith.matmul(a, b)


def square(x: Any) -> Secret:
    """x², elementwise."""
    return arith.square(x)


def transpose(x: Any) -> Secret:
    """The transpose of a matrix (local)."""
    return arith.transpose(x)


def where(condition: Any, if_true: Any, if_false: Any) -> Secret:
    """condition ? if_true : if_false, elementwise, for a 0/1 condition (from a comparison)."""
    return arith.where(condition, if_true, if_false)


def concatenate(values: Sequence[Any], axis: int = 0) -> Secret:
    """Secret (or public) arrays joined along `axis` (local)."""
    return arith.concatenate(values, axis)


def maximum(values: Any) -> Secret:
    """The largest element of a vector (or of each row of a matrix): ⌈log2 k⌉ comparison levels."""
    return arith.extreme(values, largest=True, with_index=False)[0]


def minimum(values: Any) -> Secret:
    """The smallest element of a vector (or of each row of a matrix)."""
    return arith.extreme(values, largest=False, with_index=False)[0]


def argmax(values: Any) -> Secret:
    """The index of the largest element (the first one on ties), as a secret integer."""
    index = arith.extreme(values, largest=True, with_index=True)[1]
    assert index is not None
    return index
