"""Bristol Fashion: conformance with the AES-128/256 and SHA-256 known answers, the parser's
gate types and its errors, and the bit order."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mpc.errors import CompileError
from mpc.gc import bristol
from mpc.gc.circuit import Circuit, evaluate
from mpc.gc.protocol import evaluator, garbler
from mpc.rng import Csprng
from tests.gc_helpers import garbled_run
from tests.twoparty import run_two

# the shared peer-test data next to the checkout (never copied into the project)
DEFAULT_PEER = Path(__file__).resolve().parents[2] / "shared" / "peer-tests" / "bristol"
PEER = Path(os.environ.get("MPC_BRISTOL_DIR", DEFAULT_PEER))
needs_peer = pytest.mark.skipif(
    not (PEER / "expected.json").exists(),
    reason=f"Bristol peer test data not found at {PEER} (set MPC_BRISTOL_DIR to its directory)",
)


@functools.cache
def load(name: str) -> Circuit:
    return bristol.load(PEER / name)


def cases() -> list[tuple[str, list[dict[str, Any]]]]:
    if not (PEER / "expected.json").exists():
        return [("missing", [])]
    return sorted(json.loads((PEER / "expected.json").read_text())["cases"].items())


@needs_peer
@pytest.mark.parametrize(
    ("name", "answers"), cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_bristol_known_answers_plain_and_garbled(name: str, answers: list[dict[str, Any]]) -> None:
    c = load(name)
    # all known answers of a circuit as instances of one batch
    inputs = [
        bristol.hex_to_bits([a["inputs"][g] for a in answers], width)
        for g, width in enumerate(c.input_widths)
    ]
    expected = [a["output"] for a in answers]
    assert bristol.bits_to_hex(evaluate(c, inputs)[0]) == expected
    garbled, _, _, _, _ = garbled_run(c, inputs)
    assert bristol.bits_to_hex(garbled[0]) == expected


@needs_peer
def test_bristol_gate_counts_match_the_readme() -> None:
    counts = {
        "aes_128.txt": (6400, 28176, 2087),
        "aes_256.txt": (8832, 39008, 2826),
        "sha256.txt": (22573, 110644, 1856),
    }
    for name, expected in counts.items():
        c = load(name)
        assert (c.and_count, c.xor_count, c.inv_count) == expected


@needs_peer
def test_bristol_aes_between_two_parties() -> None:
    # key from the garbler, plaintexts from the evaluator (the garbled-AES workload)
    c = load("aes_128.txt")
    answer = json.loads((PEER / "expected.json").read_text())["cases"]["aes_128.txt"][0]
    n = 3
    key = bristol.hex_to_bits([answer["inputs"][0]] * n, 128)
    plain = bristol.hex_to_bits([answer["inputs"][1], "0" * 32, "f" * 32], 128)
    expected = bristol.bits_to_hex(evaluate(c, [key, plain])[0])
    assert expected[0] == answer["output"]
    _, out, traffic = run_two(
        garbler(Csprng(), 1, c, {0: key}, n, session=b"aes"),
        evaluator(Csprng(), 0, c, {1: plain}, n, session=b"aes"),
    )
    assert bristol.bits_to_hex(out[0]) == expected
    assert traffic.bytes_sent[0] >= 6400 * 32 * n  # the tables


def test_bristol_extended_gates_eq_eqw_mand() -> None:
    text = """8 12
2 2 2
1 3

1 1 1 4 EQ
1 1 0 5 EQ
1 1 0 6 EQW
4 2 0 2 1 3 7 8 MAND
2 1 7 4 9 XOR
1 1 8 10 INV
2 1 9 5 11 XOR
2 1 6 10 12 AND
"""
    text = text.replace("8 12\n", "8 13\n")
    c = bristol.parse(text)
    inputs = [np.array([[a0, a1]], np.uint8) for a0 in (0, 1) for a1 in (0, 1)]
    for x in inputs:
        for y in inputs:
            a0, a1, b0, b1 = int(x[0, 0]), int(x[0, 1]), int(y[0, 0]), int(y[0, 1])
            w7, w8 = a0 & a1, b0 & b1  # MAND: wires (0, 1) → 7, (2, 3) → 8
            out = evaluate(c, [x, y])[0][0].tolist()
            assert out == [w8 ^ 1, w7 ^ 1, a0 & (1 - w8)]  # wires 10, 11, 12
    assert c.and_count == 3


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1 3\n1 1\n1 1\n", "1", "header says 1 gates"),
        ("x 3\n1 1\n1 1\n1 1 0 1 INV\n", "1", "integers"),
        ("1 3\n2 1\n1 1\n1 1 0 2 INV\n", "2", "line 2"),
        ("1 3\n1 1\n1 1\n\n1 1 1 2 INV\n", "5", "wire 1 is used before"),
        ("2 3\n1 1\n1 1\n1 1 0 1 INV\n1 1 0 1 INV\n", "5", "assigned twice"),
        ("1 3\n1 1\n1 1\n2 1 0 0 2 NAND\n", "4", "unknown gate 'NAND'"),
        ("1 3\n1 1\n1 1\n2 1 0 0 2\n", "4", "a gate line is"),
        ("1 3\n1 1\n1 1\n1 1 0 9 INV\n", "4", "out of range"),
        ("1 3\n1 1\n1 1\n1 1 2 2 EQ\n", "4", "constant 0 or 1"),
        ("1 3\n1 1\n1 1\n3 1 0 0 2 XOR\n", "4", "inputs outputs"),
    ],
)
def test_bristol_parse_errors_name_the_line(text: str, line: str, message: str) -> None:
    with pytest.raises(CompileError, match=message) as info:
        bristol.parse(text, source="c.txt")
    assert info.value.site == f"c.txt:{line}"


def test_bristol_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1 3\n1 1\n1 1\n1 1 0 2 FOO\n")
    with pytest.raises(CompileError) as info:
        bristol.load(path)
    assert info.value.site == f"{path}:4"


def test_bristol_hex_bit_order() -> None:
    # wire k carries bit k of the big-endian number: the first wire is the last hex bit
    bits = bristol.hex_to_bits(["01", "80", "0x3"], 8)
    assert bits[0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert bits[1].tolist() == [0, 0, 0, 0, 0, 0, 0, 1]
    assert bits[2, :2].tolist() == [1, 1]
    values = ["00112233445566778899aabbccddeeff", "0" * 31 + "1"]
    assert bristol.bits_to_hex(bristol.hex_to_bits(values, 128)) == values
    assert bristol.bits_to_hex(bristol.hex_to_bits(["5"], 3)) == ["5"]
    with pytest.raises(ValueError, match="does not fit"):
        bristol.hex_to_bits(["1ff"], 8)
    with pytest.raises(ValueError, match="hexadecimal"):
        bristol.hex_to_bits(["zz"], 8)
