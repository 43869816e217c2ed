"""Reading a party's own CSV datasets into validated numpy columns.

The first line is the header. Rows are numbered as in a spreadsheet: the header is row 1, the
first data row is row 2. Every problem is an `InputError` naming the file, and the column and row
where there is one: unreadable file, missing or duplicate column, ragged row, a cell that is not
an integer, a value outside ±2^bits, more rows than the configured limit.

Integer columns hold integers. Decimal columns (fixed point, `Column(bits, frac)` with frac > 0)
hold finite numbers with |x| < 2^bits, returned scaled: round(x·2^frac) as int64. Hex columns
(`Column(bits, hex=True)`, the inputs of Bristol circuits) hold big-endian hexadecimal numbers
below 2^bits, returned as bits (rows, bits) uint8 with bit k = wire k, least significant first
(the Bristol Fashion convention: the first wire is the last bit of the hex string).

Plain files (no quotes, no carriage returns, a trailing newline, every row as wide as the header)
take numpy's C parser, about ten times faster than the `csv` module; anything else, and anything
the fast path refuses, is read by the exact `csv` path, which is the reference for every error.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mpc.errors import InputError


@dataclass(frozen=True, slots=True)
class Column:
    """How to read a column: |x| < 2^bits, and `frac` fractional bits (0: integers only), or
    with `hex` big-endian hex numbers below 2^bits, read as bits."""

    bits: int
    frac: int = 0
    hex: bool = False


ColumnSpec = int | Column  # an int means Column(bits=int)
_HEX = re.compile(r"[0-9a-fA-F]+")


def _column(spec: ColumnSpec) -> Column:
    return spec if isinstance(spec, Column) else Column(spec)


def read_columns(
    path: str | Path, columns: Mapping[str, ColumnSpec], *, max_rows: int
) -> tuple[int, dict[str, np.ndarray]]:
    """(row count, {column: int64 values}) for the integer `columns` (name → bits) of a CSV."""
    path = Path(path)
    if any(_column(spec).hex for spec in columns.values()):
        return _read_exact(path, columns, max_rows)
    fast = _read_plain(path, columns, max_rows)
    return fast if fast is not None else _read_exact(path, columns, max_rows)


def _read_exact(
    path: Path, columns: Mapping[str, ColumnSpec], max_rows: int
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
        name: _parse(path, name, cells[name], _column(spec)) for name, spec in columns.items()
    }


def _read_plain(
    path: Path, columns: Mapping[str, ColumnSpec], max_rows: int
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
    if rows == 0:
        return None
    by_kind: dict[bool, list[str]] = {}  # decimal or not → column names: one parse each
    for name, spec in columns.items():
        by_kind.setdefault(bool(_column(spec).frac), []).append(name)
    values: dict[str, np.ndarray] = {}
    for decimal, names in by_kind.items():
        try:
            parsed = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                usecols=[header.index(name) for name in names],
                dtype=np.float64 if decimal else np.int64,
                comments=None,
                encoding="utf-8",
                ndmin=2,
            )
        except (ValueError, OverflowError):
            return None
        if parsed.shape != (rows, len(names)) or not np.all(np.isfinite(parsed)):
            return None
        for index, name in enumerate(names):
            column = _column(columns[name])
            if np.any(np.abs(parsed[:, index]) >= 2**column.bits):
                return None
            values[name] = _scaled(np.ascontiguousarray(parsed[:, index]), column)
    return rows, values


def _scaled(values: np.ndarray, column: Column) -> np.ndarray:
    """Decimals as int64 multiples of 2^-frac (integers unchanged)."""
    if not column.frac:
        return values.astype(np.int64)
    return np.rint(values * 2.0**column.frac).astype(np.int64)


def _parse(path: Path, name: str, cells: list[str], column: Column) -> np.ndarray:
    if column.hex:
        return _parse_hex(path, name, cells, column.bits)
    if not column.frac:
        return _parse_integers(path, name, cells, column.bits)
    try:
        values = np.array(cells, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) >= 2**column.bits))
        if not bad.size:
            return _scaled(values, column)
        first = int(bad[0])
    except ValueError:
        first = 0
    for line, cell in enumerate(cells[first:], start=first + 2):  # error path: first bad cell
        try:
            number = float(cell)
        except ValueError:
            raise InputError(path, f"{cell!r} is not a number", column=name, row=line) from None
        if not np.isfinite(number):
            raise InputError(path, f"{cell.strip()} is not a finite number", column=name, row=line)
        if abs(number) >= 2**column.bits:
            message = f"{cell.strip()} is outside ±2^{column.bits}"
            raise InputError(path, message, column=name, row=line)
    raise AssertionError("a bad cell was expected")


def _positions(path: Path, header: list[str], columns: Mapping[str, ColumnSpec]) -> dict[str, int]:
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


def _parse_hex(path: Path, name: str, cells: list[str], bits: int) -> np.ndarray:
    try:
        return hex_to_bits(cells, bits)
    except ValueError:
        pass
    for line, cell in enumerate(cells, start=2):  # error path: the first bad cell wins
        try:
            hex_to_bits([cell], bits)
        except ValueError as error:
            reason = str(error).removeprefix("values: ")
            raise InputError(path, f"{cell.strip()!r}: {reason}", column=name, row=line) from None
    raise AssertionError("a bad cell was expected")


def hex_to_bits(values: Sequence[str], width: int) -> np.ndarray:
    """Big-endian hex numbers → bits (n, width) uint8, bit k = wire k (least significant first)."""
    nbytes = -(-width // 8)
    digits = [v.strip().removeprefix("0x") for v in values]
    if not all(_HEX.fullmatch(d) for d in digits):
        raise ValueError("values: expected hexadecimal strings")
    if any(len(d) > 2 * nbytes for d in digits):
        raise ValueError(f"values: a number does not fit in {width} bits")
    try:
        raw = np.frombuffer(bytes.fromhex("".join(d.zfill(2 * nbytes) for d in digits)), np.uint8)
    except ValueError:
        raise ValueError("values: expected hexadecimal strings") from None
    little = raw.reshape(len(values), nbytes)[:, ::-1]
    bits = np.unpackbits(little, axis=1, bitorder="little")
    if np.any(bits[:, width:]):
        raise ValueError(f"values: a number does not fit in {width} bits")
    return np.ascontiguousarray(bits[:, :width])


def bits_to_hex(bits: np.ndarray) -> list[str]:
    """Bits (n, width) uint8 → big-endian hex strings of ⌈width/4⌉ digits."""
    b = np.asarray(bits, dtype=np.uint8)
    n, width = b.shape
    nbytes = -(-width // 8)
    padded = np.zeros((n, nbytes * 8), dtype=np.uint8)
    padded[:, :width] = b
    big = np.packbits(padded, axis=1, bitorder="little")[:, ::-1]
    digits = -(-width // 4)
    return [row.tobytes().hex()[-digits:] if digits else "" for row in big]
