"""The benchmark workloads beyond secure_sum: inputs against their answers, tiny real runs, rates,
targets, and the peer drivers' shared code (argument parsing, inputs, answers, the check).

Fast by design: tiny sizes, one repeat; no peer environment is needed (the peer drivers' common
module only needs numpy).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import trio

from mpc.bench import peers as peer_module
from mpc.bench.cli import summary_rows
from mpc.bench.inputs import aes128, aes_blocks, hex_check
from mpc.bench.progress import PlainProgress
from mpc.bench.records import spread
from mpc.bench.report import protocol_table, section
from mpc.bench.runner import LAN, run_micro, run_protocol
from mpc.bench.spec import (
    MicroWorkload,
    Prepared,
    Setting,
    Sizes,
    Workload,
    WrongAnswerError,
    parse_setting,
)
from mpc.bench.suite import Options, Outcome, run_suite
from mpc.bench.targets import TARGETS, Target, evaluate
from mpc.bench.workloads import BRISTOL_CIRCUIT, aes_workload, registry
from mpc.config import Timeouts

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
pytestmark = pytest.mark.usefixtures("collect_garbage")


def workload(name: str) -> Workload:
    found = registry().get(name)
    assert isinstance(found, Workload)
    return found


def table(path: Path) -> np.ndarray:
    """A benchmark CSV's columns after `id`, as int64 (rows × columns)."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    return data[:, 1:]


# --- settings ------------------------------------------------------------------------------------


def test_bench_settings_name_their_preprocessing_and_parse_back() -> None:
    dealer = Setting("additive", 2, preprocessing="dealer")
    assert dealer.name == "additive-2-dealer"
    for name in ("additive-2-ot", "shamir-5-t2", "shamir-3-honest-majority", "shamir-5-t2-dealer"):
        assert parse_setting(name).name == name
    assert parse_setting("additive-3-dealer") == Setting("additive", 3, None, "dealer")
    for bad in ("additive-2-magic", "additive", "shamir-x"):
        with pytest.raises(ValueError, match="PROTOCOL-PARTIES"):
            parse_setting(bad)


def test_bench_expensive_settings_run_fewer_sizes() -> None:
    mul = workload("mul")
    ot = parse_setting("additive-2-ot")
    assert mul.sizes_of("quick") == (10**4, 10**5, 10**6)
    assert mul.sizes_of("quick", ot) == (10**4, 10**5)
    assert mul.sizes_of("full", ot)[-1] == 10**6
    assert mul.sizes_of("quick", parse_setting("shamir-3")) == mul.sizes_of("quick")
    assert workload("matmul").sizes_of("quick")[-1] == 256


# --- inputs against their plaintext answers -------------------------------------------------------


def test_bench_mul_and_compare_inputs_match_their_answers(tmp_path: Path) -> None:
    mul = workload("mul").prepare(40, Setting("shamir", 3), tmp_path, 5)
    x, y = table(mul.inputs[0]["x"])[:, 0], table(mul.inputs[1]["y"])[:, 0]
    assert np.array_equal(mul.expected["product"], x * y)
    assert np.abs(x).max() < 2**20
    assert set(mul.inputs) == {0, 1}
    compare = workload("compare").prepare(40, Setting("additive", 2), tmp_path, 5)
    a, b = (table(compare.inputs[p]["wealth"])[:, 0] for p in (0, 1))
    assert np.array_equal(compare.expected["greater"], (a > b).astype(np.int64))
    assert 0 < compare.expected["greater"].sum() < 40
    assert compare.params == {"bits": 31}


def test_bench_matrix_inputs_match_their_answers(tmp_path: Path) -> None:
    matvec = workload("matvec").prepare(6, Setting("shamir", 3), tmp_path, 2)
    a, v = table(matvec.inputs[0]["a"]), table(matvec.inputs[1]["v"])
    assert a.shape == (6, 6)
    assert v.shape == (1, 6)
    assert np.array_equal(matvec.expected["av"], a @ v[0])
    assert matvec.params == {"bits": 16, "cols": 6}
    matmul = workload("matmul").prepare(5, Setting("shamir", 3), tmp_path, 2)
    a, bt = table(matmul.inputs[0]["a"]), table(matmul.inputs[1]["bt"])
    assert np.array_equal(matmul.expected["ab"], a @ bt.T)  # party 1 stores B by columns
    assert np.abs(a).max() < 2**16


