"""How the platform runs the intake service (registered as a `qyzmet.services` entry point).

Names only, no imports of the service's code: listing the services stays cheap.
"""

from shared.runtime.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="intake",
    api="services.intake.entrypoints.api:main",
    worker="services.intake.entrypoints.worker:main",
    api_port=8001,
    api_port_variable="INTAKE_API_PORT",
    projections="services.intake.projections:PROJECTIONS",
    schema="intake",
    schema_variable="INTAKE_SCHEMA",
    migrations=("services.intake.adapters.sql",),
    reads_catalog=True,
)
