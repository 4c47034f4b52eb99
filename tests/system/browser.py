"""The browser a system test drives: Debian's chromium (playwright uses it as is, no download).

Without it a browser test is skipped on a developer's machine, and fails where it is required
(`QYZMET_REQUIRE_BROWSER=1`, which `.ci/run` sets): CI must not pass with the console untested.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping

import pytest

REQUIRE_ENV = "QYZMET_REQUIRE_BROWSER"
NAMES = ("chromium", "chromium-browser")


def installed(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The chromium executable's path, if there is one."""
    return next((path for path in map(which, NAMES) if path), None)


def chromium(env: Mapping[str, str] | None = None, which: Callable[[str], str | None] = shutil.which) -> str:
    """The chromium executable's path; else the test is skipped, or failed when required."""
    found = installed(which)
    if found:
        return found
    if (os.environ if env is None else env).get(REQUIRE_ENV, "").strip() == "1":
        pytest.fail(f"chromium is not installed and {REQUIRE_ENV}=1 requires the browser test")
    pytest.skip(f"Debian's chromium is not installed (.ci/run installs it; {REQUIRE_ENV}=1 fails instead)")
