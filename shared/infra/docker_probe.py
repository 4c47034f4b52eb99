"""Is a Docker daemon answering? Asked once per process, never blocks for more than a few seconds."""

from __future__ import annotations

import functools
import os
import threading

#: Set to 1/true to skip the Docker probe entirely (treat Docker as absent).
NO_DOCKER_ENV = "QYZMET_NO_DOCKER"


@functools.cache
def docker_available(timeout: float = 2.0) -> bool:
    """True when ``docker.from_env(timeout=...).ping()`` succeeds.

    Any exception means "no Docker". The probe runs in a daemon thread with a hard deadline so a
    black-holed ``DOCKER_HOST`` can never hang the caller. The answer is cached for the process;
    call ``docker_available.cache_clear()`` to ask again.
    """
    if os.environ.get(NO_DOCKER_ENV, "").lower() in ("1", "true", "yes"):
        return False
    answer: list[bool] = []

    def _probe() -> None:
        try:
            import docker

            client = docker.from_env(timeout=max(1, int(timeout)))
            try:
                answer.append(bool(client.ping()))
            finally:
                client.close()
        except Exception:
            answer.append(False)

    thread = threading.Thread(target=_probe, name="docker-probe", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(answer and answer[0])
