"""Tracing: secure-value handles whose operators record IR nodes, and the DSL functions.

Inside `compile()` a circuit runs once with `Secret` handles instead of data. Each operator checks
its operands (shapes, kinds, visibility), computes the result's shape and magnitude bound, and
appends one node to the active `Tracer` (the one contextvar of the package). A secret has no
truth value: `if secret:` raises `SecretBranchError` explaining what to do instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import numpy as np

from mpc.dsl.ir import ConstArray, Node, VType, check_node, make_attrs
from mpc.errors import CompileError, SecretBranchError
from mpc.suite import Suite

_DSL_DIR = str(Path(__file__).resolve().parent)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
Receiver = int | str  # a party id, or "driver"
DRIVER = "driver"


@dataclass(frozen=True, slots=True)
class Job:
    """What a circuit may know while it is traced: the parties, the suite and its parameters."""

    n_parties: int
    protocol: str
    threshold: int
    params: Mapping[str, Any]

    @property
    def parties(self) -> range:
        return range(self.n_parties)


@dataclass(frozen=True, slots=True)
class Source:
    """The input a vector's length comes from (for naming files in row-count errors)."""

    party: int
    dataset: str
    column: str
    rows: int


class ShapeMismatchError(CompileError):
    """Elementwise operands of different lengths; `sources` name the inputs they came from."""

    def __init__(self, message: str, site: str | None, sources: tuple[Source, ...]) -> None:
        self.sources = sources
        super().__init__(message, site)


