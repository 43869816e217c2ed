"""End to end: separate `mpc` processes over TLS, driven the way users drive them.

- `mpc local` for both suites (outputs equal the plaintext answer, JSON shape, exit codes);
- `mpc keys` + three long-lived `mpc party` nodes + `mpc submit`;
- a party SIGKILLed in the middle of a job, and a party frozen with SIGSTOP: the driver exits
  non-zero naming the party, the other nodes stop the job with a named error in time and stay up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from mpc import config
from tests.conftest import ROOT, SECURE_SUM, MakeDeployment, write_values

pytestmark = pytest.mark.usefixtures("collect_garbage")

ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def mpc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mpc", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        cwd=ROOT,
        check=False,
    )


def datasets(tmp_path: Path, n: int, rows: int, bits: int = 39) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(n * 1000 + rows)
    columns = [rng.integers(-(2**bits), 2**bits, rows) for _ in range(n)]
    args = []
    for party, column in enumerate(columns):
        path = write_values(tmp_path / f"in{party}.csv", column.tolist())
        args += ["--input", f"{party}:values={path}"]
    return args, np.sum(columns, axis=0)


@pytest.mark.parametrize(("n", "protocol"), [(2, "additive"), (3, "shamir"), (7, "additive")])
def test_local_secure_sum_matches_plaintext(tmp_path: Path, n: int, protocol: str) -> None:
    inputs, expected = datasets(tmp_path, n, 200)
    result = mpc("local", "-n", str(n), "--protocol", protocol, str(SECURE_SUM), *inputs, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"outputs", "stats"}
    assert report["outputs"]["sum"] == expected.tolist()
    assert report["outputs"]["total"] == int(expected.sum())
    stats = report["stats"]
    assert stats["rounds"] == (1 if protocol == "additive" else 2)
    assert set(stats["bytes_sent"]) == {str(p) for p in range(n)}
    assert stats["seconds"] > 0
    assert all(rss > 10 * 2**20 for rss in stats["peak_rss_bytes"].values())  # a real process each
    for party in map(str, range(n)):  # the online phase's share of each party's CPU time
        assert 0 < stats["online_cpu_seconds"][party] <= stats["cpu_seconds"][party]
        assert stats["online_page_faults"][party] >= 0


def test_local_human_output_and_default_protocol(tmp_path: Path) -> None:
    inputs, expected = datasets(tmp_path, 3, 4)
    result = mpc("local", "-n", "3", str(SECURE_SUM), *inputs)
    assert result.returncode == 0, result.stderr
    assert "secure_sum (shamir, 3 parties, t=1): 2 rounds" in result.stdout
    assert f"total = {int(expected.sum())}" in result.stdout


def test_local_bad_csv_exits_nonzero_naming_party_file_column_and_row(tmp_path: Path) -> None:
    inputs, _ = datasets(tmp_path, 3, 5)
    (tmp_path / "in1.csv").write_text("id,value\n0,1\n1,2\n2,x3\n3,4\n4,5\n")
    result = mpc("local", "-n", "3", str(SECURE_SUM), *inputs, "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    first = result.stderr.splitlines()[1]
    assert first.startswith("  party 1: InputError:")
    assert "in1.csv, column 'value', row 4: 'x3' is not an integer" in first


def test_local_wrong_row_count_names_the_file(tmp_path: Path) -> None:
    inputs, _ = datasets(tmp_path, 2, 5)
    write_values(tmp_path / "in1.csv", [1, 2, 3])
    result = mpc("local", "-n", "2", str(SECURE_SUM), *inputs)
    assert result.returncode == 1
    assert "in1.csv, column 'value', row 5: has 3 rows but" in result.stderr


def test_local_missing_column_and_missing_file(tmp_path: Path) -> None:
    inputs, _ = datasets(tmp_path, 2, 3)
    (tmp_path / "in0.csv").write_text("id,amount\n0,1\n1,2\n2,3\n")
    result = mpc("local", "-n", "2", str(SECURE_SUM), *inputs)
    assert result.returncode == 1
    assert "in0.csv, column 'value': no such column (the header has: id, amount)" in result.stderr
    inputs[1] = f"0:values={tmp_path / 'absent.csv'}"
    result = mpc("local", "-n", "2", str(SECURE_SUM), *inputs)
    assert result.returncode == 1
    assert "absent.csv: cannot read" in result.stderr


def test_cli_usage_errors_exit_2() -> None:
    assert mpc("local", "-n", "3").returncode == 2
    assert mpc("local", "-n", "3", "c.py", "--input", "nonsense").returncode == 2
    result = mpc("plan", "circuits/missing.py", "-n", "3")
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_plan_prints_rounds_bytes_and_fingerprint() -> None:
    text = mpc("plan", str(SECURE_SUM), "-n", "3")
    assert text.returncode == 0, text.stderr
    assert "rounds       2" in text.stdout
    assert "party 0      sends 16008 bytes to peers" in text.stdout
    report = json.loads(mpc("plan", str(SECURE_SUM), "-n", "3", "--json").stdout)
    again = json.loads(mpc("plan", str(SECURE_SUM), "-n", "3", "--json").stdout)
    assert report["fingerprint"] == again["fingerprint"]
    assert len(report["fingerprint"]) == 64
    assert report["bytes_sent"] == [16008, 16008, 16008]
    additive = json.loads(mpc("plan", str(SECURE_SUM), "-n", "2", "--json").stdout)
    assert additive["protocol"] == "additive"
    assert additive["rounds"] == 1


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("mpc")
    if not script.exists():
        pytest.skip(
            "the package is not installed in this interpreter's environment (make test installs it)"
        )
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    commands = result.stdout.split("{", 1)[1].split("}", 1)[0].split(",")
    assert commands == ["keys", "party", "dealer", "submit", "local", "plan", "bench"]


# --- long-lived nodes ----------------------------------------------------------------------------


class Nodes:
    """`mpc party` processes for a deployment; their stderr goes to log files."""

    def __init__(self, deployment: config.Deployment, logs: Path) -> None:
        self.deployment = deployment
        self.logs = logs
        self.processes: dict[int, subprocess.Popen[str]] = {}
        self.files: list[IO[str]] = []

    def start(self, parties: Sequence[int] | None = None) -> None:
        for party in parties if parties is not None else range(self.deployment.n_parties):
            log = (self.logs / f"party-{party}.log").open("w")
            self.files.append(log)
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mpc",
                    "party",
                    "--config",
                    str(self.deployment.path),
                    "--id",
                    str(party),
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=ENV,
            )
            self.processes[party] = process
        for process in self.processes.values():
            assert process.stdout is not None
            line = process.stdout.readline()
            assert json.loads(line)["event"] == "listening", line

    def log(self, party: int) -> str:
        return (self.logs / f"party-{party}.log").read_text()

    def wait_for_log(self, party: int, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(party):
            assert time.monotonic() < deadline, f"party {party} never logged {text!r}"
            time.sleep(0.01)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
        for file in self.files:
            file.close()


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[Nodes]]:
    started: list[Nodes] = []
    yield started
    for group in started:
        group.stop()


def three_party_deployment(
    make_deployment: MakeDeployment, rows: int, timeouts: dict[str, float] | None = None
) -> tuple[config.Deployment, np.ndarray]:
    rng = np.random.default_rng(rows)
    values = {p: rng.integers(-(2**30), 2**30, rows).tolist() for p in range(3)}
    deployment = make_deployment(3, "shamir", values=values, timeouts=timeouts)
    return deployment, np.sum([values[p] for p in range(3)], axis=0)


def test_keys_party_submit_over_tls(
    make_deployment: MakeDeployment, tmp_path: Path, nodes: list[Nodes]
) -> None:
    deployment, expected = three_party_deployment(make_deployment, 50)
    keys_dir = deployment.keys_dir
    for path in keys_dir.iterdir():  # `mpc keys` makes them, with the right modes
        path.unlink()
    made = mpc("keys", "--config", str(deployment.path))
    assert made.returncode == 0, made.stderr
    assert oct((keys_dir / "party-0.key").stat().st_mode & 0o777) == "0o600"
    again = mpc("keys", "--config", str(deployment.path))
    assert again.returncode == 1
    assert "exists; pass --force to overwrite" in again.stderr

    group = Nodes(deployment, tmp_path)
    nodes.append(group)
    group.start()
    for _ in range(2):  # nodes serve job after job
        result = mpc("submit", "--config", str(deployment.path), str(SECURE_SUM), "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["outputs"]["sum"] == expected.tolist()
        assert report["outputs"]["total"] == int(expected.sum())
    driver_only = mpc(
        "submit",
        "--config",
        str(deployment.path),
        str(SECURE_SUM),
        "--reveal-to",
        "driver",
        "--json",
    )
    assert json.loads(driver_only.stdout)["outputs"]["total"] == int(expected.sum())
    for party in range(3):
        assert group.log(party).count(": done") == 3


def test_killed_party_mid_job_stops_everyone_in_time(
    make_deployment: MakeDeployment, tmp_path: Path, nodes: list[Nodes]
) -> None:
    round_timeout = 3.0
    deployment, _ = three_party_deployment(
        make_deployment, 400_000, timeouts={"round": round_timeout, "connect": round_timeout}
    )
    group = Nodes(deployment, tmp_path)
    nodes.append(group)
    group.start()
    driver = subprocess.Popen(
        [
            *(sys.executable, "-m", "mpc", "submit", "--config", str(deployment.path)),
            *(str(SECURE_SUM), "--param", "bits=31"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    group.wait_for_log(2, "prepared")  # the job is under way
    group.processes[2].kill()
    killed_at = time.monotonic()
    _, stderr = driver.communicate(timeout=60)
    elapsed = time.monotonic() - killed_at
    assert driver.returncode == 1
    assert elapsed < round_timeout + 5.0
    assert "error: job failed" in stderr
    assert stderr.splitlines()[1].startswith("  party 2:")  # the root cause is the dead party
    for party in (0, 1):  # the others stopped the job with a named error, and are still up
        group.wait_for_log(party, "job ", timeout=round_timeout + 5)
        assert group.processes[party].poll() is None
    time.sleep(0.5)
    for party in (0, 1):
        log = group.log(party)
        assert "WARNING" in log, log
        assert "party 2" in log or "aborted by driver" in log, log
        assert ": done" not in log


def test_frozen_party_times_out_naming_it(
    make_deployment: MakeDeployment, tmp_path: Path, nodes: list[Nodes]
) -> None:
    deployment, _ = three_party_deployment(
        make_deployment, 10, timeouts={"connect": 1.5, "round": 1.5}
    )
    group = Nodes(deployment, tmp_path)
    nodes.append(group)
    group.start()
    group.processes[1].send_signal(signal.SIGSTOP)
    started = time.monotonic()
    result = mpc("submit", "--config", str(deployment.path), str(SECURE_SUM), timeout=60)
    assert result.returncode == 1
    assert time.monotonic() - started < 1.5 + 10
    assert "party 1" in result.stderr.splitlines()[1]


INNER_PRODUCT = ROOT / "circuits" / "inner_product.py"


def decimal_columns(tmp_path: Path, rows: int) -> tuple[list[str], float]:
    rng = np.random.default_rng(rows)
    x, y = np.round(rng.uniform(-100, 100, (2, rows)), 2)
    for name, column in (("x", x), ("y", y)):
        lines = [name, *(f"{v:.2f}" for v in column)]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
    inputs = ["--input", f"0:x={tmp_path / 'x.csv'}", "--input", f"1:y={tmp_path / 'y.csv'}"]
    return inputs, float(np.dot(x, y))


@pytest.mark.parametrize(
    ("n", "protocol", "preprocessing"),
    [(2, "additive", None), (2, "additive", "dealer"), (3, "shamir", None)],
    ids=["additive-2-ot", "additive-2-dealer", "shamir-3"],
)
def test_local_inner_product_every_provider(
    tmp_path: Path, n: int, protocol: str, preprocessing: str | None
) -> None:
    inputs, expected = decimal_columns(tmp_path, 300)
    extra = ["--preprocessing", preprocessing] if preprocessing else []
    command = ["local", "-n", str(n), "--protocol", protocol, *extra, str(INNER_PRODUCT)]
    result = mpc(*command, *inputs, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert abs(report["outputs"]["dot"] - expected) <= 1e-3
    stats = report["stats"]
    want = {"additive": preprocessing or "ot", "shamir": "honest-majority"}[protocol]
    assert stats["preprocessing"] == want
    if want == "dealer":
        assert stats["offline_rounds"] == 0  # the dealer's material arrives before the job
    else:
        assert stats["offline_rounds"] > 0


def test_plan_names_the_provider_and_the_material() -> None:
    text = mpc("plan", str(INNER_PRODUCT), "-n", "2", "--rows", "100")
    assert text.returncode == 0, text.stderr
    assert "preprocessing ot: " in text.stdout
    dealt = mpc("plan", str(INNER_PRODUCT), "-n", "2", "--preprocessing", "dealer", "--json")
    assert json.loads(dealt.stdout)["preprocessing"] == "dealer"
    refused = mpc(
        "plan", str(INNER_PRODUCT), "-n", "3", "--protocol", "additive", "--preprocessing", "ot"
    )
    assert refused.returncode == 1
    assert "two-party" in refused.stderr


def wealth_inputs(tmp_path: Path, a: np.ndarray, b: np.ndarray) -> list[str]:
    """Parties 0 and 1's `wealth` CSVs, as `--input` arguments."""
    arguments = []
    for party, (name, column) in enumerate((("a", a), ("b", b))):
        lines = ["wealth", *(str(v) for v in column)]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
        arguments += ["--input", f"{party}:wealth={tmp_path / f'{name}.csv'}"]
    return arguments


