"""Every error the runtime raises, named by whose fault it is.

- Your input is wrong: `ConfigError` (file + key), `InputError` (file, column, row), `CompileError`
  (a circuit misuses the DSL), `PolicyError` (a node refuses a job its config does not allow).
- We misused a protocol: `LocalProtocolError`.
- A peer broke the protocol: `RemoteProtocolError` (peer, round); its connection failed:
  `PeerUnreachableError`, `PeerBrokenError`, `PeerTimeoutError` (phase, deadline).
- The job stopped somewhere else: `AbortedError` (origin party, reason), which reaches every party.
- Cryptographic material: `PreprocessingError` (a triple used twice, …), `VerificationError`.
- The driver's summary of a failed job: `JobFailedError` (one line per party).

Errors cross process boundaries as `{"type", "message", "party"}` dicts (`to_wire` / `from_wire`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MpcError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MpcError):
    """A deployment config is invalid: names the file and the key."""

    def __init__(self, path: object, key: str, message: str) -> None:
        self.path = str(path)
        self.key = key
        self.reason = message
        super().__init__(f"{self.path}: {key}: {message}" if key else f"{self.path}: {message}")


class InputError(MpcError):
    """A dataset is invalid: names the file, the column and the row (the header is row 1)."""

    def __init__(
        self, path: object, message: str, *, column: str | None = None, row: int | None = None
    ) -> None:
        self.path = str(path)
        self.column = column
        self.row = row
        self.reason = message
        where = self.path
        if column is not None:
            where += f", column {column!r}"
        if row is not None:
            where += f", row {row}"
        super().__init__(f"{where}: {message}")


class CompileError(MpcError):
    """A circuit misuses the DSL; `site` is the circuit's `file:line` when known."""

    def __init__(self, message: str, site: str | None = None) -> None:
        self.site = site
        self.reason = message
        super().__init__(f"{site}: {message}" if site else message)


class SecretBranchError(CompileError, TypeError):
    """A secret value was used where Python needs a plain value (`if`, `while`, `int()`, …)."""


class PolicyError(MpcError):
    """A node refuses a job that its own config does not allow."""

    def __init__(self, party: int, message: str) -> None:
        self.party = party
        self.reason = message
        super().__init__(f"party {party} refuses the job: {message}")


class ProtocolError(MpcError):
    """Base class of protocol violations."""


class LocalProtocolError(ProtocolError):
    """This party was asked to do something the protocol does not allow (a local bug or misuse)."""


class RemoteProtocolError(ProtocolError):
    """A peer broke the protocol: a malformed, oversized or unexpected frame."""

    def __init__(self, peer: int | str, message: str, *, round: int | None = None) -> None:
        self.peer = peer
        self.round = round
        self.reason = message
        where = f"party {peer}" if isinstance(peer, int) else str(peer)
        if round is not None:
            where += f" (round {round})"
        super().__init__(f"{where}: {message}")


class PeerError(MpcError):
    """Base class of connection failures with a named peer."""

    def __init__(self, peer: int | str, message: str) -> None:
        self.peer = peer
        self.reason = message
        where = f"party {peer}" if isinstance(peer, int) else str(peer)
        super().__init__(f"{where}: {message}")


class PeerUnreachableError(PeerError):
    """No connection to the peer could be made before the deadline."""


class PeerBrokenError(PeerError):
    """The connection to the peer broke (it closed, reset or died); the cause is attached."""


class PeerClosedError(PeerBrokenError):
    """The peer closed the connection cleanly between frames (it may simply have finished)."""


class PeerTimeoutError(PeerError):
    """The peer sent nothing expected within the deadline of a phase."""

    def __init__(self, peer: int | str, phase: str, deadline: float) -> None:
        self.phase = phase
        self.deadline = deadline
        super().__init__(peer, f"no answer in {phase} within {deadline:g} s")


class AbortedError(MpcError):
    """The job was aborted by `origin_party` (or the driver); every party raises this."""

    def __init__(self, origin_party: int | str, reason: str) -> None:
        self.origin_party = origin_party
        self.reason = reason
        who = f"party {origin_party}" if isinstance(origin_party, int) else str(origin_party)
        super().__init__(f"aborted by {who}: {reason}")


class PreprocessingError(MpcError):
    """Preprocessed material is missing, exhausted or reused."""


class VerificationError(MpcError):
    """A consistency check failed. Deliberately terse."""


