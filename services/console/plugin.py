"""How the platform runs the operations console (registered as a `qyzmet.services` entry point).

A web process only: it reads the services' own HTTP APIs with the signed-in person's token, holds
no database credentials and consumes no topic. Names only, no imports of the console's code.
"""

from shared.runtime.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="console",
    api="services.console.app:main",
    api_port=8005,
    api_port_variable="CONSOLE_API_PORT",
    home="/",
)
