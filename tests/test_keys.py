"""Tests of mpc.keys: key generation on disk, loading with permission checks, pair keys."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import itertools
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mpc import config, keys
from mpc.config import Deployment
from mpc.errors import ConfigError, LocalProtocolError

CONFIG = """
[deployment]
name = "keytest"
protocol = "shamir"
keys = "secrets/keys"

[[party]]
id = 0
host = "127.0.0.1"
port = 9100

[[party]]
id = 1
host = "::1"
port = 9101

[[party]]
id = 2
host = "node-2.example"
port = 9102
"""


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    file = tmp_path / "deployment.toml"
    file.write_text(CONFIG)
    return config.load(file)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_generate_keys_writes_private_keys_0600_and_certificates_0644(
    deployment: Deployment,
) -> None:
    written = keys.generate_keys(deployment)
    identities: list[keys.IdentityFiles] = [*deployment.parties, deployment.driver]
    expected = [path for identity in identities for path in (identity.key, identity.certificate)]
    assert written == expected
    assert sorted(path.name for path in deployment.keys_dir.iterdir()) == sorted(
        path.name for path in expected
    )
    for identity in identities:
        assert mode(identity.key) == 0o600
        assert mode(identity.certificate) == 0o644
        assert identity.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert mode(deployment.keys_dir) == 0o700
    assert mode(deployment.keys_dir.parent) == 0o700


def test_generate_keys_certificates_name_party_and_host(deployment: Deployment) -> None:
    keys.generate_keys(deployment)
    expected_names: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        x509.DNSName("node-2.example"),
    ]
    now = datetime.datetime.now(datetime.UTC)
    for party, san in zip(deployment.parties, expected_names, strict=True):
        certificate = keys.load_certificate(party.certificate)
        common_name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        assert common_name[0].value == f"mpc party {party.id} (keytest)"
        assert certificate.issuer == certificate.subject
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert list(sans) == [san]
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical
        assert constraints.value.ca is False
        assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
        assert certificate.not_valid_before_utc < now - datetime.timedelta(hours=23)
        assert certificate.not_valid_after_utc > now + datetime.timedelta(days=3640)
        private_key = keys.load_private_key(party.key)
        assert isinstance(private_key.curve, ec.SECP256R1)
        assert certificate.public_key() == private_key.public_key()
    driver = keys.load_certificate(deployment.driver.certificate)
    assert driver.subject.rfc4514_string() == "CN=mpc driver (keytest)"


def test_generate_keys_without_force_refuses_and_leaves_files_identical(
    deployment: Deployment,
) -> None:
    keys.generate_keys(deployment)
    before = snapshot(deployment.keys_dir)
    with pytest.raises(ConfigError, match=r"exists; pass --force to overwrite") as caught:
        keys.generate_keys(deployment)
    assert caught.value.path == str(deployment.party(0).key)
    assert snapshot(deployment.keys_dir) == before


def test_generate_keys_refuses_before_writing_anything(deployment: Deployment) -> None:
    deployment.keys_dir.mkdir(parents=True)
    deployment.driver.certificate.write_text("not mine")
    with pytest.raises(ConfigError) as caught:
        keys.generate_keys(deployment)
    assert caught.value.path == str(deployment.driver.certificate)
    assert snapshot(deployment.keys_dir) == {"driver.pem": b"not mine"}


def test_generate_keys_force_overwrites_atomically(deployment: Deployment) -> None:
    keys.generate_keys(deployment)
    before = snapshot(deployment.keys_dir)
    os.chmod(deployment.party(1).certificate, 0o600)
    keys.generate_keys(deployment, force=True)
    after = snapshot(deployment.keys_dir)
    assert after.keys() == before.keys()  # no temporary files left behind
    assert all(after[name] != before[name] for name in before)
    assert mode(deployment.party(1).key) == 0o600
    assert mode(deployment.party(1).certificate) == 0o644


def test_generate_keys_selected_parties_only(deployment: Deployment) -> None:
    written = keys.generate_keys(deployment, parties=[1], driver=False)
    assert written == [deployment.party(1).key, deployment.party(1).certificate]
    assert sorted(path.name for path in deployment.keys_dir.iterdir()) == [
        "party-1.key",
        "party-1.pem",
    ]
    with pytest.raises(ConfigError, match=r"no party with id 5"):
        keys.generate_keys(deployment, parties=[5])


@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604, 0o620])
def test_load_private_key_refuses_key_readable_by_others(
    deployment: Deployment, file_mode: int
) -> None:
    keys.generate_keys(deployment, parties=[0], driver=False)
    key_file = deployment.party(0).key
    os.chmod(key_file, file_mode)
    with pytest.raises(
        ConfigError, match=rf"by others \(mode 0{file_mode:o}\); chmod 600"
    ) as caught:
        keys.load_private_key(key_file)
    assert caught.value.path == str(key_file)


def test_load_private_key_rejects_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found") as caught:
        keys.load_private_key(tmp_path / "absent.key")
    assert caught.value.path == str(tmp_path / "absent.key")
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnope\n")
    garbage.chmod(0o600)
    with pytest.raises(ConfigError, match=r"not an unencrypted PEM private key"):
        keys.load_private_key(garbage)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    encrypted.chmod(0o600)
    with pytest.raises(ConfigError, match=r"not an unencrypted PEM private key"):
        keys.load_private_key(encrypted)
    other_curve = tmp_path / "p384.key"
    other_curve.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    other_curve.chmod(0o600)
    with pytest.raises(ConfigError, match=r"not an EC P-256 private key"):
        keys.load_private_key(other_curve)


def test_load_certificate_rejects_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found"):
        keys.load_certificate(tmp_path / "absent.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(ConfigError, match=r"not a PEM X.509 certificate") as caught:
        keys.certificate_der(garbage)
    assert caught.value.path == str(garbage)


def test_fingerprint_is_sha256_of_der(deployment: Deployment) -> None:
    keys.generate_keys(deployment, parties=[0], driver=False)
    der = keys.certificate_der(deployment.party(0).certificate)
    assert der == keys.load_certificate(deployment.party(0).certificate).public_bytes(
        serialization.Encoding.DER
    )
    assert keys.fingerprint(der) == hashlib.sha256(der).hexdigest()
    assert len(keys.fingerprint(der)) == 64


def test_pair_keys_symmetric_and_distinct_per_pair_and_session(deployment: Deployment) -> None:
    keys.generate_keys(deployment, driver=False)
    private = {party.id: keys.load_private_key(party.key) for party in deployment.parties}
    certificates = {
        party.id: keys.load_certificate(party.certificate) for party in deployment.parties
    }
    by_session = {
        session: {id: keys.pair_keys(private[id], id, certificates, session) for id in private}
        for session in (b"session-a", b"session-b")
    }
    for session, derived in by_session.items():
        for i, j in itertools.combinations(private, 2):
            assert derived[i][j] == derived[j][i]
            assert len(derived[i][j]) == 32
        for i in private:
            assert sorted(derived[i]) == sorted(set(private) - {i})  # own id skipped
        pair_values = {derived[i][j] for i, j in itertools.combinations(private, 2)}
        assert len(pair_values) == 3, session
    first, second = by_session[b"session-a"], by_session[b"session-b"]
    assert all(first[i][j] != second[i][j] for i, j in itertools.permutations(private, 2))


def test_pair_keys_refuses_empty_session(deployment: Deployment) -> None:
    keys.generate_keys(deployment, parties=[0, 1], driver=False)
    own = keys.load_private_key(deployment.party(0).key)
    with pytest.raises(LocalProtocolError):
        keys.pair_keys(own, 0, {1: keys.load_certificate(deployment.party(1).certificate)}, b"")