def test_local_millionaires_two_parties_no_preprocessing(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 2**31, (2, 400))
    b[:40] = a[:40]  # ties give 0
    circuit = ROOT / "circuits" / "millionaires.py"
    inputs = wealth_inputs(tmp_path, a, b)
    result = mpc("local", "-n", "2", str(circuit), *inputs, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outputs"]["greater"] == (a > b).astype(int).tolist()
    assert report["stats"]["preprocessing"] is None  # no dealer, no triples
    per_comparison = sum(report["stats"]["payload_bytes_sent"].values()) / a.size
    assert per_comparison <= 3 * 1024
    layers = report["stats"]["layer_seconds"]  # the critical path, layer by layer
    assert [layer["ops"] for layer in layers] == [["compare"], ["reveal"]]
    assert all(layer["seconds"] >= 0 for layer in layers)
    assert all(len(t) == 3 for t in report["stats"]["round_seconds"].values())  # offline + 2


def test_local_millionaires_with_a_dealer_compares_on_boolean_shares(tmp_path: Path) -> None:
    """With a dealer process the two parties compare on boolean shares with its word triples:
    right answers, no OT set-up, far fewer bytes than garbling."""
    rng = np.random.default_rng(6)
    a, b = rng.integers(-(2**31) + 1, 2**31, (2, 301))
    b[:30] = a[:30]
    circuit = ROOT / "circuits" / "millionaires.py"
    inputs = wealth_inputs(tmp_path, a, b)
    result = mpc(
        "local", "-n", "2", "--preprocessing", "dealer", str(circuit), "--param", "bits=31",
        *inputs, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outputs"]["greater"] == (a > b).astype(int).tolist()
    stats = report["stats"]
    assert stats["preprocessing"] == "dealer"
    assert stats["offline_rounds"] == 0  # no base OTs: the dealer's material only
    assert list(stats["payload_bytes_sent"].values()) == stats["predicted"]["bytes_sent"]
    per_comparison = sum(stats["payload_bytes_sent"].values()) / a.size
    assert per_comparison < 200  # 16 B per word AND, two comparisons per word, 1 B each
