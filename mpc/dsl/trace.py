"""Tracing: secure-value handles whose operators record IR nodes.

Inside `compile()` a circuit runs once with `Secret` handles instead of data. Each operator checks
its operands (shapes, kinds, visibility), applies the type rules of `mpc.dsl.types` (promoting
integers to fixed point, inserting truncations after fixed-point products), and appends nodes to
the active `Tracer` (the one contextvar of the package). Expressions of public constants are
evaluated at once, exactly, so public values in the IR are always `const` nodes. A secret has
no truth value: `if secret:` raises `SecretBranchError` explaining what to do instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import numpy as np

from mpc.dsl.ir import ConstArray, Node, check_node, make_attrs
from mpc.dsl.types import VType, fixed, integer
from mpc.errors import CompileError, SecretBranchError
from mpc.suite import Suite

_DSL_DIR = str(Path(__file__).resolve().parent)
LARGEST_EXACT = (2**127 - 2) // 2  # what the largest domain, F_(2^127−1), holds exactly
Receiver = int | str  # a party id, or "driver"
DRIVER = "driver"


@dataclass(frozen=True, slots=True)
class Job:
    """What a circuit may know while it is traced: the parties, the suite and its parameters."""

    n_parties: int
    protocol: str
    threshold: int
    params: Any
    frac_bits: int = 16

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

    def __init__(
        self,
        job: Job,
        suite: Suite,
        rows: Callable[[int, str], int],
        receivers: tuple[Receiver, ...],
        bristol: Callable[[str], Any] | None = None,
    ) -> None:
        self.job = job
        self.bristol = bristol  # loads imported circuits (dsl.bristol); the caller's policy
        self.externals: dict[str, Any] = {}  # digest → loaded circuit, for the engine
        self.suite = suite
        self.rows = rows
        self.receivers = receivers
        self.frac = job.frac_bits
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
        if vtype.bound > LARGEST_EXACT:
            raise CompileError(
                f"{op}: the result may reach 2^{vtype.bound.bit_length()} in magnitude, beyond "
                f"the exact range of every domain (2^126); declare fewer input bits",
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
        "(c = x < y gives a secret 0/1; dsl.where(c, a, b) picks a or b) or reveal() it.",
        call_site(),
    )


class Secret:
    """A handle on a traced value (secret, or a public constant)."""

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

    @property
    def vtype(self) -> VType:
        return self._node.vtype

    @property
    def T(self) -> Secret:  # noqa: N802 (numpy's name)
        from mpc.dsl.arith import transpose

        return transpose(self)

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

    # Comparisons give secret 0/1 values (garbled circuits); using one in `if` is refused above.
    def __eq__(self, other: object) -> Secret:  # type: ignore[override]
        from mpc.dsl.arith import compare

        return compare("eq", self, other)

    def __ne__(self, other: object) -> Secret:  # type: ignore[override]
        from mpc.dsl.arith import compare

        return compare("ne", self, other)

    def __lt__(self, other: object) -> Secret:
        from mpc.dsl.arith import compare

        return compare("lt", self, other)

    def __le__(self, other: object) -> Secret:
        from mpc.dsl.arith import compare

        return compare("le", self, other)

    def __gt__(self, other: object) -> Secret:
        from mpc.dsl.arith import compare

        return compare("gt", self, other)

    def __ge__(self, other: object) -> Secret:
        from mpc.dsl.arith import compare

        return compare("ge", self, other)

    def __getitem__(self, key: Any) -> Secret:
        from mpc.dsl.arith import index

        return index(self, key)

    def __add__(self, other: Any) -> Secret:
        from mpc.dsl.arith import binary

        return binary("add", self, other)

    def __radd__(self, other: Any) -> Secret:
        from mpc.dsl.arith import binary

        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self  # lets Python's sum() start from 0
        return binary("add", other, self)

    def __sub__(self, other: Any) -> Secret:
        from mpc.dsl.arith import binary

        return binary("sub", self, other)

    def __rsub__(self, other: Any) -> Secret:
        from mpc.dsl.arith import binary

        return binary("sub", other, self)

    def __neg__(self) -> Secret:
        from mpc.dsl.arith import negate

        return negate(self)

    def __mul__(self, other: Any) -> Secret:
        from mpc.dsl.arith import multiply

        return multiply(self, other)

    def __rmul__(self, other: Any) -> Secret:
        from mpc.dsl.arith import multiply

        return multiply(other, self)

    def __matmul__(self, other: Any) -> Secret:
        from mpc.dsl.arith import matmul

        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Secret:
        from mpc.dsl.arith import matmul

        return matmul(other, self)


def emit(
    op: str,
    args: tuple[Secret, ...],
    shape: tuple[int, ...],
    vtype: VType,
    **attrs: Any,
) -> Secret:
    """Record one node and return its handle."""
    tracer = active_tracer()
    node = tracer.add(
        op, tuple(a.node.id for a in args), make_attrs(**attrs), shape, vtype, call_site()
    )
    for operand in args:  # the input a result's length comes from, for row-count errors
        source = tracer.sources.get(operand.node.id)
        if source is not None and operand.shape[:1] == shape[:1] and shape:
            tracer.sources[node.id] = source
            break
    return Secret(node)


def constant(value: Any, *, frac: int | None = None) -> Secret:
    """A public constant (scalar or array): integers as int, floats as fixed point."""
    array = np.asarray(value)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if array.dtype.kind == "f":
        bits = active_tracer().frac if frac is None else frac
        if not np.all(np.isfinite(array)):
            raise CompileError("public constants must be finite numbers", call_site())
        scaled = np.asarray(np.rint(array.astype(np.float64) * 2.0**bits))
        return _constant_of(scaled.astype(object), fixed(False, 0, bits))
    exact_ints = array.dtype.kind == "O" and all(
        isinstance(v, int) and not isinstance(v, bool) for v in array.flat
    )
    if array.dtype.kind not in "iu" and not exact_ints:
        raise CompileError(f"public constants are numbers, got {value!r:.60}", call_site())
    return _constant_of(array.astype(object), integer(False, 0))


def _constant_of(values: np.ndarray, vtype: VType) -> Secret:
    """A const node for exact integer `values` (object array) stored with `vtype`'s scale."""
    bound = max((abs(int(v)) for v in values.flat), default=0)
    if bound > 2**63 - 1:
        raise CompileError("a public constant overflows int64 (once scaled)", call_site())
    array = np.asarray(values.astype(np.int64))
    return emit(
        "const", (), tuple(array.shape), vtype.with_bound(bound), value=ConstArray.of(array)
    )


def const_values(handle: Secret) -> np.ndarray:
    """The exact stored integers of a public constant, as an object array."""
    value: ConstArray = handle.node.attr("value")
    return value.array().astype(object)


def lift(value: Any) -> Secret:
    return value if isinstance(value, Secret) else constant(value)
