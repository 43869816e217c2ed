"""Circuits as importable functions, and `compile()`: trace → prune → schedule → `Plan`.

```python
from mpc import dsl

@dsl.circuit(params={"bits": 40})
def secure_sum(job: dsl.Job) -> None:
    ...
```
A circuit file is a plain module defining exactly one `@dsl.circuit`. Nodes import circuits only
from paths their own config allows (`load_circuit`), never code sent by a driver.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, overload

from mpc.dsl.cost import PRODUCTS
from mpc.dsl.ir import Node
from mpc.dsl.plan import Plan
from mpc.dsl.schedule import prune, schedule
from mpc.dsl.trace import _TRACER, DRIVER, Job, Receiver, Tracer
from mpc.dsl.types import KAPPA, truncation_fits
from mpc.errors import CompileError, MpcError
from mpc.suite import DEALER, HONEST_MAJORITY, Suite, default_provider, provider_problem

ParamValue = int | float | str | bool
CircuitFn = Callable[[Job], None]


@dataclass(frozen=True, slots=True)
class Circuit:
    """A traceable circuit: its function, name and declared parameters with their defaults."""

    fn: CircuitFn
    name: str
    params: Mapping[str, ParamValue] = field(default_factory=lambda: MappingProxyType({}))
    frac_bits: int = 16

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()


@overload
def circuit(fn: CircuitFn, /) -> Circuit: ...
@overload
def circuit(
    *,
    name: str | None = None,
    params: Mapping[str, ParamValue] | None = None,
    frac_bits: int = 16,
) -> Callable[[CircuitFn], Circuit]: ...


def circuit(
    fn: CircuitFn | None = None,
    /,
    *,
    name: str | None = None,
    params: Mapping[str, ParamValue] | None = None,
    frac_bits: int = 16,
) -> Circuit | Callable[[CircuitFn], Circuit]:
    """Mark a function `f(job)` as a circuit.

    `params` declares its parameters and their defaults; `frac_bits` is the number of fractional
    bits of its fixed-point values (default 16).
    """
    if not isinstance(frac_bits, int) or isinstance(frac_bits, bool) or not 1 <= frac_bits <= 48:
        raise CompileError(f"frac_bits must be an int in 1..48, got {frac_bits!r}")

    def wrap(f: CircuitFn) -> Circuit:
        declared = dict(params or {})
        for key, value in declared.items():
            if not isinstance(value, int | float | str | bool):
                raise CompileError(
                    f"circuit parameter {key!r}: default must be int, float, str or bool"
                )
        return Circuit(f, name or f.__name__, MappingProxyType(declared), frac_bits)

    return wrap(fn) if fn is not None else wrap


def load_circuit(path: str | Path) -> Circuit:
    """Import a circuit file and return its one `@dsl.circuit`."""
    path = Path(path).resolve()
    if not path.is_file():
        raise CompileError(f"circuit file {path} does not exist")
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"mpc_circuit_{path.stem}_{digest}", path)
    if spec is None or spec.loader is None:
        raise CompileError(f"cannot import circuit file {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except MpcError:
        raise
    except Exception as error:
        raise CompileError(
            f"cannot import circuit file {path}: {type(error).__name__}: {error}"
        ) from error
    found = [v for v in vars(module).values() if isinstance(v, Circuit)]
    if len(found) != 1:
        raise CompileError(
            f"circuit file {path} must define exactly one @dsl.circuit, found {len(found)}"
        )
    return found[0]


def resolve_params(circuit: Circuit, given: Mapping[str, Any]) -> dict[str, ParamValue]:
    """Declared defaults overridden by `given`; CLI strings are parsed to the default's type."""
    unknown = sorted(set(given) - set(circuit.params))
    if unknown:
        allowed = ", ".join(sorted(circuit.params)) or "none"
        raise CompileError(
            f"circuit {circuit.name} has no parameter {unknown[0]!r} (parameters: {allowed})"
        )
    resolved = dict(circuit.params)
    for key, value in given.items():
        resolved[key] = _coerce(key, value, circuit.params[key])
    return resolved


