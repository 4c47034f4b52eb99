"""How the platform runs the decision service (registered as a `qyzmet.services` entry point).

Names only, no imports of the service's code: listing the services stays cheap.
"""

from shared.runtime.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="decision",
    api="services.decision.entrypoints.api:main",
    worker="services.decision.entrypoints.worker:main",
    api_port=8002,
    api_port_variable="DECISION_API_PORT",
    projections="services.decision.projections:PROJECTIONS",
    schema="decision",
    migrations=("services.decision.adapters.sql",),
    reads_catalog=True,
)
