"""Reading a party's own CSV datasets into validated numpy columns.

The first line is the header. Rows are numbered as in a spreadsheet: the header is row 1, the
first data row is row 2. Every problem is an `InputError` naming the file, and the column and row
where there is one: unreadable file, missing or duplicate column, ragged row, a cell that is not
an integer, a value outside ±2^bits, more rows than the configured limit.
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
