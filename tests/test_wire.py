"""Tests of mpc.wire: frame encoding round trips, every malformed input, fragmentation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpc import wire
from mpc.errors import LocalProtocolError, RemoteProtocolError
from mpc.wire import Frame, Reassembler

SESSION = bytes(range(16))
PEER = 4
ALLOWED = ["<u8", "<i8", "<u4", "<i4", "|u1", "|i1", "|b1", "<f8"]
SHAPES = [(1,), (0,), (5,), (2, 3), (0, 4), (2, 0, 3), (3, 1, 2)]


def frame(payload: Any, *, kind: str = "data", sender: int | str = PEER) -> Frame:
    return Frame(SESSION, 3, 1, sender, kind, payload)


def sample_array(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    raw = np.arange(size, dtype=np.int64) * 7919 - 3
    if dtype == "|b1":
        return (raw % 2 == 0).reshape(shape)
    if dtype == "<f8":
        return (raw / 3.0).reshape(shape)
    return raw.astype(np.dtype(dtype)).reshape(shape)


def roundtrip(f: Frame) -> Frame:
    return wire.decode(wire.encode(f), PEER)


def assert_same_payload(a: Any, b: Any) -> None:
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        assert b.shape == a.shape
        assert b.dtype == a.dtype.newbyteorder("<") or b.dtype == a.dtype
        assert np.array_equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict)
        assert set(a) == set(b)
        for key in a:
            assert_same_payload(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert isinstance(b, list)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same_payload(x, y)
    else:
        assert type(b) is type(a) or (isinstance(a, np.integer) and isinstance(b, int))
        assert a == b


def expect_remote_error(data: bytes, match: str | None = None) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError, match=match) as info:
        wire.decode(data, PEER)
    assert info.value.peer == PEER
    assert f"party {PEER}" in str(info.value)
    return info.value


@dataclass(frozen=True)
class RawArray:
    """An array written by hand: its extension in the header, its body after the header."""

    header: Any
    body: bytes
    raw_header: bytes | None = None
    code: int = 1


def ext(header: Any, body: bytes, *, raw_header: bytes | None = None, code: int = 1) -> RawArray:
    return RawArray(header, body, raw_header, code)


def raw_frame(*fields: Any, trailer: bytes = b"") -> bytes:
    """A frame's bytes from hand-written fields (header length, msgpack header, array bodies)."""
    bodies: list[bytes] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, RawArray):
            bodies.append(obj.body)
            packed = msgpack.packb(obj.header) if obj.raw_header is None else obj.raw_header
            return msgpack.ExtType(obj.code, packed)
        raise TypeError(obj)

    header: bytes = msgpack.packb(list(fields), use_bin_type=True, default=default)
    return len(header).to_bytes(4, "big") + header + b"".join(bodies) + trailer


def packed(obj: Any) -> bytes:
    """`obj` alone as a frame header (no arrays)."""
    header: bytes = msgpack.packb(obj, use_bin_type=True)
    return len(header).to_bytes(4, "big") + header


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALLOWED)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_wire_array_roundtrip(dtype: str, shape: tuple[int, ...]) -> None:
    array = sample_array(dtype, shape)
    got = roundtrip(frame({0: [array]})).payload[0][0]
    assert got.dtype == np.dtype(dtype)
    assert got.shape == shape
    assert np.array_equal(got, array)


@pytest.mark.parametrize("dtype", ["<u8", "<i8", "<f8", ">i8"])
def test_wire_zero_dimensional_array_roundtrip(dtype: str) -> None:
    # regression: np.ascontiguousarray made 0-d arrays 1-d, breaking scalar driver outputs
    array = np.array(7, dtype=dtype)
    got = roundtrip(frame({"total": array})).payload["total"]
    assert got.shape == ()
    assert got.item() == 7


