"""How SMTP answers are classified, against real SMTP servers run by the test: trouble on the
server's side or with our sender (a refusing greeting, HELO refused, our sender refused with 530
or 553) is temporary, not the applicant's fault; a mail accepted (250 after DATA) is DELIVERED
even if QUIT then fails (never sent again); an address with CR/LF or otherwise invalid is a
permanent failure at once (not retried for hours)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notification.adapters.channels import Outgoing, SmtpConfig, SmtpEmail
from services.notification.domain.delivery import (
    Delivered,
    Message,
    PermanentFailure,
    SendOutcome,
    TemporaryFailure,
)
from shared.infra.procs import free_port

from .conftest import Mailbox


def outgoing(address: str = "aigul.nurlanova@example.kz") -> Outgoing:
    return Outgoing("6f0c7f1e-0000-4000-8000-000000000001", "talon_issued", "kk", address, Message("S", "B"))


async def send_to(port: int, address: str = "aigul.nurlanova@example.kz") -> SendOutcome:
    return await SmtpEmail(SmtpConfig(port=port, timeout_s=2.0)).send(outgoing(address))


@contextmanager
def serving(handler: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class RefusesSender(Mailbox):
    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return self.answer


class RefusesHelo(Mailbox):
    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: Any
    ) -> Any:
        return ["554 5.7.1 not now"]

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        return "554 5.7.1 not now"


class BreaksOffAtQuit(Mailbox):
    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        return "421 4.3.0 shutting down"  # the mail was accepted already


@asynccontextmanager
async def greeting(line: bytes) -> AsyncIterator[int]:
    """A server whose greeting refuses the connection (SMTPConnectError)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(line)
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.close()

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()


async def test_a_refusing_greeting_is_temporary() -> None:
    async with greeting(b"554 5.3.2 too busy, try later\r\n") as port:
        outcome = await send_to(port)
    assert isinstance(outcome, TemporaryFailure) and "SMTPConnectError" in outcome.reason


async def test_a_refused_helo_is_temporary() -> None:
    with serving(RefusesHelo()) as port:
        outcome = await send_to(port)
    assert isinstance(outcome, TemporaryFailure) and "SMTPHeloError" in outcome.reason


@pytest.mark.parametrize(
    "answer", ["553 5.7.1 sender address not allowed", "530 5.7.0 authentication required"]
)
async def test_our_sender_refused_is_temporary(answer: str) -> None:
    mailbox = RefusesSender(answer)
    with serving(mailbox) as port:
        outcome = await send_to(port)
    assert isinstance(outcome, TemporaryFailure) and "SMTPSenderRefused" in outcome.reason
    assert not mailbox.messages


async def test_a_mail_accepted_is_delivered_even_if_quit_fails() -> None:
    mailbox = BreaksOffAtQuit()
    with serving(mailbox) as port:
        outcome = await send_to(port)
    assert isinstance(outcome, Delivered)
    assert len(mailbox.messages) == 1


@pytest.mark.parametrize(
    "address",
    [
        "aigul@example.kz\r\nBcc: someone@else.kz",
        "aigul@example.kz\nBcc: someone@else.kz",
        "not an address",
        "aigul@",
        "@example.kz",
        "Aigul <aigul@example.kz>, other@example.kz",
    ],
)
async def test_an_invalid_address_is_a_permanent_failure(smtp: tuple[Mailbox, int], address: str) -> None:
    mailbox, port = smtp
    outcome = await send_to(port, address)
    assert isinstance(outcome, PermanentFailure) and outcome.reason == "email: invalid address"
    assert not mailbox.messages


async def test_a_refused_mailbox_stays_permanent(smtp: tuple[Mailbox, int]) -> None:
    class NoSuchMailbox(Mailbox):
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            return "550 5.1.1 no such mailbox"

    with serving(NoSuchMailbox()) as port:
        outcome = await send_to(port)
    assert isinstance(outcome, PermanentFailure) and "550" in outcome.reason
