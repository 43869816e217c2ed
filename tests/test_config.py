"""Tests of mpc.config: shipped configs, defaults, every validation rule, the TOML round trip."""

from __future__ import annotations

import copy
import csv
import dataclasses
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mpc import config
from mpc.config import Deployment, Limits, Timeouts
from mpc.errors import ConfigError

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
FAKE_FILE = Path("/srv/mpc/deployment.toml")


def base_data() -> dict[str, Any]:
    """A valid 3-party shamir deployment as tomllib would return it."""
    return {
        "deployment": {"name": "test-3", "protocol": "shamir", "threshold": 1},
        "party": [
            {
                "id": i,
                "host": "127.0.0.1",
                "port": 9000 + i,
                "circuits": ["circuits/secure_sum.py"],
                "datasets": {"values": f"data/party-{i}.csv"},
            }
            for i in range(3)
        ],
    }


def broken(mutate: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(base_data())
    mutate(data)
    return data


def set_party(position: int, key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda data: data["party"][position].__setitem__(key, value)


def set_in(table: str, key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda data: data.setdefault(table, {}).__setitem__(key, value)


def drop(table: str, key: str) -> Callable[[dict[str, Any]], object]:
    return lambda data: data[table].pop(key)


BROKEN_VARIANTS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("unknown table", lambda data: data.__setitem__("timeout", {}), "timeout"),
    ("unknown deployment key", set_in("deployment", "protocl", "shamir"), "deployment.protocl"),
    ("unknown party key", set_party(1, "prot", 1), "party[1].prot"),
    ("unknown timeouts key", set_in("timeouts", "rond", 1.0), "timeouts.rond"),
    ("unknown limits key", set_in("limits", "max_frames", 9999), "limits.max_frames"),
    ("unknown driver key", set_in("driver", "cert", "x.pem"), "driver.cert"),
    ("missing deployment", lambda data: data.pop("deployment"), "deployment"),
    ("deployment not a table", lambda data: data.__setitem__("deployment", 3), "deployment"),
    ("missing name", drop("deployment", "name"), "deployment.name"),
    ("name not a string", set_in("deployment", "name", 3), "deployment.name"),
    ("name with a slash", set_in("deployment", "name", "a/b"), "deployment.name"),
    ("missing protocol", drop("deployment", "protocol"), "deployment.protocol"),
    ("unknown protocol", set_in("deployment", "protocol", "spdz"), "deployment.protocol"),
    ("bool threshold", set_in("deployment", "threshold", True), "deployment.threshold"),
    ("threshold too big", set_in("deployment", "threshold", 2), "deployment.threshold"),
    ("threshold zero", set_in("deployment", "threshold", 0), "deployment.threshold"),
    ("keys not a string", set_in("deployment", "keys", 7), "deployment.keys"),
    ("no parties", lambda data: data.pop("party"), "party"),
    ("party not an array", lambda data: data.__setitem__("party", {"id": 0}), "party"),
    ("shamir n=2", lambda data: data["party"].pop(), "party"),
    ("missing id", lambda data: data["party"][1].pop("id"), "party[1].id"),
    ("missing host", lambda data: data["party"][0].pop("host"), "party[0].host"),
    ("missing port", lambda data: data["party"][2].pop("port"), "party[2].port"),
    ("bool as port", set_party(1, "port", True), "party[1].port"),
    ("string port", set_party(1, "port", "9001"), "party[1].port"),
    ("port zero", set_party(0, "port", 0), "party[0].port"),
    ("port too big", set_party(2, "port", 65536), "party[2].port"),
    ("bool as id", set_party(0, "id", False), "party[0].id"),
    ("duplicate id", set_party(2, "id", 0), "party[2].id"),
    ("gap in ids", set_party(2, "id", 3), "party[2].id"),
    ("negative id", set_party(0, "id", -1), "party[0].id"),
    ("empty host", set_party(1, "host", ""), "party[1].host"),
    ("host with a space", set_party(1, "host", "a b"), "party[1].host"),
    ("same host and port", set_party(1, "port", 9000), "party[1].port"),
    ("certificate not a string", set_party(0, "certificate", 1), "party[0].certificate"),
    (
        "bad dataset name",
        set_party(0, "datasets", {"my-values": "x.csv"}),
        "party[0].datasets.my-values",
    ),
    (
        "dataset name with space",
        set_party(0, "datasets", {"a b": "x.csv"}),
        'party[0].datasets."a b"',
    ),
    (
        "dataset path not a string",
        set_party(2, "datasets", {"values": 3}),
        "party[2].datasets.values",
    ),
    ("datasets not a table", set_party(0, "datasets", ["x.csv"]), "party[0].datasets"),
    ("circuits not an array", set_party(0, "circuits", "a.py"), "party[0].circuits"),
    ("circuit not a string", set_party(0, "circuits", [3]), "party[0].circuits[0]"),
    (
        "circuit stem not an identifier",
        set_party(1, "circuits", ["x/secure-sum.py"]),
        "party[1].circuits[0]",
    ),
    (
        "duplicate circuit stem",
        set_party(0, "circuits", ["a/sum.py", "b/sum.py"]),
        "party[0].circuits[1]",
    ),
    ("negative timeout", set_in("timeouts", "round", -1.0), "timeouts.round"),
    ("zero timeout", set_in("timeouts", "connect", 0), "timeouts.connect"),
    ("bool timeout", set_in("timeouts", "job", True), "timeouts.job"),
    ("string timeout", set_in("timeouts", "idle", "10"), "timeouts.idle"),
    ("infinite timeout", set_in("timeouts", "job", math.inf), "timeouts.job"),
    ("nan timeout", set_in("timeouts", "job", math.nan), "timeouts.job"),
    ("float limit", set_in("limits", "max_rows", 10.0), "limits.max_rows"),
    ("zero limit", set_in("limits", "max_message_bytes", 0), "limits.max_message_bytes"),
    ("bool limit", set_in("limits", "max_rows", True), "limits.max_rows"),
    ("frame limit too small", set_in("limits", "max_frame_bytes", 4095), "limits.max_frame_bytes"),
    (
        "negative memory reserve",
        set_in("limits", "reserved_memory_bytes", -1),
        "limits.reserved_memory_bytes",
    ),
    ("driver not a table", lambda data: data.__setitem__("driver", "x.pem"), "driver"),
    ("driver key not a string", set_in("driver", "key", ["x"]), "driver.key"),
]


@pytest.mark.parametrize(
    ("mutate", "key"),
    [pytest.param(mutate, key, id=name) for name, mutate, key in BROKEN_VARIANTS],
)
def test_parse_rejects_broken_config_naming_file_and_key(
    mutate: Callable[[dict[str, Any]], object], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config.parse(broken(mutate), FAKE_FILE)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{FAKE_FILE}: {key}: ")


@pytest.mark.parametrize(
    ("protocol", "n", "threshold", "key"),
    [
        ("additive", 3, 1, "deployment.threshold"),
        ("additive", 1, None, "party"),
        ("shamir", 2, None, "party"),
        ("shamir", 5, 3, "deployment.threshold"),
    ],
)
def test_parse_rejects_protocol_threshold_rules(
    protocol: str, n: int, threshold: int | None, key: str
) -> None:
    data = base_data()
    data["deployment"]["protocol"] = protocol
    data["deployment"].pop("threshold")
    if threshold is not None:
        data["deployment"]["threshold"] = threshold
    data["party"] = [{"id": i, "host": "h", "port": 1000 + i} for i in range(n)]
    with pytest.raises(ConfigError) as caught:
        config.parse(data, FAKE_FILE)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{FAKE_FILE}: {key}: ")


def test_parse_unknown_key_lists_allowed_keys_and_suggests_one() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'round'\?.*connect, round, job, idle"):
        config.parse(broken(set_in("timeouts", "rond", 1.0)), FAKE_FILE)


@pytest.mark.parametrize(
    ("protocol", "n", "threshold", "expected"),
    [
        ("shamir", 3, None, 1),
        ("shamir", 5, None, 2),
        ("shamir", 6, None, 2),
        ("shamir", 7, 3, 3),
        ("shamir", 7, 1, 1),
        ("additive", 2, None, 1),
        ("additive", 4, 3, 3),
    ],
)
def test_protocol_threshold_applies_defaults(
    protocol: str, n: int, threshold: int | None, expected: int
) -> None:
    assert config.protocol_threshold(protocol, n, threshold) == expected


@pytest.mark.parametrize(
    ("protocol", "n", "threshold"),
    [
        ("shamir", 4, 2),
        ("shamir", 3, 0),
        ("additive", 3, 1),
        ("spdz", 3, None),
        ("shamir", 3, True),
    ],
)
def test_protocol_threshold_rejects_invalid_combinations(
    protocol: str, n: int, threshold: int | None
) -> None:
    with pytest.raises(ConfigError):
        config.protocol_threshold(protocol, n, threshold)


@pytest.mark.parametrize(
    ("name", "protocol", "threshold", "n", "first_port"),
    [
        ("local-2", "additive", 1, 2, 7200),
        ("local-3", "shamir", 1, 3, 7300),
        ("local-5", "shamir", 2, 5, 7500),
    ],
)
def test_load_shipped_configs(
    name: str, protocol: str, threshold: int, n: int, first_port: int
) -> None:
    deployment = config.load(CONFIGS / f"{name}.toml")
    assert (deployment.name, deployment.protocol, deployment.threshold) == (
        name,
        protocol,
        threshold,
    )
    assert deployment.n_parties == n
    assert deployment.keys_dir == CONFIGS / "keys" / name
    assert deployment.driver.certificate == CONFIGS / "keys" / name / "driver.pem"
    for i, party in enumerate(deployment.parties):
        assert (party.id, party.host, party.port) == (i, "127.0.0.1", first_port + i)
        assert party.key == CONFIGS / "keys" / name / f"party-{i}.key"
        assert dict(party.circuits) == {"secure_sum": CONFIGS.parent / "circuits" / "secure_sum.py"}
        values = party.datasets["values"]
        assert values == CONFIGS / "data" / name / f"party-{i}-values.csv"
        with values.open(newline="") as file:
            rows = list(csv.reader(file))
        assert rows[0] == ["id", "value"]
        assert len(rows) == 6
        assert any(int(value) < 0 for _, value in rows[1:])
    assert config.parse(tomllib.loads(config.to_toml(deployment)), deployment.path) == deployment


def test_load_resolves_relative_paths_against_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    file = tmp_path / "conf" / "d.toml"
    file.write_text(
        '[deployment]\nname = "d"\nprotocol = "additive"\n'
        '[[party]]\nid = 1\nhost = "b"\nport = 2\ncertificate = "../certs/b.pem"\n'
        '[[party]]\nid = 0\nhost = "a"\nport = 1\ncircuits = ["/abs/c.py"]\n'
        '[party.datasets]\nx = "data/x.csv"\n'
    )
    monkeypatch.chdir(tmp_path)
    deployment = config.load("conf/d.toml")
    assert deployment.path == file
    assert [party.id for party in deployment.parties] == [0, 1]
    assert deployment.keys_dir == tmp_path / "conf" / "keys" / "d"
    assert deployment.party(0).certificate == tmp_path / "conf" / "keys" / "d" / "party-0.pem"
    assert deployment.party(1).certificate == tmp_path / "certs" / "b.pem"
    assert deployment.party(0).datasets["x"] == tmp_path / "conf" / "data" / "x.csv"
    assert deployment.party(0).circuits["c"] == Path("/abs/c.py")
    assert deployment.driver.key == tmp_path / "conf" / "keys" / "d" / "driver.key"
    assert deployment.threshold == 1
    assert deployment.timeouts == Timeouts()
    assert deployment.limits == Limits()


def test_parse_stores_timeouts_as_floats_and_limits() -> None:
    data = base_data()
    data["timeouts"] = {"connect": 2, "round": 0.5}
    data["limits"] = {"max_frame_bytes": 4096, "max_rows": 10, "reserved_memory_bytes": 0}
    deployment = config.parse(data, FAKE_FILE)
    assert deployment.timeouts == Timeouts(connect=2.0, round=0.5)
    assert isinstance(deployment.timeouts.connect, float)
    assert deployment.limits == Limits(max_frame_bytes=4096, max_rows=10, reserved_memory_bytes=0)


def test_deployment_party_unknown_id_raises_config_error() -> None:
    deployment = config.parse(base_data(), FAKE_FILE)
    assert deployment.party(2).port == 9002
    with pytest.raises(ConfigError, match=r"no party with id 3"):
        deployment.party(3)


def test_deployment_is_immutable() -> None:
    deployment = config.parse(base_data(), FAKE_FILE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        deployment.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        deployment.parties[0].datasets["new"] = Path("x")  # type: ignore[index]


def test_load_missing_file_names_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found") as caught:
        config.load(tmp_path / "absent.toml")
    assert caught.value.path == str(tmp_path / "absent.toml")


def test_load_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text('[deployment]\nname = "x"\nprotocol = shamir\n')
    with pytest.raises(ConfigError, match=r"line 3") as caught:
        config.load(file)
    assert str(caught.value).startswith(f"{file}: invalid TOML")


def test_to_toml_escapes_strings() -> None:
    data = base_data()
    data["party"][0]["host"] = 'odd"host\\name\u00e9\x7f'
    data["party"][1]["datasets"] = {"values": 'dir with "quotes"/tab\there\nnewline.csv'}
    deployment = config.parse(data, FAKE_FILE)
    text = config.to_toml(deployment)
    assert '"odd\\"host\\\\name\u00e9\\u007f"' in text
    assert config.parse(tomllib.loads(text), deployment.path) == deployment


def _names() -> st.SearchStrategy[str]:
    return st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


def _texts(*, spaces: bool) -> st.SearchStrategy[str]:
    characters = st.characters(codec="utf-8", exclude_characters="\0")
    texts = st.text(characters, min_size=1, max_size=12).filter(lambda text: bool(text.strip()))
    if spaces:
        return texts
    return texts.filter(lambda text: not any(char.isspace() for char in text))


@st.composite
def deployment_data(draw: st.DrawFn) -> dict[str, Any]:
    protocol = draw(st.sampled_from(config.PROTOCOLS))
    n = draw(st.integers(2 if protocol == "additive" else 3, 7))
    section: dict[str, Any] = {
        "name": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,10}", fullmatch=True)),
        "protocol": protocol,
    }
    if draw(st.booleans()):
        section["threshold"] = (
            n - 1 if protocol == "additive" else draw(st.integers(1, (n - 1) // 2))
        )
    if draw(st.booleans()):
        section["keys"] = draw(_texts(spaces=True))
    ports = draw(st.lists(st.integers(1, 65535), min_size=n, max_size=n, unique=True))
    parties = []
    for id in draw(st.permutations(range(n))):
        party: dict[str, Any] = {"id": id, "host": draw(_texts(spaces=False)), "port": ports[id]}
        for key in ("certificate", "key"):
            if draw(st.booleans()):
                party[key] = draw(_texts(spaces=True))
        stems = draw(st.lists(_names(), max_size=3, unique=True))
        party["circuits"] = [f"{draw(_texts(spaces=True))}/{stem}.py" for stem in stems]
        names = draw(st.lists(_names(), max_size=3, unique=True))
        party["datasets"] = {name: draw(_texts(spaces=True)) for name in names}
        parties.append(party)
    seconds = st.floats(min_value=1e-3, max_value=1e7) | st.integers(1, 10**6)
    timeouts = draw(st.dictionaries(st.sampled_from(["connect", "round", "job", "idle"]), seconds))
    limits = draw(
        st.dictionaries(st.sampled_from(["max_message_bytes", "max_rows"]), st.integers(1, 2**62))
    )
    data = {"deployment": section, "party": parties, "timeouts": timeouts, "limits": limits}
    if draw(st.booleans()):
        data["driver"] = {
            "certificate": draw(_texts(spaces=True)),
            "key": draw(_texts(spaces=True)),
        }
    return data


@given(deployment_data())
def test_to_toml_round_trips_generated_deployments(data: dict[str, Any]) -> None:
    deployment = config.parse(data, FAKE_FILE)
    text = config.to_toml(deployment)
    again: Deployment = config.parse(tomllib.loads(text), deployment.path)
    assert again == deployment
    assert all(party.key.is_absolute() for party in again.parties)
    assert [party.id for party in again.parties] == list(range(again.n_parties))
