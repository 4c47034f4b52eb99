"""A verified token is answered from memory (issue 14) only while it is valid: its expiry still
ends it, and another secret or issuer does not find it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from shared.auth import tokens
from shared.auth.roles import Role
from shared.auth.tokens import InvalidToken, issue_token, verify_token

SECRET = "token-memory-secret-" + "x" * 32


def test_a_remembered_token_still_expires() -> None:
    token = issue_token(SECRET, subject="a", role=Role.CLERK, office="x", ttl=timedelta(seconds=2))
    assert verify_token(SECRET, token).subject == "a"
    assert verify_token(SECRET, token).subject == "a"  # from memory
    expires = tokens._VERIFIED[(SECRET, "qyzmet", token)][1]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(SECRET, token)


def test_a_remembered_token_is_not_valid_under_another_secret_or_issuer() -> None:
    token = issue_token(SECRET, subject="a", role=Role.CLERK, office="x")
    verify_token(SECRET, token)
    with pytest.raises(InvalidToken):
        verify_token("another-secret-" + "y" * 32, token)
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token, issuer="someone-else")


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_VERIFIED_MAX", 3)
    for n in range(10):
        verify_token(SECRET, issue_token(SECRET, subject=f"s{n}", role=Role.CLERK, office="x"))
        assert len(tokens._VERIFIED) <= 3
