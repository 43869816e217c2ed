"""Drive a sans-IO engine over the channels of a mesh: the thin trio shell around the core.

One reader and one sender task per peer. Readers put every frame (or the error that ended the
channel) into one inbox; senders drain a queue per peer, so the engine loop never blocks on a
slow peer and two parties sending each other large messages cannot deadlock. Every wait has a
deadline: no frame the engine needs within `round_timeout` is a `PeerTimeoutError` naming the
peers waited for. An `abort` frame from a peer is `AbortedError` with the original origin.
A peer that closes its connection cleanly has finished; that is an error only if the engine
still needs something from it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import trio

from mpc.engine import Engine, PartyResult
from mpc.errors import (
    AbortedError,
    MpcError,
    PeerBrokenError,
    PeerClosedError,
    PeerTimeoutError,
)
from mpc.net.channel import Channel
from mpc.preprocessing.dealer import Corrections
from mpc.wire import ABORT, Frame


@dataclass(frozen=True)
class _Dealt:
    corrections: Corrections


Item = tuple[int, Frame | MpcError | _Dealt]


async def _read(peer: int, channel: Channel, inbox: trio.MemorySendChannel[Item]) -> None:
    while True:
        try:
            frame = await channel.receive()
        except MpcError as error:
            inbox.send_nowait((peer, error))
            return
        inbox.send_nowait((peer, frame))


async def _write(
    peer: int,
    channel: Channel,
    queue: trio.MemoryReceiveChannel[Frame],
    errors: list[MpcError],
    offline_bytes: list[int],
) -> None:
    async for frame in queue:
        before = channel.counters.bytes_sent
        try:
            await channel.send(frame)
        except MpcError as error:
            errors.append(error)
            return
        if frame.round == 0:  # the offline stage: preprocessing the parties make themselves
            offline_bytes[0] += channel.counters.bytes_sent - before


async def _fetch(
    corrections: Callable[[], Awaitable[Corrections]], inbox: trio.MemorySendChannel[Item]
) -> None:
    try:
        inbox.send_nowait((-1, _Dealt(await corrections())))
    except PeerClosedError:  # not a finished peer: the dealer owes an answer
        inbox.send_nowait((-1, PeerBrokenError("dealer", "closed the connection before dealing")))
    except MpcError as error:
        inbox.send_nowait((-1, error))


def _abort_from(peer: int, frame: Frame) -> AbortedError:
    payload = frame.payload if isinstance(frame.payload, dict) else {}
    origin = payload.get("origin", peer)
    if not isinstance(origin, int | str):
        origin = peer
    return AbortedError(origin, str(payload.get("reason", "no reason given")))


async def drive(
    engine: Engine,
    channels: Mapping[int, Channel],
    *,
    round_timeout: float,
    online_starts: Callable[[], None] | None = None,
    progress: Callable[[tuple[str, int, int]], None] | None = None,
    corrections: Callable[[], Awaitable[Corrections]] | None = None,
) -> PartyResult:
    """Run `engine` to completion over `channels` (peer → channel), flushing all it sends.
    `progress` hears (phase, rounds done, rounds) whenever a round ends; `corrections` fetches
    the dealer's corrections for an engine that awaits them, while it runs."""
    inbox_send, inbox = trio.open_memory_channel[Item](math.inf)
    queues: dict[int, trio.MemorySendChannel[Frame]] = {}
    send_errors: list[MpcError] = []
    offline_bytes = [0]
    error: MpcError | None = None
    result: PartyResult | None = None
    async with trio.open_nursery() as senders:
        for peer, channel in channels.items():
            queue_send, queue = trio.open_memory_channel[Frame](math.inf)
            queues[peer] = queue_send
            senders.start_soon(_write, peer, channel, queue, send_errors, offline_bytes)
        async with trio.open_nursery() as readers:
            for peer, channel in channels.items():
                readers.start_soon(_read, peer, channel, inbox_send)
            if corrections is not None:
                readers.start_soon(_fetch, corrections, inbox_send)
            try:
                result = await _loop(
                    engine, queues, inbox, send_errors, round_timeout, online_starts, progress
                )
            except MpcError as caught:
                error = caught
            readers.cancel_scope.cancel()
        for queue_send in queues.values():
            queue_send.close()
        if error is not None:
            senders.cancel_scope.cancel()
        else:
            senders.cancel_scope.deadline = trio.current_time() + round_timeout
    if error is None and senders.cancel_scope.cancelled_caught:
        error = PeerTimeoutError(
            ", ".join(f"party {p}" for p in sorted(channels)),
            "sending the last frames",
            round_timeout,
        )
    if error is None and send_errors:
        error = send_errors[0]
    if error is not None:
        raise error
    assert result is not None
    result.offline_wire_bytes = offline_bytes[0]
    return result


async def _loop(
    engine: Engine,
    queues: Mapping[int, trio.MemorySendChannel[Frame]],
    inbox: trio.MemoryReceiveChannel[Item],
    send_errors: list[MpcError],
    round_timeout: float,
    online_starts: Callable[[], None] | None,
    progress: Callable[[tuple[str, int, int]], None] | None = None,
) -> PartyResult:
    closed: set[int] = set()
    reported: tuple[str, int, int] | None = None
    offline = True
    # the engine times each stage by the host's monotonic clock (comparable across local parties)
    engine.clock = time.monotonic
    await trio.to_thread.run_sync(engine.start)  # the first layer's local work, off the loop
    while True:
        for peer, frame in engine.outbox():
            queues[peer].send_nowait(frame)
        if engine.paused:  # its frames are queued: compute in a worker thread while they go out
            await trio.to_thread.run_sync(engine.resume)
            continue  # send what the work made before anything else
        if offline and engine.phase != "offline":
            offline = False
            if online_starts is not None:
                online_starts()
        if progress is not None and engine.progress != reported:
            reported = engine.progress
            progress(reported)
        if engine.done:
            return engine.result()
        if send_errors:
            raise send_errors[0]
        finished = closed & engine.waiting_for()
        if finished:
            peer = min(finished)
            raise PeerBrokenError(peer, "closed the connection while this party still waits for it")
        with trio.move_on_after(round_timeout) as scope:
            peer, item = await inbox.receive()
        if scope.cancelled_caught:
            waiting = sorted(engine.waiting_for())
            who = ", ".join(f"party {p}" for p in waiting or sorted(queues))
            if engine.awaiting_corrections and not waiting:
                who = "dealer"
            raise PeerTimeoutError(who, f"round {engine.current_round}", round_timeout)
        if isinstance(item, _Dealt):
            await trio.to_thread.run_sync(engine.supply_corrections, item.corrections)
            continue
        if isinstance(item, PeerClosedError):
            closed.add(peer)
            continue
        if isinstance(item, MpcError):
            raise item
        if item.kind == ABORT:
            raise _abort_from(peer, item)
        await trio.to_thread.run_sync(engine.receive, peer, item)  # numpy releases the GIL
