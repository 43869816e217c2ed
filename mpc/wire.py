"""Frames on the wire: `(session, round, step, sender, kind, payload)` in msgpack.

A frame's bytes are a 4-byte big-endian header length, the msgpack header, then the raw bytes
of every numpy array in the payload, in order. In the header an array is an msgpack extension
holding only its dtype and shape; its little-endian bytes follow the header, so large arrays are
never copied into msgpack (the sender hands views of them to the transport, the receiver decodes
views of the received buffer). On arrival: allowed dtype, non-negative shape, and the bodies must
use up the bytes after the header exactly. A frame whose encoding exceeds the frame limit is split
into `part` frames that the receiver's `Reassembler` joins (up to the message limit). Anything
malformed is a `RemoteProtocolError` naming the peer. Sans-IO: bytes in, bytes out.

Stream framing (used by `mpc.net`): a 4-byte big-endian length, then that many bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from mpc.errors import LocalProtocolError, RemoteProtocolError

Buffer = bytes | bytearray | memoryview
ARRAY_EXT = 1
LENGTH_BYTES = 4
# dtypes that may cross the wire, by their canonical little-endian names (V16: an element of
# F_(2^127-1), two little-endian uint64 words)
_DTYPES = {
    np.dtype(name).str: np.dtype(name)
    for name in ("<u8", "<i8", "<u4", "<i4", "|u1", "|i1", "|b1", "<f8", "|V16")
}
# Frame kinds. Engine data between parties; mesh set-up and teardown; driver <-> node job messages.
DATA, PART, HELLO, ABORT = "data", "part", "hello", "abort"
PREPARE, PREPARED, RUN, RESULT, ERROR = "prepare", "prepared", "run", "result", "error"
PROGRESS, DEAL, DEALT = "progress", "deal", "dealt"
_PART_OVERHEAD = 256  # msgpack header of a part frame, generously
_COPY_AT_MOST = 1 << 16  # fragmenting joins buffers below this size, cuts larger ones as views


@dataclass(frozen=True, slots=True)
class Frame:
    session: bytes
    round: int
    step: int
    sender: int | str
    kind: str
    payload: Any


class _Encoder:
    """msgpack `default` hook that moves array bodies out of the header, in order."""

    def __init__(self) -> None:
        self.bodies: list[memoryview] = []

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            array = np.asarray(obj, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
            dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
            if dtype.str not in _DTYPES:
                raise LocalProtocolError(f"arrays of dtype {array.dtype} cannot be sent")
            little = np.ascontiguousarray(array.astype(dtype, copy=False))
            self.bodies.append(little.reshape(-1).view(np.uint8).data)
            return msgpack.ExtType(ARRAY_EXT, msgpack.packb([dtype.str, list(array.shape)]))
        if isinstance(obj, np.integer):
            return int(obj)
        raise LocalProtocolError(f"cannot encode {type(obj).__name__} in a frame")


class _ArrayDecodeError(Exception):
    pass


class _Decoder:
    """msgpack `ext_hook` that takes each array's body from the bytes after the header."""

    def __init__(self, bodies: memoryview) -> None:
        self.bodies = bodies
        self.used = 0

    def __call__(self, code: int, data: bytes) -> Any:
        if code != ARRAY_EXT:
            raise _ArrayDecodeError(f"unknown extension type {code}")
        try:
            dtype_name, shape = msgpack.unpackb(data)
        except Exception as error:
            raise _ArrayDecodeError(f"malformed array header: {error}") from None
        dtype = _DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
        if dtype is None:
            raise _ArrayDecodeError(f"array dtype {dtype_name!r} is not allowed")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise _ArrayDecodeError(f"array shape {shape!r} is invalid")
        count = 1
        for d in shape:
            count *= d
        size = count * dtype.itemsize
        left = len(self.bodies) - self.used
        if size > left:
            raise _ArrayDecodeError(
                f"array of shape {shape} and dtype {dtype_name} needs {size} bytes, "
                f"only {left} remain"
            )
        body = self.bodies[self.used : self.used + size]
        self.used += size
        return np.frombuffer(body, dtype=dtype).reshape(tuple(shape))


def encode_buffers(frame: Frame) -> list[Buffer]:
    """A frame's bytes as buffers to write in order: the header, then views of the arrays."""
    body = [frame.session, frame.round, frame.step, frame.sender, frame.kind, frame.payload]
    encoder = _Encoder()
    header: bytes = msgpack.packb(body, default=encoder, use_bin_type=True)
    return [len(header).to_bytes(LENGTH_BYTES, "big") + header, *encoder.bodies]


def encode(frame: Frame) -> bytes:
    """The encoding of a frame as one bytes object (without the stream length prefix)."""
    return b"".join(encode_buffers(frame))


def frame_buffer(length: int) -> memoryview:
    """A writable buffer for one frame's body that a reader fills at once: uninitialised, since
    zero-filling (as bytearray(length) does) costs as much as the read itself."""
    return memoryview(np.empty(length, dtype=np.uint8).data)


