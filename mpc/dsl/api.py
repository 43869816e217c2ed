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
from mpc.dsl.types import fixed as fixed_type
from mpc.dsl.types import integer
from mpc.errors import CompileError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INT_BITS = 40
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


def reveal(value: Any, name: str, to: Iterable[Receiver] | None = None) -> None:
    """Open `value` as output `name` to the parties in `to` and/or `"driver"`.

    `to=None` means the job's receivers (by default every party). Revealing to the driver sends
    each party's share to the driver, which reconstructs: the parties themselves learn nothing.
    Fixed-point outputs reveal as floats.
    """
    tracer = active_tracer()
    site = call_site()
    handle = lift(value)
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
