"""Tests of mpc.net.tls: contexts, pinned identities, and handshakes over trio loopback (port 0)."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

from mpc import config, keys
from mpc.config import Deployment
from mpc.errors import (
    ConfigError,
    PeerBrokenError,
    PeerTimeoutError,
    RemoteProtocolError,
)
from mpc.net import tls

DEADLINE = 10.0
CONFIG = """
[deployment]
name = "{name}"
protocol = "shamir"

[[party]]
id = 0
host = "127.0.0.1"
port = 9200

[[party]]
id = 1
host = "127.0.0.1"
port = 9201

[[party]]
id = 2
host = "127.0.0.1"
port = 9202
"""

Side = Callable[[trio.SSLStream[Any]], Awaitable[object]]


def make_deployment(directory: Path, name: str) -> Deployment:
    directory.mkdir()
    file = directory / "deployment.toml"
    file.write_text(CONFIG.format(name=name))
    deployment = config.load(file)
    keys.generate_keys(deployment)
    return deployment


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return make_deployment(tmp_path / "main", "tls-test")


@pytest.fixture
def foreign(tmp_path: Path) -> Deployment:
    """Same layout, different keys: its certificates are pinned nowhere in `deployment`."""
    return make_deployment(tmp_path / "foreign", "foreign")


async def capture(side: Side, stream: trio.SSLStream[Any]) -> object:
    """Run one side; return its result or the exception it raised, and always close the stream."""
    try:
        return await side(stream)
    except Exception as error:
        return error
    finally:
        await trio.aclose_forcefully(stream)


async def connect(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    server_side: Side,
    client_side: Side,
) -> tuple[object, object]:
    """One loopback TCP connection wrapped in TLS on both ends; (server outcome, client outcome)."""
    outcomes: dict[str, object] = {}
    with trio.fail_after(DEADLINE):
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        async with listeners[0] as listener:
            port = listener.socket.getsockname()[1]

            async def serve() -> None:
                transport = await listener.accept()
                stream = trio.SSLStream(transport, server_context, server_side=True)
                outcomes["server"] = await capture(server_side, stream)

            async def dial() -> None:
                transport = await trio.open_tcp_stream("127.0.0.1", port)
                stream = trio.SSLStream(transport, client_context, server_hostname=None)
                outcomes["client"] = await capture(client_side, stream)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                nursery.start_soon(dial)
    return outcomes["server"], outcomes["client"]


def identify_as(
    identities: tls.Identities, expect: tls.Principal | None, timeout: float = 5.0
) -> Side:
    async def side(stream: trio.SSLStream[Any]) -> object:
        return await tls.handshake(
            stream, identities, expect=expect, timeout=timeout, peer_label="peer under test"
        )

    return side


async def handshake_then_read(stream: trio.SSLStream[Any]) -> object:
    """A client that completes its half of the handshake, then waits for the server's verdict."""
    await stream.do_handshake()
    return await stream.receive_some()


def assert_refused(outcome: object) -> None:
    """A refused TLS client gets an error (the server's alert or its hang-up), never data."""
    assert isinstance(outcome, trio.BrokenResourceError), outcome


async def test_handshake_identifies_pinned_party(deployment: Deployment) -> None:
    identities = tls.Identities.from_deployment(deployment)
    server, client = await connect(
        tls.server_context(deployment, 0),
        tls.client_context(deployment, 2),
        identify_as(identities, None),
        identify_as(identities, 0),
    )
    assert server == 2
    assert client == 0


async def test_handshake_identifies_driver(deployment: Deployment) -> None:
    identities = tls.Identities.from_deployment(deployment)
    server, client = await connect(
        tls.server_context(deployment, 1),
        tls.client_context(deployment, tls.DRIVER),
        identify_as(identities, None),
        identify_as(identities, 1),
    )
    assert (server, client) == ("driver", 1)


async def test_handshake_refuses_unpinned_client_certificate(
    deployment: Deployment, foreign: Deployment
) -> None:
    intruder = tls.client_context(foreign, 1)
    intruder.load_verify_locations(cafile=deployment.party(0).certificate)  # it trusts our server
    server, client = await connect(
        tls.server_context(deployment, 0),
        intruder,
        identify_as(tls.Identities.from_deployment(deployment), None),
        handshake_then_read,
    )
    assert isinstance(server, PeerBrokenError | RemoteProtocolError), server
    assert "peer under test" in str(server)
    assert_refused(client)


async def test_handshake_refuses_client_without_certificate(deployment: Deployment) -> None:
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.check_hostname = False
    anonymous.load_verify_locations(cafile=deployment.party(0).certificate)
    server, client = await connect(
        tls.server_context(deployment, 0),
        anonymous,
        identify_as(tls.Identities.from_deployment(deployment), None),
        handshake_then_read,
    )
    assert isinstance(server, PeerBrokenError), server
    assert isinstance(server.__cause__, ssl.SSLError)
    assert_refused(client)


