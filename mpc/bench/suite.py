"""The whole benchmark run: every workload × size × setting × network, then the peers.

`run_suite(root, options, progress)` runs the selected workloads on each network in turn (`lan`,
then `wan` inside one emulated network that is torn down afterwards), runs each peer's equivalent
on loopback with the ratio ours/peer, writes the records as JSON lines, regenerates the suite's
section of benchmarks/RESULTS.md and the plots, and returns everything for the summary. A failed
or wrong run is reported (and makes the command exit non-zero); nothing wrong is recorded as a
measurement. What cannot run here (no root for `wan`, a peer that will not install) is skipped
with its reason, in the output and in RESULTS.md.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpc.bench import peers as peer_module
from mpc.bench import records as rec
from mpc.bench.plots import plot_all
from mpc.bench.progress import Progress
from mpc.bench.report import marker, section, write_section
from mpc.bench.runner import LAN, Network, run_micro, run_protocol
from mpc.bench.spec import AnyWorkload, MicroWorkload, Setting, Workload, parse_setting
from mpc.bench.wan import WanError, WanSpec, unavailable, wan_network
from mpc.bench.workloads import Registry, registry
from mpc.errors import MpcError


@dataclass(frozen=True)
class Options:
    suite: str = "quick"
    nets: tuple[str, ...] = ("lan",)
    compare: tuple[str, ...] = ()
    out: Path = Path("benchmarks/results")
    workloads: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()  # overrides every workload's sizes
    settings: tuple[str, ...] = ()  # only these settings (e.g. "shamir-3"); default: the suite's
    repeats: int = 3
    peer_repeats: int = 3
    seed: int = 1
    wan: WanSpec = field(default_factory=WanSpec)
    results_md: Path | None = None  # None: do not touch RESULTS.md
    plots: bool = True
    limit: float = 1800.0
    command: str = "mpc bench"
    data: Path | None = None  # cache of generated inputs; default benchmarks/data/


@dataclass
class Outcome:
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    jsonl: Path | None = None
    plots: list[Path] = field(default_factory=list)


def _settings(workload: Workload, options: Options) -> list[Setting]:
    """The suite's settings, plus those the selected peers compare with."""
    if options.settings:
        return [parse_setting(name) for name in options.settings]
    settings = list(workload.settings_of(options.suite))
    for name in options.compare:
        with contextlib.suppress(peer_module.PeerUnavailableError):
            for run in peer_module.get_peer(name).runs.get(workload.name, ()):
                wanted = parse_setting(run.ours)
                if wanted not in settings:
                    settings.append(wanted)
    return settings


def _sizes(
    workload: AnyWorkload, options: Options, setting: Setting | None = None
) -> tuple[int, ...]:
    if options.sizes:
        return options.sizes
    if isinstance(workload, Workload):
        return workload.sizes_of(options.suite, setting)
    return workload.sizes.of(options.suite)


@contextlib.contextmanager
def _network(name: str, parties: int, options: Options) -> Iterator[Network | str]:
    """The network to run on, or the reason it cannot run here."""
    if name == "lan":
        yield LAN
        return
    if name != "wan":
        yield f"unknown network {name!r} (lan or wan)"
        return
    reason = unavailable()
    if reason:
        yield f"wan skipped: {reason}"
        return
    with contextlib.ExitStack() as stack:
        try:
            network = stack.enter_context(wan_network(parties, options.wan))
        except WanError as error:
            yield f"wan skipped: {error}"
            return
        yield network


def _run_workloads(
    root: Path,
    selected: Sequence[AnyWorkload],
    network: Network,
    options: Options,
    progress: Progress,
    outcome: Outcome,
) -> None:
    data = options.data or root / "benchmarks" / "data"
    for workload in selected:
        if isinstance(workload, MicroWorkload):
            if network.name != "lan":
                continue
            sizes = _sizes(workload, options)
            with progress.task(workload.name, len(sizes) * options.repeats) as tick:
                for size in sizes:
                    try:
                        outcome.records += run_micro(
                            root, workload, size, repeats=options.repeats, tick=tick
                        )
                    except (AssertionError, RuntimeError, OSError) as error:
                        outcome.failures.append(f"{workload.name} {size:,}: {error}")
            continue
        settings = _settings(workload, options)
        runs = [(s, size) for s in settings for size in _sizes(workload, options, s)]
        title = f"{workload.name} ({network.name})"
        with progress.task(title, len(runs) * options.repeats) as tick:
            for setting, size in runs:
                try:
                    prepared = workload.prepare(size, setting, data, options.seed)
                    outcome.records.append(
                        run_protocol(
                            root,
                            workload,
                            setting,
                            size,
                            network,
                            prepared=prepared,
                            repeats=options.repeats,
                            limit=options.limit,
                            tick=tick,
                        )
                    )
                except (AssertionError, MpcError, RuntimeError, OSError, TimeoutError) as e:
                    what = f"{workload.name} {setting.name} {size:,} {network.name}"
                    outcome.failures.append(f"{what}: {type(e).__name__}: {e}")
                    progress.note(f"FAILED {what}: {e}")


