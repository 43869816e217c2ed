"""One peer connection: length-prefixed msgpack frames over a trio stream.

- `send(frame)` encodes (fragmenting over the frame limit) and writes under a FIFO lock, so
  concurrent senders never interleave frames.
- `receive()` reads one length prefix, refuses a length over the frame limit *before* reading the
  body, decodes, and reassembles fragmented messages up to the message limit.
- Counters of bytes and frames in each direction, at the transport boundary.
- trio's exceptions stay inside: a clean close between frames is `PeerClosedError`, a broken
  stream `PeerBrokenError`, garbage `RemoteProtocolError`, all naming the peer. Deadlines belong
  to the caller (cancel scopes).
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass

import trio

from mpc import wire
from mpc.errors import PeerBrokenError, PeerClosedError, RemoteProtocolError
from mpc.net.tlsstream import TlsStream

_READ_CHUNK = 1 << 20
_WRITE_CHUNK = 1 << 20  # TLS encrypts a write at once: moderate writes keep its buffers small
_COALESCE = 1 << 16  # small buffers travel together in one write


def _writes(buffers: list[wire.Buffer]) -> list[wire.Buffer]:
    """The buffers as writes: small ones joined, big ones cut into _WRITE_CHUNK views."""
    writes: list[wire.Buffer] = []
    small: list[wire.Buffer] = []
    for buffer in buffers:
        if len(buffer) < _COALESCE:
            small.append(buffer)
            continue
        if small:
            writes.append(b"".join(small))
            small = []
        view = memoryview(buffer).cast("B")
        writes.extend(view[i : i + _WRITE_CHUNK] for i in range(0, len(view), _WRITE_CHUNK))
    if small:
        writes.append(b"".join(small))
    return writes


@dataclass
class Counters:
    bytes_sent: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    frames_received: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "frames_sent": self.frames_sent,
            "frames_received": self.frames_received,
        }


def _why(error: BaseException) -> str:
    """' (connection reset by peer)' from the OS error under a trio error, if there is one."""
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ssl.SSLEOFError | ConnectionResetError | BrokenPipeError):
        return ": it vanished without closing the connection (killed, crashed or cut off)"
    if isinstance(cause, OSError) and cause.strerror:
        return f" ({cause.strerror})"
    if cause is not None and str(cause):
        return f" ({cause})"
    return ""


class Channel:
    """Frames to and from one peer over a stream (TLS in production, memory streams in tests)."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        peer: int | str,
        *,
        max_frame_bytes: int,
        max_message_bytes: int,
    ) -> None:
        self.stream = stream
        self.peer = peer
        self.counters = Counters()
        self._max_frame = max_frame_bytes
        self._send_lock = trio.StrictFIFOLock()
        self._reassembler = wire.Reassembler(peer, max_message_bytes)

    async def send(self, frame: wire.Frame) -> None:
        parts = wire.fragment_buffers(frame, self._max_frame)
        sent = 0
        async with self._send_lock:
            try:
                for buffers in parts:
                    size = sum(len(b) for b in buffers)
                    writes = _writes([size.to_bytes(wire.LENGTH_BYTES, "big"), *buffers])
                    for data in writes:
                        await self.stream.send_all(data)
                    sent += wire.LENGTH_BYTES + size
            except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
                raise PeerBrokenError(
                    self.peer, f"connection lost while sending{_why(error)}"
                ) from error
        self.counters.bytes_sent += sent
        self.counters.frames_sent += len(parts)

    async def receive(self) -> wire.Frame:
        """The next whole frame from the peer."""
        while True:
            header = bytearray(wire.LENGTH_BYTES)
            await self._read_into(memoryview(header), first=True)
            length = int.from_bytes(header, "big")
            if length > self._max_frame:
                raise RemoteProtocolError(
                    self.peer, f"frame of {length} bytes exceeds the limit of {self._max_frame}"
                )
            body = wire.frame_buffer(length)  # arrays decode as (writable) views of it
            await self._read_into(body, first=False)
            self.counters.bytes_received += wire.LENGTH_BYTES + length
            self.counters.frames_received += 1
            frame = self._reassembler.feed(wire.decode(body, self.peer))
            if frame is not None:
                return frame

    async def _read_into(self, view: memoryview, *, first: bool) -> None:
        """Fill `view` from the stream, never reading beyond it."""
        filled = 0
        while filled < len(view):
            try:
                if isinstance(self.stream, TlsStream):  # decrypts straight into `view`
                    count = await self.stream.receive_into(view[filled:])
                else:
                    chunk = await self.stream.receive_some(min(_READ_CHUNK, len(view) - filled))
                    view[filled : filled + len(chunk)] = chunk
                    count = len(chunk)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
                raise PeerBrokenError(self.peer, f"connection lost{_why(error)}") from error
            if not count:
                if filled or not first:
                    raise PeerBrokenError(self.peer, "connection closed in the middle of a frame")
                raise PeerClosedError(self.peer, "closed the connection")
            filled += count

    async def aclose(self, timeout: float = 1.0) -> None:
        """Close gracefully (TLS close_notify) within `timeout`, else forcefully. Never raises."""
        with trio.move_on_after(timeout) as scope:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self.stream.aclose()
        if scope.cancelled_caught:
            await trio.aclose_forcefully(self.stream)
