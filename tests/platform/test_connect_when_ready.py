"""A process that starts while PostgreSQL is down (restarting, failing over) waits for it instead
of exiting: the supervisor would otherwise count each exit as a crash and give up on it."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import pytest

from shared.infra.procs import free_port
from shared.runtime.context import connect_when_ready


async def _forward(listen_port: int, target_host: str, target_port: int) -> asyncio.Server:
    """A TCP forwarder standing for the database coming back on `listen_port`."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    return await asyncio.start_server(handle, "127.0.0.1", listen_port)


async def test_a_pool_is_made_once_the_database_answers(database_url: str) -> None:
    parts = urlsplit(database_url)
    port = free_port()
    moved = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{port}"))
    connecting = asyncio.create_task(connect_when_ready(moved, wait_s=30, min_size=1, max_size=2))
    await asyncio.sleep(1.5)
    assert not connecting.done()  # refused connections: waiting, not failing
    server = await _forward(port, parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        pool = await asyncio.wait_for(connecting, 20)
        assert await pool.fetchval("SELECT 1") == 1
        await pool.close()
    finally:
        server.close()


async def test_it_gives_up_after_its_wait_with_the_error() -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    with pytest.raises(ConnectionRefusedError):
        await connect_when_ready(nowhere, wait_s=1.0)
