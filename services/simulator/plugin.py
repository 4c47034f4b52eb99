"""`qyzmet simulate --rate R [--duration S] [--url SERVICE=URL ...]`: simulated regional offices
against a running system (registered as a `qyzmet.commands` entry point).

Addresses come from `--url`, else from the running system's record (`shared.runtime.running`:
the system `qyzmet run` / `qyzmet up` started, found from any folder or `QYZMET_DATA_DIR`), else
the default ports (`INTAKE_API_PORT`, ...). Tokens are signed with the secret the services accept
(`qyzmet token`'s rule). This module imports only argparse at start: `qyzmet --help` stays fast.

It serves `/metrics` (`services.simulator.metrics`) on `QYZMET_METRICS_PORT` (default 0: any free
port), as a worker does, and writes the URL down in the system's data directory: `qyzmet run`
records it as `simulator` in `system.json`.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

SERVICES = ("intake", "decision", "complaints")
DEFAULT_PORTS = {"intake": 8001, "decision": 8002, "complaints": 8004}


def _base(url: str) -> str:
    """`http://host:port/docs` (as the running system records its APIs) -> `http://host:port`."""
    url = url.rstrip("/")
    return url[: -len("/docs")] if url.endswith("/docs") else url


def resolve_urls(given: list[str], recorded: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    """Each service's base URL: `--url service=URL`, else recorded, else the port variable's default."""
    urls = {name: _base(url) for name, url in recorded.items() if name in SERVICES}
    for name in SERVICES:
        if name not in urls:
            port = env.get(f"{name.upper()}_API_PORT") or str(DEFAULT_PORTS[name])
            urls[name] = f"http://127.0.0.1:{port}"
    for item in given:
        name, sep, url = item.partition("=")
        if not sep or name not in SERVICES or not url:
            raise SystemExit(
                f"qyzmet simulate: --url takes SERVICE=URL with SERVICE one of {', '.join(SERVICES)}"
            )
        urls[name] = _base(url)
    return urls


def _simulate(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import sys
    from datetime import date

    import structlog

    from services.simulator.desks import Urls
    from services.simulator.offers import default_offers
    from services.simulator.simulation import SimulationConfig, simulate
    from services.simulator.stories import Behaviour
    from shared.cli.token import token_secret
    from shared.logging import LOG_FORMAT_ENV, PROCESS_ENV, configure_logging
    from shared.runtime.command_secrets import SecretNotFound
    from shared.runtime.metrics_listener import MetricsSettings, start_metrics_listener
    from shared.runtime.running import current_installation
    from shared.settings import PlatformSettings

    settings = PlatformSettings()
    installation = current_installation(args.data_dir)  # the one rule every command follows
    system, data_dir = installation.system, installation.data_dir
    urls = resolve_urls(args.url, system.api_urls if system else {}, dict(os.environ))
    try:
        secret = token_secret(args.data_dir)
    except SecretNotFound as exc:
        print(f"qyzmet simulate: {exc}", file=sys.stderr)
        return 2
    config = SimulationConfig(
        rate=args.rate,
        duration_s=args.duration,
        report_every_s=args.report_every,
        seed=args.seed,
        behaviour=Behaviour(think_s=args.think),
    )

    os.environ[PROCESS_ENV] = "simulator"  # every line names the process, as `qyzmet serve` does
    chosen = os.environ.get(LOG_FORMAT_ENV)
    configure_logging(settings.log_level, pretty=chosen == "pretty" if chosen else sys.stderr.isatty())
    for chatty in ("httpx", "httpcore"):  # a line per request would drown the summaries
        logging.getLogger(chatty).setLevel(logging.WARNING)
    log = structlog.get_logger("qyzmet.simulator")
    start_metrics_listener("simulator", MetricsSettings().model_copy(update={"data_dir": data_dir}))

    def say(line: str) -> None:
        log.info(line)

    say(
        f"simulator: {args.rate:g} applications/s to intake {urls['intake']}, decision {urls['decision']},"
        f" complaints {urls['complaints']}"
    )
    offers = default_offers(date.today())
    asyncio.run(simulate(Urls(**urls), secret, offers, config, issuer=settings.token_issuer, say=say))
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="simulated regional offices submitting applications to a running system"
    )
    parser.add_argument(
        "--rate", type=_positive, default=2.0, help="applications a second, open loop (default 2)"
    )
    parser.add_argument("--duration", type=_positive, default=None, help="seconds (default: until Ctrl-C)")
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="intake=, decision= or complaints= base URL (default: the running system's)",
    )
    parser.add_argument("--data-dir", default=None, help="the system's data directory (default: found)")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds an officer takes per step")
    parser.add_argument("--report-every", type=_positive, default=10.0, help="seconds between summary lines")
    parser.add_argument("--seed", type=int, default=None, help="random seed (a reproducible run)")
    parser.set_defaults(handler=_simulate)
