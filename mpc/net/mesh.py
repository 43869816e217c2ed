"""The mesh of one job: a pinned-TLS channel from this party to every peer.

Lower ids listen, higher ids dial: party i dials every j < i (bounded retry with backoff until
the connect deadline) and accepts every j > i, whose connections the node's listener routes here
by session. Each side sends `hello` with the plan fingerprint; a different fingerprint means the
parties would compute different things, and both refuse. The mesh moves frames; it never looks
inside them beyond `hello` and `abort`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any

import trio

from mpc.config import DealerConfig, Limits, PartyConfig
from mpc.errors import (
    AbortedError,
    MpcError,
    PeerTimeoutError,
    PeerUnreachableError,
    RemoteProtocolError,
)
from mpc.net import tls
from mpc.net.channel import Channel, Counters
from mpc.wire import ABORT, ERROR, HELLO, Frame

Incoming = trio.MemoryReceiveChannel[tuple[int, Channel, Frame]]


async def run_concurrently(tasks: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """Run tasks at once; the first `MpcError` cancels the others and is raised as itself."""
    errors: list[MpcError] = []
    async with trio.open_nursery() as nursery:
        for task in tasks:

            async def guarded(task: Callable[[], Awaitable[None]] = task) -> None:
                try:
                    await task()
                except MpcError as error:
                    errors.append(error)
                    nursery.cancel_scope.cancel()

            nursery.start_soon(guarded)
    if errors:
        raise errors[0]


async def dial(
    party: PartyConfig | DealerConfig,
    *,
    context: Any,
    identities: tls.Identities,
    deadline: float,
    limits: Limits,
) -> Channel:
    """A TLS channel to a party (or the dealer), retried with backoff until `deadline`."""
    principal: tls.Principal = party.id if isinstance(party, PartyConfig) else tls.DEALER
    label = tls.describe(principal)
    delay = 0.02
    last_error: OSError | None = None
    while True:
        remaining = deadline - trio.current_time()
        if remaining <= 0:
            why = f": {last_error.strerror or last_error}" if last_error else ""
            raise PeerUnreachableError(label, f"cannot connect to {party.host}:{party.port}{why}")
        try:
            with trio.fail_after(remaining):
                tcp = await trio.open_tcp_stream(party.host, party.port)
            break
        except trio.TooSlowError:
            continue
        except OSError as error:
            last_error = error
            await trio.sleep(min(delay, max(deadline - trio.current_time(), 0)))
            delay = min(delay * 2, 0.5)
    stream = tls.wrap(tcp, context, server_side=False)
    try:
        await tls.handshake(
            stream,
            identities,
            expect=principal,
            timeout=max(deadline - trio.current_time(), 0.01),
            peer_label=label,
        )
    except BaseException:  # also on cancellation: never leak the socket
        await trio.aclose_forcefully(stream)
        raise
    return Channel(
        stream,
        principal,
        max_frame_bytes=limits.max_frame_bytes,
        max_message_bytes=limits.max_message_bytes,
    )


class Mesh:
    """This party's channels to its peers for one session."""

    def __init__(self, me: int, session: bytes, limits: Limits) -> None:
        self.me = me
        self.session = session
        self.limits = limits
        self.channels: dict[int, Channel] = {}

    async def connect(
        self,
        *,
        fingerprint: str,
        dial_to: Sequence[PartyConfig],
        accept_from: Collection[int],
        incoming: Incoming,
        context: Any,
        identities: tls.Identities,
        timeout: float,
    ) -> None:
        """Dial `dial_to`, accept `accept_from`, exchange hellos; all within `timeout` seconds."""
        deadline = trio.current_time() + timeout
        tasks: list[Callable[[], Awaitable[None]]] = [
            partial(self._dial, party, fingerprint, context, identities, deadline, timeout)
            for party in dial_to
        ]
        if accept_from:
            waiting = set(accept_from)
            tasks.append(partial(self._accept, waiting, fingerprint, incoming, deadline, timeout))
        await run_concurrently(tasks)

    async def _dial(
        self,
        party: PartyConfig,
        fingerprint: str,
        context: Any,
        identities: tls.Identities,
        deadline: float,
        timeout: float,
    ) -> None:
        channel = await dial(
            party, context=context, identities=identities, deadline=deadline, limits=self.limits
        )
        self.channels[party.id] = channel
        await channel.send(self._hello(fingerprint))
        with trio.move_on_at(deadline) as scope:
            reply = await channel.receive()
        if scope.cancelled_caught:
            raise PeerTimeoutError(tls.describe(party.id), "the hello", timeout)
        self._check_hello(party.id, reply, fingerprint)

    async def _accept(
        self,
        waiting: set[int],
        fingerprint: str,
        incoming: Incoming,
        deadline: float,
        timeout: float,
    ) -> None:
        with trio.move_on_at(deadline) as scope:
            while waiting:
                peer, channel, hello = await incoming.receive()
                if peer not in waiting:
                    await channel.aclose()
                    raise RemoteProtocolError(peer, "connected although this party dials it")
                waiting.discard(peer)
                self.channels[peer] = channel
                await channel.send(self._hello(fingerprint))
                self._check_hello(peer, hello, fingerprint)
        if scope.cancelled_caught:
            missing = ", ".join(str(p) for p in sorted(waiting))
            raise PeerUnreachableError(
                min(waiting),
                f"did not connect within {timeout:g} s (waiting for parties {missing})",
            )

    def _hello(self, fingerprint: str) -> Frame:
        return Frame(self.session, 0, 0, self.me, HELLO, {"fingerprint": fingerprint})

    def _check_hello(self, peer: int, frame: Frame, fingerprint: str) -> None:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        if frame.kind == ABORT:  # the peer's side of the session was aborted before we met
            origin = payload.get("origin")
            raise AbortedError(
                origin if isinstance(origin, int | str) else peer, str(payload.get("reason"))
            )
        if frame.kind == ERROR:
            raise RemoteProtocolError(
                peer, f"refused the session: {payload.get('message') or payload.get('reason')}"
            )
        if frame.kind != HELLO or frame.sender != peer or frame.session != self.session:
            raise RemoteProtocolError(peer, "expected a hello for this session")
        theirs = payload.get("fingerprint")
        if theirs != fingerprint:
            raise RemoteProtocolError(
                peer,
                f"runs a different plan (fingerprint {str(theirs)[:16]}, ours {fingerprint[:16]}): "
                "the parties' circuit files, parameters or versions differ",
            )

    async def broadcast_abort(self, origin: int | str, reason: str, timeout: float = 1.0) -> None:
        """Tell every peer the job is aborted; best effort, within `timeout`."""
        frame = Frame(self.session, 0, 0, self.me, ABORT, {"origin": origin, "reason": reason})

        async def tell(channel: Channel) -> None:
            with contextlib.suppress(MpcError):
                await channel.send(frame)

        with trio.move_on_after(timeout):
            async with trio.open_nursery() as nursery:
                for channel in self.channels.values():
                    nursery.start_soon(tell, channel)

    def counters(self) -> Mapping[int, Counters]:
        return {peer: channel.counters for peer, channel in self.channels.items()}

    async def aclose(self) -> None:
        async with trio.open_nursery() as nursery:
            for channel in self.channels.values():
                nursery.start_soon(channel.aclose)