@pytest.mark.parametrize("dtype", [">u8", ">i8", ">u4", ">i4", ">f8"])
def test_wire_big_endian_arrays_arrive_little_endian(dtype: str) -> None:
    array = np.array([1, -2 if "u" not in dtype else 2, 300], dtype=dtype)
    got = roundtrip(frame([array])).payload[0]
    assert got.dtype == np.dtype(dtype).newbyteorder("<")
    assert got.tolist() == array.tolist()


def test_wire_non_contiguous_arrays_roundtrip() -> None:
    base = np.arange(24, dtype=np.uint64).reshape(4, 6)
    for view in (base[:, ::2], base.T, np.asfortranarray(base), base[::-1]):
        got = roundtrip(frame([view])).payload[0]
        assert got.shape == view.shape
        assert np.array_equal(got, view)


def test_wire_nested_payload_roundtrip() -> None:
    payload = {
        0: [sample_array("<u8", (5,)), sample_array("<i4", (2, 3))],
        1: {"a": [1, -2, 2**64 - 1, -(2**63)], "b": b"\x00\xff", "c": "ünïcode", "d": None},
        "flags": [True, False, 1.5, [], {}],
        "deep": [[[sample_array("|b1", (0, 2))]], {7: {8: sample_array("<f8", (1,))}}],
        "count": np.int64(-9),
    }
    got = roundtrip(frame(payload))
    assert_same_payload(payload, got.payload)
    assert isinstance(got.payload["count"], int)


@given(
    session=st.binary(max_size=40),
    round_=st.integers(0, 2**63),
    step=st.integers(0, 2**32),
    sender=st.one_of(st.integers(0, 1000), st.text(max_size=10)),
    kind=st.text(max_size=10),
)
@settings(max_examples=100, deadline=None)
def test_wire_header_fields_roundtrip(
    session: bytes, round_: int, step: int, sender: int | str, kind: str
) -> None:
    f = Frame(session, round_, step, sender, kind, None)
    assert roundtrip(f) == f


def test_wire_decoded_arrays_are_read_only_copies_of_nothing_shared() -> None:
    array = np.arange(4, dtype=np.uint64)
    got = roundtrip(frame([array])).payload[0]
    array[0] = 99  # the sender changing its array later does not change what arrived
    assert got[0] == 0


# --- what cannot be sent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.array([1, "x"], dtype=object),
        np.zeros(3, dtype=np.float16),
        np.zeros(3, dtype=">f2"),
        np.zeros(3, dtype=np.float32),
        np.zeros(3, dtype=np.complex128),
        np.zeros(2, dtype="U3"),
        np.zeros(2, dtype="datetime64[s]"),
        np.zeros(2, dtype=[("a", "<i8")]),
    ],
    ids=lambda a: str(a.dtype),
)
def test_wire_disallowed_dtype_raises_local_error(array: np.ndarray) -> None:
    with pytest.raises(LocalProtocolError, match="cannot be sent"):
        wire.encode(frame({0: [array]}))


@pytest.mark.parametrize("value", [{1, 2}, object(), np.float16(1.0), complex(1, 2)], ids=repr)
def test_wire_unencodable_object_raises_local_error(value: Any) -> None:
    with pytest.raises(LocalProtocolError, match="cannot encode"):
        wire.encode(frame([value]))


# --- malformed input -----------------------------------------------------------------------------


def decode_or_error(data: bytes) -> Frame | RemoteProtocolError:
    """The frame, or the RemoteProtocolError; any other exception escapes (and fails the test)."""
    try:
        return wire.decode(data, PEER)
    except RemoteProtocolError as error:
        return error


def check_frame_or_error(outcome: Frame | RemoteProtocolError) -> None:
    if isinstance(outcome, RemoteProtocolError):
        assert outcome.peer == PEER
        assert f"party {PEER}" in str(outcome)
    else:  # the rare garbage that is a well-formed frame must be one in full
        assert isinstance(outcome, Frame)
        assert isinstance(outcome.session, bytes)
        assert isinstance(outcome.kind, str)


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_wire_garbage_bytes_raise_remote_error(data: bytes) -> None:
    check_frame_or_error(decode_or_error(data))


