"""The data dir's local secrets (token secret, database roles' secret): callers starting at
once all read the one secret that was made, readable by its owner only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.auth.tokens import SECRET_FILE, local_secret
from shared.db.roles import ROLE_SECRET_FILE, local_role_secret


@pytest.mark.parametrize(
    ("read", "name"), [(local_secret, SECRET_FILE), (local_role_secret, ROLE_SECRET_FILE)]
)
def test_callers_starting_at_once_share_one_secret(
    tmp_path: Path, read: Callable[[Path], str], name: str
) -> None:
    data_dir = tmp_path / "data"
    start = threading.Barrier(8)

    def first_use() -> str:
        start.wait()
        return read(data_dir)

    with ThreadPoolExecutor(8) as pool:
        seen = set(pool.map(lambda _: first_use(), range(8)))
    assert len(seen) == 1 and "" not in seen
    assert seen == {read(data_dir)}  # and the next start reads it again
    assert oct((data_dir / name).stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in data_dir.iterdir()] == [name]  # no temporary files left