def call_site() -> str | None:
    """`file:line` of the innermost frame outside the DSL package (the circuit's own line)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_DSL_DIR):
            return f"{Path(filename).name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class Tracer:
    """Collects the nodes of one circuit trace."""

    def __init__(self, job: Job, suite: Suite, rows: Any, receivers: tuple[Receiver, ...]) -> None:
        self.job = job
        self.suite = suite
        self.rows = rows  # callable (party, dataset) -> int
        self.receivers = receivers
        self.nodes: list[Node] = []
        self.sources: dict[int, Source] = {}
        self.output_names: set[str] = set()

    def add(
        self,
        op: str,
        args: tuple[int, ...],
        attrs: tuple[tuple[str, Any], ...],
        shape: tuple[int, ...],
        vtype: VType,
        site: str | None,
    ) -> Node:
        if vtype.bound > self.suite.domain.exact_bound:
            raise CompileError(
                f"{op}: the result may reach 2^{vtype.bound.bit_length()} in magnitude, beyond "
                f"the exact range of {self.suite.domain.name} "
                f"(2^{self.suite.domain.exact_bound.bit_length()}); "
                "declare fewer input bits or use a suite with a larger domain",
                site,
            )
        node = Node(len(self.nodes), op, args, attrs, shape, vtype, site)
        check_node(node)
        self.nodes.append(node)
        return node


_TRACER: ContextVar[Tracer | None] = ContextVar("mpc_dsl_tracer", default=None)


def active_tracer() -> Tracer:
    tracer = _TRACER.get()
    if tracer is None:
        raise CompileError(
            "DSL functions run only while a circuit is compiled (mpc.dsl.compile)", call_site()
        )
    return tracer


def _no_plain_value(what: str) -> NoReturn:
    raise SecretBranchError(
        f"a secret value cannot be used as {what} while a circuit is compiled: the circuit runs "
        "once for all data, so it cannot branch on or convert a secret. Select obliviously "
        "(comparisons and where() come with the garbled-circuit suite) or reveal() it.",
        call_site(),
    )


class Secret:
    """A handle on a traced value (secret, or public when computed from constants only)."""

    __slots__ = ("_node",)
    __array_ufunc__ = None  # make numpy defer to our reflected operators

    def __init__(self, node: Node) -> None:
        self._node = node

    @property
    def node(self) -> Node:
        return self._node

    @property
    def shape(self) -> tuple[int, ...]:
        return self._node.shape

    @property
    def secret(self) -> bool:
        return self._node.vtype.secret

    def __repr__(self) -> str:
        return f"<{self._node.vtype.describe()} {self._node.op} shape={self.shape}>"

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("a scalar has no length")
        return self.shape[0]

    # A secret has no plain value: refuse every implicit conversion.
    def __bool__(self) -> bool:
        _no_plain_value("a condition (if/while/and/or/not)")

    def __index__(self) -> int:
        _no_plain_value("an index")

    def __int__(self) -> int:
        _no_plain_value("an int")

    def __float__(self) -> float:
        _no_plain_value("a float")

    def __iter__(self) -> NoReturn:
        _no_plain_value("an iterable (use dsl.sum, or vector operators)")

    __hash__ = None  # type: ignore[assignment]

    # Comparisons of secrets give secret bits; they arrive with the garbled-circuit suite. Until
    # then they are refused here (a plain False from `==` would silently take a branch).
    def _compare(self, symbol: str) -> NoReturn:
        raise CompileError(
            f"comparing secrets ({symbol}) is not supported yet: comparisons, equality and "
            "where() arrive with the garbled-circuit suite",
            call_site(),
        )

    def __eq__(self, other: object) -> bool:
        self._compare("==")

    def __ne__(self, other: object) -> bool:
        self._compare("!=")

    def __lt__(self, other: object) -> bool:
        self._compare("<")

    def __le__(self, other: object) -> bool:
        self._compare("<=")

    def __gt__(self, other: object) -> bool:
        self._compare(">")

    def __ge__(self, other: object) -> bool:
        self._compare(">=")

    def __add__(self, other: Any) -> Secret:
        return _binary("add", self, other)

    def __radd__(self, other: Any) -> Secret:
        if isinstance(other, int) and other == 0:  # lets Python's sum() start from 0
            return self
        return _binary("add", other, self)

    def __sub__(self, other: Any) -> Secret:
        return _binary("sub", self, other)

    def __rsub__(self, other: Any) -> Secret:
        return _binary("sub", other, self)

    def __neg__(self) -> Secret:
        node = self._node
        if not node.vtype.secret:
            return _fold("neg", self)
        return _emit("neg", (node.id,), make_attrs(), node.shape, node.vtype)

    def __mul__(self, other: Any) -> Secret:
        return _multiply(self, other)

    def __rmul__(self, other: Any) -> Secret:
        return _multiply(other, self)


def _emit(
    op: str,
    args: tuple[int, ...],
    attrs: tuple[tuple[str, Any], ...],
    shape: tuple[int, ...],
    vtype: VType,
) -> Secret:
    return Secret(active_tracer().add(op, args, attrs, shape, vtype, call_site()))


def constant(value: Any) -> Secret:
    """A public integer constant (scalar or array) as a traced value."""
    array = np.asarray(value)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise CompileError(
            f"public constants are integers for now, got {array.dtype} "
            "(fixed-point values arrive with the arithmetic suite)",
            call_site(),
        )
    if array.dtype.kind == "u" and array.size and int(array.max()) > 2**63 - 1:
        raise CompileError("public constant does not fit in int64", call_site())
    array = array.astype(np.int64)
    bound = max((abs(int(v)) for v in array.flat), default=0)
    return _emit(
        "const",
        (),
        make_attrs(value=ConstArray.of(array)),
        tuple(array.shape),
        VType(False, "int", bound),
    )


def _lift(value: Any) -> Secret:
    return value if isinstance(value, Secret) else constant(value)


def _elementwise_shape(op: str, a: Secret, b: Secret) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(a.shape, b.shape))
    except ValueError:
        tracer = active_tracer()
        sources = tuple(
            s for s in (tracer.sources.get(a.node.id), tracer.sources.get(b.node.id)) if s
        )
        described = " and ".join(
            f"{s.dataset}.{s.column} of party {s.party} ({s.rows} rows)" for s in sources
        )
        detail = f": {described}" if described else ""
        raise ShapeMismatchError(
            f"{op}: operands of shapes {a.shape} and {b.shape} do not match{detail}",
            call_site(),
            sources,
        ) from None


def _fold(op: str, *operands: Secret, axis: int | None = None) -> Secret:
    """Evaluate an op on public constants now (exactly, with Python ints), giving a constant."""
    values = [_const_value(o).astype(object) for o in operands]
    if op == "add":
        result = values[0] + values[1]
    elif op == "sub":
        result = values[0] - values[1]
    elif op == "mul":
        result = values[0] * values[1]
    elif op == "neg":
        result = -values[0]
    else:  # sum
        result = np.sum(values[0], axis=axis)
    array = np.asarray(result, dtype=object)
    if array.size and max(abs(int(v)) for v in array.flat) > 2**63 - 1:
        raise CompileError(f"{op} of public constants overflows int64", call_site())
    return constant(array.astype(np.int64))


def _binary(op: str, left: Any, right: Any) -> Secret:
    a, b = _lift(left), _lift(right)
    shape = _elementwise_shape(op, a, b)
    if not a.secret and not b.secret:
        return _fold(op, a, b)
    vtype = VType(True, "int", a.node.vtype.bound + b.node.vtype.bound)
    result = _emit(op, (a.node.id, b.node.id), make_attrs(), shape, vtype)
    _inherit_source(result, a, b)
    return result


def _multiply(left: Any, right: Any) -> Secret:
    a, b = _lift(left), _lift(right)
    shape = _elementwise_shape("mul", a, b)
    if not a.secret and not b.secret:
        return _fold("mul", a, b)
    if a.secret and b.secret:
        raise CompileError(
            "secret × secret products arrive with the arithmetic suite (Beaver/GRR); "
            "this build multiplies secrets by public constants only",
            call_site(),
        )
    if not a.secret:
        a, b = b, a  # secret first
    bound = a.node.vtype.bound * b.node.vtype.bound
    result = _emit(
        "mul_public", (a.node.id, b.node.id), make_attrs(), shape, VType(True, "int", bound)
    )
    _inherit_source(result, a, b)
    return result


def _const_value(handle: Secret) -> np.ndarray:
    value: ConstArray = handle.node.attr("value")  # public values are always folded constants
    return value.array()


def _inherit_source(result: Secret, *operands: Secret) -> None:
    tracer = active_tracer()
    for operand in operands:
        source = tracer.sources.get(operand.node.id)
        if source is not None and operand.shape == result.shape:
            tracer.sources[result.node.id] = source
            return


# --- the DSL functions ---------------------------------------------------------------------------


def input(party: int, dataset: str, column: str, *, bits: int = 40) -> Secret:
    """The integer column `column` of `party`'s dataset `dataset`, secret-shared.

    Every value must satisfy |x| < 2^bits (checked by the owner before anything is shared). The
    number of rows is public: all parties learn it when the plan is compiled.
    """
    tracer = active_tracer()
    site = call_site()
    if not isinstance(party, int) or isinstance(party, bool) or party not in tracer.job.parties:
        raise CompileError(
            f"input: party must be one of {list(tracer.job.parties)}, got {party!r}", site
        )
    for label, name in (("dataset", dataset), ("column", column)):
        if not isinstance(name, str) or not name:
            raise CompileError(f"input: {label} must be a non-empty string, got {name!r}", site)
    if not _NAME.match(dataset):
        raise CompileError(f"input: dataset must be an identifier, got {dataset!r}", site)
    if not isinstance(bits, int) or not 1 <= bits <= 62:
        raise CompileError(f"input: bits must be an int in 1..62, got {bits!r}", site)
    rows = int(tracer.rows(party, dataset))
    node = tracer.add(
        "input",
        (),
        make_attrs(party=party, dataset=dataset, column=column, bits=bits),
        (rows,),
        VType(True, "int", 2**bits - 1),
        site,
    )
    tracer.sources[node.id] = Source(party, dataset, column, rows)
    return Secret(node)


def sum(value: Secret, axis: int | None = None) -> Secret:
    """Σ of the elements of `value` (all of them, or along `axis`). Local: no communication."""
    handle = _lift(value)
    shape = handle.shape
    result_shape: tuple[int, ...] = ()
    if axis is None:
        count = int(np.prod(shape, dtype=np.int64))
    else:
        if not isinstance(axis, int) or not -len(shape) <= axis < len(shape):
            raise CompileError(f"sum: axis {axis!r} out of range for shape {shape}", call_site())
        axis %= len(shape)
        count, result_shape = shape[axis], shape[:axis] + shape[axis + 1 :]
    if not handle.secret:
        return _fold("sum", handle, axis=axis)
    vtype = VType(True, "int", handle.node.vtype.bound * max(count, 1))
    return _emit("sum", (handle.node.id,), make_attrs(axis=axis), result_shape, vtype)


def reveal(value: Secret, name: str, to: Iterable[Receiver] | None = None) -> None:
    """Open `value` as output `name` to the parties in `to` and/or `"driver"`.

    `to=None` means the job's receivers (by default every party). Revealing to the driver sends
    each party's share to the driver, which reconstructs: the parties themselves learn nothing.
    """
    tracer = active_tracer()
    site = call_site()
    handle = _lift(value)
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
        make_attrs(name=name, to=tuple(sorted(parties)), driver=driver),
        handle.shape,
        handle.node.vtype,
        site,
    )
