"""mpc: a multi-party computation runtime.

Public API (see README.md): errors, config loading, the DSL (`mpc.dsl`), the driver `Client`.
"""

from mpc.errors import (
    AbortedError,
    CompileError,
    ConfigError,
    InputError,
    JobFailedError,
    LocalProtocolError,
    MpcError,
    PeerBrokenError,
    PeerTimeoutError,
    PeerUnreachableError,
    PolicyError,
    PreprocessingError,
    RemoteProtocolError,
    SecretBranchError,
    VerificationError,
)

__all__ = [
    "AbortedError",
    "CompileError",
    "ConfigError",
    "InputError",
    "JobFailedError",
    "LocalProtocolError",
    "MpcError",
    "PeerBrokenError",
    "PeerTimeoutError",
    "PeerUnreachableError",
    "PolicyError",
    "PreprocessingError",
    "RemoteProtocolError",
    "SecretBranchError",
    "VerificationError",
]
