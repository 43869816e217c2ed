"""mpc.runner's loop: what it sends and when, with a stub engine (no network)."""

from __future__ import annotations

import math
from typing import Any

import trio

from mpc.runner import _loop
from mpc.wire import DATA, Frame


class PausingEngine:
    """Emits one frame and pauses (its peers' input for the next step is already here);
    `resume` notes whether that frame had already been handed to the sender."""

    def __init__(self, queue: trio.MemoryReceiveChannel[Frame]) -> None:
        self.queue = queue
        self.party = 0
        self.paused = False
        self.done = False
        self.clock: Any = None
        self.phase = "online"
        self.progress = ("online", 0, 1)
        self.current_round = 1
        self.sent_before_resume: bool | None = None
        self._outbox: list[tuple[int, Frame]] = []

    def start(self) -> None:
        self._outbox.append((1, Frame(b"s" * 16, 1, 0, 0, DATA, {})))
        self.paused = True

    def outbox(self) -> list[tuple[int, Frame]]:
        out, self._outbox = self._outbox, []
        return out

    def resume(self) -> None:
        try:
            self.queue.receive_nowait()
            self.sent_before_resume = True
        except trio.WouldBlock:
            self.sent_before_resume = False
        self.paused = False
        self.done = True

    def waiting_for(self) -> frozenset[int]:
        return frozenset()

    def result(self) -> str:
        return "result"


async def test_runner_sends_a_paused_engines_frames_before_it_resumes() -> None:
    """An engine pauses after emitting frames whose peers wait for them: they must be queued for
    sending before its next local work starts in the worker thread (not after it)."""
    send, receive = trio.open_memory_channel[Frame](math.inf)
    _inbox_send, inbox = trio.open_memory_channel[Any](math.inf)
    engine = PausingEngine(receive)
    with trio.fail_after(5):
        result = await _loop(engine, {1: send}, inbox, [], 5.0, None)  # type: ignore[arg-type]
    assert result == "result"
    assert engine.sent_before_resume is True
