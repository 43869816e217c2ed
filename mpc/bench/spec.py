"""What a benchmark workload is: settings, sizes, prepared inputs, the plaintext check.

A `Workload` runs a circuit between real party processes: its sizes (quick and full suites), the
suites it runs on (`Setting`: protocol, parties, threshold and preprocessing provider), how its
inputs are made (`prepare`: CSV files per party plus the plaintext answers) and how the outputs
are checked against them (`check`; a benchmark of wrong answers is worthless, so nothing is
recorded before the check passes). `operations` turns a size into the number of secure
operations it performs (products, comparisons, …), for rates and bytes per operation. A
`MicroWorkload` is a single-process script (e.g. a garbling or OT micro-benchmark) that prints
JSON lines. The registry of every workload is `mpc.bench.workloads.registry()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mpc.suite import PROVIDERS


class WrongAnswerError(AssertionError):
    """A workload's outputs differ from the plaintext answer: nothing is recorded."""


@dataclass(frozen=True)
class Setting:
    """A suite, a number of parties, and who makes the preprocessing (None: the default)."""

    protocol: str
    parties: int
    threshold: int | None = None
    preprocessing: str | None = None

    @property
    def name(self) -> str:
        """`shamir-3`, `shamir-5-t2`, `additive-2-dealer`: `parse_setting` reads it back."""
        return (
            f"{self.protocol}-{self.parties}"
            + (f"-t{self.threshold}" if self.threshold is not None else "")
            + (f"-{self.preprocessing}" if self.preprocessing is not None else "")
        )


def parse_setting(name: str) -> Setting:
    """`additive-3`, `shamir-5-t2` or `additive-2-ot` (a `Setting.name`) back into a Setting."""
    protocol, _, rest = name.partition("-")
    parties, _, rest = rest.partition("-")
    threshold: int | None = None
    if rest[:1] == "t" and rest[1:].partition("-")[0].isdigit():
        digits, _, rest = rest[1:].partition("-")
        threshold = int(digits)
    if not parties.isdigit() or (rest and rest not in PROVIDERS):
        raise ValueError(
            f"a setting is PROTOCOL-PARTIES[-tT][-PROVIDER], e.g. shamir-3 or additive-2-dealer "
            f"(providers: {', '.join(PROVIDERS)}); got {name!r}"
        )
    return Setting(protocol, int(parties), threshold, rest or None)


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


def _check_each(
    outputs: Mapping[str, np.ndarray],
    prepared: Prepared,
    differs: Callable[[str, np.ndarray, np.ndarray], str | None],
) -> list[str]:
    """Every expected output present, of the expected shape, and not `differs` (→ a problem)."""
    problems = []
    for name, want in prepared.expected.items():
        got = outputs.get(name)
        if got is None:
            problems.append(f"output {name!r} is missing")
        elif np.shape(got) != np.shape(want):
            problems.append(f"output {name!r} has shape {np.shape(got)}, expected {want.shape}")
        elif (problem := differs(name, np.asarray(got), want)) is not None:
            problems.append(problem)
    return problems


def _unequal(name: str, got: np.ndarray, want: np.ndarray) -> str | None:
    if np.array_equal(got, want):
        return None
    wrong = int(np.sum(got != want))
    return (
        f"output {name!r} differs from the plaintext answer in {wrong} of "
        f"{max(want.size, 1)} elements"
    )


def exact_check(outputs: Mapping[str, np.ndarray], prepared: Prepared) -> list[str]:
    """Every expected output is present and equal to the plaintext answer, element for element."""
    return _check_each(outputs, prepared, _unequal)


def close_check(tolerance: float) -> Check:
    """Outputs equal to the plaintext answer within `tolerance` (fixed-point results)."""

    def too_far(name: str, got: np.ndarray, want: np.ndarray) -> str | None:
        error = float(np.max(np.abs(got.astype(np.float64) - want), initial=0))
        if error <= tolerance:
            return None
        return f"output {name!r} is off by {error:.3g} (> {tolerance:.3g})"

    def check(outputs: Mapping[str, np.ndarray], prepared: Prepared) -> list[str]:
        return _check_each(outputs, prepared, too_far)

    return check


def bits_for(rows: int, parties: int, limit: int = 36) -> int:
    """Input bits such that the sum of every value of every party stays exact in both suites."""
    return max(1, min(limit, 59 - (rows * parties).bit_length()))


def linear(size: int) -> int:
    return size


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
    setting_sizes: Mapping[str, Sizes] = field(default_factory=dict)  # by setting name
    operations: Callable[[int], int] | None = None  # size → secure operations (None: no rates)
    operation: str = ""  # what one operation is, e.g. "multiplications"
    peer_bits: int | None = None  # the peers' input bits (None: `bits_for(size, parties)`)

    def settings_of(self, suite: str) -> tuple[Setting, ...]:
        return self.settings + (self.full_settings if suite == "full" else ())

    def sizes_of(self, suite: str, setting: Setting | None = None) -> tuple[int, ...]:
        """The suite's sizes, or the setting's own where it has fewer (an expensive provider)."""
        sizes = self.setting_sizes.get(setting.name) if setting is not None else None
        return (sizes or self.sizes).of(suite)

    def bits_for_peers(self, size: int, parties: int) -> int:
        return self.peer_bits if self.peer_bits is not None else bits_for(size, parties)

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
    numeric fields of each line are kept in its record. A line's size is its first field named
    in `sized_by` (with that entry's unit: e.g. an OT line's `ots`), else the size argument.
    """

    name: str
    script: str  # path relative to the repository root
    sizes: Sizes
    args: tuple[str, ...] = ()
    size_arg: str = "--size"
    key: tuple[str, ...] = ()
    unit: str = "elements"
    description: str = ""
    sized_by: tuple[tuple[str, str], ...] = ()  # (field, unit), first present wins


AnyWorkload = Workload | MicroWorkload


@dataclass(frozen=True)
class Pending:
    """A workload that cannot run yet (e.g. its circuit is still being written), and why."""

    name: str
    reason: str