class JobFailedError(MpcError):
    """The driver's view of a failed job: the error each party reported, or the one it caused."""

    def __init__(self, failures: Mapping[int | str, MpcError]) -> None:
        self.failures = dict(failures)
        lines = [describe_failure(p, e) for p, e in sorted_failures(self.failures)]
        super().__init__("job failed\n  " + "\n  ".join(lines))

    def root_cause(self) -> tuple[int | str, MpcError]:
        """The failure that explains the others: the first by rank, then along the blame chain
        (a party that timed out waiting for a party that timed out waiting for party 2 → 2)."""
        return sorted_failures(self.failures)[0]


def type_name(error: BaseException) -> str:
    """The error's type name; for an error reported by another process, its original type."""
    return error.type_name if isinstance(error, RemoteError) else type(error).__name__


def _who(party: int | str) -> str:
    return f"party {party}" if isinstance(party, int) else str(party)


def describe_failure(party: int | str, error: BaseException) -> str:
    """`party 2: PeerBrokenError: connection lost` (without repeating who failed)."""
    who = _who(party)
    message = str(error)
    if message.startswith(who + ": "):
        message = message[len(who) + 2 :]
    return f"{who}: {type_name(error)}: {message}"


def _rank(error: MpcError) -> int:
    # Input and policy problems explain everything after them; aborts are consequences.
    cls: type[MpcError] = type(error)
    if isinstance(error, RemoteError):
        cls = _WIRE_TYPES.get(error.type_name, MpcError)
    if issubclass(cls, InputError | PolicyError | ConfigError | CompileError):
        return 0
    if issubclass(cls, PeerError | RemoteProtocolError | LocalProtocolError):
        return 1
    if issubclass(cls, AbortedError):
        return _ABORTED_RANK
    return 2


_ABORTED_RANK = 3


def blamed(error: MpcError) -> int | str | None:
    """Whom an error blames: the peer it names, or the origin of an abort."""
    if isinstance(error, AbortedError):
        return error.origin_party
    if isinstance(error, RemoteError):
        return error.blames
    peer = getattr(error, "peer", None)
    if isinstance(peer, str) and peer.startswith("party ") and peer[6:].isdigit():
        return int(peer[6:])
    return peer if isinstance(peer, int | str) else None


def sorted_failures(
    failures: Mapping[int | str, MpcError],
) -> list[tuple[int | str, MpcError]]:
    """Failures ordered root cause first, then by rank and party.

    Start from the best-ranked failure and follow whom it blames while the blamed party itself
    blames someone (a party that was merely aborted does not explain anything): the last
    accusation is the root cause.
    """
    ranked = sorted(failures.items(), key=lambda item: (_rank(item[1]), str(item[0])))
    if not ranked:
        return ranked
    party, error = ranked[0]
    seen = {party}
    while True:
        target = blamed(error)
        if target is None or target in seen or target not in failures:
            break
        if _rank(failures[target]) >= _ABORTED_RANK:
            break
        seen.add(target)
        party, error = target, failures[target]
    return [(party, error)] + [item for item in ranked if item[0] != party]


_WIRE_TYPES: dict[str, type[MpcError]] = {
    cls.__name__: cls
    for cls in (
        MpcError,
        ConfigError,
        InputError,
        CompileError,
        SecretBranchError,
        PolicyError,
        ProtocolError,
        LocalProtocolError,
        RemoteProtocolError,
        PeerError,
        PeerUnreachableError,
        PeerBrokenError,
        PeerClosedError,
        PeerTimeoutError,
        AbortedError,
        PreprocessingError,
        VerificationError,
    )
}


class RemoteError(MpcError):
    """An error reported by another process, with its original type name and whom it blamed."""

    def __init__(self, type_name: str, message: str, blames: int | str | None = None) -> None:
        self.type_name = type_name
        self.blames = blames
        super().__init__(message)


def to_wire(error: BaseException) -> dict[str, Any]:
    """Describe an error for another process: its type name and message (never a traceback)."""
    name = type(error).__name__ if isinstance(error, MpcError) else "InternalError"
    if isinstance(error, RemoteError):
        name = error.type_name
    message = str(error) if isinstance(error, MpcError) else f"{type(error).__name__}: {error}"
    described: dict[str, Any] = {"type": name, "message": message}
    target = blamed(error) if isinstance(error, MpcError) else None
    if target is not None:
        described["blames"] = target
    return described


def from_wire(data: Any) -> MpcError:
    """Rebuild an error described by `to_wire`; unknown or malformed descriptions stay readable."""
    if not isinstance(data, Mapping):
        return RemoteError("InternalError", f"malformed error report: {data!r:.200}")
    name = str(data.get("type", "InternalError"))
    message = str(data.get("message", ""))
    target = data.get("blames")
    if not isinstance(target, int | str) or isinstance(target, bool):
        target = None
    known = name if name in _WIRE_TYPES or name == "InternalError" else "Error"
    return RemoteError(known, message, target)