GOOD = wire.encode(frame({0: [np.arange(6, dtype=np.uint64).reshape(2, 3)], "x": "y"}))


@given(
    edits=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1),
    cut=st.integers(0, len(GOOD)),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_wire_corrupted_frames_raise_remote_error(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(GOOD)
    for position, value in edits:
        data[position] = value
    check_frame_or_error(decode_or_error(bytes(data[:cut])))


def test_wire_every_truncation_raises_remote_error() -> None:
    for cut in range(len(GOOD)):
        expect_remote_error(GOOD[:cut], "malformed frame")


def test_wire_trailing_bytes_raise_remote_error() -> None:
    expect_remote_error(GOOD + b"\x00", "malformed frame")


@pytest.mark.parametrize(
    "obj",
    [
        [SESSION, 1, 0, 0, "data"],
        [SESSION, 1, 0, 0, "data", {}, "extra"],
        [],
        {"session": SESSION},
        7,
        "frame",
        None,
    ],
    ids=["five", "seven", "empty", "map", "int", "str", "nil"],
)
def test_wire_wrong_arity_raises_remote_error(obj: Any) -> None:
    expect_remote_error(packed(obj), "6-element array")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (("session", 1, 0, 0, "data", {}), "session or kind"),
        ((SESSION, 1, 0, 0, b"data", {}), "session or kind"),
        ((SESSION, 1, 0, 0, 7, {}), "session or kind"),
        ((SESSION, -1, 0, 0, "data", {}), "round and step"),
        ((SESSION, 1, -1, 0, "data", {}), "round and step"),
        ((SESSION, "1", 0, 0, "data", {}), "round and step"),
        ((SESSION, 1.0, 0, 0, "data", {}), "round and step"),
        ((SESSION, True, 0, 0, "data", {}), "round and step"),
        ((SESSION, 1, None, 0, "data", {}), "round and step"),
        ((SESSION, 1, 0, 1.5, "data", {}), "sender"),
        ((SESSION, 1, 0, None, "data", {}), "sender"),
        ((SESSION, 1, 0, [0], "data", {}), "sender"),
        ((SESSION, 1, 0, b"0", "data", {}), "sender"),
    ],
)
def test_wire_wrong_field_types_raise_remote_error(fields: tuple[Any, ...], match: str) -> None:
    expect_remote_error(raw_frame(*fields), match)


@pytest.mark.parametrize(
    ("array_ext", "match"),
    [
        (ext(["<f4", [2]], bytes(8)), "not allowed"),
        (ext(["|O", [1]], bytes(8)), "not allowed"),
        (ext(["<f2", [1]], bytes(2)), "not allowed"),
        (ext([8, [1]], bytes(8)), "not allowed"),
        (ext([None, [1]], bytes(8)), "not allowed"),
        (ext(["<u8", [-1]], b""), "shape"),
        (ext(["<u8", [2, -1]], bytes(8)), "shape"),
        (ext(["<u8", 2], bytes(16)), "shape"),
        (ext(["<u8", ["2"]], bytes(16)), "shape"),
        (ext(["<u8", [2.0]], bytes(16)), "shape"),
        (ext(["<u8", [2]], bytes(15)), "needs 16 bytes, only 15 remain"),
        (ext(["<u8", [2]], bytes(17)), "1 bytes after the arrays"),
        (ext(["<u8", [0]], bytes(8)), "8 bytes after the arrays"),
        (ext(["<u4", [2**40, 2**40]], bytes(8)), "bytes"),
        (ext(["<u8"], bytes(8)), "header"),
        (ext(["<u8", [1], 0], bytes(8)), "header"),
        (ext(None, bytes(8), raw_header=b"\xc1"), "header"),
        (ext(None, b"", raw_header=b""), "header"),
        (ext(["<u8", [1]], bytes(8), code=2), "extension type 2"),
    ],
)
def test_wire_bad_array_extension_raises_remote_error(array_ext: Any, match: str) -> None:
    error = expect_remote_error(raw_frame(SESSION, 1, 0, 0, "data", {0: [array_ext]}), match)
    assert "malformed frame" in str(error)


