"""mpc: a multi-party computation runtime.

Public API (see README.md):
- writing circuits: `mpc.dsl` (`circuit`, `input`, `reveal`, `sum`, `compile`, `Plan`, …);
- deployments: `load_config`, `Deployment`, `generate_keys`;
- running jobs: `Client` (driver), `PartyNode` (a party's node), `run_local` (N local parties);
- errors, named by whose fault they are (`mpc.errors`).
"""

from mpc import dsl
from mpc.client import Client, JobOutcome
from mpc.config import Deployment
from mpc.config import load as load_config
from mpc.errors import (
    AbortedError,
    CompileError,
    ConfigError,
    InputError,
    JobFailedError,
    LocalProtocolError,
    MpcError,
    PeerBrokenError,
    PeerClosedError,
    PeerTimeoutError,
    PeerUnreachableError,
    PolicyError,
    PreprocessingError,
    RemoteProtocolError,
    SecretBranchError,
    VerificationError,
)
from mpc.keys import generate_keys
from mpc.local import run_local
from mpc.node import PartyNode

__all__ = [
    "AbortedError",
    "Client",
    "CompileError",
    "ConfigError",
    "Deployment",
    "InputError",
    "JobFailedError",
    "JobOutcome",
    "LocalProtocolError",
    "MpcError",
    "PartyNode",
    "PeerBrokenError",
    "PeerClosedError",
    "PeerTimeoutError",
    "PeerUnreachableError",
    "PolicyError",
    "PreprocessingError",
    "RemoteProtocolError",
    "SecretBranchError",
    "VerificationError",
    "dsl",
    "generate_keys",
    "load_config",
    "run_local",
]
