"""Deployment configs: TOML files parsed and validated into frozen dataclasses, and written back.

This module owns the deployment schema (which parties exist, where they listen, which protocol and
threshold they run, their key files, datasets, allowed circuits, timeouts and size limits), its
validation rules, and a small TOML emitter (`to_toml`) for the types the schema uses.

Every problem is a `ConfigError(file, key, message)` whose key is a dotted path into the file:
`deployment.protocol`, `timeouts.round`, `party[1].port`, `party[2].datasets.values`. The index in
`party[i]` is the position of the `[[party]]` table in the file (not its id), so it points at the
table to fix. Relative paths are resolved against the config file's directory; files named in the
config are not required to exist here: the nodes check them when they use them.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

from mpc.errors import ConfigError
from mpc.suite import DEALER, PROTOCOLS, provider_problem

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MIN_FRAME_BYTES = 4096
_T = TypeVar("_T")

_TOP_KEYS = ("deployment", "timeouts", "limits", "driver", "dealer", "party")
_DEPLOYMENT_KEYS = ("name", "protocol", "threshold", "keys", "preprocessing")
_DRIVER_KEYS = ("certificate", "key")
_DEALER_KEYS = ("host", "port", "certificate", "key")
_PARTY_KEYS = ("id", "host", "port", "certificate", "key", "circuits", "datasets")


@dataclass(frozen=True, slots=True)
class PartyConfig:
    """One party: where it listens, its identity files, its datasets and the circuits it allows."""

    id: int
    host: str
    port: int
    certificate: Path
    key: Path
    datasets: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))
    circuits: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class DriverConfig:
    """The driver's identity files (it submits jobs; it never listens)."""

    certificate: Path
    key: Path


@dataclass(frozen=True, slots=True)
class DealerConfig:
    """A trusted dealer process (`mpc dealer`): where it listens and its identity files."""

    host: str
    port: int
    certificate: Path
    key: Path


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Deadlines in seconds: dial + handshake per peer, one frame, one job, an idle session."""

    connect: float = 10.0
    round: float = 30.0
    job: float = 3600.0
    idle: float = 120.0


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard size limits: one wire frame, one reassembled message, rows in one dataset; and the
    memory a node process touches at start and keeps for its jobs (`mpc.memory`, 0: none)."""

    max_frame_bytes: int = 64 * 2**20
    max_message_bytes: int = 4 * 2**30
    max_rows: int = 10**8
    reserved_memory_bytes: int = 64 * 2**20


@dataclass(frozen=True, slots=True)
class Deployment:
    """A validated deployment: parties sorted by id (ids are exactly 0..n-1)."""

    path: Path
    name: str
    protocol: str
    threshold: int
    keys_dir: Path
    parties: tuple[PartyConfig, ...]
    driver: DriverConfig
    timeouts: Timeouts = Timeouts()
    limits: Limits = Limits()
    preprocessing: str | None = None
    dealer: DealerConfig | None = None

    @property
    def n_parties(self) -> int:
        """Number of parties."""
        return len(self.parties)

    def party(self, id: int) -> PartyConfig:
        """The party with this id; ConfigError if the deployment has none."""
        for party in self.parties:
            if party.id == id and not isinstance(id, bool):
                return party
        ids = f"0..{self.n_parties - 1}"
        raise ConfigError(self.path, "party", f"no party with id {id!r} (ids are {ids})")


_TIMEOUT_KEYS = tuple(item.name for item in fields(Timeouts))
_LIMIT_KEYS = tuple(item.name for item in fields(Limits))


