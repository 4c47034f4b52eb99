"""Reads of cases for the entrypoints, within the reader's scope (the policy table), with every
read of personal data (household names, incomes) audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg

from services.decision.adapters.projection import CaseProjection
from services.decision.domain.errors import CaseNotFound
from services.decision.domain.model import CaseState
from services.decision.domain.policy import POLICY, not_found, target_of
from services.decision.domain.queries import ReadCase, ReadCaseDetails, ReadCaseStatus, ReadWorklist
from services.decision.domain.rules import ParameterMissing, reevaluate
from services.decision.service_layer.case_streams import CaseStreams, stream_of
from services.decision.service_layer.catalogs import StoredParameters
from services.decision.service_layer.unit_of_work import PgDecisionUnit
from shared.audit import AuditEntry
from shared.catalog.errors import CatalogError
from shared.domain.actor import Actor
from shared.domain.errors import Forbidden, InvalidState
from shared.eventstore import EventStore


class CaseViews:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        catalogs: StoredParameters,
        clock: Callable[[], datetime],
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.catalogs = catalogs
        self.clock = clock
        self.store = EventStore(schema)
        self.projection = CaseProjection(schema)

    async def load(self, application_id: str) -> CaseState:
        async with self.pool.acquire() as conn:
            state = await CaseStreams(self.store.session(conn)).load(application_id)
        if state.opened is None:
            raise CaseNotFound(not_found(application_id))
        return state

    async def _scoped(self, application_id: str, reader: Actor, query: type) -> CaseState:
        """The case if `query` lets `reader` see it; outside the reader's scope it is NotFound
        (not revealed to exist); a role the query does not allow is Forbidden."""
        POLICY.check_role(query, reader.role)
        state = await self.load(application_id)
        POLICY.check_scope(
            query, reader.role, reader.office, reader.subject, target_of(state),
            hide=True, not_found=not_found(application_id),
        )  # fmt: skip
        return state

    async def case(self, application_id: str, reader: Actor) -> tuple[CaseState, bool]:
        """The case and whether the reader sees all of it (`ReadCase`: household, incomes,
        evaluations; audited) or only its status (`ReadCaseStatus`: no personal data)."""
        state = await self._scoped(application_id, reader, ReadCaseStatus)
        whole = POLICY.may_act_on(ReadCase, reader.role, reader.office, reader.subject, target_of(state))
        if whole and (state.decision is not None or state.draft is not None):  # names, incomes
            await self.audit_read(reader, application_id, "case with decision evaluation")
        return state, whole

    async def history(self, application_id: str, reader: Actor) -> list[dict[str, Any]]:
        await self._scoped(application_id, reader, ReadCaseDetails)
        await self.audit_read(reader, application_id, "case history")
        return await self.events(application_id)

    async def events(self, application_id: str) -> list[dict[str, Any]]:
        """The case's stored events, oldest first (no scope check, no audit: callers do that)."""
        async with self.pool.acquire() as conn:
            stored = await self.store.load(conn, stream_of(application_id))
        return [
            {"version": e.version, "type": e.event_type, "recorded_at": e.recorded_at, "data": e.data}
            for e in stored
        ]

    async def reevaluation(self, application_id: str, reader: Actor) -> dict[str, Any]:
        """Evaluate the decision's recorded inputs again under its edition: does it reproduce?"""
        state = await self._scoped(application_id, reader, ReadCaseDetails)
        decision = state.decision
        if decision is None:
            raise InvalidState("the case has no decision yet", title="No decision")
        await self.audit_read(reader, application_id, "decision evaluation")
        recorded = decision.evaluation.model_dump(mode="json")
        catalog = await self.catalogs.current()
        try:
            again = reevaluate(decision.evaluation, catalog.edition(decision.service_id, decision.edition_id))
        except (ParameterMissing, CatalogError) as exc:
            return {"reproduced": False, "reason": str(exc), "recorded": recorded}
        return {
            "reproduced": again == decision.evaluation,
            "recorded": recorded,
            "reevaluated": again.model_dump(mode="json"),
        }

    async def overdue(self, office: str, reader: Actor) -> list[dict[str, Any]]:
        POLICY.check_role(ReadWorklist, reader.role)
        visible = POLICY.offices_visible(reader.role, reader.office)
        if visible is not None and office not in visible:
            raise Forbidden(f"office {reader.office!r} may not act on office {office!r}")
        async with self.pool.acquire() as conn:
            rows = await self.projection.overdue(conn, office, self.clock())
        return [dict(row) for row in rows]

    async def audit_read(self, reader: Actor, application_id: str, what: str) -> None:
        async with PgDecisionUnit(self.pool, self.schema) as uow:
            subject = f"application:{application_id}"
            await uow.audit.append(AuditEntry.by(reader, "personal_data.read", subject, {"what": what}))
