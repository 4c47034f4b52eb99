"""An application's whole life across the four services running as `qyzmet run` starts them (real
processes, PostgreSQL and broker): a refusal, the applicant's complaint, the reviewer upholds
it, the decision service reopens the case, a new decision is made; the applicant gets both
decisions and the complaint's registration and answer by e-mail (a real SMTP server run by the
test), the ЦОН subscriber gets both signed `DecisionMade`s by webhook, and intake's status view
shows the complaint with its outcome and the decision's delivery. No personal data in any log."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from aiosmtpd.controller import Controller

from services.notification.domain.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra import KafkaHandle, create_database, drop_database
from shared.infra.procs import free_port
from tests.intake.conftest import APPLICANT_IIN, DEPT, unemployed_registration
from tests.notification.conftest import Mailbox
from tests.system.processes import RUN_ARGV, eventually, run_env, start_run, stop_run

SECRET = "whole-life-secret-" + "w" * 32
HOOK_SECRET = "tson-hook-secret-0123456789"
EMAIL = "aigul.applicant@example.kz"
NAME = "Айгүл Серікқызы Нұрланова"


class _Hooks(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, Any], bool]]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = verify_signature(
            HOOK_SECRET, self.headers.get(TIMESTAMP_HEADER, ""), raw, self.headers.get(SIGNATURE_HEADER, "")
        )
        type(self).received.append((json.loads(raw), ok))
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, Any], bool]]]]:
    _Hooks.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tson/decisions", _Hooks.received
    finally:
        server.shutdown()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def system(
    database_url: str, broker: KafkaHandle, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> Iterator[dict[str, Any]]:
    name = f"whole_life_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    env, ports = run_env(
        url,
        broker,
        tmp_path / "data",
        f"life{uuid.uuid4().hex[:6]}.",
        SECRET,
        XDG_STATE_HOME=str(tmp_path / "state"),
        NOTIFICATION_SMTP_HOST="127.0.0.1",
        NOTIFICATION_SMTP_PORT=str(mailbox[1]),
        NOTIFICATION_DISPATCH_INTERVAL_S="0.2",
        NOTIFICATION_RETRY_INITIAL_S="0.5",
        NOTIFICATION_WEBHOOK_ALLOW_PRIVATE="true",  # the test's ЦОН receiver listens on 127.0.0.1
    )
    log = (tmp_path / "run.log").open("w+b")
    process = start_run(RUN_ARGV, env, log)
    try:
        yield {"process": process, "ports": ports, "log": log}
    finally:
        stop_run(process)
        log.close()
        drop_database(database_url, name)


def _auth(role: Role, office: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, office=office)}"}


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_refusal_complaint_upheld_reopened_decided_again_and_everyone_told(
    system: dict[str, Any],
    mailbox: tuple[Mailbox, int],
    receiver: tuple[str, list[tuple[dict[str, Any], bool]]],
) -> None:
    base = {svc: f"http://127.0.0.1:{port}" for svc, port in system["ports"].items()}
    for url in base.values():
        eventually(lambda url=url: httpx.get(f"{url}/healthz").status_code == 200, f"{url}/healthz")
    clerk = _auth(Role.CLERK, DEPT, "clerk-1")
    head = _auth(Role.HEAD, DEPT, "head-1")
    specialist = _auth(Role.SPECIALIST, DEPT, "spec-1")
    admin = _auth(Role.ADMIN, "ministry", "admin-1")
    hook_url, hooks = receiver
    box, _ = mailbox

    subscription = httpx.post(
        f"{base['notification']}/v1/webhooks",
        json={"url": hook_url, "secret": HOOK_SECRET, "regions": ["karaganda"]},
        headers=admin,
    )
    assert subscription.status_code == 201, subscription.text

    body = unemployed_registration()
    body["applicant"] = {**body["applicant"], "contacts": {"email": EMAIL}, "preferred_language": "ru"}
    talon = httpx.post(f"{base['intake']}/v1/applications", json=body, headers=clerk)
    assert talon.status_code == 201, talon.text
    aid = talon.json()["application_id"]
    case = f"{base['decision']}/v1/cases/{aid}"
    eventually(lambda: httpx.get(case, headers=head).status_code == 200, "the case")
    assert httpx.post(f"{case}/assign", json={"executor": "spec-1"}, headers=head).status_code == 200
    refused = httpx.post(
        f"{case}/draft", json={"outcome": "refused", "grounds": ["incomplete_documents"]}, headers=specialist
    )
    assert refused.status_code == 200 and refused.json()["case"]["status"] == "decided", refused.text

    def intake_view() -> dict[str, Any]:
        return httpx.get(f"{base['intake']}/v1/applications/{aid}", headers=clerk).json()  # type: ignore[no-any-return]

    eventually(lambda: intake_view().get("decision_notice") == "delivered", "the refusal delivered")
    complaint = httpx.post(
        f"{base['complaints']}/v1/complaints",
        json={
            "idempotency_key": str(uuid.uuid4()),
            "subject": "decision",
            "application_id": aid,
            "office_id": DEPT,
            "channel": "in_person",
            "complainant": {"full_name": NAME, "contacts": {"email": EMAIL}, "preferred_language": "ru"},
            "text": "Я представила все документы, отказ неверен.",
        },
        headers=clerk,
    )
    assert complaint.status_code == 201, complaint.text
    filed = complaint.json()
    reviewer = _auth(Role.REVIEWER, filed["reviewing_office"], "reviewer-1")
    upheld = httpx.post(
        f"{base['complaints']}/v1/complaints/{filed['complaint_id']}/resolution",
        json={"outcome": "upheld", "reasoning": "все документы были представлены"},
        headers=reviewer,
    )
    assert upheld.status_code == 200, upheld.text

    reopened = eventually(
        lambda: (r := httpx.get(case, headers=head).json())["status"] == "under_review" and r, "the reopening"
    )
    assert reopened["decision"] is None
    approved = httpx.post(f"{case}/draft", json={"outcome": "approved"}, headers=specialist)
    assert approved.status_code == 200 and approved.json()["case"]["status"] == "decided", approved.text

    def decision_mails() -> list[EmailMessage]:
        return [m for m in box.messages if "решени" in str(m["Subject"]).lower()]

    eventually(lambda: len(decision_mails()) == 2, "both decisions by e-mail")
    assert all(m["To"] == EMAIL for m in box.messages)
    texts = [_text(m) for m in decision_mails()]
    assert "отказано" in texts[0] and "удовлетворено" in texts[1], texts
    subjects = " ".join(str(m["Subject"]).lower() for m in box.messages)
    assert subjects.count("жалоб") >= 2, subjects  # registered and answered, in Russian
    made = eventually(
        lambda: [b for b, _ in hooks if b.get("type") == "kz.qyzmet.decision.made.v1"][1:] and hooks,
        "both DecisionMade by webhook",
    )
    assert all(ok for _, ok in made)
    outcomes = [b["data"]["outcome"] for b, _ in made if b.get("type") == "kz.qyzmet.decision.made.v1"]
    assert outcomes == ["refused", "approved"]

    view = eventually(
        lambda: (v := intake_view())["status"] == "decided" and v["decision_notice"] == "delivered" and v,
        "the status view of the new decision, its e-mail delivered",
    )
    [seen] = view["complaints"]
    assert (seen["complaint_id"], seen["outcome"]) == (filed["complaint_id"], "upheld")
    assert view["decision"]["outcome"] == "approved"
    email = [n for n in view["notifications"] if n["kind"] == "decision_made" and n["channel"] == "email"]
    assert [n["state"] for n in email] == ["DELIVERED", "DELIVERED"]

    process: subprocess.Popen[bytes] = system["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(90) == 0
    system["log"].seek(0)
    output = system["log"].read().decode("utf-8", "replace")
    assert "Traceback" not in output
    for personal in (APPLICANT_IIN, NAME, EMAIL, "Нұрланова"):
        assert personal not in output, personal