def load(path: str | os.PathLike[str]) -> Deployment:
    """Read and validate a deployment TOML file."""
    file = Path(os.path.abspath(path))
    try:
        data = tomllib.loads(file.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, "", "config file not found") from None
    except OSError as error:
        raise ConfigError(file, "", f"cannot read config file: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(file, "", f"not UTF-8 text: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(file, "", f"invalid TOML: {error}") from None
    return parse(data, file)


def protocol_threshold(protocol: str, n: int, threshold: int | None) -> int:
    """Check protocol, party count and threshold together; return the threshold to use.

    shamir: n >= 3 and 1 <= t < n/2 (honest majority); default t = (n-1)//2.
    additive: n >= 2; only all n-1 other parties together learn a secret, so t = n-1 (or absent).
    Errors are ConfigErrors with the file "<deployment>"; `parse` re-labels them with its file.
    """
    where = "<deployment>"
    if protocol not in PROTOCOLS:
        message = f"unknown protocol {protocol!r}; allowed: {', '.join(PROTOCOLS)}"
        raise ConfigError(where, "deployment.protocol", message)
    minimum = 3 if protocol == "shamir" else 2
    if n < minimum:
        message = f"{protocol} needs at least {minimum} parties, the deployment has {n}"
        raise ConfigError(where, "party", message)
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)):
        raise ConfigError(where, "deployment.threshold", f"must be an integer, got {threshold!r}")
    if protocol == "additive":
        if threshold is not None and threshold != n - 1:
            message = f"additive sharing has threshold n-1 = {n - 1}, got {threshold}"
            raise ConfigError(where, "deployment.threshold", message)
        return n - 1
    if threshold is None:
        return (n - 1) // 2
    if threshold < 1 or 2 * threshold >= n:
        message = f"shamir with {n} parties needs 1 <= threshold < {n / 2:g}, got {threshold}"
        raise ConfigError(where, "deployment.threshold", message)
    return threshold


def parse(data: Mapping[str, Any], path: Path) -> Deployment:
    """Validate TOML data (as `tomllib` returns it) read from `path` into a Deployment."""
    file = Path(os.path.abspath(path))
    check = _Validator(file)
    top = check.table(data, "", _TOP_KEYS)
    section = check.table(top.get("deployment"), "deployment", _DEPLOYMENT_KEYS, required=True)
    name = check.text(section, "deployment", "name")
    if not _DEPLOYMENT_NAME.fullmatch(name):
        check.fail("deployment.name", f"must match {_DEPLOYMENT_NAME.pattern}, got {name!r}")
    protocol = check.text(section, "deployment", "protocol")
    raw_threshold = None
    if "threshold" in section:
        raw_threshold = check.value(section, "deployment", "threshold", int)
    keys_dir = check.path(section, "deployment", "keys", Path("keys") / name)
    parties = check.parties(top.get("party"), keys_dir)
    try:
        threshold = protocol_threshold(protocol, len(parties), raw_threshold)
    except ConfigError as error:
        raise ConfigError(file, error.key, error.reason) from None
    driver_table = check.table(top.get("driver", {}), "driver", _DRIVER_KEYS)
    driver = DriverConfig(
        certificate=check.path(driver_table, "driver", "certificate", keys_dir / "driver.pem"),
        key=check.path(driver_table, "driver", "key", keys_dir / "driver.key"),
    )
    preprocessing = None
    if "preprocessing" in section:
        preprocessing = check.text(section, "deployment", "preprocessing")
        problem = provider_problem(protocol, len(parties), preprocessing)
        if problem:
            check.fail("deployment.preprocessing", problem)
    dealer = None
    if "dealer" in top:
        table = check.table(top["dealer"], "dealer", _DEALER_KEYS, required=True)
        dealer = DealerConfig(
            host=check.text(table, "dealer", "host"),
            port=check.port(table, "dealer"),
            certificate=check.path(table, "dealer", "certificate", keys_dir / "dealer.pem"),
            key=check.path(table, "dealer", "key", keys_dir / "dealer.key"),
        )
    if preprocessing == DEALER and dealer is None:
        check.fail("dealer", "deployment.preprocessing = 'dealer' needs a [dealer] table")
    return Deployment(
        path=file,
        name=name,
        protocol=protocol,
        threshold=threshold,
        keys_dir=keys_dir,
        parties=parties,
        driver=driver,
        timeouts=check.timeouts(top.get("timeouts", {})),
        limits=check.limits(top.get("limits", {})),
        preprocessing=preprocessing,
        dealer=dealer,
    )


