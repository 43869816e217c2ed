"""mpc.net.tlsstream.TlsStream: real TLS 1.3 over loopback TCP, bulk frames through `Channel`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trio

from mpc import wire
from mpc.config import Deployment
from mpc.errors import PeerBrokenError, PeerClosedError
from mpc.net import tls
from mpc.net.channel import Channel
from mpc.net.tlsstream import TlsStream
from tests.test_tls import make_deployment

DEADLINE = 30.0
Side = Callable[[TlsStream], Awaitable[Any]]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return make_deployment(Path(tmp_path_factory.mktemp("tlsstream")) / "d", "tlsstream")


async def pair(deployment: Deployment, server: Side, client: Side) -> tuple[Any, Any]:
    """Party 0 listens, party 1 dials; both handshake, then run their side."""
    results: dict[str, Any] = {}
    with trio.fail_after(DEADLINE):
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        async with listeners[0] as listener:
            port = listener.socket.getsockname()[1]

            async def serve() -> None:
                stream = tls.wrap(
                    await listener.accept(), tls.server_context(deployment, 0), server_side=True
                )
                await stream.do_handshake()
                try:
                    results["server"] = await server(stream)
                finally:
                    await stream.aclose()

            async def dial() -> None:
                tcp = await trio.open_tcp_stream("127.0.0.1", port)
                stream = tls.wrap(tcp, tls.client_context(deployment, 1), server_side=False)
                await stream.do_handshake()
                try:
                    results["client"] = await client(stream)
                finally:
                    await stream.aclose()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                nursery.start_soon(dial)
    return results["server"], results["client"]


def channel(stream: TlsStream, peer: int, max_frame: int = 1 << 20) -> Channel:
    return Channel(stream, peer, max_frame_bytes=max_frame, max_message_bytes=1 << 30)


async def test_handshake_identifies_both_ends(deployment: Deployment) -> None:
    identities = tls.Identities.from_deployment(deployment)

    async def who(stream: TlsStream) -> Any:
        return identities.identify(stream.getpeercert(binary_form=True))

    assert await pair(deployment, who, who) == (1, 0)


async def test_bulk_frames_both_directions_at_once(deployment: Deployment) -> None:
    """Fragmented 12 MB frames cross in both directions concurrently, byte for byte."""
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 2**63, 1_500_000, dtype=np.uint64) for _ in range(2)]

    def side(me: int) -> Side:
        async def run(stream: TlsStream) -> Any:
            ch = channel(stream, 1 - me)
            frame = wire.Frame(bytes(16), 1, 0, me, wire.DATA, {0: [arrays[me], "note"]})
            got: list[wire.Frame] = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ch.send, frame)
                got.append(await ch.receive())
            return got[0], ch.counters

        return run

    (to_server, server_counters), (to_client, client_counters) = await pair(
        deployment, side(0), side(1)
    )
    np.testing.assert_array_equal(to_server.payload[0][0], arrays[1])
    np.testing.assert_array_equal(to_client.payload[0][0], arrays[0])
    assert to_server.payload[0][1] == "note"
    assert to_server.payload[0][0].flags.writeable
    assert server_counters.frames_sent >= 12  # 12 MB over 1 MiB frames: it was fragmented
    assert server_counters.bytes_sent == client_counters.bytes_received


async def test_clean_close_is_peer_closed_and_ragged_eof_is_broken(deployment: Deployment) -> None:
    async def receive(stream: TlsStream) -> Any:
        try:
            await channel(stream, 1).receive()
        except (PeerClosedError, PeerBrokenError) as error:
            return error
        return None

    async def close(stream: TlsStream) -> None:
        await stream.aclose()

    closed, _ = await pair(deployment, receive, close)
    assert type(closed) is PeerClosedError

    async def vanish(stream: TlsStream) -> None:
        await stream.transport.aclose()  # TCP closed without close_notify

    broken, _ = await pair(deployment, receive, vanish)
    assert type(broken) is PeerBrokenError


async def test_eof_in_the_middle_of_a_frame_is_broken(deployment: Deployment) -> None:
    async def receive(stream: TlsStream) -> Any:
        with pytest.raises(PeerBrokenError, match="middle of a frame"):
            await channel(stream, 1).receive()

    async def half(stream: TlsStream) -> None:
        await stream.send_all((1000).to_bytes(4, "big") + bytes(10))
        await stream.aclose()

    await pair(deployment, receive, half)


async def test_misuse_is_busy_or_closed(deployment: Deployment) -> None:
    async def busy(stream: TlsStream) -> Any:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stream.receive_some)
            await trio.sleep(0.05)
            with pytest.raises(trio.BusyResourceError):
                await stream.receive_some()
            nursery.cancel_scope.cancel()
        await stream.aclose()
        with pytest.raises(trio.ClosedResourceError):
            await stream.send_all(b"x")
        with pytest.raises(trio.ClosedResourceError):
            await stream.receive_some()

    async def idle(stream: TlsStream) -> None:
        assert await stream.receive_some() == b""

    await pair(deployment, busy, idle)
