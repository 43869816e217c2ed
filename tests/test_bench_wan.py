"""The emulated WAN for real: network namespaces, delay, the probe, a job across it, teardown.

Marked slow (a few seconds of namespace set-up and a measured round trip); runs only as root
with iproute2 (`mpc.bench.wan.unavailable()` gives the reason it skips otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mpc.bench import wan
from mpc.bench.runner import run_protocol
from mpc.bench.spec import Setting, Workload
from mpc.bench.workloads import registry

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("collect_garbage"),
    pytest.mark.skipif(wan.unavailable() is not None, reason=str(wan.unavailable())),
]


def test_bench_wan_delays_runs_a_job_and_cleans_up(tmp_path: Path) -> None:
    before = set(wan._namespaces())
    spec = wan.WanSpec(rtt_ms=10.0, rate_mbit=500.0)
    with wan.wan_network(2, spec) as network:
        info = network.info
        assert 9.0 <= info["measured_rtt_ms"] <= 30.0, info
        assert network.hosts == ("198.18.1.2", "198.18.2.2")
        assert len(set(wan._namespaces()) - before) == 3  # router and two parties
        workload = registry().get("secure_sum")
        assert isinstance(workload, Workload)
        setting = Setting("additive", 2)
        prepared = workload.prepare(100, setting, tmp_path, 1)
        record = run_protocol(ROOT, workload, setting, 100, network, prepared=prepared, repeats=1)
        assert record["network"] == "wan"
        assert record["correct"] is True
        assert record["run_seconds"]["median"] >= 0.005  # at least one delayed round
    assert set(wan._namespaces()) == before
    assert wan.reap_stale() == []


def test_bench_wan_teardown_runs_on_interrupt() -> None:
    before = set(wan._namespaces())
    with pytest.raises(KeyboardInterrupt), wan.wan_network(2, wan.WanSpec(rtt_ms=2.0)):
        raise KeyboardInterrupt
    assert set(wan._namespaces()) == before