class _Validator:
    """Type and range checks that raise ConfigError naming the file and the dotted key."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> NoReturn:
        raise ConfigError(self.file, key, message)

    def table(
        self, value: object, key: str, allowed: tuple[str, ...] | None, *, required: bool = False
    ) -> Mapping[str, Any]:
        """A TOML table whose keys are all in `allowed` (any key if None)."""
        if value is None and required:
            self.fail(key, "missing required table")
        if not isinstance(value, Mapping):
            self.fail(key, f"must be a table, got {_toml_type(value)}")
        for name in value:
            if allowed is not None and name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(_join(key, name), f"unknown key{hint}; allowed: {', '.join(allowed)}")
        return value

    def value(self, table: Mapping[str, Any], prefix: str, name: str, kind: type[_T]) -> _T:
        """A required value of one TOML type (a boolean is not an integer here)."""
        key = _join(prefix, name)
        if name not in table:
            self.fail(key, "missing required key")
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            got = f"{_toml_type(value)} {value!r}"
            self.fail(key, f"must be of type {_TYPE_NAMES[kind]}, got {got}")
        return value

    def text(self, table: Mapping[str, Any], prefix: str, name: str) -> str:
        text = self.value(table, prefix, name, str)
        if not text.strip() or "\0" in text:
            self.fail(_join(prefix, name), f"must be non-empty text without NUL, got {text!r}")
        return text

    def path(self, table: Mapping[str, Any], prefix: str, name: str, default: Path) -> Path:
        """A path resolved against the config file's directory (absolute paths stay as they are)."""
        raw = self.text(table, prefix, name) if name in table else str(default)
        return Path(os.path.normpath(self.file.parent / raw))

    def parties(self, value: object, keys_dir: Path) -> tuple[PartyConfig, ...]:
        if value is None:
            self.fail("party", "missing: add one [[party]] table per party")
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            self.fail("party", "must be an array of tables ([[party]])")
        position_of_id: dict[int, int] = {}
        position_of_endpoint: dict[tuple[str, int], int] = {}
        for position, item in enumerate(value):
            at = f"party[{position}]"
            table = self.table(item, at, _PARTY_KEYS)
            id = self.value(table, at, "id", int)
            if not 0 <= id < len(value):
                self.fail(f"{at}.id", f"ids must be exactly 0..{len(value) - 1}; got {id}")
            if id in position_of_id:
                self.fail(f"{at}.id", f"duplicate id {id} (also party[{position_of_id[id]}])")
            position_of_id[id] = position
            host = self.text(table, at, "host")
            if any(char.isspace() for char in host):
                self.fail(f"{at}.host", f"must not contain whitespace, got {host!r}")
            port = self.value(table, at, "port", int)
            if not 1 <= port <= 65535:
                self.fail(f"{at}.port", f"must be in 1..65535, got {port}")
            if (host, port) in position_of_endpoint:
                other = position_of_endpoint[host, port]
                self.fail(f"{at}.port", f"{host}:{port} is also used by party[{other}]")
            position_of_endpoint[host, port] = position
        return tuple(
            self.party(value[position], f"party[{position}]", keys_dir)
            for _, position in sorted(position_of_id.items())
        )

    def party(self, table: Mapping[str, Any], at: str, keys_dir: Path) -> PartyConfig:
        id = table["id"]
        return PartyConfig(
            id=id,
            host=table["host"],
            port=table["port"],
            certificate=self.path(table, at, "certificate", keys_dir / f"party-{id}.pem"),
            key=self.path(table, at, "key", keys_dir / f"party-{id}.key"),
            datasets=self.datasets(table.get("datasets", {}), f"{at}.datasets"),
            circuits=self.circuits(table.get("circuits", []), f"{at}.circuits"),
        )

    def port(self, table: Mapping[str, Any], at: str) -> int:
        port = self.value(table, at, "port", int)
        if not 1 <= port <= 65535:
            self.fail(f"{at}.port", f"must be in 1..65535, got {port}")
        return port

    def datasets(self, value: object, key: str) -> Mapping[str, Path]:
        table = self.table(value, key, None)
        for name in table:
            if not _IDENTIFIER.fullmatch(name):
                self.fail(_join(key, name), f"dataset names must match {_IDENTIFIER.pattern}")
        return MappingProxyType({name: self.path(table, key, name, Path()) for name in table})

    def circuits(self, value: object, key: str) -> Mapping[str, Path]:
        if not isinstance(value, list):
            self.fail(key, f"must be an array of file names, got {_toml_type(value)}")
        circuits: dict[str, Path] = {}
        for position, raw in enumerate(value):
            at = f"{key}[{position}]"
            if not isinstance(raw, str) or not raw.strip() or "\0" in raw:
                self.fail(at, f"must be a non-empty file name, got {raw!r}")
            path = Path(os.path.normpath(self.file.parent / raw))
            if not _IDENTIFIER.fullmatch(path.stem):
                self.fail(at, f"the file stem names the circuit: must be an identifier, {raw!r}")
            if path.stem in circuits:
                self.fail(at, f"a second circuit named {path.stem!r}")
            circuits[path.stem] = path
        return MappingProxyType(circuits)

    def timeouts(self, value: object) -> Timeouts:
        table = self.table(value, "timeouts", _TIMEOUT_KEYS)
        for name, number in table.items():
            finite = isinstance(number, int | float) and math.isfinite(number)
            if isinstance(number, bool) or not finite or number <= 0:
                got = f"{_toml_type(number)} {number!r}"
                self.fail(f"timeouts.{name}", f"must be a finite number of seconds > 0, got {got}")
        return Timeouts(**{name: float(number) for name, number in table.items()})

    def limits(self, value: object) -> Limits:
        table = self.table(value, "limits", _LIMIT_KEYS)
        sizes = {name: self.value(table, "limits", name, int) for name in table}
        for name, size in sizes.items():
            least = {"max_frame_bytes": _MIN_FRAME_BYTES, "reserved_memory_bytes": 0}.get(name, 1)
            if size < least:
                self.fail(f"limits.{name}", f"must be an integer >= {least}, got {size}")
        return Limits(**sizes)


