"""The DSL's arithmetic: how operators on traced values become typed IR nodes.

- `binary` (+, −) aligns kinds (an int operand of a fixed-point operation is scaled by 2^f);
- `multiply` (*) and `matmul` (@) pick the local form when one side is public and the
  interactive form when both are secret, and truncate f bits after a fixed × fixed product;
- `square`, `transpose`, `total` (Σ) and negation;
- comparisons (<, <=, >, >=, ==, !=) become a test of a difference, [d < 0] or [d = 0], that
  runs as a garbled circuit (`compare` nodes) and gives a secret bit;
- `where`, indexing, concatenation, and `extreme` (tree maximum/minimum with arg indices);
- expressions of public constants are computed here, exactly, into a new constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mpc.dsl.trace import (
    Secret,
    ShapeMismatchError,
    _constant_of,
    active_tracer,
    call_site,
    const_values,
    emit,
    lift,
)
from mpc.dsl.types import VType, fixed, integer, truncation_width
from mpc.errors import CompileError


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


def _scale_to_fixed(handle: Secret, frac: int) -> Secret:
    """An int value as fixed point with `frac` bits (multiplied by 2^frac)."""
    if not handle.secret:
        return _constant_of(const_values(handle) * (1 << frac), fixed(False, 0, frac))
    factor = _constant_of(np.array(1 << frac, dtype=object), integer(False, 0))
    vtype = fixed(True, handle.vtype.bound << frac, frac)
    return emit("mul_public", (handle, factor), handle.shape, vtype)


def _align(a: Secret, b: Secret) -> tuple[Secret, Secret]:
    """Operands of one kind: an int meeting a fixed-point value is scaled."""
    if a.vtype.kind == b.vtype.kind:
        if a.vtype.frac != b.vtype.frac:
            raise CompileError("fixed-point operands with different fractional bits", call_site())
        return a, b
    frac = max(a.vtype.frac, b.vtype.frac)
    if a.vtype.kind == "int":
        return _scale_to_fixed(a, frac), b
    return a, _scale_to_fixed(b, frac)


def binary(op: str, left: Any, right: Any) -> Secret:
    """a + b or a − b."""
    a, b = _align(lift(left), lift(right))
    shape = _elementwise_shape(op, a, b)
    if not a.secret and not b.secret:
        x, y = const_values(a), const_values(b)
        return _constant_of(np.asarray(x + y if op == "add" else x - y, dtype=object), a.vtype)
    vtype = VType(True, a.vtype.kind, a.vtype.bound + b.vtype.bound, a.vtype.frac)
    return emit(op, (a, b), shape, vtype)


def negate(handle: Secret) -> Secret:
    if not handle.secret:
        return _constant_of(-const_values(handle), handle.vtype)
    return emit("neg", (handle,), handle.shape, handle.vtype)


def truncate(handle: Secret, bits: int) -> Secret:
    """Drop `bits` low bits of a fixed-point secret (probabilistic rounding: error < 1 unit)."""
    v = handle.vtype
    vtype = VType(True, v.kind, (v.bound >> bits) + 1, v.frac - bits)
    width = truncation_width(v.bound)
    return emit("trunc", (handle,), handle.shape, vtype, bits=bits, width=width)


def _product_type(a: Secret, b: Secret, bound: int) -> tuple[VType, int]:
    """The type of a product before truncation, and the bits to truncate after it."""
    kinds = {a.vtype.kind, b.vtype.kind}
    if kinds == {"int"}:
        return integer(True, bound), 0
    frac = max(a.vtype.frac, b.vtype.frac)
    if kinds == {"fixed"}:
        return fixed(True, bound, 2 * frac), frac
    return fixed(True, bound, frac), 0


def multiply(left: Any, right: Any) -> Secret:
    """a * b, elementwise."""
    a, b = lift(left), lift(right)
    shape = _elementwise_shape("mul", a, b)
    bound = a.vtype.bound * b.vtype.bound
    if not a.secret and not b.secret:
        return _fold_product(a, b, const_values(a) * const_values(b))
    vtype, drop = _product_type(a, b, bound)
    if a.secret and b.secret:
        result = emit("mul", (a, b), shape, vtype)
    else:
        secret, public = (a, b) if a.secret else (b, a)
        result = emit("mul_public", (secret, public), shape, vtype)
    return _finish_truncated(result, drop)


def _finish_truncated(result: Secret, drop: int) -> Secret:
    return truncate(result, drop) if drop else result


def _fold_product(a: Secret, b: Secret, stored: np.ndarray) -> Secret:
    """A product of public constants, truncated (with rounding) when both are fixed point."""
    vtype, drop = _product_type(a, b, 0)
    if drop:
        stored = (stored + (1 << (drop - 1))) >> drop
    return _constant_of(
        np.asarray(stored, dtype=object), VType(False, vtype.kind, 0, vtype.frac - drop)
    )


def square(value: Any) -> Secret:
    """value², elementwise (one opening instead of two for a Beaver product)."""
    a = lift(value)
    if not a.secret:
        return _fold_product(a, a, const_values(a) * const_values(a))
    vtype, drop = _product_type(a, a, a.vtype.bound**2)
    return _finish_truncated(emit("square", (a,), a.shape, vtype), drop)


def _matmul_shape(a: Secret, b: Secret) -> tuple[tuple[int, ...], int]:
    """np.matmul's result shape for vectors and matrices, and the summed dimension k."""
    if not 1 <= len(a.shape) <= 2 or not 1 <= len(b.shape) <= 2:
        raise CompileError(
            f"@: operands must be vectors or matrices, got {a.shape} and {b.shape}", call_site()
        )
    k_left, k_right = a.shape[-1], b.shape[0]
    if k_left != k_right:
        tracer = active_tracer()
        sources = tuple(
            s for s in (tracer.sources.get(a.node.id), tracer.sources.get(b.node.id)) if s
        )
        raise ShapeMismatchError(
            f"@: shapes {a.shape} and {b.shape} do not align ({k_left} ≠ {k_right})",
            call_site(),
            sources,
        )
    return a.shape[:-1] + b.shape[1:], k_left


