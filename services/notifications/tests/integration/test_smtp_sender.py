"""The SMTP adapter against a real server that demands STARTTLS and authentication."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from notifications_harness import SmtpSink

from casefold_local.procs import free_port
from notifications.adapters.mime import Outgoing, compose
from notifications.adapters.smtp import SmtpConfig, SmtpSender

pytestmark = pytest.mark.integration


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


class _Secure:
    def __init__(self) -> None:
        self.received: list[tuple[bool, Any, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((session.ssl is not None, session.auth_data, envelope.content))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"pa55word")
    return AuthResult(success=ok, auth_data=auth_data.login if ok else None)


@pytest.fixture
def secure_server(tmp_path: Path) -> Iterator[tuple[int, Path, _Secure]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = _Secure()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, authenticator=_authenticate)  # fmt: skip
    controller.start()
    try:
        yield port, cert, handler
    finally:
        controller.stop()


def _message() -> Outgoing:
    headers = {"From": "support@casefold.local", "To": "ada@customer.test", "Subject": "[Case 00000001] Hi",
               "Message-ID": "<x.ack@casefold.local>"}  # fmt: skip
    return compose(headers, "text", "<p>html</p>")


async def test_sends_over_starttls_with_authentication(secure_server: tuple[int, Path, _Secure]) -> None:
    port, cert, handler = secure_server
    sender = SmtpSender(SmtpConfig("127.0.0.1", port, starttls=True, username="mailer", password="pa55word",
                                   ca_file=str(cert)))  # fmt: skip

    outcomes = await sender.send([_message(), _message()])

    assert [o.result for o in outcomes] == ["sent", "sent"]
    assert [(tls, login) for tls, login, _ in handler.received] == [(True, b"mailer"), (True, b"mailer")]


async def test_a_refused_login_is_retried_not_dropped(secure_server: tuple[int, Path, _Secure]) -> None:
    port, cert, handler = secure_server
    sender = SmtpSender(SmtpConfig("127.0.0.1", port, starttls=True, username="mailer", password="wrong",
                                   ca_file=str(cert), timeout=3))  # fmt: skip

    [outcome] = await sender.send([_message()])

    assert outcome.result == "untried"  # tried again later without limit, and not charged to the message
    assert handler.received == []


async def test_an_unreachable_server_is_retried() -> None:
    [outcome] = await SmtpSender(SmtpConfig("127.0.0.1", free_port(), timeout=2)).send([_message()])

    assert outcome.result == "untried"
    assert outcome.error is not None
    assert "Connect" in outcome.error


async def test_a_kept_alive_connection_closed_by_the_server_is_replaced_without_a_retry() -> None:
    sink = SmtpSink(free_port())
    sink.start()
    sender = SmtpSender(SmtpConfig("127.0.0.1", sink.port, timeout=3))
    try:
        first = await sender.send([_message()])
        sink.stop()  # drops the idle connection the sender kept
        sink.start()
        second = await sender.send([_message(), _message()])
    finally:
        await sender.close()
        sink.stop()

    assert [o.result for o in first + second] == ["sent", "sent", "sent"]
    assert len(sink.received) == 3
