"""`qyzmet run` on a machine with nothing running: Ctrl-C stops every process it started,
including the PostgreSQL and broker it started itself, and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.infra.procs import free_port, port_accepts


def test_ctrl_c_stops_the_postgres_and_broker_run_started(tmp_path: Path) -> None:
    pg_port, kafka_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    env.update(
        {
            "QYZMET_DATA_DIR": str(tmp_path / "data"),
            "EMBEDDED_PG_PORT": str(pg_port),
            "KAFKA_LOCAL_PORT": str(kafka_port),
            "QYZMET_NO_DOCKER": "1",
            "QYZMET_TOKEN_SECRET": "run-infra-test-" + "x" * 32,
            **{var: str(free_port()) for var in (
                "INTAKE_API_PORT", "DECISION_API_PORT", "NOTIFICATION_API_PORT", "COMPLAINTS_API_PORT"
            )},
        }
    )  # fmt: skip
    log_path = tmp_path / "run.log"
    with log_path.open("w+b") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared.cli.main", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while b"Qyzmet is running" not in log_path.read_bytes():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            assert port_accepts(pg_port) and port_accepts(kafka_port)
            process.send_signal(signal.SIGINT)
            process.wait(90)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log_path.read_text()
    assert not port_accepts(pg_port), output
    assert not port_accepts(kafka_port), output
    assert "stopping every process" in output
    assert "stopped" in output.split("stopping every process", 1)[1]