def matmul(left: Any, right: Any) -> Secret:
    """a @ b for vectors and matrices (a dot product when both are vectors)."""
    a, b = lift(left), lift(right)
    shape, k = _matmul_shape(a, b)
    bound = k * a.vtype.bound * b.vtype.bound
    if not a.secret and not b.secret:
        return _fold_product(
            a, b, np.asarray(np.matmul(const_values(a), const_values(b)), dtype=object)
        )
    vtype, drop = _product_type(a, b, bound)
    if a.secret and b.secret:
        result = emit("matmul", (a, b), shape, vtype)
    else:
        result = emit("matmul_public", (a, b), shape, vtype, public="right" if a.secret else "left")
    return _finish_truncated(result, drop)


def transpose(value: Any) -> Secret:
    a = lift(value)
    if len(a.shape) != 2:
        raise CompileError(f".T: transposes matrices, got shape {a.shape}", call_site())
    shape = (a.shape[1], a.shape[0])
    if not a.secret:
        return _constant_of(const_values(a).T.copy(), a.vtype)
    return emit("transpose", (a,), shape, a.vtype)


def total(value: Any, axis: int | None = None) -> Secret:
    """Σ of the elements (all of them, or along `axis`). Local: no communication."""
    a = lift(value)
    shape = a.shape
    result_shape: tuple[int, ...] = ()
    if axis is None:
        count = int(np.prod(shape, dtype=np.int64))
    else:
        if (
            not isinstance(axis, int)
            or isinstance(axis, bool)
            or not -len(shape) <= axis < len(shape)
        ):
            raise CompileError(f"sum: axis {axis!r} out of range for shape {shape}", call_site())
        axis %= len(shape)
        count, result_shape = shape[axis], shape[:axis] + shape[axis + 1 :]
    if not a.secret:
        summed = np.sum(const_values(a), axis=axis)
        return _constant_of(np.asarray(summed, dtype=object), a.vtype)
    vtype = a.vtype.with_bound(a.vtype.bound * max(count, 1))
    return emit("sum", (a,), result_shape, vtype, axis=axis)


# --- comparisons -----------------------------------------------------------------------------


def _test(test: str, difference: Secret) -> Secret:
    width = truncation_width(difference.vtype.bound)
    return emit(
        "compare", (difference,), difference.shape, integer(True, 1), test=test, width=width
    )


def _flip(bit: Secret) -> Secret:
    """1 − b for a 0/1 value b: again a 0/1 value (the bound stays 1)."""
    one, b = _align(lift(1), bit)
    return emit("sub", (one, b), _elementwise_shape("sub", one, b), integer(True, 1))


_FOLDS = {
    "lt": lambda x, y: x < y,
    "le": lambda x, y: x <= y,
    "gt": lambda x, y: x > y,
    "ge": lambda x, y: x >= y,
    "eq": lambda x, y: x == y,
    "ne": lambda x, y: x != y,
}


def compare(op: str, left: Any, right: Any) -> Secret:
    """[a op b] as a secret 0/1 integer (public when both sides are)."""
    a, b = _align(lift(left), lift(right))
    _elementwise_shape(op, a, b)
    if not a.secret and not b.secret:
        truth = np.asarray(_FOLDS[op](const_values(a), const_values(b)), dtype=object).astype(int)
        return _constant_of(np.asarray(truth, dtype=object), integer(False, 1))
    if op == "lt":
        return _test("ltz", binary("sub", a, b))
    if op == "gt":
        return _test("ltz", binary("sub", b, a))
    if op == "le":
        return _flip(_test("ltz", binary("sub", b, a)))
    if op == "ge":
        return _flip(_test("ltz", binary("sub", a, b)))
    if op == "eq":
        return _test("eqz", binary("sub", a, b))
    return _flip(_test("eqz", binary("sub", a, b)))