def decode(data: Buffer, peer: int | str) -> Frame:
    """Parse one frame's bytes; anything malformed names the peer. Arrays are views of `data`
    (read-only if `data` is bytes)."""
    view = memoryview(data)
    size = int.from_bytes(view[:LENGTH_BYTES], "big")
    if len(view) < LENGTH_BYTES or size > len(view) - LENGTH_BYTES:
        raise RemoteProtocolError(peer, "malformed frame: header length beyond the frame")
    decoder = _Decoder(view[LENGTH_BYTES + size :])
    try:
        obj = msgpack.unpackb(
            view[LENGTH_BYTES : LENGTH_BYTES + size],
            ext_hook=decoder,
            raw=False,
            strict_map_key=False,
        )
    except _ArrayDecodeError as error:
        raise RemoteProtocolError(peer, f"malformed frame: {error}") from None
    except Exception as error:
        raise RemoteProtocolError(
            peer, f"malformed frame: {type(error).__name__}: {error}"
        ) from None
    if decoder.used != len(decoder.bodies):
        raise RemoteProtocolError(
            peer, f"malformed frame: {len(decoder.bodies) - decoder.used} bytes after the arrays"
        )
    if not isinstance(obj, list) or len(obj) != 6:
        raise RemoteProtocolError(peer, "malformed frame: expected a 6-element array")
    session, round_, step, sender, kind, payload = obj
    if not isinstance(session, bytes) or not isinstance(kind, str):
        raise RemoteProtocolError(peer, "malformed frame: bad session or kind field")
    if not _is_int(round_) or not _is_int(step) or round_ < 0 or step < 0:
        raise RemoteProtocolError(peer, "malformed frame: round and step must be non-negative ints")
    if not (_is_int(sender) or isinstance(sender, str)):
        raise RemoteProtocolError(peer, "malformed frame: bad sender field")
    return Frame(session, round_, step, sender, kind, payload)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bytes(value: Any) -> bool:
    """A part's data: msgpack bytes, or a 1-d uint8 array (how `fragment_buffers` sends it)."""
    if isinstance(value, np.ndarray):
        return value.dtype == np.uint8 and value.ndim == 1
    return isinstance(value, bytes)


def fragment_buffers(frame: Frame, max_frame_bytes: int) -> list[list[Buffer]]:
    """The encoded frames to send for `frame` (each as buffers): itself, or `part` frames of at
    most `max_frame_bytes` each when it is over the limit. Parts are views of the arrays where
    they can be (a part that straddles two buffers is joined)."""
    buffers = encode_buffers(frame)
    total = sum(len(b) for b in buffers)
    if total <= max_frame_bytes:
        return [buffers]
    chunk = max_frame_bytes - _PART_OVERHEAD
    if chunk <= 0:
        raise LocalProtocolError("max_frame_bytes is too small to fragment frames")
    pieces = _slices([memoryview(b).cast("B") for b in buffers], chunk)
    count = len(pieces)
    parts: list[list[Buffer]] = []
    for index, piece in enumerate(pieces):
        data = np.frombuffer(piece, dtype=np.uint8)
        part = Frame(
            frame.session, frame.round, frame.step, frame.sender, PART, [index, count, data]
        )
        parts.append(encode_buffers(part))
    return parts


def _slices(buffers: Sequence[memoryview], chunk: int) -> list[Buffer]:
    """The concatenation of `buffers` cut into pieces of at most `chunk` bytes. Small buffers
    are joined; a large one is cut on its own (a view, never copied), so a piece may be short."""
    pieces: list[Buffer] = []
    pending: list[memoryview] = []
    pending_size = 0

    def flush() -> None:
        nonlocal pending, pending_size
        if pending:
            pieces.append(pending[0] if len(pending) == 1 else b"".join(pending))
        pending, pending_size = [], 0

    for buffer in buffers:
        if len(buffer) >= _COPY_AT_MOST:
            flush()
            pieces.extend(buffer[i : i + chunk] for i in range(0, len(buffer), chunk))
            continue
        start = 0
        while start < len(buffer):
            take = min(chunk - pending_size, len(buffer) - start)
            pending.append(buffer[start : start + take])
            pending_size += take
            start += take
            if pending_size == chunk:
                flush()
    flush()
    return pieces


def fragment(frame: Frame, max_frame_bytes: int) -> list[bytes]:
    """`fragment_buffers`, each frame joined into one bytes object."""
    return [b"".join(buffers) for buffers in fragment_buffers(frame, max_frame_bytes)]


class Reassembler:
    """Joins the `part` frames of one peer's channel back into whole frames (in order)."""

    def __init__(self, peer: int | str, max_message_bytes: int) -> None:
        self._peer = peer
        self._max = max_message_bytes
        self._parts: list[Buffer] = []
        self._expected = 0
        self._size = 0

    def feed(self, frame: Frame) -> Frame | None:
        """The whole frame once complete; None while parts are missing."""
        if frame.kind != PART:
            if self._parts:
                raise RemoteProtocolError(self._peer, "a frame interrupted a fragmented message")
            return frame
        payload = frame.payload
        if (
            not isinstance(payload, list)
            or len(payload) != 3
            or not all(_is_int(v) for v in payload[:2])
            or not _is_bytes(payload[2])
        ):
            raise RemoteProtocolError(self._peer, "malformed part frame")
        index, count, data = payload
        if index != len(self._parts) or count < 2 or (self._parts and count != self._expected):
            raise RemoteProtocolError(self._peer, f"part {index} of {count} arrived out of order")
        self._size += len(data)
        if self._size > self._max:
            raise RemoteProtocolError(
                self._peer, f"fragmented message exceeds the limit of {self._max} bytes"
            )
        self._expected = count
        self._parts.append(data)
        if len(self._parts) < count:
            return None
        whole = bytearray().join(self._parts)  # writable: the arrays decoded from it are too
        self._parts, self._expected, self._size = [], 0, 0
        inner = decode(whole, self._peer)
        if inner.kind == PART:
            raise RemoteProtocolError(self._peer, "nested part frames")
        return inner
