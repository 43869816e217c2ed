"""Mutual TLS with pinned certificates: who is on the other end of a connection.

This module owns the TLS side of every connection: the `ssl.SSLContext`s a party or the driver uses
(`server_context`, `client_context`), the table of pinned certificates of a deployment
(`Identities`), and the handshake that turns a TLS stream into a known principal (`handshake`).

Identity is by pinned certificate, not by host name: both sides require a certificate, the trust
store holds exactly the deployment's own self-signed certificates (every party's and the driver's),
and after the handshake the peer's certificate is looked up by its SHA-256 fingerprint. TLS 1.3 is
the minimum, so every connection has forward secrecy. trio exceptions never leave this module:
failures are `PeerTimeoutError`, `PeerBrokenError` or `RemoteProtocolError` naming the peer.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import trio

from mpc import keys
from mpc.config import Deployment
from mpc.errors import (
    ConfigError,
    LocalProtocolError,
    PeerBrokenError,
    PeerTimeoutError,
    RemoteProtocolError,
)
from mpc.net.tlsstream import TlsStream

Principal = int | Literal["driver", "dealer"]
"""Who a connection belongs to: a party id, or the driver."""

DRIVER: Literal["driver"] = "driver"
DEALER: Literal["dealer"] = "dealer"
_UNKNOWN_PEER = "unknown peer"


def describe(principal: Principal) -> str:
    """'party 2' or 'driver', for messages."""
    return principal if isinstance(principal, str) else f"party {principal}"


class Identities:
    """The pinned certificates of one deployment: fingerprint <-> principal."""

    def __init__(self, fingerprints: Mapping[Principal, str], config: Path | str) -> None:
        """`fingerprints` maps each principal to its certificate's SHA-256 hex fingerprint."""
        self._config = str(config)
        self._fingerprint_of: Mapping[Principal, str] = MappingProxyType(dict(fingerprints))
        principal_of: dict[str, Principal] = {}
        for principal, fingerprint in fingerprints.items():
            if fingerprint in principal_of:
                other = describe(principal_of[fingerprint])
                message = f"{describe(principal)} and {other} have the same certificate"
                raise ConfigError(self._config, "", message)
            principal_of[fingerprint] = principal
        self._principal_of: Mapping[str, Principal] = MappingProxyType(principal_of)

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> Identities:
        """Pin every party's and the driver's certificate (ConfigError if one cannot be read)."""
        fingerprints: dict[Principal, str] = {
            party.id: keys.fingerprint(keys.certificate_der(party.certificate))
            for party in deployment.parties
        }
        fingerprints[DRIVER] = keys.fingerprint(keys.certificate_der(deployment.driver.certificate))
        if deployment.dealer is not None:
            fingerprints[DEALER] = keys.fingerprint(
                keys.certificate_der(deployment.dealer.certificate)
            )
        return cls(fingerprints, deployment.path)

    def identify(self, der: bytes | None) -> Principal:
        """The principal whose pinned certificate is `der`; RemoteProtocolError otherwise."""
        if not der:
            raise RemoteProtocolError(_UNKNOWN_PEER, "presented no certificate")
        fingerprint = keys.fingerprint(der)
        principal = self._principal_of.get(fingerprint)
        if principal is None:
            message = f"certificate {fingerprint[:16]} is not pinned in {self._config}"
            raise RemoteProtocolError(_UNKNOWN_PEER, message)
        return principal

    def fingerprint_of(self, principal: Principal) -> str:
        """The pinned fingerprint of a principal (ConfigError if the deployment has no such one)."""
        try:
            return self._fingerprint_of[principal]
        except KeyError:
            message = f"no {describe(principal)} in this deployment"
            raise ConfigError(self._config, "party", message) from None

    def __repr__(self) -> str:
        pinned = ", ".join(describe(principal) for principal in self._fingerprint_of)
        return f"Identities({pinned}; {self._config})"


