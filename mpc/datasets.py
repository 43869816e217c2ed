"""Reading a party's own CSV datasets into validated numpy columns.

The first line is the header. Rows are numbered as in a spreadsheet: the header is row 1, the
first data row is row 2. Every problem is an `InputError` naming the file, and the column and row
where there is one: unreadable file, missing or duplicate column, ragged row, a cell that is not
an integer, a value outside ±2^bits, more rows than the configured limit.

Plain files (no quotes, no carriage returns, a trailing newline, every row as wide as the header)
take numpy's C parser, about ten times faster than the `csv` module; anything else, and anything
the fast path refuses, is read by the exact `csv` path, which is the reference for every error.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mpc.errors import InputError


def read_columns(
    path: str | Path, columns: Mapping[str, int], *, max_rows: int
) -> tuple[int, dict[str, np.ndarray]]:
    """(row count, {column: int64 values}) for the integer `columns` (name → bits) of a CSV."""
    path = Path(path)
    fast = _read_plain(path, columns, max_rows)
    return fast if fast is not None else _read_exact(path, columns, max_rows)


def _read_exact(
    path: Path, columns: Mapping[str, int], max_rows: int
) -> tuple[int, dict[str, np.ndarray]]:
    """The `csv`-module path: any valid CSV, and the precise error for any invalid one."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, None)
            if header is None:
                raise InputError(path, "is empty (expected a header row)")
            header = [name.strip() for name in header]
            positions = _positions(path, header, columns)
            cells: dict[str, list[str]] = {name: [] for name in columns}
            width = len(header)
            rows = 0
            for line, row in enumerate(reader, start=2):
                if len(row) != width:
                    if not row or row == [""]:
                        raise InputError(path, "empty line inside the data", row=line)
                    raise InputError(
                        path, f"has {len(row)} fields, the header has {width}", row=line
                    )
                rows += 1
                if rows > max_rows:
                    message = f"has more than {max_rows} rows (limits.max_rows)"
                    raise InputError(path, message, row=line)
                for name, position in positions.items():
                    cells[name].append(row[position])
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise InputError(path, f"is not UTF-8 text: {error.reason}") from None
    except csv.Error as error:
        raise InputError(path, f"is not valid CSV: {error}") from None
    return rows, {
        name: _parse_integers(path, name, cells[name], bits) for name, bits in columns.items()
    }


def _read_plain(
    path: Path, columns: Mapping[str, int], max_rows: int
) -> tuple[int, dict[str, np.ndarray]] | None:
    """The fast path for plain files, or None to take the exact path."""
    try:
        raw = path.read_bytes()
        header_end = raw.index(b"\n")
        header = [name.strip() for name in raw[:header_end].decode("utf-8").split(",")]
    except (OSError, ValueError):
        return None
    body = raw[header_end + 1 :]
    rows = body.count(b"\n")
    if (
        b'"' in raw
        or b"\r" in raw
        or not body.endswith(b"\n")
        or b"\n\n" in body
        or body.count(b",") != rows * (len(header) - 1)  # with one comma per row less: not ragged
        or len(set(header)) != len(header)
        or rows > max_rows
        or not all(name in header for name in columns)
    ):
        return None
    values: dict[str, np.ndarray] = {}
    for name, bits in columns.items():
        try:
            column = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                usecols=header.index(name),
                dtype=np.int64,
                comments=None,
                encoding="utf-8",
                ndmin=1,
            )
        except (ValueError, OverflowError):
            return None
        limit = np.int64(2**bits)
        if column.shape != (rows,) or np.any((column >= limit) | (column <= -limit)):
            return None
        values[name] = column
    return rows, values


def _positions(path: Path, header: list[str], columns: Mapping[str, int]) -> dict[str, int]:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError(path, "appears twice in the header", column=name)
        seen.add(name)
    positions = {}
    for name in columns:
        if name not in seen:
            raise InputError(
                path, f"no such column (the header has: {', '.join(header)})", column=name
            )
        positions[name] = header.index(name)
    return positions


def _parse_integers(path: Path, column: str, cells: list[str], bits: int) -> np.ndarray:
    try:
        values = np.array(cells, dtype=np.int64)
    except (ValueError, OverflowError):
        for line, cell in enumerate(cells, start=2):  # error path only: the first bad cell wins
            try:
                number = int(cell)
            except ValueError:
                message = f"{cell!r} is not an integer"
                raise InputError(path, message, column=column, row=line) from None
            if not -(2**bits) < number < 2**bits:
                message = f"{cell.strip()} is outside ±2^{bits}"
                raise InputError(path, message, column=column, row=line) from None
        raise  # numpy refused a cell that Python parses: not expected, do not hide it
    limit = np.int64(2**bits)
    outside = np.flatnonzero((values >= limit) | (values <= -limit))
    if outside.size:
        line = int(outside[0]) + 2
        raise InputError(
            path, f"{cells[line - 2].strip()} is outside ±2^{bits}", column=column, row=line
        )
    return values
