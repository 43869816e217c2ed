"""Every benchmark workload, registered in one place (`registry()`).

A `Workload` runs a circuit between real party processes: its sizes (quick and full suites), the
suites it runs on (`Setting`), how its inputs are made (`prepare`: CSV files per party plus the
plaintext answers) and how the outputs are checked against them (`check`; a benchmark of wrong
answers is worthless, so nothing is recorded before the check passes). A `MicroWorkload` is a
single-process script (e.g. a garbling or OT micro-benchmark) that prints JSON lines.

Adding a workload is a few lines here, for example once `circuits/inner_product.py` exists:

    Workload(
        "inner_product", "circuits/inner_product.py", Sizes((10**3, 10**4), (10**3, 10**5)),
        THREE_PARTIES, columns_prepare("inner_product", columns=1, bits=20, answers=inner),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mpc.bench.data import cached, signed_column, write_csv


class WrongAnswerError(AssertionError):
    """A workload's outputs differ from the plaintext answer: nothing is recorded."""


@dataclass(frozen=True)
class Setting:
    """A suite and a number of parties to run a workload on."""

    protocol: str
    parties: int
    threshold: int | None = None

    @property
    def name(self) -> str:
        return f"{self.protocol}-{self.parties}" + (
            f"-t{self.threshold}" if self.threshold is not None else ""
        )


@dataclass(frozen=True)
class Sizes:
    """Problem sizes (rows, elements, matrix side, …) of the quick and the full suite."""

    quick: tuple[int, ...]
    full: tuple[int, ...]

    def of(self, suite: str) -> tuple[int, ...]:
        if suite not in ("quick", "full"):
            raise ValueError(f"suite is quick or full, got {suite!r}")
        return self.quick if suite == "quick" else self.full


@dataclass(frozen=True)
class Prepared:
    """One workload's inputs at one size: CSVs per party, circuit params, plaintext answers."""

    inputs: dict[int, dict[str, Path]]
    params: dict[str, Any]
    expected: dict[str, np.ndarray]


Prepare = Callable[[int, Setting, Path, int], Prepared]  # size, setting, data dir, seed
Check = Callable[[Mapping[str, np.ndarray], Prepared], list[str]]  # → problems (empty: right)


def exact_check(outputs: Mapping[str, np.ndarray], prepared: Prepared) -> list[str]:
    """Every expected output is present and equal to the plaintext answer, element for element."""
    problems = []
    for name, want in prepared.expected.items():
        got = outputs.get(name)
        if got is None:
            problems.append(f"output {name!r} is missing")
        elif np.shape(got) != np.shape(want):
            problems.append(f"output {name!r} has shape {np.shape(got)}, expected {want.shape}")
        elif not np.array_equal(got, want):
            wrong = int(np.sum(np.asarray(got) != want))
            problems.append(
                f"output {name!r} differs from the plaintext answer in {wrong} of "
                f"{max(want.size, 1)} elements"
            )
    return problems


@dataclass(frozen=True)
class Workload:
    """A circuit run between real party processes over TLS, as `mpc local` runs it."""

    name: str
    circuit: str  # path relative to the repository root
    sizes: Sizes
    settings: tuple[Setting, ...]
    prepare: Prepare
    check: Check = exact_check
    full_settings: tuple[Setting, ...] = ()  # extra settings of the full suite
    unit: str = "rows"
    description: str = ""

    def settings_of(self, suite: str) -> tuple[Setting, ...]:
        return self.settings + (self.full_settings if suite == "full" else ())

    def verify(self, outputs: Mapping[str, np.ndarray], prepared: Prepared) -> None:
        problems = self.check(outputs, prepared)
        if problems:
            raise WrongAnswerError(f"{self.name}: " + "; ".join(problems))


@dataclass(frozen=True)
class MicroWorkload:
    """A single-process micro-benchmark: `python SCRIPT SIZE_ARG N ARGS...` printing JSON lines.

    Every line with a `seconds` field is a measurement, named by the values of its `key` fields
    (e.g. `("bench", "role")` → `iknp_random/sender`; without `key` the last such line is the
    one measurement). `"correct": false` on any line fails the run like a wrong answer. Other
    numeric fields of each line are kept in its record.
    """

    name: str
    script: str  # path relative to the repository root
    sizes: Sizes
    args: tuple[str, ...] = ()
    size_arg: str = "--size"
    key: tuple[str, ...] = ()
    unit: str = "elements"
    description: str = ""


AnyWorkload = Workload | MicroWorkload


