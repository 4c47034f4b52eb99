"""Channel adapters: how a composed message reaches the applicant.

Every adapter answers with a `SendOutcome` and never raises for a delivery failure; its
reasons name the kind of failure (an SMTP code, a connection error), never an address, a phone
number or the text. `post` and `pickup` are paper: the message becomes a row of the post's
manifest or of the office's pickup list, written in the same transaction as the DELIVERED
state (`service_layer/dispatch.py`), so the adapter only says it may be recorded.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal, Protocol

import structlog

from services.notification.domain.delivery import (
    Delivered,
    Message,
    PermanentFailure,
    SendOutcome,
    Stopped,
    TemporaryFailure,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message to one address (the address is personal data: never logged)."""

    notification_id: str
    kind: str
    language: str
    address: str | None
    message: Message


class Channel(Protocol):
    async def send(self, outgoing: Outgoing) -> SendOutcome: ...


class SmsProvider(Protocol):
    """An SMS gateway (a provider's HTTP API in production)."""

    async def send(self, outgoing: Outgoing) -> SendOutcome: ...


class LoggingSms:
    """The development SMS provider: logs that a message would go out (ids only) and answers
    Delivered."""

    async def send(self, outgoing: Outgoing) -> SendOutcome:
        if not outgoing.address:
            return Stopped("sms: no phone number")
        log.info(
            "sms (development: logged, not sent)",
            notification_id=outgoing.notification_id,
            kind=outgoing.kind,
            language=outgoing.language,
            length=len(outgoing.message.body),
        )
        return Delivered("development SMS provider: logged only")


class PaperChannel:
    """Post and pickup: the row is written with the DELIVERED state."""

    def __init__(self, name: Literal["post", "pickup"]) -> None:
        self.name = name

    async def send(self, outgoing: Outgoing) -> SendOutcome:
        if self.name == "post" and not outgoing.address:
            return Stopped("post: no postal address")
        note = "entered in the post's manifest" if self.name == "post" else "on the office's pickup list"
        return Delivered(note)


Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "no-reply@qyzmet.local"
    timeout_s: float = 10.0


class SmtpEmail:
    """E-mail over SMTP (stdlib smtplib in a worker thread), plain, STARTTLS or implicit TLS."""

    def __init__(self, config: SmtpConfig, tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.tls_context = tls_context or ssl.create_default_context()

    async def send(self, outgoing: Outgoing) -> SendOutcome:
        if not outgoing.address:
            return Stopped("email: no e-mail address")
        if not valid_address(outgoing.address):
            return PermanentFailure("email: invalid address")
        return await asyncio.to_thread(self._send, outgoing)

    def _mail(self, outgoing: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = outgoing.address
        mail["Subject"] = outgoing.message.subject
        mail["Message-ID"] = make_msgid(idstring=outgoing.notification_id.replace("-", ""))
        mail["X-Qyzmet-Notification"] = outgoing.notification_id
        mail.set_content(outgoing.message.body, charset="utf-8")
        mail["Content-Language"] = outgoing.language  # after set_content, which clears Content-*
        return mail

    def _send(self, outgoing: Outgoing) -> SendOutcome:
        c = self.config
        smtp: smtplib.SMTP | None = None
        try:
            mail = self._mail(outgoing)
        except (ValueError, TypeError):  # a header the address cannot make
            return PermanentFailure("email: invalid address")
        try:
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_s, context=self.tls_context)
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            if c.security == "starttls":
                smtp.starttls(context=self.tls_context)
            if c.username:
                smtp.login(c.username, c.password or "")
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            return _by_code(codes[0] if codes else 550, "smtp: recipient refused")
        except smtplib.SMTPAuthenticationError:
            # Our own credentials are wrong: the applicant's address is fine, so keep retrying.
            return TemporaryFailure("smtp: authentication failed (check the SMTP settings)")
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPSenderRefused) as exc:
            # The server's side or our sender (530/553 for our From): not the applicant's fault.
            return TemporaryFailure(f"smtp: {type(exc).__name__} {exc.smtp_code} (server side, retried)")
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, f"smtp: {type(exc).__name__}")
        except (smtplib.SMTPException, OSError) as exc:
            return TemporaryFailure(
                f"smtp: {type(exc).__name__} ({c.host}:{c.port} unreachable or broke off)"
            )
        finally:
            if smtp is not None:
                _quit(smtp)
        return Delivered(f"accepted by the SMTP server {c.host}")


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a failure now changes nothing (the mail was accepted with 250 already, or
    the attempt failed before): never a reason to send the mail again."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def valid_address(address: str) -> bool:
    """One plain mailbox (local@domain): no CR/LF, no display name, no list, no whitespace."""
    if any(ch in address for ch in '\r\n\t ,;<>"()') or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".")


def _by_code(code: int, what: str) -> SendOutcome:
    """SMTP 5xx is permanent (a mailbox that does not exist), 4xx is worth retrying."""
    if 500 <= code < 600:
        return PermanentFailure(f"{what} {code}")
    return TemporaryFailure(f"{what} {code}")