def server_context(deployment: Deployment, me: Principal) -> ssl.SSLContext:
    """The context a listening party uses: its own identity, client certificates required."""
    return _context(deployment, me, server_side=True)


def client_context(deployment: Deployment, me: Principal) -> ssl.SSLContext:
    """The context a dialling party or the driver uses: its own identity, pinned servers only."""
    return _context(deployment, me, server_side=False)


def _context(deployment: Deployment, me: Principal, *, server_side: bool) -> ssl.SSLContext:
    own: Any
    if me == DEALER:
        if deployment.dealer is None:
            raise ConfigError(deployment.path, "dealer", "the deployment declares no dealer")
        own = deployment.dealer
    elif me == DRIVER:
        own = deployment.driver
    else:
        own = deployment.party(me)
    for file in (own.certificate, own.key):
        if not file.exists():
            hint = f"create it with `mpc keys --config {deployment.path}`"
            raise ConfigError(file, "", f"missing {describe(me)} identity file; {hint}")
    keys.load_private_key(own.key)  # refuses a key file that others can read
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False  # identity is the pinned certificate, not the host name
    context.verify_mode = ssl.CERT_REQUIRED
    # Our certificates are self-signed leaves: each pinned one is its own trust anchor.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    try:
        context.load_cert_chain(own.certificate, own.key)
    except (ssl.SSLError, OSError) as error:
        message = f"cannot use it with key {own.key}: {error}"
        raise ConfigError(own.certificate, "", message) from None
    pinned = [deployment.driver.certificate, *(party.certificate for party in deployment.parties)]
    if deployment.dealer is not None:
        pinned.append(deployment.dealer.certificate)
    context.load_verify_locations(cadata=b"".join(keys.certificate_der(path) for path in pinned))
    return context


def wrap(tcp: trio.abc.Stream, context: ssl.SSLContext, *, server_side: bool) -> TlsStream:
    """TLS over `tcp` (before the handshake), built for bulk frames (`mpc.net.tlsstream`)."""
    return TlsStream(tcp, context, server_side=server_side)


async def handshake(
    stream: TlsStream | trio.SSLStream[Any],
    identities: Identities,
    *,
    expect: Principal | None,
    timeout: float,
    peer_label: str,
) -> Principal:
    """Run the TLS handshake on `stream` and return who the peer is.

    `expect` is the principal this side dialled (None for a listener, which accepts anyone
    pinned). `peer_label` names the peer in errors ("party 2", "connection from 10.0.0.5:41234").
    Raises PeerTimeoutError after `timeout` seconds, PeerBrokenError if TLS fails (the cause is
    attached), RemoteProtocolError if the certificate is not pinned or not the expected one.
    The caller owns the stream and closes it on error.
    """
    try:
        with trio.fail_after(timeout):
            await stream.do_handshake()
    except trio.TooSlowError:
        raise PeerTimeoutError(peer_label, "TLS handshake", timeout) from None
    except trio.BrokenResourceError as error:
        cause = error.__cause__ or error
        raise PeerBrokenError(peer_label, f"TLS handshake failed: {_explain(cause)}") from cause
    except (ssl.SSLError, OSError) as error:
        raise PeerBrokenError(peer_label, f"TLS handshake failed: {_explain(error)}") from error
    except (trio.ClosedResourceError, trio.BusyResourceError) as error:
        raise LocalProtocolError(f"TLS handshake with {peer_label}: {_explain(error)}") from error
    der = stream.getpeercert(binary_form=True)
    try:
        actual = identities.identify(der)
    except RemoteProtocolError as error:
        raise RemoteProtocolError(peer_label, error.reason) from None
    if expect is not None and actual != expect:
        message = f"presented the certificate of {describe(actual)}, expected {describe(expect)}"
        raise RemoteProtocolError(peer_label, message)
    return actual


def _explain(error: BaseException) -> str:
    return str(error) or type(error).__name__
