"""Progress: the driver's line of how far the slowest party is, once a phase takes over a second,
and the reports a node sends it (`ProgressReports`).

Nodes report (phase, rounds done, rounds) as their engines move (PROGRESS frames, at most every
0.2 s); the driver ticks twice a second. On a terminal the line redraws in place
(`preprocessing ▕██████░░░░▏ 3/4 rounds  4.2 s`); otherwise a line is printed at most every
5 s, so logs stay readable. Nothing is drawn for a phase that ends within `delay` seconds.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, TextIO

import trio

from mpc.errors import MpcError
from mpc.net.channel import Channel
from mpc.wire import PROGRESS, Frame

LABELS = {"offline": "preprocessing", "online": "computing"}
WIDTH = 24


class ProgressLine:
    """Renders the job's progress on `stream` (stderr by default)."""

    def __init__(self, n_parties: int, stream: TextIO | None = None, delay: float = 1.0) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._delay = delay
        self._state: dict[int, tuple[str, int, int]] = dict.fromkeys(
            range(n_parties), ("offline", 0, 0)
        )
        self._phase = ""
        self._phase_started = time.monotonic()
        self._printed_at = 0.0
        self._drawn = False

    def update(self, party: int, phase: str, done: int, total: int) -> None:
        self._state[party] = (phase, done, total)
        self.tick()

    def tick(self) -> None:
        phases = [state[0] for state in self._state.values()]
        phase = "offline" if "offline" in phases else "online" if "online" in phases else "done"
        now = time.monotonic()
        if phase != self._phase:
            self._phase, self._phase_started = phase, now
        elapsed = now - self._phase_started
        if phase == "done" or elapsed < self._delay:
            return
        if not self._tty and now - self._printed_at < 5.0:
            return
        states = [s for s in self._state.values() if s[0] == phase]
        done = min(s[1] for s in states)
        total = max(s[2] for s in states)
        self._draw(LABELS.get(phase, phase), done, total, elapsed)
        self._printed_at = now

    def _draw(self, label: str, done: int, total: int, elapsed: float) -> None:
        filled = WIDTH * done // total if total else 0
        bar = "█" * filled + "░" * (WIDTH - filled)
        text = f"{label:<13} ▕{bar}▏ {done}/{total} rounds  {elapsed:5.1f} s"
        if self._tty:
            self._stream.write("\r" + text)
            self._drawn = True
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def close(self) -> None:
        """End the line (call once the job is over)."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


class ProgressReports:
    """Tells the driver how far the job is (PROGRESS frames), at most every 0.2 s and at every
    change of phase, without ever blocking the engine (a dropped report is only a stale bar)."""

    def __init__(self, driver: Channel, session: bytes, party: int) -> None:
        self._driver = driver
        self._session = session
        self._party = party
        self._send, self._receive = trio.open_memory_channel[dict[str, Any]](8)
        self._last_phase = ""
        self._last_at = -1.0

    def report(self, progress: tuple[str, int, int]) -> None:
        phase, done, total = progress
        now = trio.current_time()
        if phase == self._last_phase and now - self._last_at < 0.2 and done < total:
            return
        self._last_phase, self._last_at = phase, now
        with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
            self._send.send_nowait({"phase": phase, "done": done, "total": total})

    def close(self) -> None:
        self._send.close()

    async def send_loop(self) -> None:
        async for payload in self._receive:
            with contextlib.suppress(MpcError):
                await self._driver.send(Frame(self._session, 0, 0, self._party, PROGRESS, payload))
