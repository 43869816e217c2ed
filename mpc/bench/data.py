"""Deterministic synthetic inputs for the benchmarks: integer columns written as CSV, cached.

Benchmark data is public and reproducible: every column comes from `Csprng.derive(seed, ...)`, so
the same workload, size, party and seed give the same file on any machine (the harness uses no
other generator, like the rest of `mpc`). Files are written once under a cache directory keyed by
everything that determines them, next to a JSON file of the plaintext answers the workload checks.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mpc.rng import Csprng


def seed_key(seed: int) -> bytes:
    """The 32-byte key behind every column of a benchmark run with `seed`."""
    return hashlib.sha256(f"mpc-bench-{seed}".encode()).digest()


def signed_column(seed: int, bits: int, rows: int, *label: str | int) -> np.ndarray:
    """`rows` integers uniform in (-2^bits, 2^bits), the same for the same arguments."""
    if not 1 <= bits <= 62:
        raise ValueError("bits must be in 1..62")
    span = 2 ** (bits + 1) - 1
    raw = Csprng.derive(seed_key(seed), *label).below(rows, span)
    return raw.astype(np.int64) - np.int64(2**bits - 1)


def write_csv(path: Path, columns: Mapping[str, np.ndarray]) -> Path:
    """Write integer or decimal columns (with an `id` column first) atomically.

    Decimals are written with 10 digits after the point: exact for multiples of 2^-10.
    """
    names = ["id", *columns]
    rows = len(next(iter(columns.values()))) if columns else 0
    table = np.column_stack([np.arange(rows, dtype=np.int64), *columns.values()])
    formats = ["%d"] + [
        "%.10f" if np.issubdtype(c.dtype, np.floating) else "%d" for c in columns.values()
    ]
    partial = path.with_suffix(path.suffix + f".{os.getpid()}.part")
    np.savetxt(partial, table, fmt=formats, delimiter=",", header=",".join(names), comments="")
    partial.replace(path)
    return path


def cached(
    directory: Path, key: Sequence[Any], build: Callable[[Path], Mapping[str, Any]]
) -> tuple[Path, dict[str, np.ndarray]]:
    """Run `build(folder)` once per `key`; return the folder and the answers it returned.

    `build` writes its files into the folder and returns the plaintext answers (numbers or
    numeric arrays); they are stored last (`answers.npz`), so a folder without them (an
    interrupted build) is built again.
    """
    digest = hashlib.sha256(json.dumps(list(key), sort_keys=True).encode()).hexdigest()[:16]
    folder = directory / f"{'-'.join(str(k) for k in key)[:60]}-{digest}"
    answers = folder / "answers.npz"
    if answers.exists():
        with np.load(answers) as stored:
            return folder, {name: stored[name] for name in stored.files}
    folder.mkdir(parents=True, exist_ok=True)
    result = {name: np.asarray(value) for name, value in build(folder).items()}
    partial = folder / f"answers.{os.getpid()}.part.npz"
    np.savez(partial, **result)  # type: ignore[arg-type]
    partial.replace(answers)
    return folder, result
