"""Dependencies point one way: services register with the platform; shared/ never names a service.

The `qyzmet` command finds services through the `qyzmet.services` entry points, so listing them
(`qyzmet --help`) imports only the small plugin modules, never a service's code.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from shared.runtime.registry import ServicePlugin, registered_processes, registered_services

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGE = "services"
SERVICE_MODULE_PATH = re.compile(rf"(?<![\w./]){SERVICE_PACKAGE}\.")


def test_intake_and_decision_register_their_processes_and_projections() -> None:
    plugins = {plugin.name: plugin for plugin in registered_services()}
    assert {"intake", "decision"} <= set(plugins)
    assert [p.name for p in registered_services()][:2] == ["intake", "decision"]
    assert plugins["intake"].api_port == 8001
    assert plugins["decision"].api_port_variable == "DECISION_API_PORT"
    assert {"intake-api", "intake-worker", "decision-api", "decision-worker"} <= set(registered_processes())


def test_every_registered_target_exists() -> None:
    for plugin in registered_services():
        targets = [*plugin.processes().values(), plugin.projections or ""]
        for target in filter(None, targets):
            module, _, attribute = target.partition(":")
            assert attribute, target
            assert importlib.util.find_spec(module) is not None, target


def test_a_plugin_without_processes_has_none() -> None:
    assert ServicePlugin(name="notification").processes() == {}
    assert ServicePlugin(name="notification").load_projections() == {}


def test_the_command_line_imports_no_service_code_to_list_its_commands() -> None:
    probe = (
        "import sys\n"
        "from shared.cli.main import build_parser\n"
        "build_parser().format_help()\n"
        f"print(sorted(m for m in sys.modules if m.startswith('{SERVICE_PACKAGE}.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    imported = eval(result.stdout)  # noqa: S307 -- a list literal printed by the probe above
    assert imported, "the plugins are found"
    assert all(name.endswith(".plugin") or name.count(".") == 1 for name in imported), imported


def _names_a_service(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == SERVICE_PACKAGE for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == SERVICE_PACKAGE
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return SERVICE_MODULE_PATH.search(node.value) is not None
    return False


def test_shared_never_imports_or_names_a_service_module() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        for path in sorted((ROOT / "shared").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if _names_a_service(node)
    ]
    assert not offenders, offenders
