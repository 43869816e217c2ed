"""Shared fixtures: throw-away deployments on loopback with keys and CSV datasets."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mpc import config, keys
from mpc.config import Deployment
from mpc.local import free_ports

ROOT = Path(__file__).resolve().parent.parent
SECURE_SUM = ROOT / "circuits" / "secure_sum.py"


def write_values(path: Path, values: Sequence[int]) -> Path:
    lines = ["id,value", *(f"{i},{v}" for i, v in enumerate(values))]
    path.write_text("\n".join(lines) + "\n")
    return path


MakeDeployment = Callable[..., Deployment]


@pytest.fixture
def make_deployment(tmp_path: Path) -> MakeDeployment:
    """make_deployment(n, protocol, values={party: [ints]} | None, timeouts=..., circuits=...)."""

    def make(
        n: int,
        protocol: str,
        *,
        values: Mapping[int, Sequence[int]] | None = None,
        timeouts: Mapping[str, float] | None = None,
        circuits: Mapping[int, Sequence[Path]] | None = None,
        datasets: Mapping[int, Mapping[str, Path]] | None = None,
        preprocessing: str | None = None,
    ) -> Deployment:
        ports = free_ports(n + 1)
        parties: list[dict[str, Any]] = []
        for party in range(n):
            files = dict((datasets or {}).get(party, {}))
            if values is not None and party in values:
                files["values"] = write_values(tmp_path / f"p{party}.csv", values[party])
            parties.append(
                {
                    "id": party,
                    "host": "127.0.0.1",
                    "port": ports[party],
                    "circuits": [str(c) for c in (circuits or {}).get(party, [SECURE_SUM])],
                    "datasets": {k: str(v) for k, v in files.items()},
                }
            )
        data = {
            "deployment": {
                "name": "test",
                "protocol": protocol,
                "threshold": config.protocol_threshold(protocol, n, None),
                "keys": str(tmp_path / "keys"),
            },
            "timeouts": dict(
                {"connect": 5.0, "round": 5.0, "job": 60.0, "idle": 10.0}, **(timeouts or {})
            ),
            "party": parties,
        }
        if preprocessing:
            data["deployment"]["preprocessing"] = preprocessing
        if preprocessing == "dealer":
            data["dealer"] = {"host": "127.0.0.1", "port": ports[n]}
        path = tmp_path / "deployment.toml"
        deployment = config.parse(data, path)
        path.write_text(config.to_toml(deployment))
        if not (tmp_path / "keys").exists():
            keys.generate_keys(deployment)
        return deployment

    return make


def plaintext_sum(values: Mapping[int, Sequence[int]]) -> np.ndarray:
    return np.sum([np.asarray(v, dtype=np.int64) for v in values.values()], axis=0)


@pytest.fixture
def collect_garbage() -> Iterator[None]:
    """Unclosed sockets surface as ResourceWarnings in the test that leaked them, not later.

    Network test modules use it with `pytestmark = pytest.mark.usefixtures("collect_garbage")`.
    """
    yield
    gc.collect()