def _coerce(key: str, value: Any, default: ParamValue) -> ParamValue:
    kind = type(default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if isinstance(value, str):
        if kind is bool:
            lowered = value.strip().lower()
            if lowered in ("true", "false", "1", "0", "yes", "no"):
                return lowered in ("true", "1", "yes")
        else:
            try:
                return kind(value)
            except ValueError:
                pass
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise CompileError(f"parameter {key!r}: expected {kind.__name__}, got {value!r}")


RowsFn = Callable[[int, str], int]


@dataclass(frozen=True, slots=True)
class CompileSpec:
    """What a plan depends on beyond the circuit: suite, input sizes, parameters, receivers,
    and the preprocessing provider (None, "dealer", "honest-majority" or "ot")."""

    suite: Suite
    rows: Mapping[tuple[int, str], int] = field(default_factory=dict)
    default_rows: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    receivers: tuple[Receiver, ...] | None = None  # for reveal(to=None); default: every party
    preprocessing: str | None = None
    # loads a Bristol circuit by name for dsl.bristol (mpc.gc.bristol.loader); None: refused
    bristol: Callable[[str], Any] | None = None

    def rows_of(self, party: int, dataset: str) -> int:
        rows = self.rows.get((party, dataset), self.default_rows)
        if rows is None:
            raise CompileError(f"no row count for dataset {dataset!r} of party {party}")
        return rows


def compile(circuit: Circuit, spec: CompileSpec) -> Plan:
    """Trace `circuit` under `spec`, schedule it and choose its domain: a `Plan`."""
    suite = spec.suite
    params = resolve_params(circuit, spec.params)
    receivers = spec.receivers if spec.receivers is not None else tuple(suite.parties)
    for receiver in receivers:
        if receiver != DRIVER and receiver not in suite.parties:
            raise CompileError(f"receiver {receiver!r} is neither a party id nor 'driver'")
    job = Job(
        suite.n_parties,
        suite.protocol,
        suite.threshold,
        MappingProxyType(params),
        circuit.frac_bits,
    )
    tracer = Tracer(job, suite, spec.rows_of, receivers, spec.bristol)
    token = _TRACER.set(tracer)
    try:
        circuit.fn(job)
    except MpcError:
        raise
    except Exception as error:
        raise CompileError(
            f"circuit {circuit.name} raised {type(error).__name__}: {error}"
        ) from error
    finally:
        _TRACER.reset(token)
    nodes = prune(tracer.nodes)
    if not any(node.op == "reveal" for node in nodes):
        raise CompileError(f"circuit {circuit.name} reveals nothing: call dsl.reveal()")
    domain, provider = choose_domain(nodes, suite, spec.preprocessing)
    prologue, layers = schedule(nodes, suite, domain, provider)
    return Plan(
        circuit=circuit.name,
        suite=suite,
        params=tuple(sorted(params.items())),
        nodes=tuple(nodes),
        prologue=prologue,
        layers=layers,
        domain=domain,
        preprocessing=provider,
        externals=tuple(sorted(tracer.externals.items())),
    )


EXACT = {"Z64": 2**63 - 1, "F61": (2**61 - 2) // 2, "F127": (2**127 - 2) // 2}
FIELD_MODULUS = {"F61": 2**61 - 1, "F127": 2**127 - 1}


def choose_domain(nodes: list[Node], suite: Suite, provider: str | None) -> tuple[str, str | None]:
    """The smallest domain that holds every value and every truncation mask, and the provider.

    Additive sharing computes in Z_2^64 unless it truncates (masks need a field) or its material
    comes from the honest-majority provider (made with Shamir sharings over a field).
    """
    widths = [node.attr("width") for node in nodes if node.op == "trunc"]
    compared = [node.attr("width") for node in nodes if node.op == "compare"]
    # (a comparison consumes a triple only in a field, which the other material already forces,
    # and, between two additive parties, the word triples of a dealer if the job has one)
    consumes = bool(widths) or (
        suite.protocol == "additive"
        and (
            any(node.op in PRODUCTS for node in nodes)
            or (provider == DEALER and suite.n_parties == 2 and bool(compared))
        )
    )
    if provider is not None or consumes:
        if provider is None:
            provider = default_provider(suite.protocol, suite.n_parties)
        problem = provider_problem(suite.protocol, suite.n_parties, provider)
        if problem:
            raise CompileError(problem)
    if not consumes:
        provider = None
    candidates = ["F61", "F127"]
    if suite.protocol == "additive" and provider != HONEST_MAJORITY and not widths:
        candidates = ["Z64", *candidates]
    contributors = 1 if provider == DEALER else suite.threshold + 1
    bound = max(node.vtype.bound for node in nodes)
    for name in candidates:
        if bound > EXACT[name]:
            continue
        modulus = FIELD_MODULUS.get(name)
        if widths and (
            modulus is None or not all(truncation_fits(w, modulus, contributors) for w in widths)
        ):
            continue
        # a comparison in a field opens d + r₀ + r₁ with two (l + κ)-bit masks
        if (
            compared
            and modulus is not None
            and not all(truncation_fits(w, modulus, 2) for w in compared)
        ):
            continue
        return name, provider
    widest = max([*widths, *compared], default=0)
    raise CompileError(
        f"no domain holds this circuit: values reach 2^{bound.bit_length()}"
        + (f" and a mask needs {widest} + {KAPPA} bits" if widest else "")
        + "; declare fewer input bits (or fewer fractional bits)"
    )
