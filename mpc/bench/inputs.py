"""Each workload's inputs at one size: CSV files per party and the plaintext answers (`Prepare`).

Every column comes from `mpc.bench.data.signed_column` (deterministic per seed), is written once
under the data cache and reused by every setting; the answers are computed here in plaintext
(numpy, exact: every product and sum stays far inside int64) and checked against the parties'
outputs by the workload's `check`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mpc.bench.data import cached, seed_key, signed_column, write_csv
from mpc.bench.spec import Prepared, Setting, bits_for
from mpc.rng import Csprng

MUL_BITS = 20  # x·y < 2^40: exact in Z_2^64 and F_(2^61−1)
MATRIX_BITS = 16  # n·2^32 < 2^61 for every n the suites run
COMPARE_BITS = 31  # |v| < 2^31: the int32 range, as MPyC's secint(32)
INNER_BITS, INNER_FRAC = 7, 10  # multiples of 2^-10 below 2^7: exact in CSV and fixed point


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

    def build(folder: Path) -> dict[str, Any]:
        x, y = (
            signed_column(seed, INNER_BITS + INNER_FRAC, size, "inner_product", p) for p in (0, 1)
        )
        write_csv(folder / "party-0-x.csv", {"x": x / 2.0**INNER_FRAC})
        write_csv(folder / "party-1-y.csv", {"y": y / 2.0**INNER_FRAC})
        exact = int(np.dot(x.astype(object), y.astype(object)))
        return {"dot": exact / 2 ** (2 * INNER_FRAC)}

    folder, answers = cached(directory, ("inner_product", size, INNER_BITS, seed), build)
    return Prepared(
        inputs={0: {"x": folder / "party-0-x.csv"}, 1: {"y": folder / "party-1-y.csv"}},
        params={"bits": INNER_BITS + 1},
        expected=answers,
    )


def mul_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    """x at party 0, y at party 1 (|v| < 2^20); the answer is every product x_i·y_i."""

    def build(folder: Path) -> dict[str, Any]:
        x, y = (signed_column(seed, MUL_BITS, size, "mul", p) for p in (0, 1))
        write_csv(folder / "party-0-x.csv", {"x": x})
        write_csv(folder / "party-1-y.csv", {"y": y})
        return {"product": x * y}

    folder, answers = cached(directory, ("mul", size, MUL_BITS, seed), build)
    return Prepared(
        inputs={0: {"x": folder / "party-0-x.csv"}, 1: {"y": folder / "party-1-y.csv"}},
        params={"bits": MUL_BITS},
        expected=answers,
    )


def compare_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    """Both parties' `wealth` (|v| < 2^31); the answer is [a_i > b_i] per row."""

    def build(folder: Path) -> dict[str, Any]:
        a, b = (signed_column(seed, COMPARE_BITS, size, "compare", p) for p in (0, 1))
        write_csv(folder / "party-0-wealth.csv", {"wealth": a})
        write_csv(folder / "party-1-wealth.csv", {"wealth": b})
        return {"greater": (a > b).astype(np.int64)}

    folder, answers = cached(directory, ("compare", size, COMPARE_BITS, seed), build)
    return Prepared(
        inputs={p: {"wealth": folder / f"party-{p}-wealth.csv"} for p in (0, 1)},
        params={"bits": COMPARE_BITS},
        expected=answers,
    )


def _matrix(seed: int, rows: int, cols: int, *label: str | int) -> np.ndarray:
    return signed_column(seed, MATRIX_BITS, rows * cols, *label).reshape(rows, cols)


def _matrix_csv(path: Path, matrix: np.ndarray) -> Path:
    return write_csv(path, {f"c{j}": matrix[:, j] for j in range(matrix.shape[1])})


