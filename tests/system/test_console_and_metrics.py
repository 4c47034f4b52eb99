"""The operations console and `/metrics` on the system `qyzmet run` starts (real processes,
PostgreSQL and broker, a few applications driven through the APIs):

- in a real headless browser (Debian's chromium driven by playwright, no browser download; the
  test is skipped without chromium, and fails when QYZMET_REQUIRE_BROWSER=1, as in CI): the
  console sends an unsigned visitor to sign in, refuses a clerk's token, lets a head of
  department in, shows the overview with charts, opens a case and shows its history across the
  services; screenshots are saved under the test's tmp dir (their paths are logged);
- every process serves Prometheus metrics, the workers on the listener `qyzmet run` records:
  HTTP throughput, consumer records and batch latency, consumer lag, relay throughput and outbox
  backlog, DLQ and deadline-breach counters; they move when work is done;
- so do the supervisor (`qyzmet-run`: children running, crashes and restarts, seen when a worker
  is killed) and a simulator (`qyzmet simulate` pointed at the system: applications by service and
  office, the system's answers, the rate), both recorded in system.json like the others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra import KafkaHandle, create_database, drop_database
from tests.intake.conftest import APPLICANT_IIN, DEPT, unemployed_registration
from tests.system.browser import chromium, installed
from tests.system.processes import RUN_ARGV, eventually, run_env, start_run, stop_run

SECRET = "console-test-secret-" + "c" * 32


def _token(role: Role, office: str, subject: str) -> str:
    return issue_token(SECRET, subject=subject, role=role, office=office)


def _auth(role: Role, office: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(role, office, subject)}"}


def _eventually(check: Callable[..., Any], what: str, timeout_s: float = 90) -> Any:
    """Also past a page or /metrics text that does not parse yet."""
    return eventually(
        check, what, timeout_s, interval_s=0.3, errors=(httpx.HTTPError, OSError, ValueError, KeyError)
    )


@pytest.fixture(scope="module")
def system(
    database_url: str, broker: KafkaHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("console-system")
    name = f"console_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    env, ports = run_env(
        url,
        broker,
        root / "data",
        f"console{uuid.uuid4().hex[:6]}.",
        SECRET,
        XDG_STATE_HOME=str(root / "state"),
        NOTIFICATION_CHANNELS='["sms","pickup"]',
        NOTIFICATION_SMS_PROVIDER="logging",
    )
    log = (root / "run.log").open("w+b")
    process = start_run(RUN_ARGV, env, log)
    base = {svc: f"http://127.0.0.1:{port}" for svc, port in ports.items()}
    try:
        for svc, address in base.items():  # a loaded machine takes minutes to start nine processes
            _eventually(
                lambda a=address: httpx.get(f"{a}/healthz").status_code == 200,
                f"{svc}/healthz",
                timeout_s=400,
            )
        yield {"base": base, "data": root / "data", "process": process, "log": log, "root": root, "env": env}
    finally:
        stop_run(process, 90)
        log.close()
        drop_database(database_url, name)


def _submit(base: dict[str, str]) -> str:
    clerk = _auth(Role.CLERK, DEPT, "clerk-1")
    talon = httpx.post(f"{base['intake']}/v1/applications", json=unemployed_registration(), headers=clerk)
    assert talon.status_code == 201, talon.text
    return str(talon.json()["application_id"])


@pytest.fixture(scope="module")
def decided_case(system: dict[str, Any]) -> str:
    """An application refused by the department and complained about, plus one still open."""
    base = system["base"]
    head, specialist = _auth(Role.HEAD, DEPT, "head-1"), _auth(Role.SPECIALIST, DEPT, "spec-1")
    _submit(base)
    aid = _submit(base)
    case = f"{base['decision']}/v1/cases/{aid}"
    _eventually(lambda: httpx.get(case, headers=head).status_code == 200, "the case")
    assert httpx.post(f"{case}/assign", json={"executor": "spec-1"}, headers=head).status_code == 200
    refused = httpx.post(
        f"{case}/draft", json={"outcome": "refused", "grounds": ["incomplete_documents"]}, headers=specialist
    )
    assert refused.status_code == 200, refused.text
    clerk = _auth(Role.CLERK, DEPT, "clerk-1")
    _eventually(
        lambda: (
            httpx.get(f"{base['intake']}/v1/applications/{aid}", headers=clerk).json()["status"] == "decided"
        ),
        "intake to see the decision",
    )
    complaint = httpx.post(
        f"{base['complaints']}/v1/complaints",
        json={
            "idempotency_key": str(uuid.uuid4()),
            "subject": "decision",
            "application_id": aid,
            "office_id": DEPT,
            "channel": "in_person",
            "complainant": {"full_name": "Айгүл Нұрланова", "preferred_language": "kk"},
            "text": "Құжаттардың бәрі берілді.",
        },
        headers=clerk,
    )
    assert complaint.status_code == 201, complaint.text
    return aid


@pytest.fixture(scope="module")
def browser_path() -> str:
    """Chromium's path; skipped without it, failed where it is required (before any system starts)."""
    return chromium()