def _join(prefix: str, name: str) -> str:
    """The dotted key of `name` inside `prefix`, quoted like TOML when it is not a bare key."""
    part = name if _BARE_KEY.fullmatch(name) else _quote(name)
    return f"{prefix}.{part}" if prefix else part


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "table" if isinstance(value, Mapping) else _TYPE_NAMES.get(type(value), "value")


_TYPE_NAMES: Mapping[type, str] = MappingProxyType(
    {str: "string", int: "integer", float: "float", list: "array"}
)
_ESCAPES: Mapping[str, str] = MappingProxyType(
    {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
)


def to_toml(deployment: Deployment) -> str:
    """The deployment as TOML text with absolute paths; `parse` of it gives an equal Deployment."""
    d = deployment
    lines = [f"# Deployment {d.name!r}, written by mpc.config.to_toml.", ""]
    header = [("name", d.name), ("protocol", d.protocol), ("threshold", d.threshold)]
    provider = [("preprocessing", d.preprocessing)] if d.preprocessing else []
    lines += _table("deployment", [*header, ("keys", d.keys_dir), *provider])
    lines += _table("timeouts", [(name, getattr(d.timeouts, name)) for name in _TIMEOUT_KEYS])
    lines += _table("limits", [(name, getattr(d.limits, name)) for name in _LIMIT_KEYS])
    lines += _table("driver", [("certificate", d.driver.certificate), ("key", d.driver.key)])
    if d.dealer is not None:
        where = [("host", d.dealer.host), ("port", d.dealer.port)]
        files = [("certificate", d.dealer.certificate), ("key", d.dealer.key)]
        lines += _table("dealer", [*where, *files])
    for party in sorted(d.parties, key=lambda party: party.id):
        scalars = [("id", party.id), ("host", party.host), ("port", party.port)]
        files = [("certificate", party.certificate), ("key", party.key)]
        circuits = ("circuits", list(party.circuits.values()))
        lines += _table("[party]", [*scalars, *files, circuits])
        if party.datasets:
            lines += _table("party.datasets", list(party.datasets.items()))
    return "\n".join(lines)


def _table(header: str, items: Iterable[tuple[str, object]]) -> list[str]:
    return [f"[{header}]", *(_assign(name, value) for name, value in items), ""]


def _assign(name: str, value: object) -> str:
    return f"{_join('', name)} = {_toml_value(value)}"


def _toml_value(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # repr round-trips; 'inf' and 'nan' are TOML too
    if isinstance(value, str | Path):
        return _quote(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _quote(text: str) -> str:
    """A TOML basic string: quote, backslash and control characters escaped."""
    parts = []
    for char in text:
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(char)
    return '"' + "".join(parts) + '"'
