"""`mpc bench`: the command line of the benchmark harness.

```
mpc bench [--suite quick|full] [--net lan,wan] [--compare mpyc,crypten,spu]
          [--out benchmarks/results/] [--workload NAME ...] [--sizes N,N] [--settings S,S]
          [--repeats R] [--rtt-ms 20] [--rate-mbit 1000] [--no-markdown] [--no-plots] [--plain]
          [--list]
```
Exit status: 0 when every run succeeded, 1 when any run failed or gave a wrong answer (skipped
networks and peers are not failures; their reasons are printed), 2 for a malformed command line,
130 on Ctrl-C (after tearing down what the harness created).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from mpc.bench.peers import peers
from mpc.bench.progress import make_progress
from mpc.bench.records import per_party_max
from mpc.bench.spec import MicroWorkload, parse_setting
from mpc.bench.suite import Options, Outcome, run_suite
from mpc.bench.wan import WanSpec
from mpc.bench.workloads import registry


def repository_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks").is_dir() or not (root / "circuits").is_dir():
        raise SystemExit("mpc bench runs from a source checkout (benchmarks/ and circuits/)")
    return root


def _names(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(float(item)) for item in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes are integers like 1000,1e6; got {text!r}"
        ) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mpc bench", description="Run the benchmark suite.")
    p.add_argument("--suite", choices=["quick", "full"], default="quick")
    p.add_argument("--net", type=_names, default=("lan",), help="lan,wan (default lan)")
    p.add_argument("--compare", type=_names, default=(), help="peers: mpyc,crypten,spu")
    p.add_argument("--out", type=Path, default=None, help="default benchmarks/results/")
    p.add_argument("--workload", action="append", default=[], help="only this one (repeatable)")
    p.add_argument("--sizes", type=_sizes, default=(), help="override sizes, e.g. 1000,1e5")
    p.add_argument("--settings", type=_names, default=(), help="only these, e.g. shamir-3")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--peer-repeats", type=int, default=None, help="default: --repeats")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rtt-ms", type=float, default=20.0, help="wan round-trip time (default 20)")
    p.add_argument("--rate-mbit", type=float, default=1000.0, help="wan rate per party")
    p.add_argument("--limit", type=float, default=1800.0, help="seconds allowed per run")
    p.add_argument("--no-markdown", action="store_true", help="leave RESULTS.md alone")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--plain", action="store_true", help="plain progress lines, no rich")
    p.add_argument("--list", action="store_true", help="list workloads and peers, run nothing")
    return p


def _list() -> None:
    catalog = registry()
    for w in catalog.workloads:
        kind = "micro" if isinstance(w, MicroWorkload) else "protocol"
        print(f"{w.name:<20} {kind:<8} quick {list(w.sizes.quick)} full {list(w.sizes.full)}")
        if not isinstance(w, MicroWorkload):
            print(f"{'':<29} settings {', '.join(s.name for s in w.settings_of('full'))}")
    for pending in catalog.pending:
        print(f"{pending.name:<20} {'pending':<8} {pending.reason}")
    for peer in peers():
        print(f"peer {peer.name:<15} workloads: {', '.join(peer.runs)}")


def summary_rows(outcome: Outcome) -> list[list[str]]:
    rows = []
    for r in outcome.records:
        if r.get("skipped"):
            continue
        seconds = r.get("seconds") or {}
        run = r.get("run_seconds") or {}
        if r.get("kind") == "peer":  # the peer's own protocol time is its `run`
            seconds, run = r.get("wall_seconds") or {}, seconds
        sent = per_party_max(r.get("bytes_sent") or {})
        ratio = (r.get("ours") or {}).get("ratio")
        who = (
            f"{r['peer']} {r['protocol']}-{r['parties']}"
            if r.get("peer")
            else r.get("measurement") or r.get("setting")
        )
        rows.append(
            [
                r["workload"],
                str(who),
                r.get("network", ""),
                f"{r['size']:,}" if r.get("size") is not None else "–",
                f"{seconds.get('median', 0):.3f}",
                f"{run['median']:.3f}" if run else "–",
                f"{sent / 1e6:.2f}" if sent is not None else "–",
                f"{ratio:.2f}" if isinstance(ratio, int | float) else "",
            ]
        )
    return rows


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # run every cleanup (namespaces, party processes) on SIGTERM too


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        _list()
        return 0
    root = repository_root()
    known = set(registry().names())
    unknown = [w for w in args.workload if w not in known]
    if unknown:
        print(
            f"error: unknown workload {unknown[0]!r} (known: {', '.join(sorted(known))})",
            file=sys.stderr,
        )
        return 2
    try:
        for name in args.settings:
            parse_setting(name)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2
    words = ["mpc", "bench", *(argv if argv is not None else sys.argv[2:])]
    options = Options(
        suite=args.suite,
        nets=args.net,
        compare=args.compare,
        out=args.out or root / "benchmarks" / "results",
        workloads=tuple(args.workload),
        sizes=args.sizes,
        settings=args.settings,
        repeats=args.repeats,
        peer_repeats=args.peer_repeats or args.repeats,
        seed=args.seed,
        wan=WanSpec(args.rtt_ms, args.rate_mbit),
        results_md=None if args.no_markdown else root / "benchmarks" / "RESULTS.md",
        plots=not args.no_plots,
        limit=args.limit,
        command=shlex.join(words),
    )
    previous = signal.signal(signal.SIGTERM, _terminate)
    progress = make_progress(plain=args.plain)
    try:
        outcome = run_suite(root, options, progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
    header = [
        "workload",
        "setting / peer",
        "net",
        "size",
        "wall s",
        "run s",
        "MB sent",
        "ours/peer",
    ]
    progress.summary(f"mpc bench: {args.suite} suite", header, summary_rows(outcome))
    for note in outcome.notes:
        print(f"note: {note}")
    print(f"records: {outcome.jsonl}")
    for plot in outcome.plots:
        print(f"plot: {plot}")
    if options.results_md is not None:
        print(f"updated: {options.results_md}")
    for failure in outcome.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if outcome.failures else 0