@pytest.mark.timeout(900)
def test_console_in_a_browser_signs_in_shows_the_overview_and_a_case_history(
    browser_path: str, system: dict[str, Any], decided_case: str
) -> None:
    from playwright.sync_api import sync_playwright

    console = system["base"]["console"]
    shots = system["root"] / "screenshots"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(console + "/")
            assert page.url.endswith("/signin")

            page.fill("#token", _token(Role.CLERK, DEPT, "clerk-1"))
            page.click("#signin")
            assert "may not use the console" in page.inner_text("#signin-error")

            page.fill("#token", _token(Role.HEAD, DEPT, "head-1"))
            page.click("#signin")
            page.wait_for_selector("#by-status svg")
            assert page.url.rstrip("/") == console
            assert page.inner_text("#who") == f"head · {DEPT}"
            cookie = next(c for c in page.context.cookies() if c["name"] == "qyzmet_console")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert "unemployed_registration" in page.inner_text("#by-status")
            assert DEPT in page.inner_text("#deadlines")
            assert "Served within the set term" in page.inner_text("#quality")
            assert "refused" in page.inner_text("#recent-decisions")
            overview = shots / "console-overview.png"
            page.screenshot(path=str(overview), full_page=True)
            print(f"console overview screenshot: {overview}")

            page.click(f"#recent-decisions a[href='/cases/{decided_case}']")
            page.wait_for_selector("#history")
            assert page.inner_text("#case-status") == "decided"
            history = page.inner_text("#history")
            for service in ("intake", "decision", "complaints"):
                assert service in history, history
            events = page.locator("#history td.event").all_inner_texts()
            assert events[0] == "application.submitted", events
            assert "decision.case_opened" in events and "complaint.registered" in events, events
            times = page.locator("#history tbody tr td:first-child").all_inner_texts()
            assert times == sorted(times)
            case_shot = shots / "console-case.png"
            page.screenshot(path=str(case_shot), full_page=True)
            print(f"console case screenshot: {case_shot}")
            text = page.content()
            assert APPLICANT_IIN not in text and "Нұрланова" not in text

            page.click("#signout")
            page.goto(console + f"/cases/{decided_case}")
            assert page.url.endswith("/signin")
        finally:
            browser.close()
    assert overview.stat().st_size > 10_000 and case_shot.stat().st_size > 10_000
    keep = os.environ.get("QYZMET_SCREENSHOT_DIR")  # CI artifacts: pytest's tmp dirs are rotated away
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in (overview, case_shot):
            shutil.copy(shot, Path(keep) / shot.name)


def _metrics_urls(data: Path) -> dict[str, str]:
    recorded = json.loads((data / "system.json").read_text(encoding="utf-8"))
    urls: dict[str, str] = recorded["metrics_urls"]
    return urls


def _sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


@pytest.mark.timeout(900)
def test_every_process_serves_metrics_that_move(system: dict[str, Any], decided_case: str) -> None:
    urls = _eventually(
        lambda: (u := _metrics_urls(system["data"])) and {
            "intake-api", "intake-worker", "decision-worker", "complaints-worker", "notification-worker",
            "console-api", "qyzmet-run",
        } <= set(u) and u,
        "every process's metrics URL in system.json",
    )  # fmt: skip
    scrape = {name: httpx.get(url).text for name, url in urls.items()}
    for name, text in scrape.items():
        assert "process_cpu_seconds_total" in text, name
    api = scrape["intake-api"]
    assert _sample(api, "qyzmet_http_requests_total", route="/v1/applications", status="201") >= 2
    assert _sample(api, "qyzmet_http_request_seconds_count", route="/v1/applications") >= 2
    worker = scrape["decision-worker"]
    for metric in (
        "qyzmet_consumer_records_total", "qyzmet_consumer_batch_seconds", "qyzmet_dead_lettered_total",
        "qyzmet_relay_published_total", "qyzmet_relay_backlog_events", "qyzmet_consumer_lag_records",
        "qyzmet_deadline_breaches_total", "qyzmet_timers_due",
    ):  # fmt: skip
        assert f"# TYPE {metric}" in worker, metric

    def handled() -> float:
        return _sample(
            httpx.get(urls["decision-worker"]).text, "qyzmet_consumer_records_total", outcome="handled"
        )

    def published() -> float:
        return _sample(httpx.get(urls["intake-worker"]).text, "qyzmet_relay_published_total")

    before_handled, before_published = handled(), published()
    assert before_handled >= 2 and before_published >= 2
    _submit(system["base"])
    _eventually(lambda: handled() > before_handled, "the decision worker to count the new application")
    _eventually(lambda: published() > before_published, "the intake relay to count its publication")
    lag = _eventually(
        lambda: "qyzmet_consumer_lag_records{" in (t := httpx.get(urls["decision-worker"]).text) and t,
        "the decision worker's consumer lag",
    )
    assert _sample(lag, "qyzmet_consumer_lag_records") >= 0
    assert "qyzmet_relay_backlog_events{" in httpx.get(urls["intake-worker"]).text


