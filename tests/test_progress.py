"""The driver's progress line, and the PROGRESS reports nodes send while a job runs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from mpc.local import run_local
from mpc.progress import ProgressLine
from tests.conftest import ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_shows_the_slowest_party_once_a_phase_lasts() -> None:
    out = Terminal()
    line = ProgressLine(2, out, delay=0.0)
    line.update(0, "offline", 3, 4)
    line.update(1, "offline", 1, 4)
    last = out.getvalue().split("\r")[-1]
    assert last.startswith("preprocessing")
    assert "1/4 rounds" in last  # the slowest party
    line.update(0, "online", 1, 3)
    line.update(1, "online", 2, 3)
    assert out.getvalue().split("\r")[-1].startswith("computing")
    line.close()
    assert out.getvalue().endswith("\n")


def test_logs_get_a_line_at_most_every_few_seconds() -> None:
    out = io.StringIO()  # not a terminal
    line = ProgressLine(1, out, delay=0.0)
    for done in range(4):
        line.update(0, "offline", done, 4)
    assert out.getvalue().count("\n") == 1


def test_nothing_is_drawn_for_a_quick_phase() -> None:
    out = io.StringIO()
    line = ProgressLine(2, out, delay=60.0)
    for party in (0, 1):
        line.update(party, "offline", 2, 4)
        line.update(party, "online", 3, 3)
        line.update(party, "done", 3, 3)
    line.close()
    assert out.getvalue() == ""


class Recorder(ProgressLine):
    def __init__(self, n_parties: int) -> None:
        super().__init__(n_parties, io.StringIO())
        self.seen: list[tuple[int, str, int, int]] = []

    def update(self, party: int, phase: str, done: int, total: int) -> None:
        self.seen.append((party, phase, done, total))
        super().update(party, phase, done, total)


@pytest.mark.trio
async def test_nodes_report_both_phases_to_the_driver(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("x", "y"):
        values = np.round(rng.uniform(-10, 10, 50), 2)
        (tmp_path / f"{name}.csv").write_text(name + "\n" + "\n".join(map(str, values)) + "\n")
    recorder = Recorder(2)
    await run_local(
        ROOT / "circuits" / "inner_product.py",
        n_parties=2,
        protocol="additive",
        inputs={0: {"x": tmp_path / "x.csv"}, 1: {"y": tmp_path / "y.csv"}},
        progress=recorder,
    )
    for party in (0, 1):
        phases = [phase for p, phase, _, _ in recorder.seen if p == party]
        assert phases[0] == "offline"  # the OT preprocessing of two parties
        assert "online" in phases
        assert phases[-1] == "done"
        offline = [
            (done, total)
            for p, phase, done, total in recorder.seen
            if (p, phase) == (party, "offline")
        ]
        assert all(0 <= done <= total == 4 for done, total in offline)
