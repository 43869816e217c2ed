"""Imported Bristol circuits in the DSL (`dsl.bristol`, `dsl.input_bits`) and circuits/bristol.py:
the peer systems' known answers through the engine, plaintext agreement on random rows, cost,
who learns what, the loader's policy, and every misuse as a CompileError."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mpc import dsl
from mpc.datasets import Column, bits_to_hex, hex_to_bits, read_columns
from mpc.dsl import CompileSpec, Plan, compile, load_circuit
from mpc.errors import CompileError, InputError
from mpc.gc import bristol
from mpc.gc.circuit import evaluate
from mpc.suite import Suite
from mpc.testing import run_plan
from tests.conftest import ROOT
from tests.test_gc_bristol import PEER, cases, needs_peer

RUNNER = load_circuit(ROOT / "circuits" / "bristol.py")


def adder_text(k: int) -> str:
    """A k-bit ripple-carry adder in Bristol Fashion: inputs k + k bits, output k + 1 bits."""
    gates: list[str] = []
    wires = 2 * k

    def gate(kind: str, *inputs: int) -> int:
        nonlocal wires
        gates.append(f"{len(inputs)} 1 {' '.join(map(str, inputs))} {wires} {kind}")
        wires += 1
        return wires - 1

    sums, carry = [], -1
    for i in range(k):
        p = gate("XOR", i, k + i)
        g = gate("AND", i, k + i)
        if carry < 0:
            sums.append(p)
            carry = g
        else:
            sums.append(gate("XOR", p, carry))
            carry = gate("XOR", g, gate("AND", p, carry))
    outputs = [gate("EQW", w) for w in (*sums, carry)]  # the outputs are the last wires
    assert outputs == list(range(wires - k - 1, wires))
    return f"{len(gates)} {wires}\n2 {k} {k}\n1 {k + 1}\n" + "\n".join(gates) + "\n"


ADDER = adder_text(4)


def plan_for(
    circuit_file: Path | str, rows: int, *, protocol: str = "additive", n: int = 2
) -> Plan:
    spec = CompileSpec(
        Suite.of(protocol, n),
        default_rows=rows,
        params={"circuit": str(circuit_file)},
        bristol=bristol.loader(),
    )
    return compile(RUNNER, spec)


def run_hex(plan: Plan, a: list[str], b: list[str], widths: tuple[int, ...]) -> Any:
    inputs = {
        0: {("a", "hex"): hex_to_bits(a, widths[0])},
        1: {("b", "hex"): hex_to_bits(b, widths[1])},
    }
    return run_plan(plan, inputs)


@needs_peer
@pytest.mark.parametrize(
    ("name", "answers"), cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_known_answers_of_peer_circuits_through_the_engine(
    name: str, answers: list[dict[str, Any]]
) -> None:
    """AES-128/256 (FIPS-197) and SHA-256 ("abc", "") as other systems publish them."""
    circuit = bristol.load(PEER / name)
    widths = tuple(circuit.input_widths)
    a = [answer["inputs"][0] for answer in answers]
    b = [answer["inputs"][1] for answer in answers]
    run = run_hex(plan_for(PEER / name, len(answers)), a, b, widths)
    assert list(run.outputs["out"]) == [answer["output"] for answer in answers]


@needs_peer
def test_aes_on_random_blocks_matches_the_plaintext_circuit() -> None:
    circuit = bristol.load(PEER / "aes_128.txt")
    rng = np.random.default_rng(3)
    keys = [rng.bytes(16).hex() for _ in range(5)]
    blocks = [rng.bytes(16).hex() for _ in range(5)]
    plan = plan_for(PEER / "aes_128.txt", 5)
    run = run_hex(plan, keys, blocks, (128, 128))
    plain = evaluate(circuit, [hex_to_bits(keys, 128), hex_to_bits(blocks, 128)])[0]
    assert list(run.outputs["out"]) == bits_to_hex(plain)
    # the plan predicted every byte, and the rounds
    measured = [sum(p.payload_bytes_sent.values()) for p in run.parties]
    assert measured == list(plan.cost().bytes_sent)
    assert all(p.rounds == plan.rounds for p in run.parties)


@pytest.fixture
def adder(tmp_path: Path) -> Path:
    path = tmp_path / "adder4.txt"
    path.write_text(ADDER)
    return path


@pytest.mark.parametrize(("protocol", "n"), [("additive", 2), ("shamir", 3), ("additive", 3)])
def test_every_row_of_a_small_circuit_in_every_suite(adder: Path, protocol: str, n: int) -> None:
    """All 256 input pairs of a 4-bit adder; parties beyond 0 and 1 only pass the rounds."""
    x, y = np.meshgrid(np.arange(16), np.arange(16))
    a = [format(v, "x") for v in x.ravel()]
    b = [format(v, "x") for v in y.ravel()]
    run = run_hex(plan_for(adder, 256, protocol=protocol, n=n), a, b, (4, 4))
    assert list(run.outputs["out"]) == [format(v, "02x") for v in (x + y).ravel()]


def test_only_the_receivers_learn_the_outputs(adder: Path) -> None:
    @dsl.circuit(params={"circuit": ""})
    def to_evaluator(job: dsl.Job) -> None:
        c = dsl.bristol(str(job.params["circuit"]))
        a = dsl.input_bits(0, "a", "hex", bits=4)
        b = dsl.input_bits(1, "b", "hex", bits=4)
        dsl.reveal(c(a, b), "out", to=[1])

    spec = CompileSpec(
        Suite.of("additive", 2), default_rows=3, params={"circuit": str(adder)},
        bristol=bristol.loader(),
    )  # fmt: skip
    plan = compile(to_evaluator, spec)
    run = run_hex(plan, ["1", "7", "f"], ["2", "9", "f"], (4, 4))
    garbler, evaluator = run.parties
    assert "out" not in garbler.outputs
    assert list(evaluator.outputs["out"]) == ["03", "10", "1e"]
    # the garbler's labels and tables reach the evaluator; nothing reaches the garbler but the
    # evaluator's OT matrix (no colour bits: reveal to the evaluator only)
    both = plan_for(adder, 3)
    assert plan.cost().bytes_sent[1] < both.cost().bytes_sent[1]


def test_loader_refuses_files_the_party_does_not_list(adder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text(ADDER)
    load = bristol.loader([adder])
    assert load(str(adder)).digest == load("adder4.txt").digest  # by path or by file name
    with pytest.raises(CompileError, match="not among this party's circuits"):
        load(str(other))
    with pytest.raises(CompileError, match="not among this party's circuits"):
        load("/etc/passwd")


def test_loader_names_the_line_of_a_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    lines = ADDER.splitlines()
    lines[4] = "2 1 0 99 9 AND"  # the 2nd gate reads a wire nobody wrote
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CompileError) as info:
        bristol.loader()(str(bad))
    assert info.value.site == f"{bad}:5"


def misuse(body: str, adder: Path, *, n: int = 2) -> CompileError:
    namespace: dict[str, Any] = {"dsl": dsl, "ADDER": str(adder)}
    source = "def fn(job):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    exec(source, namespace)
    circuit = dsl.circuit(namespace["fn"])
    spec = CompileSpec(Suite.of("additive", n), default_rows=2, bristol=bristol.loader())
    with pytest.raises(CompileError) as info:
        compile(circuit, spec)
    return info.value


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("dsl.input_bits(2, 'a', 'hex', bits=4)", "party must be 0 or 1"),
        ("dsl.input_bits(0, 'a', 'hex', bits=0)", "bits must be an int"),
        (
            "c = dsl.bristol(ADDER)\nx = dsl.input(0, 'a', 'v')\ndsl.reveal(c(x, x), 'out')",
            "must come from dsl.input_bits",
        ),
        (
            "c = dsl.bristol(ADDER)\na = dsl.input_bits(0, 'a', 'hex', bits=8)\n"
            "dsl.reveal(c(a, a), 'out')",
            "has 8 bits, the circuit takes 4",
        ),
        (
            "c = dsl.bristol(ADDER)\na = dsl.input_bits(0, 'a', 'hex', bits=4)\n"
            "dsl.reveal(c(a), 'out')",
            "takes 2 inputs",
        ),
        (
            "c = dsl.bristol(ADDER)\na = dsl.input_bits(0, 'a', 'hex', bits=4)\n"
            "dsl.reveal(c(a, a), 'out', to=[0, 'driver'])",
            "parties 0 and/or 1 only",
        ),
        ("a = dsl.input_bits(0, 'a', 'hex', bits=4)\ndsl.reveal(a, 'out')", "through a circuit"),
    ],
)
def test_misuse_is_a_compile_error(body: str, words: str, adder: Path) -> None:
    assert words in str(misuse(body, adder, n=3))


def test_no_loader_no_import(adder: Path) -> None:
    @dsl.circuit
    def imports(job: dsl.Job) -> None:
        dsl.bristol(str(adder))

    with pytest.raises(CompileError, match="no loader"):
        compile(imports, CompileSpec(Suite.of("additive", 2), default_rows=1))


def test_hex_columns_read_as_bits_and_bad_cells_name_their_row(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("id,hex\n1,0a\n2,0x0F\n3, 3 \n")
    rows, values = read_columns(good, {"hex": Column(4, hex=True)}, max_rows=10)
    assert rows == 3
    assert values["hex"].tolist() == [[0, 1, 0, 1], [1, 1, 1, 1], [1, 1, 0, 0]]
    for cell, reason in [("1g", "hexadecimal"), ("", "hexadecimal"), ("1f", "does not fit")]:
        bad = tmp_path / "bad.csv"
        bad.write_text(f"id,hex\n1,0a\n2,{cell}\n")
        with pytest.raises(InputError, match=reason) as info:
            read_columns(bad, {"hex": Column(4, hex=True)}, max_rows=10)
        assert "row 3" in str(info.value)
        assert "hex" in str(info.value)


@needs_peer
def test_mpc_local_runs_aes_between_two_processes(tmp_path: Path) -> None:
    """The command of the issue, verbatim, on the FIPS-197 vector."""
    answer = json.loads((PEER / "expected.json").read_text())["cases"]["aes_128.txt"][0]
    (tmp_path / "a.csv").write_text(f"hex\n{answer['inputs'][0]}\n{answer['inputs'][0]}\n")
    (tmp_path / "b.csv").write_text(f"hex\n{answer['inputs'][1]}\n{'0' * 32}\n")
    command = [
        sys.executable, "-m", "mpc", "local", "-n", "2", str(ROOT / "circuits" / "bristol.py"),
        "--param", f"circuit={PEER / 'aes_128.txt'}",
        "--input", f"0:a={tmp_path / 'a.csv'}", "--input", f"1:b={tmp_path / 'b.csv'}", "--json",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outputs"]["out"][0] == answer["output"]
    plain = evaluate(
        bristol.load(PEER / "aes_128.txt"),
        [hex_to_bits([answer["inputs"][0]], 128), hex_to_bits(["0" * 32], 128)],
    )[0]
    assert report["outputs"]["out"][1] == bits_to_hex(plain)[0]
    assert report["stats"]["payload_bytes_sent"] == {
        str(p): b for p, b in enumerate(report["stats"]["predicted"]["bytes_sent"])
    }