@pytest.mark.timeout(600)
def test_the_supervisor_and_a_simulator_serve_metrics_that_move(system: dict[str, Any]) -> None:
    data = system["data"]
    supervisor = _metrics_urls(data)["qyzmet-run"]
    text = httpx.get(supervisor).text
    assert _sample(text, "qyzmet_supervisor_processes_running") >= 8
    assert _sample(text, "qyzmet_supervisor_process_up", process="notification-worker") == 1
    assert _sample(text, "qyzmet_supervisor_given_up") == 0
    crashes_before = _sample(text, "qyzmet_supervisor_crashes_total", process="notification-worker")
    restarts_before = _sample(text, "qyzmet_supervisor_restarts_total", process="notification-worker")
    worker = json.loads((data / "processes" / "notification-worker.json").read_text(encoding="utf-8"))
    os.kill(worker["pid"], signal.SIGKILL)  # a child of the run this test started
    _eventually(
        lambda: _sample(
            httpx.get(supervisor).text, "qyzmet_supervisor_restarts_total", process="notification-worker"
        ) == restarts_before + 1,
        "the supervisor to count the worker's restart",
    )  # fmt: skip
    text = httpx.get(supervisor).text
    assert (
        _sample(text, "qyzmet_supervisor_crashes_total", process="notification-worker") == crashes_before + 1
    )
    assert _sample(text, "qyzmet_supervisor_process_up", process="notification-worker") == 1

    argv = [sys.executable, "-m", "shared.cli.main", "simulate", "--rate", "3", "--duration", "300"]
    argv += ["--data-dir", str(data), "--think", "0.2", "--seed", "7"]
    with (system["root"] / "simulator.log").open("w+b") as out:
        simulator = subprocess.Popen(argv, env=system["env"], stdout=out, stderr=subprocess.STDOUT)
        try:
            url = _eventually(lambda: _metrics_urls(data).get("simulator"), "the simulator's metrics URL")

            def accepted() -> float:
                text = httpx.get(url).text
                return _sample(text, "qyzmet_simulator_applications_total", outcome="accepted")

            _eventually(lambda: accepted() >= 3, "the simulator's accepted applications on /metrics")
            text = httpx.get(url).text
        finally:
            simulator.send_signal(signal.SIGTERM)
            simulator.wait(60)
    assert _sample(text, "qyzmet_simulator_rate_per_second") == 3
    assert _sample(text, "qyzmet_simulator_answers_total", step="submit", status="2xx") >= 3
    assert _sample(text, "qyzmet_simulator_applications_total", outcome="submitted") >= 3
    offices = set(re.findall(r'qyzmet_simulator_applications_total\{[^}]*office="([^"]+)"', text))
    assert offices and all(re.fullmatch(r"[a-z0-9-]+", office) for office in offices), offices
    assert "# TYPE qyzmet_simulator_events_total counter" in text
    assert "process_cpu_seconds_total" in text


def test_no_log_line_carries_personal_data_and_request_lines_carry_correlation_ids(
    system: dict[str, Any], decided_case: str
) -> None:
    system["log"].flush()
    output = (system["root"] / "run.log").read_text("utf-8", "replace")
    assert APPLICANT_IIN not in output and "Нұрланова" not in output
    console_lines = [json.loads(line) for line in output.splitlines() if '"process": "console-api"' in line]
    pages = [line for line in console_lines if line.get("event") == "console page"]
    assert all(line.get("correlation_id") for line in pages)
    if installed():  # the browser test opened pages
        assert pages
