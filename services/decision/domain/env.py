"""What a decision needs besides the command and the case: the clock, the service and its
catalog edition, the parameter lookup and the deadline settings. Built by the service layer,
passed to every handler; the handlers themselves do no IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.decision.domain.rule_context import ParameterLookup
from services.decision.domain.workflow import Workflow, workflow_of
from shared.catalog.deadlines import DEFAULT_DEADLINE_POLICY, DeadlinePolicy
from shared.catalog.models import Edition, Service


@dataclass(frozen=True)
class Env:
    now: datetime
    service: Service
    edition: Edition
    tz: ZoneInfo
    lookup: ParameterLookup
    approaching_share: Decimal
    reconfirmation_notice: timedelta = timedelta(days=10)
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY

    @property
    def workflow(self) -> Workflow:
        return workflow_of(self.edition)

    def today(self) -> date:
        return self.now.astimezone(self.tz).date()