async def test_handshake_client_refuses_unpinned_server(
    deployment: Deployment, foreign: Deployment
) -> None:
    server, client = await connect(
        tls.server_context(foreign, 0),
        tls.client_context(deployment, 1),
        identify_as(tls.Identities.from_deployment(foreign), None),
        identify_as(tls.Identities.from_deployment(deployment), 0),
    )
    assert isinstance(client, PeerBrokenError), client
    assert "TLS handshake failed" in str(client)
    assert isinstance(server, PeerBrokenError), server


async def test_handshake_certificate_not_in_identities_is_remote_protocol_error(
    deployment: Deployment, foreign: Deployment
) -> None:
    server, _ = await connect(
        tls.server_context(deployment, 0),
        tls.client_context(deployment, 1),
        identify_as(tls.Identities.from_deployment(foreign), None),
        identify_as(tls.Identities.from_deployment(deployment), 0),
    )
    assert isinstance(server, RemoteProtocolError), server
    fingerprint = keys.fingerprint(keys.certificate_der(deployment.party(1).certificate))
    assert str(server) == (
        f"peer under test: certificate {fingerprint[:16]} is not pinned in {foreign.path}"
    )


@pytest.mark.parametrize("checking_side", ["server", "client"])
async def test_handshake_expect_mismatch_names_both_principals(
    deployment: Deployment, checking_side: str
) -> None:
    identities = tls.Identities.from_deployment(deployment)
    server, client = await connect(
        tls.server_context(deployment, 0),
        tls.client_context(deployment, 2),
        identify_as(identities, 1 if checking_side == "server" else None),
        identify_as(identities, 1 if checking_side == "client" else 0),
    )
    outcome = server if checking_side == "server" else client
    actual = "party 2" if checking_side == "server" else "party 0"
    assert isinstance(outcome, RemoteProtocolError), outcome
    assert f"presented the certificate of {actual}, expected party 1" in str(outcome)


async def test_handshake_times_out_on_silent_peer(deployment: Deployment) -> None:
    async def silent(stream: trio.SSLStream[Any]) -> object:
        await trio.sleep(1.0)
        return None

    server, _ = await connect(
        tls.server_context(deployment, 0),
        tls.client_context(deployment, 1),
        identify_as(tls.Identities.from_deployment(deployment), None, timeout=0.2),
        silent,
    )
    assert isinstance(server, PeerTimeoutError), server
    assert (server.phase, server.deadline) == ("TLS handshake", 0.2)


async def test_handshake_peer_closing_is_peer_broken(deployment: Deployment) -> None:
    async def hang_up(stream: trio.SSLStream[Any]) -> object:
        await stream.transport_stream.aclose()
        return None

    server, _ = await connect(
        tls.server_context(deployment, 0),
        tls.client_context(deployment, 1),
        identify_as(tls.Identities.from_deployment(deployment), None),
        hang_up,
    )
    assert isinstance(server, PeerBrokenError), server
    assert server.__cause__ is not None


@pytest.mark.parametrize("me", [0, 2, "driver"])
def test_contexts_require_tls13_and_pinned_peer_certificates(
    deployment: Deployment, me: tls.Principal
) -> None:
    for context in (tls.server_context(deployment, me), tls.client_context(deployment, me)):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_3
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is False
        assert context.cert_store_stats()["x509"] == deployment.n_parties + 1


def test_context_missing_key_names_file_and_keys_command(deployment: Deployment) -> None:
    deployment.party(1).key.unlink()
    with pytest.raises(ConfigError) as caught:
        tls.server_context(deployment, 1)
    assert caught.value.path == str(deployment.party(1).key)
    assert f"mpc keys --config {deployment.path}" in str(caught.value)


def test_context_refuses_key_readable_by_others(deployment: Deployment) -> None:
    deployment.driver.key.chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by others"):
        tls.client_context(deployment, "driver")


def test_context_refuses_unknown_principal(deployment: Deployment) -> None:
    with pytest.raises(ConfigError, match=r"no party with id 3"):
        tls.client_context(deployment, 3)


def test_identities_identify_and_fingerprints(deployment: Deployment, foreign: Deployment) -> None:
    identities = tls.Identities.from_deployment(deployment)
    for principal, certificate in [
        *((party.id, party.certificate) for party in deployment.parties),
        ("driver", deployment.driver.certificate),
    ]:
        der = keys.certificate_der(certificate)
        assert identities.identify(der) == principal
        assert identities.fingerprint_of(principal) == keys.fingerprint(der)
    with pytest.raises(RemoteProtocolError, match=r"^unknown peer: presented no certificate$"):
        identities.identify(None)
    stranger = keys.certificate_der(foreign.party(0).certificate)
    with pytest.raises(RemoteProtocolError, match=r"is not pinned in") as caught:
        identities.identify(stranger)
    assert keys.fingerprint(stranger)[:16] in str(caught.value)
    with pytest.raises(ConfigError):
        identities.fingerprint_of(7)


def test_identities_refuse_one_certificate_for_two_principals(deployment: Deployment) -> None:
    shared = deployment.party(0).certificate
    twin = deployment.party(1).certificate
    twin.write_bytes(shared.read_bytes())
    with pytest.raises(ConfigError, match=r"party 1 and party 0 have the same certificate"):
        tls.Identities.from_deployment(deployment)
