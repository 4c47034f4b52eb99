"""The browser tests' rule (`tests.system.browser.chromium`): skipped without chromium on a
developer's machine, failed without it where `QYZMET_REQUIRE_BROWSER=1` (CI)."""

from __future__ import annotations

import pytest

from tests.system.browser import chromium


def _none(_: str) -> None:
    return None


def test_the_browser_found_is_used() -> None:
    assert chromium(
        {"QYZMET_REQUIRE_BROWSER": "1"}, {"chromium-browser": "/usr/bin/chromium-browser"}.get
    ) == ("/usr/bin/chromium-browser")


def test_without_chromium_a_developer_skips() -> None:
    with pytest.raises(pytest.skip.Exception):
        chromium({}, _none)
    with pytest.raises(pytest.skip.Exception):
        chromium({"QYZMET_REQUIRE_BROWSER": "0"}, _none)


def test_without_chromium_where_required_the_test_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match="QYZMET_REQUIRE_BROWSER=1"):
        chromium({"QYZMET_REQUIRE_BROWSER": "1"}, _none)
