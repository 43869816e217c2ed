"""Identities and pair keys: key files on disk, self-signed certificates, pairwise session keys.

This module owns everything a deployment keeps in its key directory: an EC P-256 private key and a
self-signed X.509 certificate per party and for the driver (`generate_keys`, what `mpc keys` runs),
loading them back with permission checks (`load_private_key`, `load_certificate`), certificate
fingerprints for pinning (`fingerprint`), and the non-interactive pairwise keys two parties derive
from their static keys for one session (`pair_keys`).

Private keys are written unencrypted (PKCS8 PEM, mode 0600): a node must start unattended, so the
file permission is the protection, and `load_private_key` refuses a key that others can read.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mpc.errors import ConfigError, LocalProtocolError

PAIR_KEY_BYTES = 32
PAIR_KEY_INFO = b"mpc pair key"
CERTIFICATE_VALIDITY = datetime.timedelta(days=3650)
_CLOCK_SKEW = datetime.timedelta(days=1)
_KEY_MODE = 0o600
_CERTIFICATE_MODE = 0o644
_DIRECTORY_MODE = 0o700


class IdentityFiles(Protocol):
    """Where one principal's key and certificate live (`mpc.config.DriverConfig` is one)."""

    @property
    def certificate(self) -> Path: ...
    @property
    def key(self) -> Path: ...


class PartyIdentityFiles(IdentityFiles, Protocol):
    """A party's identity files and host (`mpc.config.PartyConfig` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def host(self) -> str: ...


class DeploymentLike(Protocol):
    """What this module reads from a deployment (`mpc.config.Deployment` is one).

    A structural type, so that this layer-0 module does not import `mpc.config`.
    """

    @property
    def path(self) -> Path: ...
    @property
    def name(self) -> str: ...
    @property
    def parties(self) -> Sequence[PartyIdentityFiles]: ...
    @property
    def driver(self) -> IdentityFiles: ...
    def party(self, id: int) -> PartyIdentityFiles: ...


def _dealer_of(deployment: DeploymentLike) -> Any:
    """The deployment's dealer identity files and host, if it declares a dealer."""
    return getattr(deployment, "dealer", None)


def generate_keys(
    deployment: DeploymentLike,
    *,
    parties: Iterable[int] | None = None,
    driver: bool = True,
    dealer: bool = True,
    force: bool = False,
) -> list[Path]:
    """Create a private key and a self-signed certificate for each selected party, the driver
    and (when the deployment declares one) the dealer.

    `parties` defaults to all of them. Nothing is written if any target file exists and `force` is
    false (ConfigError naming that file); with `force`, each file is replaced atomically. Missing
    directories are created with mode 0700. Returns the written paths, key before certificate.
    """
    ids = [party.id for party in deployment.parties] if parties is None else sorted(set(parties))
    targets: list[tuple[Path, Path, str, str | None]] = []
    for id in ids:
        party = deployment.party(id)
        subject = f"mpc party {id} ({deployment.name})"
        targets.append((party.key, party.certificate, subject, party.host))
    if driver:
        subject = f"mpc driver ({deployment.name})"
        targets.append((deployment.driver.key, deployment.driver.certificate, subject, None))
    dealer_files = _dealer_of(deployment)
    if dealer and dealer_files is not None:
        subject = f"mpc dealer ({deployment.name})"
        targets.append((dealer_files.key, dealer_files.certificate, subject, dealer_files.host))
    paths = [path for key_path, cert_path, _, _ in targets for path in (key_path, cert_path)]
    if len(set(paths)) != len(paths):
        shared = next(path for path in paths if paths.count(path) > 1)
        raise ConfigError(deployment.path, "", f"two key or certificate files are both {shared}")
    if not force:
        for path in paths:
            if os.path.lexists(path):
                raise ConfigError(path, "", "exists; pass --force to overwrite")
    now = datetime.datetime.now(datetime.UTC)
    for key_path, cert_path, subject, host in targets:
        private_key = ec.generate_private_key(ec.SECP256R1())
        certificate = _self_signed_certificate(private_key, subject, host, now)
        key_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_file(key_path, key_pem, _KEY_MODE, replace=force)
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
        _write_file(cert_path, cert_pem, _CERTIFICATE_MODE, replace=force)
    return paths


