"""E-mail over STARTTLS and implicit TLS to a real aiosmtpd server with a certificate made for
the test (openssl), and a server that refuses the mailbox (550: NOT_DELIVERED at once)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notification.adapters.channels import Outgoing, SmtpConfig, SmtpEmail
from services.notification.domain.delivery import Delivered, Message, PermanentFailure
from shared.infra.procs import free_port

from .conftest import Mailbox

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

LETTER = Outgoing(
    "0b7c1d2e-0000-4000-8000-000000000001", "decision_made", "kk", "aigul@example.kz",
    Message("Өтінішіңіз бойынша шешім қабылданды: № 42", "Құрметті өтініш беруші!\n"),
)  # fmt: skip


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def contexts(certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int, ssl.SSLContext]]:
    server, client = contexts(certificate)
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=server, require_starttls=True
    )
    controller.start()
    yield mailbox, port, client
    controller.stop()


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int, ssl.SSLContext]]:
    server, client = contexts(certificate)
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=server)
    controller.start()
    yield mailbox, port, client
    controller.stop()


async def test_starttls(starttls_server: tuple[Mailbox, int, ssl.SSLContext]) -> None:
    mailbox, port, client = starttls_server
    plain = SmtpEmail(SmtpConfig(port=port, security="none", timeout_s=2))
    refused = await plain.send(LETTER)
    assert not isinstance(refused, Delivered)  # the server requires STARTTLS
    email = SmtpEmail(SmtpConfig(port=port, security="starttls", timeout_s=2), tls_context=client)
    assert isinstance(await email.send(LETTER), Delivered)
    [mail] = mailbox.messages
    assert mail["Subject"] == LETTER.message.subject and mail["Content-Language"] == "kk"


async def test_implicit_tls(tls_server: tuple[Mailbox, int, ssl.SSLContext]) -> None:
    mailbox, port, client = tls_server
    email = SmtpEmail(SmtpConfig(port=port, security="tls", timeout_s=2), tls_context=client)
    assert isinstance(await email.send(LETTER), Delivered)
    assert len(mailbox.messages) == 1


class Refusing:
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.1.1 mailbox unavailable"


async def test_a_refused_mailbox_is_a_permanent_failure() -> None:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        outcome = await SmtpEmail(SmtpConfig(port=port, timeout_s=2)).send(LETTER)
    finally:
        controller.stop()
    assert outcome == PermanentFailure("smtp: recipient refused 550")
    assert "aigul" not in outcome.reason
