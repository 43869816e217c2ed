"""Frames on the wire: `(session, round, step, sender, kind, payload)` in msgpack.

numpy arrays travel as an msgpack extension: dtype + shape + raw little-endian bytes, checked on
arrival (allowed dtype, non-negative shape, exact byte count). A frame whose encoding exceeds the
frame limit is split into `part` frames that the receiver's `Reassembler` joins (up to the message
limit). Anything malformed is a `RemoteProtocolError` naming the peer. Sans-IO: bytes in, bytes out.

Stream framing (used by `mpc.net`): a 4-byte big-endian length, then that many bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from mpc.errors import LocalProtocolError, RemoteProtocolError

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


@dataclass(frozen=True, slots=True)
class Frame:
    session: bytes
    round: int
    step: int
    sender: int | str
    kind: str
    payload: Any


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        array = np.asarray(obj, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dtype.str not in _DTYPES:
            raise LocalProtocolError(f"arrays of dtype {array.dtype} cannot be sent")
        header = msgpack.packb([dtype.str, list(array.shape)])
        body = array.astype(dtype, copy=False).tobytes()
        return msgpack.ExtType(ARRAY_EXT, len(header).to_bytes(2, "big") + header + body)
    if isinstance(obj, np.integer):
        return int(obj)
    raise LocalProtocolError(f"cannot encode {type(obj).__name__} in a frame")


class _ArrayDecodeError(Exception):
    pass


def _ext_hook(code: int, data: bytes) -> Any:
    if code != ARRAY_EXT:
        raise _ArrayDecodeError(f"unknown extension type {code}")
    try:
        size = int.from_bytes(data[:2], "big")
        dtype_name, shape = msgpack.unpackb(data[2 : 2 + size])
        body = memoryview(data)[2 + size :]
    except Exception as error:
        raise _ArrayDecodeError(f"malformed array header: {error}") from None
    dtype = _DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
    if dtype is None:
        raise _ArrayDecodeError(f"array dtype {dtype_name!r} is not allowed")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise _ArrayDecodeError(f"array shape {shape!r} is invalid")
    count = 1
    for d in shape:
        count *= d
    if count * dtype.itemsize != len(body):
        raise _ArrayDecodeError(
            f"array of shape {shape} and dtype {dtype_name} needs {count * dtype.itemsize} bytes, "
            f"got {len(body)}"
        )
    return np.frombuffer(body, dtype=dtype).reshape(tuple(shape))


def encode(frame: Frame) -> bytes:
    """The msgpack encoding of a frame (without the stream length prefix)."""
    body = [frame.session, frame.round, frame.step, frame.sender, frame.kind, frame.payload]
    data: bytes = msgpack.packb(body, default=_default, use_bin_type=True)
    return data


def decode(data: bytes, peer: int | str) -> Frame:
    """Parse one frame's bytes; anything malformed names the peer."""
    try:
        obj = msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except _ArrayDecodeError as error:
        raise RemoteProtocolError(peer, f"malformed frame: {error}") from None
    except Exception as error:
        raise RemoteProtocolError(
            peer, f"malformed frame: {type(error).__name__}: {error}"
        ) from None
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


def fragment(frame: Frame, max_frame_bytes: int) -> list[bytes]:
    """Encoded frames to send for `frame`: itself, or `part` frames when it is over the limit."""
    data = encode(frame)
    if len(data) <= max_frame_bytes:
        return [data]
    chunk = max_frame_bytes - _PART_OVERHEAD
    if chunk <= 0:
        raise LocalProtocolError("max_frame_bytes is too small to fragment frames")
    count = -(-len(data) // chunk)
    return [
        encode(
            Frame(
                frame.session,
                frame.round,
                frame.step,
                frame.sender,
                PART,
                [index, count, data[index * chunk : (index + 1) * chunk]],
            )
        )
        for index in range(count)
    ]


class Reassembler:
    """Joins the `part` frames of one peer's channel back into whole frames (in order)."""

    def __init__(self, peer: int | str, max_message_bytes: int) -> None:
        self._peer = peer
        self._max = max_message_bytes
        self._parts: list[bytes] = []
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
            or not isinstance(payload[2], bytes)
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
        whole = b"".join(self._parts)
        self._parts, self._expected, self._size = [], 0, 0
        inner = decode(whole, self._peer)
        if inner.kind == PART:
            raise RemoteProtocolError(self._peer, "nested part frames")
        return inner
