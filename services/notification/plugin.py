"""How the platform runs the notification service (registered as a `qyzmet.services` entry point).

Names only, no imports of the service's code: listing the services stays cheap.
"""

from shared.runtime.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="notification",
    api="services.notification.entrypoints.api:main",
    worker="services.notification.entrypoints.worker:main",
    api_port=8003,
    api_port_variable="NOTIFICATION_API_PORT",
    projections="services.notification.projections:PROJECTIONS",
    schema="notification",
    schema_variable="NOTIFICATION_PG_SCHEMA",
    migrations=("services.notification.adapters.sql",),
)
