"""Exceptions raised by the infrastructure helper. Every message names the cause and what to do."""

from __future__ import annotations


class InfraError(RuntimeError):
    """Base class: infrastructure could not be found, started or stopped."""


class PortInUseError(InfraError):
    """The requested TCP port is already bound by some other process."""

    def __init__(self, port: int, host: str, what: str, listening: bool = True) -> None:
        self.port = port
        self.host = host
        self.listening = listening
        why = (
            "something else listens there; stop it, or choose another port"
            if listening
            else "no one listens, but a socket still holds it, e.g. a closed connection in "
            "TIME_WAIT that clears within a minute; wait, or choose another port"
        )
        super().__init__(f"cannot start {what}: port {port} on {host} is already in use ({why})")


class BinaryNotFoundError(InfraError):
    """A server binary is missing or not executable."""


class ProcessExitedError(InfraError):
    """A server process exited before it became ready."""


class StartupTimeoutError(InfraError):
    """A server did not become ready within the allowed time."""