def _ours_once(
    root: Path, workload: AnyWorkload, setting: Setting, size: int, options: Options
) -> Callable[[], dict[str, float]] | None:
    """One checked run of our setting on loopback → its protocol (`run`), wall and online
    seconds (the online span where the parties report one)."""
    if not isinstance(workload, Workload):
        return None
    data = options.data or root / "benchmarks" / "data"

    def once() -> dict[str, float]:
        prepared = workload.prepare(size, setting, data, options.seed)
        record = run_protocol(
            root, workload, setting, size, LAN, prepared=prepared, repeats=1, limit=options.limit
        )
        figures = {
            "seconds": float((record["run_seconds"] or record["seconds"])["median"]),
            "wall_seconds": float(record["seconds"]["median"]),
        }
        online = record.get("online_span_seconds") or record.get("online_seconds")
        if online:
            figures["online_seconds"] = float(online["median"])
        return figures

    return once


def _run_peers(
    root: Path,
    selected: Sequence[AnyWorkload],
    options: Options,
    progress: Progress,
    outcome: Outcome,
) -> None:
    by_name = {w.name: w for w in selected}
    for name in options.compare:
        try:
            peer = peer_module.get_peer(name)
            python = peer_module.ensure_venv(peer, root, progress.note)
        except peer_module.PeerUnavailableError as error:
            outcome.records.append(peer_module.skipped(name, str(error)))
            progress.note(f"peer {name} skipped: {error}")
            continue
        jobs = [
            (workload, run, size)
            for workload, runs in peer.runs.items()
            if workload in by_name
            for run in runs
            for size in _sizes(by_name[workload], options)
        ]
        for workload, run, size in [job for job in jobs if not job[1].fits(job[2])]:
            reason = f"{run.protocol} {size:,}: not run: {run.too_big}"
            outcome.records.append(peer_module.skipped(name, reason, workload))
            progress.note(f"peer {name} {reason}")
        jobs = [job for job in jobs if job[1].fits(job[2])]
        with progress.task(f"peer {name}", len(jobs)) as tick:
            for workload, run, size in jobs:
                ours_workload, setting = by_name[workload], parse_setting(run.ours)
                ours = (  # not where our setting is too costly to run (its own sizes)
                    _ours_once(root, ours_workload, setting, size, options)
                    if size in _sizes(ours_workload, options, setting)
                    else None
                )
                bits, operations = 0, None
                if isinstance(ours_workload, Workload):
                    bits = ours_workload.bits_for_peers(size, run.parties)
                    if ours_workload.operations is not None:
                        operations = ours_workload.operations(size)
                try:
                    record = peer_module.measure(
                        peer,
                        root,
                        python,
                        workload,
                        run,
                        size,
                        bits=bits,
                        seed=options.seed,
                        repeats=options.peer_repeats,
                        timeout=options.limit,
                        ours=ours,
                        operations=operations,
                    )
                except peer_module.PeerUnavailableError as error:
                    outcome.records.append(peer_module.skipped(name, str(error), workload))
                    progress.note(f"peer {name} {run.protocol} {size:,}: {error}")
                    tick(f"{run.protocol} {size:,} (failed)")
                    continue
                except (AssertionError, MpcError, RuntimeError, OSError) as error:  # ours failed
                    what = f"{workload} {run.ours} {size:,} (paired with {name})"
                    outcome.failures.append(f"{what}: {type(error).__name__}: {error}")
                    tick(f"{run.protocol} {size:,} (ours failed)")
                    continue
                outcome.records.append(record)
                tick(f"{run.protocol} {size:,}")


def run_suite(
    root: Path, options: Options, progress: Progress, catalog: Registry | None = None
) -> Outcome:
    """Run the suite (the workloads of `catalog`, default `registry()`); see the module doc."""
    outcome = Outcome()
    catalog = catalog or registry()
    selected = catalog.select(list(options.workloads) or None)
    if not options.workloads:
        outcome.notes += [f"{p.name}: {p.reason}" for p in catalog.pending]
    context = rec.context(root, options.command)
    most = max(
        (
            max(s.parties for s in _settings(w, options))
            for w in selected
            if isinstance(w, Workload)
        ),
        default=1,
    )
    for name in options.nets:
        with _network(name, most, options) as network:
            if isinstance(network, str):
                outcome.notes.append(network)
                progress.note(network)
                continue
            outcome.networks[network.name] = network.info
            if network.info.get("measured_rtt_ms") is not None:
                progress.note(
                    f"wan: measured RTT {network.info['measured_rtt_ms']:.1f} ms, "
                    f"TCP {network.info.get('measured_mbit')} Mbit/s ({network.info['method']})"
                )
            _run_workloads(root, selected, network, options, progress, outcome)
    if options.compare:
        _run_peers(root, selected, options, progress, outcome)
    outcome.records = [{**context, **r} for r in outcome.records]
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outcome.jsonl = rec.write_jsonl(options.out / f"{options.suite}-{stamp}.jsonl", outcome.records)
    if options.plots:
        outcome.plots, note = plot_all(outcome.records, options.out / f"plots-{options.suite}")
        if note:
            outcome.notes.append(note)
    if options.results_md is not None:
        markdown = section(
            outcome.records,
            suite=options.suite,
            context=context,
            networks=outcome.networks,
            notes=outcome.notes + [f"FAILED {f}" for f in outcome.failures],
        )
        write_section(options.results_md, marker(options.suite), markdown)
    return outcome
