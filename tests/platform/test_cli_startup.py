"""`qyzmet --help` and simple commands start fast: the top-level help imports no command module,
a command line imports only the module of the command it names, and none of them loads the heavy
libraries (web framework, Kafka clients, database driver) a service process needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("fastapi", "starlette", "uvicorn", "faust", "aiokafka", "kafka", "asyncpg", "pydantic", "structlog")
HEAVY_OWN = (
    "shared.catalog",  # the catalog's models, loader and data
    "shared.contracts",  # every event model
    "shared.audit",
    "shared.db",
    "shared.replay",
    "shared.messaging",
    "shared.infra",
    "shared.settings",  # pydantic-settings
    "shared.logging",  # structlog
)
"""The platform's own packages that load those libraries or much code: what a command's help needs none of."""


def _modules_after(argv: list[str]) -> set[str]:
    probe = (
        "import json, sys\n"
        "from shared.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "QYZMET_TOKEN_SECRET": "startup-test-secret-" + "t" * 32}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_top_level_help_imports_no_command_and_no_heavy_library() -> None:
    loaded = _modules_after(["--help"])
    assert not {m for m in loaded if m.startswith("shared.cli.") and m != "shared.cli.main"}
    assert not _top(loaded) & set(HEAVY), sorted(_top(loaded) & set(HEAVY))


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["token", "--help"], set()),
        (["token", "--role", "clerk", "--office", "karaganda-dept-01"], set()),  # made without pydantic
        (["topics", "--help"], set()),
        (["topics", "list"], set()),  # the names without the contract's models, the layout without pydantic
        (["simulate", "--help"], set()),
        (["up", "--help"], set()),
        (["run", "--help"], set()),  # the supervisor and every service's code load when it runs
        (["down", "--help"], set()),
    ],
)
def test_a_command_imports_only_what_it_needs(argv: list[str], allowed: set[str]) -> None:
    loaded = _modules_after(argv)
    assert not (_top(loaded) & set(HEAVY)) - allowed, sorted((_top(loaded) & set(HEAVY)) - allowed)
    own = COMMANDS[argv[0]][0] if argv[0] in COMMANDS else None
    others = {m for m in loaded if m.startswith("shared.cli.")} - {"shared.cli.main", own}
    assert not others, others


def _heavy(loaded: set[str]) -> list[str]:
    own = {m for m in loaded if any(m == p or m.startswith(p + ".") for p in HEAVY_OWN)}
    return sorted((_top(loaded) & set(HEAVY)) | own)


@pytest.mark.parametrize("command", [*COMMANDS, "simulate"])
def test_every_commands_help_loads_no_heavy_module(command: str) -> None:
    loaded = _modules_after([command, "--help"])
    assert not _heavy(loaded), f"qyzmet {command} --help loads {_heavy(loaded)}"
    assert "asyncio" not in loaded, "the event loop is for running a command (~30-50 ms to import)"


@pytest.mark.parametrize("command", [name for name in COMMANDS if name != "serve"])
def test_a_built_in_commands_help_reads_no_entry_points(command: str) -> None:
    """Scanning every installed package's entry points (for plugins' commands) is for the
    top-level help and for a command the table lacks; `serve` lists the services' processes."""
    assert "importlib.metadata" not in _modules_after([command, "--help"])


def test_the_names_the_helps_use_are_the_platforms() -> None:
    from shared.audit.relay import AUDIT_TOPIC
    from shared.catalog.store import CATALOG_SCHEMA
    from shared.cli import audit, db

    assert (audit.AUDIT_TOPIC, audit.CATALOG_SCHEMA, db.CATALOG_SCHEMA) == (
        AUDIT_TOPIC,
        CATALOG_SCHEMA,
        CATALOG_SCHEMA,
    )


def test_every_command_in_the_table_is_registered_by_its_module() -> None:
    full = build_parser()
    subparsers = next(a for a in full._actions if a.dest == "command")
    registered = {choice.dest: choice.help for choice in subparsers._choices_actions}
    for name, (module, help_text) in COMMANDS.items():
        assert name in registered, f"{module} registers no {name!r}"
        assert registered[name] == help_text, f"the table's help of {name!r} differs from {module}'s"


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"TOPIC_PARTITIONS": "12", "TOPIC_PREFIX": "run7."},
        {"topic_partitions": " 3 ", "topic_prefix": " spaced "},
        {"TOPIC_PARTITIONS": "06", "TOPIC_PREFIX": ""},
    ],
)
def test_topics_lists_light_layout_reads_what_platform_settings_would(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.cli.topics import topic_layout
    from shared.settings import PlatformSettings

    for name in ("TOPIC_PARTITIONS", "TOPIC_PREFIX", "topic_partitions", "topic_prefix"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    full = PlatformSettings()
    assert topic_layout() == (full.topic_partitions, full.topic_prefix)


@pytest.mark.parametrize("partitions", ["0", "-2", "six", "+4"])
def test_topics_list_refuses_or_accepts_a_layout_as_platform_settings_does(
    partitions: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import ValidationError

    from shared.cli.topics import topic_layout
    from shared.settings import PlatformSettings

    monkeypatch.setenv("TOPIC_PARTITIONS", partitions)
    try:
        expected: object = PlatformSettings().topic_partitions
    except ValidationError as exc:
        expected = type(exc)
    try:
        found: object = topic_layout()[0]
    except ValidationError as exc:
        found = type(exc)
    assert found == expected


@pytest.mark.parametrize(
    "environment",
    [{}, {"QYZMET_TOKEN_SECRET": "s" * 40, "QYZMET_DATA_DIR": "/tmp/elsewhere", "QYZMET_TOKEN_ISSUER": "kz"}],
)
def test_the_token_commands_light_settings_read_what_platform_settings_would(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.cli.token import TOKEN_SECRET_ENV, TokenEnvironment
    from shared.settings import PlatformSettings

    for name in ("QYZMET_TOKEN_SECRET", "QYZMET_DATA_DIR", "QYZMET_TOKEN_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    light, full = TokenEnvironment.read(), PlatformSettings()
    given = os.environ.get(TOKEN_SECRET_ENV) or None
    assert (given, light.token_issuer) == (full.token_secret, full.token_issuer)
