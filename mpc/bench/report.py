"""Markdown from benchmark records, spliced into benchmarks/RESULTS.md between marker comments.

`section(records, ...)` renders one harness run (protocol rows per workload, peers side by side
with the ratio ours/peer and each peer's threat model, micro-benchmarks, and what was skipped and
why). `splice(text, marker, section)` replaces the part of a document between two copies of
`marker` and leaves every other section (other benchmarks, prose) exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mpc.bench.targets import TARGETS, evaluate

HEADER = (
    "# Benchmark results\n\n"
    "Figures measured on this project's reference machine. Each section says the command that\n"
    "produced it; rerun it to refresh the section in place.\n"
)


OURS_THREAT_MODEL = (
    "`additive` is semi-honest against any n − 1 colluding parties when no dealer is involved: "
    "sums and garbled-circuit comparisons need no preprocessing, `-ot` makes products' triples "
    "between the two parties (Gilboa over IKNP OT, in the job's offline stage); `-dealer` takes "
    "them from a separate trusted dealer process (secure while the dealer colludes with no "
    "party); `shamir` is semi-honest with an honest majority and makes its own preprocessing; "
    "every link is mutual TLS"
)


def marker(suite: str) -> str:
    return f"<!-- mpc-bench:{suite} -->"


def splice(text: str, mark: str, section: str) -> str:
    """`text` with the part between the two `mark` lines replaced by `section` (or appended)."""
    body = mark + "\n" + section.strip("\n") + "\n" + mark
    if text.count(mark) >= 2:
        before, _, rest = text.partition(mark)
        _, _, after = rest.partition(mark)
        return before + body + after
    if text.count(mark) == 1:
        raise ValueError(f"{mark} appears once: the section has lost its closing marker")
    return text.rstrip("\n") + "\n\n" + body + "\n"


def write_section(path: Path, mark: str, section: str) -> None:
    text = path.read_text() if path.exists() else HEADER
    path.write_text(splice(text, mark, section))


def _mb(value: Any) -> str:
    return f"{value / 1e6:.2f}" if isinstance(value, int | float) else "–"


def _per_party_mb(values: Mapping[str, Any] | Sequence[Any] | None) -> str:
    if not values:
        return "–"
    items = list(values.values()) if isinstance(values, Mapping) else list(values)
    shown = [_mb(v) for v in items]
    return shown[0] + " ×" + str(len(shown)) if len(set(shown)) == 1 else " / ".join(shown)


def _s(value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _spread(s: Mapping[str, Any] | None) -> str:
    if not s:
        return "–"
    return f"{_s(s['median'])} ({_s(s['min'])}–{_s(s['max'])})"


def _median(s: Mapping[str, Any] | None) -> str:
    return _s(s["median"]) if s else "–"


def _network_line(info: Mapping[str, Any]) -> str:
    if info.get("kind") == "loopback":
        return "loopback (127.0.0.1)"
    parts = [f"{info.get('kind', '?')}: target RTT {info.get('rtt_ms')} ms"]
    parts.append(f"{info.get('rate_mbit')} Mbit/s per party")
    if info.get("measured_rtt_ms") is not None:
        parts.append(f"measured RTT {info['measured_rtt_ms']:.1f} ms")
    if info.get("measured_mbit") is not None:
        parts.append(
            f"measured TCP throughput {info['measured_mbit']:.0f} Mbit/s "
            f"({info.get('probe_megabytes', '?')} MB, party 0 → party 1)"
        )
    if info.get("method"):
        parts.append(f"delay by {info['method']}")
    return ", ".join(parts)


def _rate(value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    for scale, suffix in ((1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:.2f}{suffix}"
    return f"{value:.3g}"


def _bytes(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else "–"


def _rounds(r: Mapping[str, Any]) -> str:
    offline = r.get("offline_rounds")
    return f"{offline} + {r.get('rounds')}" if offline else str(r.get("rounds", "–"))


def protocol_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """One row per setting × network × size; rates and bytes per operation when it has them."""
    operation = str(next((r["operation"] for r in records if r.get("operation")), ""))
    rated = bool(operation)
    head = (
        "| setting | network | size | rounds | wall s (median, min–max) | run s | prepare s "
        "| offline / online s |"
    )
    if rated:
        head += (
            f" online span s | {operation}/s: wall · run · online "
            f"| B per {operation.removesuffix('s')}, all parties: online payload · wire |"
        )
    head += (
        " MB sent per party (wire) | predicted payload MB per party "
        "| measured / predicted payload | peak RSS MB (max party) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in records:
        phases = r.get("phases") or {}
        split = (
            f"{_median(r.get('offline_seconds'))} / {_median(r.get('online_seconds'))}"
            if r.get("offline_seconds") or r.get("online_seconds")
            else "–"
        )
        rss = max((v for v in (r.get("peak_rss_bytes") or {}).values()), default=None)
        ratio = r.get("predicted_payload_ratio")
        line = (
            f"| {r['setting']} | {r['network']} | {r['size']:,} | {_rounds(r)} "
            f"| {_spread(r.get('seconds'))} | {_median(r.get('run_seconds'))} "
            f"| {_s(phases.get('prepare'))} | {split} |"
        )
        if rated:
            rates = r.get("rates") or {}
            per = r.get("bytes_per_operation") or {}
            line += (
                f" {_median(r.get('online_span_seconds'))} "
                f"| {' · '.join(_rate(rates.get(k)) for k in ('wall', 'run', 'online'))} "
                f"| {' · '.join(_bytes(per.get(k)) for k in ('payload', 'wire'))} |"
            )
        line += (
            f" {_per_party_mb(r.get('bytes_sent'))} "
            f"| {_per_party_mb((r.get('predicted') or {}).get('bytes_sent'))} "
            f"| {ratio if ratio is not None else '–'} | {_mb(rss)} |"
        )
        lines.append(line)
    return lines


def _ours(peer: Mapping[str, Any]) -> str:
    ours = peer.get("ours")
    if not ours:  # our setting skips this size (too costly), or no pairing was asked for
        return f"– ({peer.get('compare_with', '–')}: not run at this size)"
    return f"{_s(ours.get('seconds'))} ({ours.get('setting', '–')})"


def peer_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| workload | size | network | peer (protocol, parties) | threat model | peer s "
        "| ours s (setting) | ours / peer | ours online s | operations/s: peer · ours "
        "| peer MB sent per party |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        ours = r.get("ours") or {}
        ratio = ours.get("ratio")
        operations = r.get("operations")
        rates = "–"
        if operations and ours.get("seconds"):
            rates = (
                f"{_rate(operations / r['seconds']['median'])} · "
                f"{_rate(operations / ours['seconds'])}"
            )
        lines.append(
            f"| {r['workload']} | {r['size']:,} | {r['network']} "
            f"| {r['peer']} ({r['protocol']}, {r['parties']}) | {r.get('threat_model', '')} "
            f"| {_spread(r.get('seconds'))} "
            f"| {_ours(r)} "
            f"| {f'{ratio:.2f}' if isinstance(ratio, int | float) else '–'} "
            f"| {_s(ours.get('online_seconds'))} | {rates} "
            f"| {_per_party_mb(r.get('bytes_sent'))} |"
        )
    return lines


def _value(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def micro_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| workload | measurement | size | s (median, min–max) | details |",
        "|---|---|---|---|---|",
    ]
    for r in records:
        extra = ", ".join(f"{k}={_value(v)}" for k, v in sorted((r.get("extra") or {}).items()))
        size = f"{r['size']:,} {r.get('unit', '')}".strip() if r.get("size") else "–"
        lines.append(
            f"| {r['workload']} | {r.get('measurement', '')} | {size} "
            f"| {_spread(r.get('seconds'))} | {extra} |"
        )
    return lines


def section(
    records: Sequence[Mapping[str, Any]],
    *,
    suite: str,
    context: Mapping[str, Any],
    networks: Mapping[str, Mapping[str, Any]],
    notes: Sequence[str] = (),
) -> str:
    """The markdown of one harness run."""
    m = context.get("machine", {})
    machine = (
        f"{m.get('cpu')}, {m.get('cores')} cores, "
        f"{(m.get('memory_bytes') or 0) / 2**30:.0f} GiB, Python {m.get('python')}, "
        f"{m.get('system')}"
    )
    lines = [
        f"## Benchmark harness: {suite} suite (`mpc bench`)",
        "",
        f"- machine: {machine}",
        f"- revision: {context.get('revision')}, {context.get('timestamp')}",
        f"- command: `{context.get('command')}`",
    ]
    lines += [f"- network `{name}`: {_network_line(info)}" for name, info in networks.items()]
    loads = [r["load_average"] for r in records if isinstance(r.get("load_average"), int | float)]
    if loads:
        lines.append(
            f"- load average (1 min) after each measurement: {min(loads):.1f}–{max(loads):.1f} "
            f"on {m.get('cores')} cores (above the core count, other processes competed for the "
            "CPUs: treat those figures as upper bounds)"
        )
    lines += [
        "- protocol rows: real `mpc party` processes over mutual TLS, started as `mpc local` "
        "starts them; every repeat's outputs are checked against the plaintext answer first.",
        "  wall = driver connect → last result (includes each party reading its CSV);",
        "  run = the protocol itself, mesh connection excluded (slowest party); "
        "prepare = CSV read, validation, compilation, numba's ring-matmul kernel when the "
        "job needs it and the job's memory faulted in (slowest party);",
        "  wire bytes include TLS and framing; the predicted payload is `Plan.cost()`.",
        "  offline / online = each phase of the slowest party: offline is the job's "
        "preprocessing (OT triples, the dealer's material, Shamir's resharing pads), online "
        "starts when a party's offline work is over; online span = from the last party "
        "entering online to the last one done (leaves out waiting for a slower peer's offline "
        "work). Rates are operations per second of wall, run and online span; bytes per operation "
        "are the online stage's payload and every wire byte (offline stage, TLS, framing "
        "included) of all parties; the dealer's own traffic to the parties is in neither (job "
        "stats do not report it yet).",
    ]
    protocol = [r for r in records if r.get("kind") == "protocol"]
    for workload in dict.fromkeys(r["workload"] for r in protocol):
        lines += ["", f"### {workload}", ""]
        lines += protocol_table([r for r in protocol if r["workload"] == workload])
    peers = [r for r in records if r.get("kind") == "peer" and not r.get("skipped")]
    if peers:
        lines += [
            "",
            "### Peers side by side",
            "",
            "Peer seconds are the peer's own protocol time (inputs secret-shared → outputs "
            "revealed, connection setup excluded; the peers make their triples inside it); ours "
            "are our `run` seconds (offline and online) on the setting named, measured in runs "
            "alternating with the peer's (same load), medians of each; `ours online s` is our "
            "online span alone. A peer run over 30 s is not repeated. Each peer checks its "
            "answer against the plaintext; bytes are TCP payload bytes per party process "
            "(TCP_INFO), ours wire bytes including TLS.",
            "",
        ]
        lines += peer_table(peers)
        details = dict.fromkeys(r["threat_detail"] for r in peers if r.get("threat_detail"))
        lines += ["", "Threat models:", *(f"- {d}" for d in details)]
        lines.append(f"- ours: {OURS_THREAT_MODEL}")
    checked = evaluate(records, TARGETS)
    if any(not line.startswith("- not measured") for line in checked):
        lines += ["", "### Targets", "", *checked]
    micro = [r for r in records if r.get("kind") == "micro"]
    if micro:
        lines += ["", "### Micro-benchmarks (single process)", "", *micro_table(micro)]
    skipped = [r for r in records if r.get("skipped")]
    if skipped or notes:
        lines += ["", "### Not run", ""]
        lines += [f"- {r.get('peer') or r.get('workload')}: {r['skipped']}" for r in skipped]
        lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
