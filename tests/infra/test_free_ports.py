"""Ports handed to processes that bind them later come from below the kernel's ephemeral range, so
no bind to port 0 (a worker's metrics listener) can take one meanwhile: one such listener once took
the port chosen for the decision API while it was starting (a system test saw another server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.infra import procs


def test_ports_handed_out_are_distinct_free_and_below_the_ephemeral_range() -> None:
    low = int(procs.EPHEMERAL_RANGE_FILE.read_text().split()[0])
    ports = procs.free_ports(20)
    assert len(set(ports)) == 20 and all(10_000 <= port < low for port in ports)
    for port in ports:
        assert procs.port_is_free(port)


def test_without_the_kernels_range_the_kernel_chooses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(procs, "EPHEMERAL_RANGE_FILE", tmp_path / "missing")
    assert procs.handout_range() == range(0)
    port = procs.free_port()
    assert procs.port_is_free(port)
