"""How the platform runs the complaints service (registered as a `qyzmet.services` entry point).

Names only, no imports of the service's code: listing the services stays cheap.
"""

from shared.runtime.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="complaints",
    api="services.complaints.entrypoints.api:main",
    worker="services.complaints.entrypoints.worker:main",
    api_port=8004,
    api_port_variable="COMPLAINTS_API_PORT",
    projections="services.complaints.projections:PROJECTIONS",
    schema="complaints",
    schema_variable="COMPLAINTS_SCHEMA",
    migrations=("services.complaints.adapters.sql",),
    reads_catalog=True,
)