def load_private_key(path: str | os.PathLike[str]) -> ec.EllipticCurvePrivateKey:
    """Read an unencrypted PEM EC P-256 private key that only its owner can read or write."""
    file = Path(path)
    try:
        mode = file.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:
            what = "is readable by others" if mode & 0o044 else "is accessible by others"
            message = f"private key {what} (mode {mode:04o}); chmod 600 {file}"
            raise ConfigError(file, "", message)
        data = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, "", "private key file not found") from None
    except OSError as error:
        raise ConfigError(file, "", f"cannot read private key: {error.strerror or error}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ConfigError(file, "", f"not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(file, "", "not an EC P-256 private key")
    return key


def load_certificate(path: str | os.PathLike[str]) -> x509.Certificate:
    """Read a PEM X.509 certificate."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, "", "certificate file not found") from None
    except OSError as error:
        raise ConfigError(file, "", f"cannot read certificate: {error.strerror or error}") from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as error:
        raise ConfigError(file, "", f"not a PEM X.509 certificate ({error})") from None


def certificate_der(path: str | os.PathLike[str]) -> bytes:
    """The DER encoding of the PEM certificate at `path` (what TLS peers present)."""
    return load_certificate(path).public_bytes(serialization.Encoding.DER)


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate, as lowercase hex."""
    return hashlib.sha256(der).hexdigest()


def pair_keys(
    own_key: ec.EllipticCurvePrivateKey,
    own_id: int,
    peer_certs: Mapping[int, x509.Certificate],
    session: bytes,
) -> dict[int, bytes]:
    """Derive a 32-byte key shared with each peer for one session, without sending anything.

    key(i, j) = HKDF-SHA256(ECDH(sk_i, pk_j), salt = session,
                            info = "mpc pair key" || min(i, j) || max(i, j))   (ids as 2-byte BE)
    Both parties of a pair compute the same bytes (ECDH is symmetric, the info is ordered); keys of
    different sessions or pairs are independent as long as the session ids differ. The peer's own
    id in `peer_certs` is skipped.

    Threat model: semi-honest parties. A pair key is only as secret as the two static private keys:
    anyone who later steals one of them (and knows the session id) can recompute every pair key
    that party ever derived, so these keys have no forward secrecy. Forward secrecy for everything
    on the wire comes from TLS 1.3's ephemeral key exchange, not from these keys; use them for
    correlated randomness (seeds for masks and shares), never to protect stored data.
    Reference: RFC 5869 (HKDF); NIST SP 800-56A (ECDH).
    """
    if not session:
        raise LocalProtocolError("pair keys need a non-empty session id")
    keys: dict[int, bytes] = {}
    for peer_id, certificate in peer_certs.items():
        if peer_id == own_id:
            continue
        public_key = certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, type(own_key.curve)
        ):
            subject = certificate.subject.rfc4514_string()
            raise ConfigError(f"certificate of party {peer_id}", "", f"{subject}: not a P-256 key")
        shared_secret = own_key.exchange(ec.ECDH(), public_key)
        low, high = sorted((own_id, peer_id))
        info = PAIR_KEY_INFO + low.to_bytes(2, "big") + high.to_bytes(2, "big")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=PAIR_KEY_BYTES, salt=session, info=info)
        keys[peer_id] = hkdf.derive(shared_secret)
    return keys


def _self_signed_certificate(
    key: ec.EllipticCurvePrivateKey, subject: str, host: str | None, now: datetime.datetime
) -> x509.Certificate:
    """A leaf certificate signed by its own key, usable as TLS client and server, valid 10 years."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + CERTIFICATE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if host is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_host_name(host)]), critical=False
        )
    return builder.sign(key, hashes.SHA256())


def _host_name(host: str) -> x509.GeneralName:
    """An IPAddress name if the host parses as an IP address, else a DNSName."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_file(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    """Write a file created with `mode` from the start: exclusively, or by atomic replacement."""
    _make_directories(path.parent)
    try:
        if replace:
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        else:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
            temporary = str(path)
    except FileExistsError:
        raise ConfigError(path, "", "exists; pass --force to overwrite") from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)  # the umask must not widen or narrow it
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ConfigError(path, "", f"cannot write: {error.strerror or error}") from None


def _make_directories(directory: Path) -> None:
    """Create `directory` and its missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for new_directory in reversed(missing):
        try:
            new_directory.mkdir(mode=_DIRECTORY_MODE)
        except FileExistsError:
            pass
        except OSError as error:
            raise ConfigError(new_directory, "", f"cannot create directory: {error}") from None
