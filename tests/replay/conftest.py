"""The intake fixtures (a fresh intake schema, its API with the projector running) and the
decision service's (a fresh decision schema, the service on a fixed clock)."""

from tests.decision.conftest import clock, decision_schema, make_service, service
from tests.intake.conftest import app, catalog, client, intake_schema, offices

__all__ = [
    "app",
    "catalog",
    "client",
    "clock",
    "decision_schema",
    "intake_schema",
    "make_service",
    "offices",
    "service",
]
