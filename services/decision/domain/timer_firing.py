"""A timer fires (`timers.py` says which are set): deadline warnings and breaches, and the
entitlement's calendar (re-confirmation, the child's 18th birthday, the end of a deprivation).
A stale timer (the case moved on meanwhile) gives nothing.
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.env import Env
from services.decision.domain.model import ENTITLEMENT_STATUSES, CaseState, Status
from shared.catalog.models import Edition
from shared.contracts.decisions import (
    DeadlineApproaching,
    DeadlineBreached,
    EntitlementRestored,
    EntitlementSuspended,
    EntitlementTerminated,
    Ground,
    ReconfirmationDue,
)
from shared.contracts.event import DomainEvent


def fire_timer(cmd: c.FireTimer, state: CaseState, env: Env) -> list[DomainEvent]:
    aid = state.application_id
    kind = cmd.kind
    if kind in ("deadline_approaching", "deadline_breached"):
        if not state.is_open or state.due_at is None or state.due_at != cmd.target:
            return []  # decided meanwhile, or the term moved: a stale timer
        if kind == "deadline_approaching":
            if state.approaching_fired:
                return []
            share = str(env.approaching_share)
            return [
                DeadlineApproaching(
                    application_id=aid,
                    office_id=state.office_id,
                    due_at=state.due_at,
                    share=share,
                    fired_at=env.now,
                )
            ]
        if state.breached:
            return []
        return [
            DeadlineBreached(
                application_id=aid, office_id=state.office_id, due_at=state.due_at, fired_at=env.now
            )
        ]
    target_day = cmd.target.astimezone(env.tz).date()
    if kind == "reconfirmation_due":
        if state.status is not Status.ACTIVE or state.reconfirm_by is None:
            return []
        if target_day != (state.reconfirm_by - env.reconfirmation_notice):
            return []
        return [ReconfirmationDue(application_id=aid, due_by=state.reconfirm_by, fired_at=env.now)]
    if kind == "reconfirmation_missed":
        if state.status is not Status.ACTIVE or state.reconfirm_by != target_day:
            return []
        ground = Ground(
            id="rule:quarterly_reconfirmation",
            text=_rule_text(env.edition, "quarterly_reconfirmation"),
            source="rule",
        )
        return [
            EntitlementSuspended(
                application_id=aid, ground=ground, effective=target_day, recorded_by="system:timer"
            )
        ]
    if kind == "child_turns_18":
        if state.status not in ENTITLEMENT_STATUSES:
            return []
        rule_id = "age_limit" if any(r.id == "age_limit" for r in env.edition.rules) else "child_age"
        ground = Ground(id=f"rule:{rule_id}", text=_rule_text(env.edition, rule_id), source="rule")
        return [
            EntitlementTerminated(
                application_id=aid, ground=ground, effective=target_day, recorded_by="system:timer"
            )
        ]
    if kind == "deprivation_ends":
        if state.status is not Status.SUSPENDED or state.suspended_until != target_day:
            return []
        # The deprivation period ran out: the ground is the one whose effect is to restore, or,
        # where the catalog has none, the end of the period itself (never "placed in a job").
        restore = next((g for g in env.edition.termination_grounds if g.effect.value == "restore"), None)
        ground = (
            Ground(id=restore.id, text=restore.text, text_kk=restore.text_kk, source="termination_grounds")
            if restore is not None
            else Ground(id="deprivation_period_ended", text="the deprivation period ended", source="fact")
        )
        return [
            EntitlementRestored(
                application_id=aid, ground=ground, effective=target_day, recorded_by="system:timer"
            )
        ]
    return []  # pragma: no cover


def _rule_text(edition: Edition, rule_id: str) -> str:
    return next((r.text for r in edition.rules if r.id == rule_id), rule_id.replace("_", " "))