def test_wire_header_length_beyond_the_frame_raises_remote_error() -> None:
    data = raw_frame(SESSION, 1, 0, 0, "data", None)
    expect_remote_error((len(data) + 1).to_bytes(4, "big") + data[4:], "header length")
    expect_remote_error(b"\x00\x00", "header length")


def test_wire_array_bodies_follow_the_header_uncopied() -> None:
    """The encoding is the header, then each array's own memory (no copy into msgpack)."""
    array = np.arange(1000, dtype=np.uint64)
    buffers = wire.encode_buffers(frame({0: [array, array[::2]]}))
    assert len(buffers) == 3
    assert np.shares_memory(np.frombuffer(buffers[1], dtype=np.uint64), array)
    assert bytes(buffers[2]) == array[::2].tobytes()  # non-contiguous: a contiguous copy
    decoded = wire.decode(bytearray(b"".join(buffers)), PEER).payload[0]
    assert decoded[0].flags.writeable  # views of a received (writable) buffer


def test_wire_remote_error_names_a_string_peer() -> None:
    with pytest.raises(RemoteProtocolError, match=r"^driver: malformed frame") as info:
        wire.decode(b"\xc1", "driver")
    assert info.value.peer == "driver"


# --- fragmentation -------------------------------------------------------------------------------

LIMIT = 4096


