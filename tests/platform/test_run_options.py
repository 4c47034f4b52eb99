"""`qyzmet run` / `qyzmet up` options: the simulator is one more supervised child pointed at the
run's own APIs unless `--no-simulator`; `up` hands its options to the `run` it starts."""

from __future__ import annotations

import sys

from shared.cli.main import build_parser
from shared.cli.run import banner, simulator_command
from shared.cli.up import _run_argv

URLS = [
    "intake http://127.0.0.1:8001/docs",
    "decision http://127.0.0.1:8002/docs",
    "notification http://127.0.0.1:8003/docs",
    "complaints http://127.0.0.1:8004/docs",
]


def test_the_simulator_runs_against_the_runs_own_apis_at_the_rate_given() -> None:
    args = build_parser(["run"]).parse_args(["run", "--rate", "5"])
    [(name, argv)] = simulator_command(args, URLS).items()
    assert name == "simulator"
    assert argv[:4] == [sys.executable, "-m", "shared.cli.main", "simulate"]
    assert argv[4:] == [
        "--rate", "5",
        "--url", "intake=http://127.0.0.1:8001",
        "--url", "decision=http://127.0.0.1:8002",
        "--url", "complaints=http://127.0.0.1:8004",
    ]  # fmt: skip
    assert "2 applications/s" in banner(URLS, 2.0) and "http://127.0.0.1:8001/docs" in banner(URLS, 2.0)


def test_no_simulator_means_no_such_child() -> None:
    args = build_parser(["run"]).parse_args(["run", "--no-simulator"])
    assert simulator_command(args, URLS) == {}
    assert "simulated" not in banner(URLS, None)


def test_up_hands_its_options_to_run() -> None:
    args = build_parser(["up"]).parse_args(["up", "--detach", "--no-simulator", "--rate", "3", "--pretty"])
    assert args.detach
    assert _run_argv(args) == ["--rate", "3", "--no-simulator", "--pretty"]
    run_args = build_parser(["run"]).parse_args(["run", *_run_argv(args)])
    assert (run_args.no_simulator, run_args.rate, run_args.pretty) == (True, 3.0, True)


def test_the_banner_points_at_each_apis_first_page_the_consoles_own_page_not_its_docs() -> None:
    urls = [*URLS, "console http://127.0.0.1:8005/docs"]
    shown = banner(urls, None, {"console": "/", "intake": "/docs"})
    assert "http://127.0.0.1:8005/\n" in shown and "8005/docs" not in shown
    assert "http://127.0.0.1:8001/docs" in shown


def test_the_record_and_up_name_the_consoles_own_page_and_its_metrics_at_the_root() -> None:
    """`system.json`'s api_urls (what `qyzmet up --detach` prints) are each API's first page."""
    from shared.runtime.local_run import _api_metrics, _api_urls
    from shared.runtime.registry import registered_services

    plugins = [p for p in registered_services() if p.name in ("intake", "console")]
    ports = {"intake": "8001", "console": "8005"}
    env = {p.api_port_variable: ports[p.name] for p in plugins if p.api_port_variable}
    urls = dict(line.split(" ", 1) for line in _api_urls(plugins, env, {"intake-api", "console-api"}))
    assert urls == {"intake": "http://127.0.0.1:8001/docs", "console": "http://127.0.0.1:8005/"}
    shown = banner([f"{name} {url}" for name, url in urls.items()], None, {p.name: p.home for p in plugins})
    assert "http://127.0.0.1:8005/\n" in shown and "8005//" not in shown and "8005/docs" not in shown
    assert _api_metrics(urls) == {
        "intake-api": "http://127.0.0.1:8001/metrics",
        "console-api": "http://127.0.0.1:8005/metrics",
    }