def test_bench_aes_inputs_and_check(tmp_path: Path) -> None:
    assert aes128("000102030405060708090a0b0c0d0e0f", ["00112233445566778899aabbccddeeff"]) == [
        "69c4e0d86a7b0430d8cdb78070b4c55a"  # FIPS-197 C.1
    ]
    blocks = aes_blocks(1, 3)
    assert len(blocks) == 3
    assert all(len(b) == 32 for b in blocks)
    assert blocks == aes_blocks(1, 3) != aes_blocks(2, 3)
    prepared = Prepared({}, {}, {"out": np.array(aes128("00" * 16, blocks))})
    right = [c.upper() for c in prepared.expected["out"]]
    assert hex_check({"c": np.array(right)}, prepared) == []
    assert "1 of 3 blocks differ" in hex_check({"c": np.array([*right[:2], "0" * 32])}, prepared)[0]
    assert "one output" in hex_check({}, prepared)[0]
    pending = aes_workload(tmp_path)  # no circuits/bristol.py there
    assert not isinstance(pending, Workload)
    assert BRISTOL_CIRCUIT in pending.reason


# --- real runs: a wrong answer fails, a right one gives a full record ----------------------------


def test_bench_mul_with_a_dealer_records_offline_online_and_rates(tmp_path: Path) -> None:
    mul = workload("mul")
    setting = parse_setting("additive-2-dealer")
    prepared = mul.prepare(16, setting, tmp_path, 1)
    record = run_protocol(ROOT, mul, setting, 16, LAN, prepared=prepared, repeats=1)
    assert record["preprocessing"] == "dealer"
    assert record["operations"] == 16
    assert record["operation"] == "multiplications"
    assert set(record["rates"]) == {"wall", "run", "online"}
    assert record["rates"]["online"] >= record["rates"]["run"] >= record["rates"]["wall"] > 0
    assert record["bytes_per_operation"]["payload"] > 0
    span = record["online_span_seconds"]["median"]
    assert 0 < span <= record["run_seconds"]["median"]


def test_bench_a_wrong_product_fails_the_run(tmp_path: Path) -> None:
    mul = workload("mul")
    setting = Setting("shamir", 3)
    prepared = mul.prepare(16, setting, tmp_path, 1)
    wrong = dict(prepared.expected)
    wrong["product"] = wrong["product"].copy()
    wrong["product"][3] += 1
    with pytest.raises(WrongAnswerError, match=r"'product' differs .* in 1 of 16"):
        run_protocol(
            ROOT, mul, setting, 16, LAN, repeats=1,
            prepared=Prepared(prepared.inputs, prepared.params, wrong),
        )  # fmt: skip


def test_bench_tiny_matmul_through_the_suite(tmp_path: Path) -> None:
    options = Options(
        workloads=("matmul",), sizes=(3,), settings=("shamir-3",), repeats=1,
        out=tmp_path / "out", plots=False, data=tmp_path / "data",
    )  # fmt: skip
    outcome = run_suite(ROOT, options, PlainProgress())
    assert outcome.failures == []
    (record,) = outcome.records
    assert (record["workload"], record["operations"], record["size"]) == ("matmul", 27, 3)


def test_bench_tiny_dealer_free_comparisons(tmp_path: Path) -> None:
    compare = workload("compare")
    setting = Setting("additive", 2)
    prepared = compare.prepare(8, setting, tmp_path, 1)
    record = run_protocol(ROOT, compare, setting, 8, LAN, prepared=prepared, repeats=1)
    assert record["preprocessing"] is None  # dealer-free: nothing preprocessed at all
    assert record["bytes_per_operation"]["payload"] > 0


# --- micro-benchmarks: each line's own size -------------------------------------------------------


def test_bench_micro_rows_carry_their_own_size(tmp_path: Path) -> None:
    script = tmp_path / "micro.py"
    script.write_text(
        "import json\n"
        "print(json.dumps({'bench': 'garble', 'instances': 10, 'seconds': 0.1}))\n"
        "print(json.dumps({'bench': 'iknp', 'ots': 65536, 'seconds': 0.2}))\n"
        "print(json.dumps({'bench': 'setup', 'seconds': 0.3}))\n"
    )
    micro = MicroWorkload(
        "m", str(script), Sizes((10,), (10,)), key=("bench",),
        sized_by=(("instances", "comparators"), ("ots", "OTs")),
    )  # fmt: skip
    rows = {r["measurement"]: r for r in run_micro(tmp_path, micro, 10, repeats=1)}
    assert (rows["garble"]["size"], rows["garble"]["unit"]) == (10, "comparators")
    assert (rows["iknp"]["size"], rows["iknp"]["unit"]) == (65536, "OTs")
    assert rows["setup"]["size"] is None
    assert all(r["size_argument"] == 10 for r in rows.values())
    text = section(list(rows.values()), suite="quick", context={"machine": {}}, networks={})
    assert "| m | iknp | 65,536 OTs |" in text
    summary = summary_rows(Outcome(records=list(rows.values())))
    assert [row[3] for row in summary] == ["10", "65,536", "–"]
    assert "| m | setup | – |" in text
    names = registry().names()
    assert "micro_ot_triples" in names
    assert "micro_gc" in names


