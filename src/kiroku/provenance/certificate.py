"""The firm's C2PA signing certificate: an X.509 certificate for the firm's Ed25519 key (the key that signs its
ledger checkpoints and statements), made with ``cryptography`` and kept beside the key.

C2PA signs with an X.509 chain. The certificate is self-issued: the firm certifies its own key, with the profile
C2PA asks of a signing certificate (X.509 v3; ``keyUsage`` digitalSignature, critical; ``extendedKeyUsage``
id-kp-emailProtection, one of the purposes c2pa-rs accepts; not a CA; subject and authority key identifiers).
c2pa-python 0.38 accepts such a certificate; verifiers report ``signingCredential.untrusted`` (validation state
``Valid``, not ``Trusted``) unless they add the firm's certificate to their C2PA trust list. A firm that wants
``Trusted`` buys a certificate from a CA on the C2PA trust list and gives it instead.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiroku.ledger import Signer
from kiroku.provenance.errors import CertificateError

__all__ = ["FirmCertificate", "firm_certificate", "issue_certificate", "load_certificate"]

VALIDITY = datetime.timedelta(days=5 * 365)


@dataclass(frozen=True)
class FirmCertificate:
    """A PEM certificate chain for the firm's key, and where it is kept (None when made in memory)."""

    pem: str
    path: Path | None = None

    @property
    def certificate(self) -> x509.Certificate:
        """The signing (first) certificate of the chain."""
        return x509.load_pem_x509_certificate(self.pem.encode("ascii"))

    @property
    def subject(self) -> str:
        """The certificate's subject, RFC 4514 (``CN=...,O=...``)."""
        return self.certificate.subject.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER bytes, in hex: how a verifier names it in a trust list."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def not_after(self) -> datetime.datetime:
        """When the certificate expires (UTC)."""
        return self.certificate.not_valid_after_utc


def issue_certificate(
    key: Signer, organisation: str, *, now: datetime.datetime | None = None
) -> FirmCertificate:
    """A new self-issued C2PA signing certificate for ``key``, naming ``organisation``, valid five years."""
    private = Ed25519PrivateKey.from_private_bytes(key.private_key_bytes())
    public = private.public_key()
    now = now or datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} (kiroku provenance signer)"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(private, None)
    )
    return FirmCertificate(certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))


def load_certificate(path: Path, key: Signer) -> FirmCertificate:
    """The certificate chain kept in ``path``, checked to certify ``key``; `CertificateError` says what to do."""
    try:
        pem = path.read_text("ascii")
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except OSError as exc:
        raise CertificateError(f"{path}: cannot read the signing certificate: {exc.strerror}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CertificateError(
            f"{path}: not a PEM certificate ({exc}); move it away and sign again to issue a new one"
        ) from exc
    public = certificate.public_key()
    raw = (
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if isinstance(public, Ed25519PublicKey)
        else b""
    )
    if raw != key.public_key:
        raise CertificateError(
            f"{path}: the certificate is not for the workspace's signing key {key.name}; restore the key it was "
            "issued for, or move the certificate away and sign again to issue a new one"
        )
    return FirmCertificate(pem, path)


def firm_certificate(key: Signer, organisation: str, path: Path) -> FirmCertificate:
    """The firm's certificate kept in ``path``, issued and written there on first use (so every signed image
    names the same certificate, which verifiers can add to their trust list once)."""
    if path.exists():
        return load_certificate(path, key)
    issued = issue_certificate(key, organisation)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(issued.pem, "ascii")
        tmp.replace(path)
    except OSError as exc:
        raise CertificateError(f"{path}: cannot write the signing certificate: {exc.strerror}") from exc
    return FirmCertificate(issued.pem, path)
