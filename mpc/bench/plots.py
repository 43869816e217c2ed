"""Log-log PNG plots of time against size, one per workload (matplotlib, the `bench` extra).

Each plot has one line per setting × network and a dashed line per peer protocol: protocol
seconds (our `run` phase, the peers' own protocol time; median with the min–max spread as error
bars), so the lines compare like with like. Without matplotlib `plot_all` draws nothing and
returns the message saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def series(
    records: Sequence[Mapping[str, Any]],
) -> dict[str, dict[str, list[tuple[int, dict[str, float]]]]]:
    """workload → line label → [(size, seconds spread)], sorted by size."""
    lines: dict[str, dict[str, list[tuple[int, dict[str, float]]]]] = {}
    for r in records:
        if r.get("skipped") or not r.get("seconds") or r.get("size") is None:
            continue
        if r.get("kind") == "peer":
            label = f"{r['peer']} {r['protocol']}-{r['parties']} ({r['network']})"
        elif r.get("kind") == "protocol":
            label = f"ours {r['setting']} ({r['network']})"
        else:
            label = f"ours {r.get('measurement', '')} (single process)"
        seconds = r.get("run_seconds") or r["seconds"]
        lines.setdefault(r["workload"], {}).setdefault(label, []).append((r["size"], seconds))
    for by_label in lines.values():
        for points in by_label.values():
            points.sort(key=lambda p: p[0])
    return lines


def plot_all(records: Sequence[Mapping[str, Any]], out: Path) -> tuple[list[Path], str | None]:
    """Write `out/<workload>.png` for every workload; return the files and a note (or None)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "plots skipped: matplotlib is not installed (pip install -e '.[bench]')"
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for workload, by_label in series(records).items():
        figure, axes = plt.subplots(figsize=(7, 4.5))
        for label, points in sorted(by_label.items()):
            sizes = [p[0] for p in points]
            median = [p[1]["median"] for p in points]
            below = [p[1]["median"] - p[1]["min"] for p in points]
            above = [p[1]["max"] - p[1]["median"] for p in points]
            style = "--" if not label.startswith("ours") else "-"
            axes.errorbar(
                sizes, median, yerr=[below, above], fmt=style, marker="o", capsize=3, label=label
            )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("size")
        axes.set_ylabel("protocol seconds (median, min–max)")
        axes.set_title(workload)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small")
        figure.tight_layout()
        path = out / f"{workload}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written, None