# --- the report: rates, peers beside ours, targets ------------------------------------------------


def _protocol(setting: str, size: int, **figures: object) -> dict[str, object]:
    return {
        "kind": "protocol", "workload": "mul", "setting": setting, "network": "lan", "size": size,
        "rounds": 2, "offline_rounds": 4, "seconds": spread([1.0]), "run_seconds": spread([0.5]),
        "offline_seconds": spread([0.3]), "online_seconds": spread([0.2]),
        "online_span_seconds": spread([0.1]), "operation": "multiplications",
        "rates": {"wall": 1e6, "run": 2e6, "online": 1e7},
        "bytes_per_operation": {"payload": 48.0, "wire": 2600.4}, **figures,
    }  # fmt: skip


def test_bench_protocol_table_shows_rates_and_bytes_per_operation() -> None:
    lines = protocol_table([_protocol("additive-2-ot", 10**6)])
    assert "multiplications/s: wall · run · online" in lines[0]
    assert "B per multiplication, all parties: online payload · wire" in lines[0]
    assert lines[1].count("---") == lines[0].count("|") - 1
    assert "| additive-2-ot | lan | 1,000,000 | 4 + 2 |" in lines[2]
    assert "| 0.100 | 1.00M · 2.00M · 10.00M | 48 · 2,600 |" in lines[2]


def test_bench_targets_are_met_missed_or_not_measured() -> None:
    fast = Target("x ≥ 5M/s", "mul", 10**6, "shamir-3", "rates.online", at_least=5e6, unit="/s")
    peer = Target("ahead of spu", "mul", 10**6, peer="spu aby3-3", at_most=1.0)
    direct = Target("≥ 20× mpyc", "mul", 10**6, "shamir-3", peer="mpyc shamir-3", at_most=0.05)
    records = [
        _protocol("shamir-3", 10**6),
        {"kind": "peer", "peer": "spu", "protocol": "aby3", "parties": 3, "workload": "mul",
         "size": 10**6, "seconds": spread([0.4]), "ours": {"setting": "shamir-3", "seconds": 0.2}},
        {"kind": "peer", "peer": "mpyc", "protocol": "shamir", "parties": 3, "workload": "mul",
         "size": 10**6, "seconds": spread([5.0]), "ours": {"setting": "shamir-3", "seconds": 9.0}},
    ]  # fmt: skip
    met, ahead, twenty = evaluate(records, [fast, peer, direct])
    assert met.startswith("- met: x ≥ 5M/s: 10.00M /s")
    assert ahead.startswith("- met: ahead of spu: ours shamir-3 0.200 s vs spu aby3-3 0.400 s")
    assert twenty.startswith("- MISSED: ≥ 20× mpyc")  # our own row (0.5 s), not the paired run
    assert "ours / peer 0.100" in twenty
    assert evaluate([], [fast])[0].startswith("- not measured: x ≥ 5M/s")
    assert all(t.workload in registry().names() for t in TARGETS)


def test_bench_peer_runs_over_the_slow_limit_are_not_repeated(tmp_path: Path) -> None:
    peer = peer_module.Peer("fake", (), "pass", {})
    peer.folder(tmp_path).mkdir(parents=True)
    (peer.folder(tmp_path) / "driver.py").write_text(
        "import json; print(json.dumps({'seconds': 2.0, 'correct': True}))\n"
    )
    run = peer_module.PeerRun("p", 2, "additive-2-ot", "semi-honest")
    record = peer_module.measure(
        peer, tmp_path, Path(sys.executable), "mul", run, 10, bits=8, seed=1, repeats=3,
        timeout=10, slow=1.0, operations=10,
        ours=lambda: {"seconds": 1.0, "wall_seconds": 1.5, "online_seconds": 0.25},
    )  # fmt: skip
    assert record["repeats"] == 1
    assert record["operations"] == 10
    assert record["ours"]["online_seconds"] == 0.25
    assert record["ours"]["ratio"] == 0.5
    text = section([record], suite="quick", context={"machine": {}}, networks={})
    assert "| 1.000 (additive-2-ot) | 0.50 | 0.250 | 5 · 10 |" in text


# --- the peer drivers' shared code ----------------------------------------------------------------