def where(condition: Any, if_true: Any, if_false: Any) -> Secret:
    """condition ? if_true : if_false, elementwise, for a 0/1 condition: y + c·(x − y)."""
    c = lift(condition)
    if c.vtype.kind != "int" or c.vtype.bound > 1:
        raise CompileError("where: the condition must be a 0/1 value (a comparison)", call_site())
    x, y = _align(lift(if_true), lift(if_false))
    return binary("add", y, multiply(c, binary("sub", x, y)))


# --- indexing and concatenation -----------------------------------------------------------------


def _key_attr(key: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A canonical, hashable form of a basic index (ints and slices with public bounds)."""
    parts = key if isinstance(key, tuple) else (key,)
    canonical: list[Any] = []
    for part in parts:
        if isinstance(part, slice):
            for bound in (part.start, part.stop, part.step):
                if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
                    raise CompileError("index: slice bounds must be public ints", call_site())
            canonical.append(("slice", part.start, part.stop, part.step))
        elif isinstance(part, int) and not isinstance(part, bool):
            canonical.append(("int", part))
        else:
            raise CompileError(
                f"index: only public ints and slices index a secret, got {part!r}", call_site()
            )
    try:
        np.empty(shape, dtype=np.int8)[key_from_attr(tuple(canonical))]
    except IndexError as error:
        raise CompileError(f"index: {error}", call_site()) from None
    return tuple(canonical)


def key_from_attr(attr: tuple[Any, ...]) -> tuple[Any, ...]:
    """The numpy index a canonical `index` attribute stands for."""
    return tuple(slice(p[1], p[2], p[3]) if p[0] == "slice" else p[1] for p in attr)


def index(value: Any, key: Any) -> Secret:
    a = lift(value)
    canonical = _key_attr(key, a.shape)
    numpy_key = key_from_attr(canonical)
    if not a.secret:
        return _constant_of(np.asarray(const_values(a)[numpy_key], dtype=object), a.vtype)
    shape = np.empty(a.shape, dtype=np.int8)[numpy_key].shape
    return emit("index", (a,), tuple(shape), a.vtype, key=canonical)


def concatenate(values: Any, axis: int = 0) -> Secret:
    handles = [lift(v) for v in values]
    if not handles:
        raise CompileError("concatenate: nothing to concatenate", call_site())
    kinds = {(h.vtype.kind, h.vtype.frac) for h in handles}
    if len(kinds) != 1:
        raise CompileError("concatenate: the parts must be of one kind", call_site())
    try:
        shape = np.concatenate([np.empty(h.shape, dtype=np.int8) for h in handles], axis=axis).shape
    except (ValueError, np.exceptions.AxisError) as error:
        raise CompileError(f"concatenate: {error}", call_site()) from None
    bound = max(h.vtype.bound for h in handles)
    if not any(h.secret for h in handles):
        parts = [const_values(h) for h in handles]
        return _constant_of(np.concatenate(parts, axis=axis), handles[0].vtype.with_bound(bound))
    vtype = handles[0].vtype.with_bound(bound, secret=True)
    return emit("concat", tuple(handles), tuple(shape), vtype, axis=axis % len(shape))


def extreme(value: Any, *, largest: bool, with_index: bool) -> tuple[Secret, Secret | None]:
    """Max (or min) along the last axis by a tournament: ⌈log2 k⌉ levels of compare + select.
    Ties go to the lower index."""
    v = lift(value)
    if not v.shape:
        raise CompileError(
            "maximum/argmax: takes a vector (or a matrix, along its rows)", call_site()
        )
    k = v.shape[-1]
    lead = (slice(None),) * (len(v.shape) - 1)
    positions: Secret | None = None
    if with_index:
        positions = _constant_of(
            np.broadcast_to(np.arange(k, dtype=object), v.shape).copy(), integer(False, k)
        )
    while k > 1:
        half = k // 2
        a, b = index(v, (*lead, slice(0, half))), index(v, (*lead, slice(half, 2 * half)))
        keep_a = compare("ge" if largest else "le", a, b)
        parts = [where(keep_a, a, b)]
        if positions is not None:
            pa = index(positions, (*lead, slice(0, half)))
            pb = index(positions, (*lead, slice(half, 2 * half)))
            moved = [where(keep_a, pa, pb)]
        if k % 2:
            parts.append(index(v, (*lead, slice(k - 1, k))))
            if positions is not None:
                moved.append(index(positions, (*lead, slice(k - 1, k))))
        v = concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
        if positions is not None:
            positions = concatenate(moved, axis=-1) if len(moved) > 1 else moved[0]
        k = v.shape[-1]
    result = index(v, (*lead, 0))
    return result, (index(positions, (*lead, 0)) if positions is not None else None)
