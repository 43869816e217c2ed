"""What a person sees while the suite runs: a progress bar per workload, notes, a summary table.

With `rich` installed (the optional `bench` extra) and a terminal on stderr, each workload gets a
progress bar and the summary is a rich table; otherwise every step is one plain line on stderr
and the summary a plain text table on stdout. Progress goes to stderr, so stdout stays usable.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

Tick = Callable[[str], None]


class Progress(Protocol):
    def task(self, title: str, total: int) -> contextlib.AbstractContextManager[Tick]: ...

    def note(self, line: str) -> None: ...

    def summary(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None: ...


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]
    rule = "  ".join("-" * w for w in widths)
    head = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))
    return "\n".join([head, rule, *lines])


class PlainProgress:
    """One line per step on stderr."""

    def __init__(self) -> None:
        self.stream = sys.stderr

    @contextlib.contextmanager
    def task(self, title: str, total: int) -> Iterator[Tick]:
        done = [0]
        print(f"[{title}] {total} runs", file=self.stream, flush=True)

        def tick(step: str) -> None:
            done[0] += 1
            print(f"[{title}] {done[0]}/{total} {step}", file=self.stream, flush=True)

        yield tick

    def note(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def summary(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        print(f"\n{title}\n{plain_table(header, rows)}", flush=True)


class RichProgress:
    """A rich progress bar per workload and a rich summary table."""

    def __init__(self, rich: Any) -> None:
        from rich.console import Console

        self.rich = rich
        self.console = Console(stderr=True)

    @contextlib.contextmanager
    def task(self, title: str, total: int) -> Iterator[Tick]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            TextColumn("[bold]{task.fields[title]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        with Progress(*columns, console=self.console, transient=False) as bar:
            task_id = bar.add_task("", total=total, title=title)

            def tick(step: str) -> None:
                bar.update(task_id, advance=1, description=step)

            yield tick

    def note(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)

    def summary(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for name in header:
            table.add_column(name)
        for row in rows:
            table.add_row(*[str(c) for c in row])
        Console().print(table)


def make_progress(plain: bool = False) -> Progress:
    """A rich progress display when rich is installed and stderr is a terminal, else plain."""
    if not plain and sys.stderr.isatty():
        try:
            import rich
        except ImportError:
            return PlainProgress()
        return RichProgress(rich)
    return PlainProgress()
