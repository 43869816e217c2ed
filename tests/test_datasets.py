"""Tests of mpc.datasets.read_columns: good CSV files, and every InputError naming file/column/row.

Rows are numbered as in a spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpc.datasets import read_columns
from mpc.errors import InputError

BITS = 40


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode())
    return path


def read_error(
    path: Path, columns: dict[str, int] | None = None, max_rows: int = 1000
) -> InputError:
    with pytest.raises(InputError) as info:
        read_columns(path, columns or {"value": BITS}, max_rows=max_rows)
    error = info.value
    assert error.path == str(path)
    assert str(error).startswith(str(path))
    return error


# --- good files ----------------------------------------------------------------------------------


def test_read_columns_good_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id, value ,name,weight\r\n"
        '1,5,"Smith, J.",-3\r\n'
        '2," 17 ","He said ""hi""",0\r\n'
        "3,-1099511627775,x,+4\r\n"
        '4,"-8",,1099511627775\r\n',
    )
    rows, columns = read_columns(path, {"value": BITS, "weight": BITS}, max_rows=4)
    assert rows == 4
    assert set(columns) == {"value", "weight"}
    assert columns["value"].dtype == np.int64
    assert columns["value"].tolist() == [5, 17, -(2**40 - 1), -8]
    assert columns["weight"].tolist() == [-3, 0, 4, 2**40 - 1]


@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_read_columns_line_endings(tmp_path: Path, ending: str, final_newline: bool) -> None:
    text = ending.join(["value", "1", "-2", "3"]) + (ending if final_newline else "")
    rows, columns = read_columns(write(tmp_path, text), {"value": 8}, max_rows=10)
    assert rows == 3
    assert columns["value"].tolist() == [1, -2, 3]


def test_read_columns_header_only(tmp_path: Path) -> None:
    rows, columns = read_columns(write(tmp_path, "id,value\n"), {"value": 8}, max_rows=10)
    assert rows == 0
    assert columns["value"].shape == (0,)
    assert columns["value"].dtype == np.int64


def test_read_columns_accepts_exactly_max_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "value\n" + "".join(f"{i}\n" for i in range(50)))
    rows, columns = read_columns(path, {"value": 8}, max_rows=50)
    assert rows == 50
    assert columns["value"].tolist() == list(range(50))


@given(
    values=st.lists(st.integers(-(2**BITS - 1), 2**BITS - 1), max_size=30),
    crlf=st.booleans(),
    quote=st.booleans(),
)
@settings(max_examples=50, deadline=None)
def test_read_columns_matches_plaintext(values: list[int], crlf: bool, quote: bool) -> None:
    import tempfile

    ending = "\r\n" if crlf else "\n"
    cells = [f'"{v}"' if quote else str(v) for v in values]
    text = ending.join(["a,value", *(f"{i},{c}" for i, c in enumerate(cells))]) + ending
    with tempfile.TemporaryDirectory() as tmp:
        rows, columns = read_columns(write(Path(tmp), text), {"value": BITS}, max_rows=30)
    assert rows == len(values)
    assert columns["value"].tolist() == values


# --- errors --------------------------------------------------------------------------------------


def test_read_columns_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    error = read_error(path)
    assert "cannot read" in str(error)
    assert "No such file" in str(error)


def test_read_columns_directory(tmp_path: Path) -> None:
    assert "cannot read" in str(read_error(tmp_path))


@pytest.mark.parametrize("text", ["", b""], ids=["empty-text", "empty-bytes"])
def test_read_columns_empty_file(tmp_path: Path, text: str | bytes) -> None:
    assert "is empty (expected a header row)" in str(read_error(write(tmp_path, text)))


def test_read_columns_missing_column_lists_the_header(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "id,amount,name\n1,2,x\n"))
    assert error.column == "value"
    assert error.row is None
    assert "column 'value'" in str(error)
    assert "the header has: id, amount, name" in str(error)


def test_read_columns_duplicate_header(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "value,id,value\n1,2,3\n"))
    assert error.column == "value"
    assert "appears twice in the header" in str(error)


@pytest.mark.parametrize(
    ("text", "row", "fields"),
    [
        ("id,value\n1,2\n3\n", 3, 1),
        ("id,value\n1,2\n3,4\n5,6,7\n", 4, 3),
        ("id,value\r\n1,2\r\n3,4,\r\n", 3, 3),
    ],
)
def test_read_columns_ragged_row(tmp_path: Path, text: str, row: int, fields: int) -> None:
    error = read_error(write(tmp_path, text))
    assert error.row == row
    assert f"row {row}" in str(error)
    assert f"has {fields} fields, the header has 2" in str(error)


def test_read_columns_empty_line_inside_the_data(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "id,value\n1,2\n\n3,4\n"))
    assert error.row == 3
    assert "empty line" in str(error)