def big_frame(size_bytes: int = 10 * LIMIT) -> Frame:
    values = np.arange(size_bytes // 8, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return Frame(SESSION, 2, 0, PEER, "data", {0: [values], "note": "big"})


def parts_of(f: Frame, limit: int = LIMIT) -> list[Frame]:
    return [wire.decode(data, PEER) for data in wire.fragment(f, limit)]


def test_wire_fragment_reassemble_roundtrip() -> None:
    f = big_frame()
    encoded = wire.fragment(f, LIMIT)
    assert len(encoded) >= 10
    assert all(len(data) <= LIMIT for data in encoded)
    reassembler = Reassembler(PEER, max_message_bytes=20 * LIMIT)
    outputs = [reassembler.feed(wire.decode(data, PEER)) for data in encoded]
    assert outputs[:-1] == [None] * (len(encoded) - 1)
    whole = outputs[-1]
    assert whole is not None
    assert (whole.session, whole.round, whole.step, whole.sender, whole.kind) == (
        SESSION,
        2,
        0,
        PEER,
        "data",
    )
    assert_same_payload(f.payload, whole.payload)
    # the reassembler is ready for the next message, fragmented or not
    small = frame({0: [np.arange(3, dtype=np.uint64)]})
    assert reassembler.feed(small) is small
    again = [reassembler.feed(p) for p in parts_of(f)]
    assert again[-1] is not None
    assert_same_payload(f.payload, again[-1].payload)


@given(
    limit=st.integers(300, 3000),
    size=st.integers(0, 20_000),
    sender=st.sampled_from([0, 6, "driver"]),
)
@settings(max_examples=40, deadline=None)
def test_wire_fragments_respect_the_frame_limit(limit: int, size: int, sender: int | str) -> None:
    f = Frame(SESSION, 2**40, 3, sender, "data", {0: [np.full(size // 8, 7, dtype=np.uint64)]})
    encoded = wire.fragment(f, limit)
    assert all(len(data) <= limit for data in encoded)
    reassembler = Reassembler(PEER, max_message_bytes=size + 1000)
    outputs = [reassembler.feed(wire.decode(data, PEER)) for data in encoded]
    whole = outputs[-1]
    assert whole is not None
    assert all(o is None for o in outputs[:-1])
    assert (whole.round, whole.step, whole.sender) == (2**40, 3, sender)
    assert np.array_equal(whole.payload[0][0], f.payload[0][0])


def test_wire_fragment_small_frame_is_one_frame() -> None:
    f = frame({0: [np.arange(3, dtype=np.uint64)]})
    assert wire.fragment(f, LIMIT) == [wire.encode(f)]
    assert Reassembler(PEER, LIMIT).feed(f) is f


def test_wire_fragment_needs_room_for_the_part_header() -> None:
    with pytest.raises(LocalProtocolError, match="too small"):
        wire.fragment(big_frame(), 200)


def feed_all(reassembler: Reassembler, frames: list[Frame]) -> None:
    for f in frames:
        reassembler.feed(f)


def expect_reassembly_error(frames: list[Frame], match: str, limit: int = 20 * LIMIT) -> None:
    reassembler = Reassembler(PEER, max_message_bytes=limit)
    with pytest.raises(RemoteProtocolError, match=match) as info:
        feed_all(reassembler, frames)
    assert info.value.peer == PEER
    assert f"party {PEER}" in str(info.value)


def test_wire_reassembler_rejects_out_of_order_parts() -> None:
    parts = parts_of(big_frame())
    expect_reassembly_error([parts[1]], "out of order")
    expect_reassembly_error([parts[0], parts[2]], "out of order")
    expect_reassembly_error([parts[0], parts[0]], "out of order")


def test_wire_reassembler_rejects_a_changing_part_count() -> None:
    parts = parts_of(big_frame())
    index, count, data = parts[1].payload
    changed = Frame(SESSION, 2, 0, PEER, wire.PART, [index, count + 1, data])
    expect_reassembly_error([parts[0], changed], "out of order")


def test_wire_reassembler_rejects_a_single_part_message() -> None:
    lonely = Frame(SESSION, 2, 0, PEER, wire.PART, [0, 1, wire.encode(frame(None))])
    expect_reassembly_error([lonely], "out of order")


@pytest.mark.parametrize(
    "payload", [None, [0, 2], [0, 2, "text"], ["0", 2, b"x"], [0, 2.0, b"x"], [True, 2, b"x"], {}]
)
def test_wire_reassembler_rejects_malformed_parts(payload: Any) -> None:
    expect_reassembly_error([Frame(SESSION, 2, 0, PEER, wire.PART, payload)], "malformed part")


def test_wire_reassembler_rejects_an_oversized_message() -> None:
    parts = parts_of(big_frame())
    expect_reassembly_error(parts, "exceeds the limit of 12000 bytes", limit=12_000)


def test_wire_reassembler_rejects_a_frame_interrupting_a_fragmented_message() -> None:
    parts = parts_of(big_frame())
    expect_reassembly_error([parts[0], parts[1], frame(None)], "interrupted")


def test_wire_reassembler_rejects_nested_parts() -> None:
    inner = wire.encode(Frame(SESSION, 2, 0, PEER, wire.PART, [0, 2, b"x"]))
    half = len(inner) // 2
    outer = [
        Frame(SESSION, 2, 0, PEER, wire.PART, [0, 2, inner[:half]]),
        Frame(SESSION, 2, 0, PEER, wire.PART, [1, 2, inner[half:]]),
    ]
    expect_reassembly_error(outer, "nested part")


def test_wire_reassembler_rejects_garbage_reassembled_bytes() -> None:
    outer = [
        Frame(SESSION, 2, 0, PEER, wire.PART, [0, 2, b"\x96\xc4"]),
        Frame(SESSION, 2, 0, PEER, wire.PART, [1, 2, b"\xc1"]),
    ]
    expect_reassembly_error(outer, "malformed frame")
