"""The services of this installation, found through the `qyzmet.services` entry points.

Dependencies point one way: a service knows the shared library, never the reverse. So the
`qyzmet` command does not name any service; each service registers a small `ServicePlugin` in
its package's entry points (pyproject.toml):

    [project.entry-points."qyzmet.services"]
    <name> = "<its plugin module>:PLUGIN"

A plugin holds only names ("module:attribute" strings) and numbers, so listing the services
imports no service code: `qyzmet --help` stays fast, and a process imports only what it runs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # listing the services loads no database code (`qyzmet serve --help`)
    from shared.replay.spec import ProjectionSpec

ENTRY_POINT_GROUP = "qyzmet.services"
PROCESS_KINDS = ("api", "worker")

Main = Callable[[], None]
"""A process's main function: no arguments, configuration from the environment."""


def load_target(target: str) -> Any:
    """The object named by "package.module:attribute", imported now."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{target!r} is not 'module:attribute'")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class ServicePlugin:
    """How the platform runs one service.

    `api` and `worker` name the process mains ("module:function"), None where the service has
    no such process; `api_port` is the default port `qyzmet run` gives the API through the
    environment variable `api_port_variable`; `projections` names a mapping
    projection name -> `shared.replay.spec.ProjectionSpec` for `qyzmet replay <name>`.

    `schema` is the service's PostgreSQL schema (`schema_variable` names the environment variable
    that moves it), `migrations` the packages of its SQL migrations, and `reads_catalog` says
    whether it reads the catalog's parameter values: what `qyzmet db setup` needs to make the
    service's login role (`shared.db.roles`). No `schema`: the service holds no database
    credentials at all (the console).
    """

    name: str
    api: str | None = None
    worker: str | None = None
    api_port: int | None = None
    api_port_variable: str | None = None
    projections: str | None = None
    schema: str | None = None
    schema_variable: str | None = None
    migrations: tuple[str, ...] = ()
    reads_catalog: bool = False
    home: str = "/docs"
    """The API's page a person opens first (`qyzmet run` prints it): its OpenAPI docs, or a UI."""

    def schema_name(self, env: Mapping[str, str] | None = None) -> str:
        """The schema this installation gives the service (`$<schema_variable>` or `schema`)."""
        if self.schema is None:
            raise ValueError(f"the {self.name} service has no database")
        values = os.environ if env is None else env
        moved = values.get(self.schema_variable) if self.schema_variable else None
        return moved or self.schema

    def processes(self) -> dict[str, str]:
        """process name (`<service>-api`, `<service>-worker`) -> its main's target."""
        targets = {"api": self.api, "worker": self.worker}
        return {f"{self.name}-{kind}": target for kind, target in targets.items() if target is not None}

    def load_projections(self) -> Mapping[str, ProjectionSpec]:
        if self.projections is None:
            return {}
        found: Mapping[str, ProjectionSpec] = load_target(self.projections)
        return found


def registered_services() -> list[ServicePlugin]:
    """Every installed service's plugin, ordered by API port then name (the order of the
    architecture: intake, decision, notification, complaints)."""
    plugins: list[ServicePlugin] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry.load()
        if not isinstance(plugin, ServicePlugin):
            raise TypeError(f"entry point {entry.name} = {entry.value} is not a ServicePlugin")
        if plugin.name != entry.name:
            raise ValueError(f"entry point {entry.name!r} registers a plugin named {plugin.name!r}")
        plugins.append(plugin)
    return sorted(plugins, key=lambda p: (p.api_port is None, p.api_port or 0, p.name))


def registered_service(name: str) -> ServicePlugin | None:
    """The plugin of the service called `name`, if it is installed."""
    return next((plugin for plugin in registered_services() if plugin.name == name), None)


def registered_processes() -> dict[str, str]:
    """process name -> target of its main, over every registered service."""
    return {
        process: target for plugin in registered_services() for process, target in plugin.processes().items()
    }