def close_check(tolerance: float) -> Check:
    """Outputs equal to the plaintext answer within `tolerance` (fixed-point results)."""

    def check(outputs: Mapping[str, np.ndarray], prepared: Prepared) -> list[str]:
        problems = []
        for name, want in prepared.expected.items():
            got = outputs.get(name)
            if got is None:
                problems.append(f"output {name!r} is missing")
            elif np.shape(got) != np.shape(want):
                problems.append(f"output {name!r} has shape {np.shape(got)}, expected {want.shape}")
            else:
                error = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want), initial=0))
                if not error <= tolerance:
                    problems.append(f"output {name!r} is off by {error:.3g} (> {tolerance:.3g})")
        return problems

    return check


def bits_for(rows: int, parties: int, limit: int = 36) -> int:
    """Input bits such that the sum of every value of every party stays exact in both suites."""
    return max(1, min(limit, 59 - (rows * parties).bit_length()))


def secure_sum_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    bits = bits_for(size, setting.parties)

    def build(folder: Path) -> dict[str, Any]:
        columns = [signed_column(seed, bits, size, "secure_sum", p) for p in range(setting.parties)]
        for party, column in enumerate(columns):
            write_csv(folder / f"party-{party}-values.csv", {"value": column})
        elementwise = np.sum(columns, axis=0, dtype=np.int64)
        return {"sum": elementwise, "total": int(elementwise.sum(dtype=np.int64))}

    folder, answers = cached(directory, ("secure_sum", setting.parties, size, bits, seed), build)
    return Prepared(
        inputs={p: {"values": folder / f"party-{p}-values.csv"} for p in range(setting.parties)},
        params={"bits": bits},
        expected=answers,
    )


def inner_product_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    """x at party 0, y at party 1: multiples of 2^-10 below 2^7, exact in CSV and fixed point."""
    bits = 7

    def build(folder: Path) -> dict[str, Any]:
        x, y = (signed_column(seed, bits + 10, size, "inner_product", p) for p in (0, 1))
        write_csv(folder / "party-0-x.csv", {"x": x / 1024.0})
        write_csv(folder / "party-1-y.csv", {"y": y / 1024.0})
        exact = int(np.dot(x.astype(object), y.astype(object)))
        return {"dot": exact / 2**20}

    folder, answers = cached(directory, ("inner_product", size, bits, seed), build)
    return Prepared(
        inputs={0: {"x": folder / "party-0-x.csv"}, 1: {"y": folder / "party-1-y.csv"}},
        params={"bits": bits + 1},
        expected=answers,
    )


THREE_PARTIES = (Setting("additive", 3), Setting("shamir", 3))


@dataclass(frozen=True)
class Registry:
    """The registered workloads, by name, in the order they run."""

    workloads: tuple[AnyWorkload, ...] = field(default_factory=tuple)

    def names(self) -> list[str]:
        return [w.name for w in self.workloads]

    def get(self, name: str) -> AnyWorkload:
        for workload in self.workloads:
            if workload.name == name:
                return workload
        raise KeyError(f"no workload {name!r}; registered: {', '.join(self.names())}")

    def select(self, names: list[str] | None) -> tuple[AnyWorkload, ...]:
        return self.workloads if not names else tuple(self.get(n) for n in names)


def registry() -> Registry:
    """Every workload of the benchmark suite (add new ones here)."""
    return Registry(
        (
            Workload(
                "secure_sum",
                "circuits/secure_sum.py",
                Sizes(quick=(10**4, 10**5, 10**6), full=(10**3, 10**4, 10**5, 10**6, 10**7)),
                THREE_PARTIES,
                secure_sum_prepare,
                full_settings=(Setting("additive", 2), Setting("shamir", 5)),
                description="element-wise sum of one column per party and its total",
            ),
            Workload(
                "inner_product",
                "circuits/inner_product.py",
                Sizes(quick=(10**3, 10**4, 10**5), full=(10**3, 10**4, 10**5, 10**6)),
                (Setting("shamir", 3),),  # additive needs a dealer process, which mpc local lacks
                inner_product_prepare,
                check=close_check(2**-22),  # one probabilistic truncation: off by < 2^-24
                description="dot product of party 0's and party 1's fixed-point columns",
            ),
            MicroWorkload(
                "micro_gc",
                "benchmarks/micro_gc.py",
                Sizes(quick=(10_000,), full=(10_000, 100_000)),
                args=("--repeats", "1", "--ots", "65536", "--aes-blocks", "100"),
                size_arg="--instances",
                key=("bench", "role"),
                unit="comparators",
                description="garbling/evaluating 32-bit comparators, IKNP OTs, base OTs",
            ),
        )
    )