def matvec_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    """A (size × size) at party 0, v (one row of size) at party 1, |x| < 2^16; answer A @ v."""

    def build(folder: Path) -> dict[str, Any]:
        a = _matrix(seed, size, size, "matvec", 0)
        v = _matrix(seed, 1, size, "matvec", 1)
        _matrix_csv(folder / "party-0-a.csv", a)
        _matrix_csv(folder / "party-1-v.csv", v)
        return {"av": a @ v[0]}

    folder, answers = cached(directory, ("matvec", size, MATRIX_BITS, seed), build)
    return Prepared(
        inputs={0: {"a": folder / "party-0-a.csv"}, 1: {"v": folder / "party-1-v.csv"}},
        params={"bits": MATRIX_BITS, "cols": size},
        expected=answers,
    )


def matmul_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    """A at party 0, B at party 1 stored by columns (size × size each, |x| < 2^16); answer A @ B."""

    def build(folder: Path) -> dict[str, Any]:
        a, b = (_matrix(seed, size, size, "matmul", p) for p in (0, 1))
        _matrix_csv(folder / "party-0-a.csv", a)
        _matrix_csv(folder / "party-1-bt.csv", b.T)
        return {"ab": a @ b}

    folder, answers = cached(directory, ("matmul", size, MATRIX_BITS, seed), build)
    return Prepared(
        inputs={0: {"a": folder / "party-0-a.csv"}, 1: {"bt": folder / "party-1-bt.csv"}},
        params={"bits": MATRIX_BITS, "k": size},
        expected=answers,
    )


BRISTOL = Path(__file__).resolve().parents[3] / "shared" / "peer-tests" / "bristol"
AES_CIRCUIT = Path(os.environ.get("MPC_BRISTOL_DIR", BRISTOL)) / "aes_128.txt"  # as micro_gc
AES_KEY = "000102030405060708090a0b0c0d0e0f"  # FIPS-197 C.1: the garbler's key, every block


def aes_blocks(seed: int, size: int) -> list[str]:
    """`size` 128-bit plaintexts as 32 hex digits each (the evaluator's input)."""
    raw = Csprng.derive(seed_key(seed), "aes128").bytes(16 * size)
    return [raw[16 * i : 16 * i + 16].hex() for i in range(size)]


def aes128(key_hex: str, blocks: list[str]) -> list[str]:
    """The plaintext answer: AES-128 of each block under the key (ECB), as hex."""
    encryptor = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.ECB()).encryptor()
    out = encryptor.update(bytes.fromhex("".join(blocks))) + encryptor.finalize()
    return [out[16 * i : 16 * i + 16].hex() for i in range(len(blocks))]


def aes_prepare(size: int, setting: Setting, directory: Path, seed: int) -> Prepared:
    """Garbled AES-128 (`circuits/bristol.py` with the Bristol Fashion aes_128.txt): the key at
    party 0 (column `hex`, one row per block), the plaintexts at party 1."""

    def build(folder: Path) -> dict[str, Any]:
        blocks = aes_blocks(seed, size)
        _hex_csv(folder / "party-0-a.csv", [AES_KEY] * size)
        _hex_csv(folder / "party-1-b.csv", blocks)
        return {"out": np.array(aes128(AES_KEY, blocks))}

    folder, answers = cached(directory, ("aes128", size, seed), build)
    return Prepared(
        inputs={0: {"a": folder / "party-0-a.csv"}, 1: {"b": folder / "party-1-b.csv"}},
        params={"circuit": str(AES_CIRCUIT)},
        expected=answers,
    )


def _hex_csv(path: Path, values: list[str]) -> Path:
    path.write_text("id,hex\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    return path


def hex_check(outputs: Mapping[str, np.ndarray], prepared: Prepared) -> list[str]:
    """The circuit's one output, as hex strings, equals the plaintext ciphertexts."""
    want = prepared.expected["out"]
    if len(outputs) != 1:
        return [f"expected one output, got {sorted(outputs)}"]
    got = np.array(
        [str(v).lower().removeprefix("0x").zfill(32) for v in next(iter(outputs.values()))]
    )
    if got.shape != want.shape:
        return [f"output has shape {got.shape}, expected {want.shape}"]
    wrong = int(np.sum(got != want))
    return [f"{wrong} of {want.size} blocks differ from AES-128"] if wrong else []
