"""The messages between a driver and the party nodes, and between nodes outside the engine.

Driver ↔ node, on one TLS connection per node and job:
  driver → `prepare` JobRequest          node → `prepared` {"rows": {dataset: n}} | `error`
  driver → `run` {"rows", "fingerprint"} node → `result` {...} | `error`
  driver → `abort` {"reason"} at any time; the node drops the job.
Node ↔ node (the mesh of one job): `hello` {"fingerprint"} both ways, then engine `data` frames;
`abort` {"origin", "reason"} from whichever party fails first, forwarded by every party.

Every field is validated on arrival: a malformed message is a `RemoteProtocolError` naming the peer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mpc.errors import RemoteProtocolError
from mpc.wire import ABORT, ERROR, HELLO, PREPARE, PREPARED, RESULT, RUN

__all__ = [
    "ABORT",
    "ERROR",
    "HELLO",
    "PREPARE",
    "PREPARED",
    "RESULT",
    "RUN",
    "JobRequest",
    "expect_map",
    "parse_rows",
    "rows_to_wire",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
SESSION_BYTES = 16


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What a driver asks every node to run."""

    session: bytes
    circuit: str
    params: Mapping[str, Any] = field(default_factory=dict)
    bindings: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    receivers: tuple[int | str, ...] | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "circuit": self.circuit,
            "params": dict(self.params),
            "bindings": [[p, dict(b)] for p, b in self.bindings.items()],
            "receivers": None if self.receivers is None else list(self.receivers),
        }

    @classmethod
    def from_wire(cls, session: bytes, data: Any, peer: int | str) -> JobRequest:
        def bad(what: str) -> RemoteProtocolError:
            return RemoteProtocolError(peer, f"malformed job request: {what}")

        if len(session) != SESSION_BYTES:
            raise bad(f"session id must be {SESSION_BYTES} bytes")
        if not isinstance(data, dict):
            raise bad("expected a map")
        circuit = data.get("circuit")
        if not isinstance(circuit, str) or not _NAME.match(circuit):
            raise bad("circuit must be an identifier")
        params = data.get("params", {})
        if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, int | float | str | bool)
            for k, v in params.items()
        ):
            raise bad("params must map names to int, float, str or bool")
        bindings: dict[int, dict[str, str]] = {}
        for item in data.get("bindings", []):
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], int)
                or not isinstance(item[1], dict)
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in item[1].items())
            ):
                raise bad("bindings must be [party, {dataset: dataset}] pairs")
            bindings[item[0]] = dict(item[1])
        receivers = data.get("receivers")
        if receivers is not None:
            if not isinstance(receivers, list) or not all(
                (isinstance(r, int) and not isinstance(r, bool)) or r == "driver" for r in receivers
            ):
                raise bad("receivers must be party ids or 'driver'")
            receivers = tuple(receivers)
        return cls(session, circuit, params, bindings, receivers)


def parse_rows(data: Any, peer: int | str) -> dict[tuple[int, str], int]:
    """The `rows` table of a `run` message: [[party, dataset, rows], ...]."""
    if not isinstance(data, list):
        raise RemoteProtocolError(peer, "malformed run message: rows must be a list")
    rows: dict[tuple[int, str], int] = {}
    for item in data:
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not isinstance(item[0], int)
            or not isinstance(item[1], str)
            or not isinstance(item[2], int)
            or item[2] < 0
        ):
            raise RemoteProtocolError(
                peer, "malformed run message: rows entries are [party, dataset, n]"
            )
        rows[(item[0], item[1])] = item[2]
    return rows


def rows_to_wire(rows: Mapping[tuple[int, str], int]) -> list[list[Any]]:
    return [[party, dataset, n] for (party, dataset), n in sorted(rows.items())]


def expect_map(payload: Any, peer: int | str, kind: str) -> dict[str, Any]:
    if not isinstance(payload, dict) or not all(isinstance(k, str) for k in payload):
        raise RemoteProtocolError(peer, f"malformed {kind} message: expected a map")
    return payload