def _common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peer_common", PEERS / "common.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_peer_common_inputs_answers_and_check() -> None:
    common = _common()

    def args(workload: str, size: int, bits: int) -> object:
        return common.arguments(
            ["--workload", workload, "--size", str(size), "--parties", "2", "--protocol", "p",
             "--bits", str(bits), "--seed", "3"]
        )  # fmt: skip

    mul = args("mul", 50, 20)
    x, y = common.values(mul, 0), common.values(mul, 1)
    assert np.abs(x).max() < 2**20
    assert not np.array_equal(x, y)
    (want,) = common.expected(mul)
    assert np.array_equal(want, x * y)
    assert common.problem("mul", [want.astype(object)], [want]) is None
    bad = want.copy()
    bad[0] += 1
    assert "1 of 50" in common.problem("mul", [bad], [want])
    assert common.owners("mul", 3) == [0, 1]
    assert common.owners("secure_sum", 3) == [0, 1, 2]
    matvec = args("matvec", 4, 16)
    assert common.values(matvec, 0).shape == (4, 4)
    assert common.values(matvec, 1).shape == (4,)
    assert common.expected(args("matmul", 3, 16))[0].shape == (3, 3)
    compare = args("compare", 30, 31)
    assert set(np.unique(common.expected(compare)[0])) <= {0, 1}
    inner = args("inner_product", 20, 7)
    (dot,) = common.expected(inner)
    assert float(dot) == pytest.approx(
        float(np.dot(common.values(inner, 0), common.values(inner, 1)))
    )
    assert common.problem("inner_product", [dot + 2**-12], [dot]) is None
    assert "off by" in common.problem("inner_product", [dot + 0.01], [dot])
    secure_sum = common.expected(args("secure_sum", 10, 8))
    assert len(secure_sum) == 2
    assert int(secure_sum[1]) == int(secure_sum[0].sum())


@pytest.mark.parametrize("peer", ["mpyc", "crypten", "spu"])
def test_bench_peer_drivers_refuse_what_they_do_not_run(peer: str) -> None:
    driver = str(PEERS / peer / "driver.py")
    base = ["--size", "10", "--parties", "2", "--seed", "1", "--bits", "8"]
    done = subprocess.run(
        [sys.executable, driver, "--workload", "nope", "--protocol", "x", *base],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "invalid choice: 'nope'" in done.stderr
    done = subprocess.run(
        [sys.executable, driver, "--workload", "mul", "--protocol", "nosuch", *base],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "nosuch" in done.stderr


def test_bench_dealer_listens_where_the_network_puts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the emulated WAN the dealer listens on the root namespace's uplink address, which the
    parties' namespaces route to; the deployment declares it there."""
    from mpc import local
    from mpc.bench import runner, wan
    from mpc.bench.runner import Network

    deployment = local.local_deployment(
        tmp_path,
        ROOT / "circuits" / "secure_sum.py",
        n_parties=2,
        protocol="additive",
        threshold=None,
        inputs={},
        timeouts=Timeouts(connect=1.0, round=1.0, job=1.0, idle=1.0),
        hosts=["198.18.1.2", "198.18.2.2"],
        preprocessing="dealer",
        dealer_host=wan.DRIVER_ADDRESS,
    )
    assert deployment.dealer is not None
    assert deployment.dealer.host == "198.18.0.2"
    seen: dict[str, object] = {}

    async def fake_run_local(circuit: object, **kw: object) -> object:
        seen.update(kw)
        raise RuntimeError("stop here")

    monkeypatch.setattr(runner, "run_local", fake_run_local)
    network = Network("wan", hosts=("198.18.1.2", "198.18.2.2"), dealer_host=wan.DRIVER_ADDRESS)
    mul = workload("mul")
    setting = next(s for s in mul.settings if s.name == "additive-2-dealer")
    prepared = mul.prepare(4, setting, tmp_path, 1)
    with pytest.raises(RuntimeError, match="stop here"):
        trio.run(lambda: runner._run_job(ROOT, mul, setting, prepared, network, 10.0))
    assert seen["dealer_host"] == "198.18.0.2"
    assert seen["preprocessing"] == "dealer"


def test_bench_peer_party_death_ends_the_run_at_once_naming_the_signal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A party the kernel kills (as the out-of-memory killer does) fails the peer's run at once
    with the signal named; the party still waiting for it is killed, not waited for."""
    common = _common()
    waiting = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stderr=subprocess.PIPE, text=True
    )
    dying = subprocess.Popen(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    with pytest.raises(SystemExit):
        common.party_results("fake", [waiting, dying], str(tmp_path))
    assert time.monotonic() - started < 20
    assert "fake party 1 was killed by SIGKILL" in capsys.readouterr().err
    assert waiting.wait(timeout=10) != 0


def test_bench_peer_party_exit_names_the_cause() -> None:
    common = _common()
    assert common._exit(3) == "exited with 3"
    assert "SIGKILL" in common._exit(-9)
    assert "out-of-memory" in common._exit(-9)
    assert common._exit(-15) == "was killed by SIGTERM"
