"""The broker contract (`broker_contract.py`) in full on every broker: noida-db and tansu locally
(the `tansu` mark makes conftest run it on both), or the one external broker."""

from __future__ import annotations

import pytest

from tests.platform.broker_contract import BrokerContract


@pytest.mark.tansu
class TestBrokerContract(BrokerContract):
    pass
