"""The intake fixtures (a fresh intake schema, its API with the projector running)."""

from tests.intake.conftest import app, catalog, client, intake_schema, offices

__all__ = ["app", "catalog", "client", "intake_schema", "offices"]
