"""The issue's performance targets, checked against one harness run's records.

Each `Target` reads one figure from the records (a rate or bytes per operation of one of our
rows, or ours / peer of one peer row) and says met, missed (with the figure and the margin) or
not measured in this run. `evaluate(records)` gives the markdown lines of RESULTS.md's targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Records = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Target:
    """`text` holds when the figure `read` finds is ≥ `at_least` or ≤ `at_most`."""

    text: str
    workload: str
    size: int
    setting: str | None = None  # our row (rates, bytes per operation)
    metric: str = ""  # rates.online, rates.run, bytes_per_operation.payload, ratio
    peer: str | None = None  # a peer row: "spu aby3"
    at_least: float | None = None
    at_most: float | None = None
    unit: str = ""


def _ours(records: Records, t: Target) -> Mapping[str, Any] | None:
    for r in records:
        if (r.get("kind"), r.get("workload"), r.get("setting"), r.get("size")) == (
            "protocol",
            t.workload,
            t.setting,
            t.size,
        ) and r.get("network") == "lan":
            return r
    return None


def _peer(records: Records, t: Target) -> Mapping[str, Any] | None:
    for r in records:
        who = f"{r.get('peer')} {r.get('protocol')}-{r.get('parties')}"
        wanted = (r.get("workload"), r.get("size")) == (t.workload, t.size)
        if r.get("kind") == "peer" and not r.get("skipped") and who == t.peer and wanted:
            return r
    return None


def figure(records: Records, t: Target) -> tuple[float | None, str]:
    """The target's figure in this run (None: not measured) and what it is."""
    if t.peer is not None:
        peer = _peer(records, t)
        if peer is None:
            return None, f"{t.peer} not measured at {t.size:,}"
        if t.setting is not None:  # our own row's protocol seconds against the peer's
            ours = _ours(records, t)
            run = (ours or {}).get("run_seconds") or {}
            if not run:
                return None, f"ours {t.setting} not measured at {t.size:,}"
            seconds = float(run["median"])
            setting = t.setting
        else:
            paired = peer.get("ours") or {}
            if "seconds" not in paired:
                return None, "no paired run of ours"
            seconds, setting = float(paired["seconds"]), str(paired.get("setting"))
        theirs = float(peer["seconds"]["median"])
        ratio = seconds / theirs
        return ratio, f"ours {setting} {seconds:.3f} s vs {t.peer} {theirs:.3f} s: ×{1 / ratio:.2f}"
    ours = _ours(records, t)
    group, _, key = t.metric.partition(".")
    value = ((ours or {}).get(group) or {}).get(key)
    if not isinstance(value, int | float):
        return None, f"ours {t.setting} not measured at {t.size:,}"
    return float(value), f"{_number(value)} {t.unit}".strip()


def _number(value: float) -> str:
    for scale, suffix in ((1e6, "M"), (1e3, "K")):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{suffix}"
    return f"{value:.3g}"


def evaluate(records: Records, targets: Sequence[Target]) -> list[str]:
    """One markdown line per target: met / MISSED / not measured, with the figure."""
    lines = []
    for t in targets:
        value, what = figure(records, t)
        if value is None:
            lines.append(f"- not measured: {t.text} ({what})")
            continue
        name = "ours / peer" if t.peer is not None else t.unit
        if t.at_least is not None:
            met, goal = value >= t.at_least, f"{name} ≥ {_number(t.at_least)}"
        else:
            assert t.at_most is not None
            met, goal = value <= t.at_most, f"{name} ≤ {_number(t.at_most)}"
        shown = f"{what}, ours / peer {value:.3f}" if t.peer is not None else what
        lines.append(f"- {'met' if met else 'MISSED'}: {t.text}: {shown} (target {goal})")
    return lines


M = 10**6
TARGETS = (
    Target(
        "3-party Shamir ≥ 5M multiplications/s online at 10^6",
        "mul", M, "shamir-3", "rates.online", at_least=5e6, unit="mults/s online",
    ),
    Target(
        "3-party Shamir multiplications ahead of SPU ABY3 at 10^6",
        "mul", M, peer="spu aby3-3", at_most=1.0,
    ),
    Target(
        "3-party Shamir multiplications ≥ 10× MPyC at 10^6",
        "mul", M, peer="mpyc shamir-3", at_most=0.1,
    ),
    Target(
        "2-party additive with a dealer ≥ CrypTen 2-party multiplications at 10^6",
        "mul", M, peer="crypten tfp-2", at_most=1.0,
    ),
    Target("256×256 matmul faster than CrypTen (2 parties)", "matmul", 256, peer="crypten tfp-2",
           at_most=1.0),
    Target("256×256 matmul faster than SPU ABY3", "matmul", 256, peer="spu aby3-3", at_most=1.0),
    Target("256×256 matmul faster than SPU SEMI2K", "matmul", 256, peer="spu semi2k-2",
           at_most=1.0),
    Target("256×256 matmul faster than SPU Cheetah", "matmul", 256, peer="spu cheetah-2",
           at_most=1.0),
    Target(
        "dealer-free 2-party comparisons ≥ 100K/s (protocol time) at 10^5",
        "compare", 10**5, "additive-2", "rates.run", at_least=1e5, unit="comparisons/s (run)",
    ),
    Target(
        "dealer-free 2-party comparisons ≥ 100K/s end to end (wall) at 10^5",
        "compare", 10**5, "additive-2", "rates.wall", at_least=1e5, unit="comparisons/s (wall)",
    ),
    Target(
        "≤ 3 KiB per comparison (both parties, every wire byte) at 10^5",
        "compare", 10**5, "additive-2", "bytes_per_operation.wire", at_most=3072,
        unit="bytes per comparison",
    ),
    Target(
        "dealer-free 2-party comparisons ahead of SPU Cheetah at 10^5",
        "compare", 10**5, peer="spu cheetah-2", at_most=1.0,
    ),
    Target(
        "dealer-free 2-party comparisons ≥ 20× MPyC (3-party) at 10^5",
        "compare", 10**5, "additive-2", peer="mpyc shamir-3", at_most=0.05,
    ),
    Target(
        "2-party comparisons with the dealer provider ≥ CrypTen 2-party at 10^5",
        "compare", 10**5, "additive-2-dealer", peer="crypten tfp-2", at_most=1.0,
    ),
)  # fmt: skip