@pytest.mark.parametrize(
    ("cell", "row"),
    [("x", 3), ("1.5", 2), ("", 4), ("1e3", 2), ("0x10", 3), ("--1", 2), ("12 34", 3)],
)
def test_read_columns_non_integer_cell(tmp_path: Path, cell: str, row: int) -> None:
    cells = ["1", "2", "3"]
    cells[row - 2] = cell
    text = "id,value\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells))
    error = read_error(write(tmp_path, text))
    assert (error.column, error.row) == ("value", row)
    assert f"column 'value', row {row}" in str(error)
    assert f"{cell!r} is not an integer" in str(error)


@pytest.mark.parametrize(
    ("cell", "bits"),
    [
        (str(2**BITS), BITS),
        (str(-(2**BITS)), BITS),
        ("256", 8),
        ("-256", 8),
        (str(2**62), BITS),
    ],
)
def test_read_columns_value_outside_the_bound(tmp_path: Path, cell: str, bits: int) -> None:
    path = write(tmp_path, f"value\n0\n{cell}\n1\n")
    error = read_error(path, {"value": bits})
    assert (error.column, error.row) == ("value", 3)
    assert f"{cell} is outside ±2^{bits}" in str(error)


@pytest.mark.parametrize("cell", [str(2**63), str(-(2**63) - 1), "9" * 30, "-" + "9" * 30])
def test_read_columns_integer_beyond_int64(tmp_path: Path, cell: str) -> None:
    error = read_error(write(tmp_path, f"value\n0\n1\n{cell}\n"))
    assert (error.column, error.row) == ("value", 4)
    assert f"{cell} is outside ±2^{BITS}" in str(error)


def test_read_columns_integer_beyond_int64_then_non_integer(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, f"value\n{'9' * 25}\nx\n"))
    assert (error.column, error.row) in {("value", 2), ("value", 3)}


def test_read_columns_first_bad_cell_wins(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "value\n1\nx\n" + "9" * 25 + "\n"))
    assert (error.column, error.row) == ("value", 3)


def test_read_columns_names_the_right_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n1,2\n3,oops\n")
    error = read_error(path, {"a": BITS, "b": BITS})
    assert (error.column, error.row) == ("b", 3)


def test_read_columns_too_many_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "value\n" + "".join(f"{i}\n" for i in range(6)))
    error = read_error(path, max_rows=5)
    assert "more than 5 rows" in str(error)
    assert "limits.max_rows" in str(error)


def test_read_columns_too_many_rows_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path, "value\n" + "".join(f"{i}\n" for i in range(6)))
    assert read_error(path, max_rows=5).row == 7


@pytest.mark.parametrize(
    "data",
    [b"value\n1\n\xff\xfe\n", b"\xe9t\xe9,value\n1,2\n", b"value\n1\n\xc3\n"],
    ids=["invalid-bytes", "latin-1-header", "truncated-sequence"],
)
def test_read_columns_non_utf8(tmp_path: Path, data: bytes) -> None:
    error = read_error(write(tmp_path, data))
    assert "is not UTF-8 text" in str(error)


def test_read_columns_invalid_csv(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "value\n1\n" + "7" * 200_000 + "\n"))
    assert "is not valid CSV" in str(error)


def test_read_columns_nul_in_a_cell(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, 'value\n"1\x00"\n'))
    assert (error.column, error.row) == ("value", 2)
    assert "is not an integer" in str(error)


def test_read_columns_unterminated_quote(tmp_path: Path) -> None:
    read_error(write(tmp_path, 'value\n1\n"12\n'))


def test_read_columns_counts_rows_without_columns(tmp_path: Path) -> None:
    rows, columns = read_columns(write(tmp_path, "value\n1\n2\n3\n"), {}, max_rows=10)
    assert (rows, columns) == (3, {})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=st.lists(
        st.lists(st.integers(-(2**40) + 1, 2**40 - 1), min_size=3, max_size=3),
        min_size=1,
        max_size=30,
    ),
    spaces=st.booleans(),
)
def test_read_columns_fast_path_matches_exact_path(
    tmp_path: Path, table: list[list[int]], spaces: bool
) -> None:
    from mpc.datasets import _read_exact, _read_plain

    pad = " " if spaces else ""
    text = "a,value,b\n" + "".join(",".join(f"{pad}{v}" for v in row) + "\n" for row in table)
    path = tmp_path / "plain.csv"
    path.write_text(text)
    fast = _read_plain(path, {"value": 40, "b": 41}, 10**6)
    exact = _read_exact(path, {"value": 40, "b": 41}, 10**6)
    assert fast is not None  # a plain file takes the fast path
    assert fast[0] == exact[0] == len(table)
    for name in ("value", "b"):
        assert fast[1][name].tolist() == exact[1][name].tolist()
