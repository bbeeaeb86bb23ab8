"""Kafka over TLS: the client verifies the broker against the configured CA (Strimzi's cluster CA) and its name."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic_settings import SettingsConfigDict

from casefold_platform.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


def write_ca(path: Path) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cluster-ca v0")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_sasl_ssl_checks_the_broker_against_the_ca(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEMO_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DEMO_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("DEMO_KAFKA_SASL_USERNAME", "cases")
    monkeypatch.setenv("DEMO_KAFKA_SSL_CAFILE", write_ca(tmp_path / "ca.crt"))

    options = DemoSettings().kafka_options()

    assert options["security_protocol"] == "SASL_SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cluster-ca v0"),),)]


def test_a_missing_ca_file_fails_when_the_worker_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEMO_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("DEMO_KAFKA_SSL_CAFILE", str(tmp_path / "absent.crt"))

    with pytest.raises(FileNotFoundError):
        DemoSettings().kafka_options()
