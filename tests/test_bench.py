"""The benchmark harness (`mpc bench`): registry, records, markdown, checks, skips.

Fast by design: tiny sizes, one repeat, no peer environments and no network namespaces (the real
emulated WAN is in tests/test_bench_wan.py, marked slow).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mpc.bench import peers as peer_module
from mpc.bench import wan
from mpc.bench.cli import main as bench_main
from mpc.bench.data import cached, signed_column
from mpc.bench.inputs import secure_sum_prepare
from mpc.bench.progress import PlainProgress, plain_table
from mpc.bench.records import PROTOCOL_FIELDS, read_jsonl, spread
from mpc.bench.relay import Link
from mpc.bench.report import marker, section, splice, write_section
from mpc.bench.runner import LAN, last_measurement, run_micro, run_protocol
from mpc.bench.spec import (
    MicroWorkload,
    Prepared,
    Setting,
    Sizes,
    Workload,
    WrongAnswerError,
    bits_for,
    exact_check,
    parse_setting,
)
from mpc.bench.suite import Options, run_suite
from mpc.bench.workloads import Registry, registry
from mpc.suite import PROTOCOLS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("collect_garbage")


# --- the registry ---------------------------------------------------------------------------------


def test_bench_registry_is_complete_and_consistent() -> None:
    workloads = registry().workloads
    names = [w.name for w in workloads]
    assert "secure_sum" in names
    assert len(names) == len(set(names))
    for w in workloads:
        assert w.sizes.quick, w.name
        assert w.sizes.full, w.name
        assert list(w.sizes.quick) == sorted(set(w.sizes.quick)), w.name
        assert list(w.sizes.full) == sorted(set(w.sizes.full)), w.name
        if isinstance(w, Workload):
            assert (ROOT / w.circuit).is_file(), w.circuit
            for s in w.settings_of("full"):
                assert s.protocol in PROTOCOLS, (w.name, s)
                assert s.parties >= 2, (w.name, s)
                assert parse_setting(s.name) == s
                for suite in ("quick", "full"):  # a setting's own sizes are some of the suite's
                    assert set(w.sizes_of(suite, s)) <= set(w.sizes.of(suite)), (w.name, s)
            assert set(w.setting_sizes) <= {s.name for s in w.settings_of("full")}, w.name
        else:
            assert (ROOT / w.script).is_file(), w.script


def test_bench_every_peer_compares_with_a_registered_workload_and_setting() -> None:
    names = set(registry().names())
    for peer in peer_module.peers():
        assert (peer.folder(ROOT) / "driver.py").is_file(), peer.name
        for workload, runs in peer.runs.items():
            assert workload in names, (peer.name, workload)
            workload_spec = registry().get(workload)
            assert isinstance(workload_spec, Workload)
            for run in runs:
                ours = parse_setting(run.ours)
                assert ours in workload_spec.settings_of("full"), (peer.name, workload, run.ours)
                assert ours.parties == run.parties
                assert run.threat_model


def test_bench_sizes_and_settings() -> None:
    sizes = Sizes((1, 2), (1, 2, 3))
    assert sizes.of("quick") == (1, 2)
    assert sizes.of("full") == (1, 2, 3)
    with pytest.raises(ValueError, match="quick or full"):
        sizes.of("huge")
    assert Setting("shamir", 5, 2).name == "shamir-5-t2"
    assert parse_setting("additive-2") == Setting("additive", 2)
    assert parse_setting("shamir-5-t2") == Setting("shamir", 5, 2)
    with pytest.raises(ValueError, match="PROTOCOL-PARTIES"):
        parse_setting("shamir")
    assert bits_for(10**6, 3) == 36
    assert bits_for(10**7, 5) == 59 - (5 * 10**7).bit_length()
    with pytest.raises(KeyError, match="registered: secure_sum"):
        registry().get("nope")


def test_bench_data_is_deterministic_bounded_and_cached(tmp_path: Path) -> None:
    a = signed_column(1, 10, 1000, "w", 0)
    assert np.array_equal(a, signed_column(1, 10, 1000, "w", 0))
    assert not np.array_equal(a, signed_column(2, 10, 1000, "w", 0))
    assert a.min() > -(2**10)
    assert a.max() < 2**10
    calls = []

    def build(folder: Path) -> dict[str, object]:
        calls.append(folder)
        return {"total": 5, "sum": np.arange(3)}

    folder, _answers = cached(tmp_path, ("k", 1), build)
    again, answers2 = cached(tmp_path, ("k", 1), build)
    assert folder == again
    assert len(calls) == 1
    assert int(answers2["total"]) == 5
    assert answers2["sum"].tolist() == [0, 1, 2]


def test_bench_secure_sum_inputs_match_their_answers(tmp_path: Path) -> None:
    prepared = secure_sum_prepare(50, Setting("additive", 3), tmp_path, 7)
    tables = [
        np.loadtxt(prepared.inputs[p]["values"], delimiter=",", skiprows=1, dtype=np.int64)
        for p in range(3)
    ]
    columns = [table[:, 1] for table in tables]
    assert np.array_equal(prepared.expected["sum"], np.sum(columns, axis=0))
    assert int(prepared.expected["total"]) == int(np.sum(columns))
    assert prepared.params == {"bits": bits_for(50, 3)}


# --- the wrong-answer check ---------------------------------------------------------------------


def test_bench_exact_check_names_what_is_wrong() -> None:
    prepared = Prepared({}, {}, {"sum": np.array([1, 2, 3]), "total": np.array(6)})
    assert exact_check({"sum": np.array([1, 2, 3]), "total": np.array(6)}, prepared) == []
    problems = exact_check({"sum": np.array([1, 2, 4])}, prepared)
    assert "'sum' differs from the plaintext answer in 1 of 3" in problems[0]
    assert "'total' is missing" in problems[1]
    assert "shape" in exact_check({"sum": np.array([1, 2]), "total": np.array(6)}, prepared)[0]


def test_bench_wrong_answer_fires_before_anything_is_recorded(tmp_path: Path) -> None:
    workload = registry().get("secure_sum")
    assert isinstance(workload, Workload)
    setting = Setting("additive", 2)
    right = workload.prepare(10, setting, tmp_path, 1)
    wrong = Prepared(
        right.inputs, right.params, {**right.expected, "total": right.expected["total"] + 1}
    )
    with pytest.raises(WrongAnswerError, match="'total' differs"):
        run_protocol(ROOT, workload, setting, 10, LAN, prepared=wrong, repeats=1)


# --- the real harness path -----------------------------------------------------------------------


def test_bench_tiny_secure_sum_writes_a_full_record_and_the_markdown(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nprose\n\n<!-- other -->\nkeep me\n<!-- other -->\n")
    options = Options(
        nets=("lan",), workloads=("secure_sum",), sizes=(12,), settings=("additive-2",),
        repeats=1, out=tmp_path / "out", results_md=results, plots=False, data=tmp_path / "data",
        command="mpc bench (test)",
    )  # fmt: skip
    outcome = run_suite(ROOT, options, PlainProgress())
    assert outcome.failures == []
    assert outcome.jsonl is not None
    records = read_jsonl(outcome.jsonl)
    assert [r["setting"] for r in records] == ["additive-2"]
    for record in records:
        assert set(PROTOCOL_FIELDS) <= set(record), set(PROTOCOL_FIELDS) - set(record)
        assert record["correct"] is True
        assert record["size"] == 12
        assert record["network"] == "lan"
        assert set(record["bytes_sent"]) == {"0", "1"}
        assert all(v > 0 for v in record["peak_rss_bytes"].values())
        assert record["predicted"]["bytes_sent"]
        assert record["predicted_payload_ratio"] == 1.0
        assert record["seconds"]["min"] <= record["seconds"]["median"] <= record["seconds"]["max"]
        for split in ("offline_seconds", "online_seconds"):  # optional: only when parties say
            phase = split.removesuffix("_seconds")
            assert (record[split] is None) == (phase not in record["phases"])
        assert record["machine"]["cores"]
        assert record["revision"]
    text = results.read_text()
    assert "prose" in text
    assert "<!-- other -->\nkeep me\n<!-- other -->" in text
    assert text.count(marker("quick")) == 2
    assert "| additive-2 | lan | 12 |" in text


def test_bench_micro_workloads_are_registrable(tmp_path: Path) -> None:
    script = tmp_path / "micro.py"
    script.write_text(
        "import json, sys\n"
        "size = int(sys.argv[sys.argv.index('--size') + 1])\n"
        "print('warming up')\n"
        "right = '--bad' not in sys.argv\n"
        "a = {'bench': 'a', 'seconds': size / 1e6, 'gates': size, 'correct': right}\n"
        "print(json.dumps(a))\n"
        "print(json.dumps({'bench': 'b', 'role': 'x', 'seconds': 2.0}))\n"
        "print(json.dumps({'bench': 'machine', 'cores': 2}))\n"
    )
    micro = MicroWorkload("micro_test", str(script), Sizes((10,), (10, 100)), key=("bench", "role"))
    a, b = run_micro(tmp_path, micro, 100, repeats=2)
    assert (a["kind"], a["measurement"], b["measurement"]) == ("micro", "a", "b/x")
    assert a["seconds"]["median"] == pytest.approx(1e-4)
    assert a["extra"] == {"gates": 100}
    assert b["seconds"]["all"] == [2.0, 2.0]
    sized = MicroWorkload("m", str(script), Sizes((10,), (10,)), size_arg="--size")
    assert [r["measurement"] for r in run_micro(tmp_path, sized, 5, repeats=1)] == ["all"]
    bad = MicroWorkload("micro_bad", str(script), Sizes((10,), (10,)), args=("--bad",))
    with pytest.raises(WrongAnswerError):
        run_micro(tmp_path, bad, 10, repeats=1)
    with pytest.raises(RuntimeError, match="no JSON line"):
        last_measurement("hello\n{not json\n", "x")
    outcome = run_suite(
        tmp_path,
        Options(workloads=("micro_test",), repeats=1, out=tmp_path / "out", plots=False),
        PlainProgress(),
        catalog=Registry((micro,)),
    )
    assert [r["size"] for r in outcome.records] == [10, 10]
    assert outcome.failures == []


# --- markdown -------------------------------------------------------------------------------------


def test_bench_splice_keeps_every_other_section() -> None:
    mark = marker("quick")
    seed = "<!-- secure_sum -->\nold seed\n<!-- secure_sum -->"
    text = f"# R\n\nintro\n\n{seed}\n\n{mark}\nold\n{mark}\n\ntail\n"
    new = splice(text, mark, "## fresh\n")
    assert "<!-- secure_sum -->\nold seed\n<!-- secure_sum -->" in new
    assert f"{mark}\n## fresh\n{mark}" in new
    assert "old\n" not in new.replace("old seed", "")
    assert new.startswith("# R\n\nintro")
    assert new.endswith("\n\ntail\n")
    appended = splice("# R\n", marker("full"), "x")
    assert appended == f"# R\n\n{marker('full')}\nx\n{marker('full')}\n"
    with pytest.raises(ValueError, match="closing marker"):
        splice(f"a\n{mark}\nb\n", mark, "x")


def test_bench_section_shows_peers_ratios_and_skips(tmp_path: Path) -> None:
    peer = {
        "kind": "peer", "peer": "mpyc", "protocol": "shamir", "parties": 3,
        "workload": "secure_sum", "size": 1000, "network": "lan", "threat_model": "semi-honest",
        "seconds": spread([0.5, 0.7]), "bytes_sent": {"0": 10**6},
        "ours": {"setting": "shamir-3", "seconds": 0.25, "ratio": 0.5},
    }  # fmt: skip
    skip = peer_module.skipped("spu", "pip install spu failed: no wheel")
    text = section([peer, skip], suite="quick", context={"machine": {}}, networks={"lan": LAN.info})
    assert (
        "| secure_sum | 1,000 | lan | mpyc (shamir, 3) | semi-honest | 0.600 (0.500–0.700)" in text
    )
    assert "| 0.250 (shamir-3) | 0.50 | – | – | 1.00 ×1 |" in text
    assert "- spu: pip install spu failed: no wheel" in text
    path = tmp_path / "R.md"
    write_section(path, marker("quick"), text)
    assert path.read_text().startswith("# Benchmark results")


def test_bench_plain_progress_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    progress = PlainProgress()
    with progress.task("w", 2) as tick:
        tick("one")
        tick("two")
    progress.summary("done", ["a", "bb"], [["1", "2"]])
    out, err = capsys.readouterr()
    assert "[w] 2/2 two" in err
    assert "done" in out
    assert plain_table(["a", "b"], [["xx", "y"]]).splitlines()[0] == "a   b"


# --- what cannot run here is skipped with its reason -------------------------------------------


def test_bench_wan_without_root_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wan.os, "geteuid", lambda: 1000)
    assert "needs root" in (wan.unavailable() or "")
    outcome = run_suite(
        ROOT, Options(nets=("wan",), out=tmp_path, plots=False, data=tmp_path), PlainProgress()
    )
    assert outcome.records == []
    assert outcome.failures == []
    assert any("wan skipped" in n and "needs root" in n for n in outcome.notes)


def test_bench_wan_without_iproute2_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wan.os, "geteuid", lambda: 0)
    monkeypatch.setattr(wan.shutil, "which", lambda tool: None)
    assert "apt-get install iproute2" in (wan.unavailable() or "")


def test_bench_missing_peer_is_skipped_with_the_reason(tmp_path: Path) -> None:
    options = Options(
        workloads=("secure_sum",), nets=(), compare=("nosuch",), out=tmp_path, plots=False,
        results_md=tmp_path / "R.md",
    )  # fmt: skip
    outcome = run_suite(ROOT, options, PlainProgress())
    assert outcome.records[0]["skipped"].startswith("unknown peer 'nosuch'")
    assert "- nosuch: unknown peer 'nosuch'" in (tmp_path / "R.md").read_text()
    absent = peer_module.Peer("ghost", (), "pass", {})
    with pytest.raises(peer_module.PeerUnavailableError, match=r"driver\.py is missing"):
        peer_module.ensure_venv(absent, tmp_path)


def test_bench_peer_driver_failures_are_reported(tmp_path: Path) -> None:
    peer = peer_module.Peer("fake", (), "pass", {})
    folder = peer.folder(tmp_path)
    folder.mkdir(parents=True)
    python = Path(sys.executable)
    driver = folder / "driver.py"
    driver.write_text("import json; print(json.dumps({'seconds': 0.5, 'correct': True}))\n")
    assert peer_module.run_driver(peer, tmp_path, python, [], 10)["seconds"] == 0.5
    driver.write_text("import sys; print('cannot', file=sys.stderr); sys.exit(3)\n")
    with pytest.raises(peer_module.PeerUnavailableError, match="exited with 3: cannot"):
        peer_module.run_driver(peer, tmp_path, python, [], 10)
    driver.write_text("import json; print(json.dumps({'seconds': 0.5, 'correct': True}))\n")
    run = peer_module.PeerRun("p", 2, "additive-2", "semi-honest")
    calls = []

    def ours() -> dict[str, float]:
        calls.append(1)
        return {"seconds": 0.1, "wall_seconds": 0.2}

    record = peer_module.measure(
        peer, tmp_path, python, "secure_sum", run, 10, bits=8, seed=1, repeats=2, timeout=10,
        ours=ours,
    )  # fmt: skip
    assert len(calls) == 2  # one of ours before each of the peer's runs
    assert record["ours"] == {
        "setting": "additive-2", "seconds": 0.1, "wall_seconds": 0.2, "all": [0.1, 0.1],
        "ratio": 0.2, "paired": True,
    }  # fmt: skip
    driver.write_text("import json; print(json.dumps({'seconds': 0.5, 'correct': False}))\n")
    with pytest.raises(peer_module.PeerUnavailableError, match="wrong answer"):
        peer_module.measure(
            peer, tmp_path, python, "secure_sum", run, 10, bits=8, seed=1, repeats=1, timeout=10
        )
    driver.write_text("import time; time.sleep(30)\n")
    with pytest.raises(peer_module.PeerUnavailableError, match=r"took over 0\.5 s"):
        peer_module.run_driver(peer, tmp_path, python, [], 0.5)


# --- small pieces ---------------------------------------------------------------------------------


def test_bench_relay_link_delays_and_paces_each_sender() -> None:
    link = Link(delay_s=0.010, rate_bps=8e6)  # 1 MB/s
    a = bytes(12) + b"\x01\x01\x01\x01" + bytes(984)  # 1000 bytes from sender A
    b = bytes(12) + b"\x02\x02\x02\x02" + bytes(984)
    assert link.due(a, 0.0) == pytest.approx(0.011)
    assert link.due(a, 0.0) == pytest.approx(0.012)  # queued behind the first
    assert link.due(b, 0.0) == pytest.approx(0.011)  # another sender's link is free
    assert link.due(a, 1.0) == pytest.approx(1.011)


def test_bench_cli_lists_and_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from mpc.cli import main as mpc_main

    assert mpc_main(["bench", "--list"]) == 0
    assert "secure_sum" in capsys.readouterr().out
    assert bench_main(["--workload", "nope"]) == 2
    assert "unknown workload 'nope'" in capsys.readouterr().err
    assert bench_main(["--settings", "shamir"]) == 2
    assert "PROTOCOL-PARTIES" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_main(["--suite", "huge"])


def test_bench_records_are_json_lines(tmp_path: Path) -> None:
    from mpc.bench.records import context, write_jsonl

    path = write_jsonl(tmp_path / "r" / "x.jsonl", [{"a": 1}, {"b": spread([1.0])}])
    write_jsonl(path, [{"c": 3}])
    assert [json.loads(line) for line in path.read_text().splitlines()][2] == {"c": 3}
    shared = context(ROOT, "cmd")
    assert shared["format"] == 1
    assert shared["command"] == "cmd"
    assert shared["revision"]


def test_bench_plots_or_the_reason_they_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mpc.bench.plots import plot_all, series

    records = [
        {"kind": "protocol", "workload": "w", "setting": "shamir-3", "network": "lan", "size": s,
         "seconds": spread([s / 1e3]), "run_seconds": spread([s / 2e3])}
        for s in (100, 10, 1000)
    ]  # fmt: skip
    line = series(records)["w"]["ours shamir-3 (lan)"]
    assert [size for size, _ in line] == [10, 100, 1000]
    assert line[0][1]["median"] == pytest.approx(0.005)  # the protocol (`run`) seconds
    pytest.importorskip("matplotlib")
    written, note = plot_all(records, tmp_path)
    assert note is None
    assert written == [tmp_path / "w.png"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert plot_all(records, tmp_path)[1] == (
        "plots skipped: matplotlib is not installed (pip install -e '.[bench]')"
    )


def test_bench_inner_product_inputs_are_exact_decimals(tmp_path: Path) -> None:
    workload = registry().get("inner_product")
    assert isinstance(workload, Workload)
    prepared = workload.prepare(30, Setting("shamir", 3), tmp_path, 3)
    x = np.loadtxt(prepared.inputs[0]["x"], delimiter=",", skiprows=1)[:, 1]
    y = np.loadtxt(prepared.inputs[1]["y"], delimiter=",", skiprows=1)[:, 1]
    assert np.all(x * 1024 == np.round(x * 1024))  # multiples of 2^-10, written exactly
    assert float(prepared.expected["dot"]) == pytest.approx(float(np.dot(x, y)), abs=1e-9)
    assert workload.check({"dot": prepared.expected["dot"] + 2**-24}, prepared) == []
    assert "off by" in workload.check({"dot": prepared.expected["dot"] + 0.01}, prepared)[0]


def test_bench_peer_sizes_over_a_runs_cap_are_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer run that cannot fit a size (memory) is recorded as not run, with the reason; the
    harness neither starts it nor waits for it."""
    run = peer_module.PeerRun("p", 3, "shamir-3", "semi-honest", max_size=5, too_big="no memory")
    fake = peer_module.Peer("fake", (), "pass", {"secure_sum": (run,)})
    monkeypatch.setattr(peer_module, "get_peer", lambda name: fake)
    monkeypatch.setattr(peer_module, "ensure_venv", lambda peer, root, log=None: Path("/nowhere"))
    options = Options(
        workloads=("secure_sum",), nets=(), compare=("fake",), sizes=(10,), out=tmp_path,
        plots=False, results_md=tmp_path / "R.md",
    )  # fmt: skip
    outcome = run_suite(ROOT, options, PlainProgress())
    (record,) = outcome.records
    assert (record["kind"], record["peer"], record["workload"]) == ("peer", "fake", "secure_sum")
    assert record["skipped"] == "p 10: not run: no memory"
    assert outcome.failures == []
