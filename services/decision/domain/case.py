"""The case aggregate: `decide(command, state, env) -> events` (pure; `env` carries the catalog
edition, the parameter lookup and the clock). Refusals raise a DomainError and store nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.decision.domain import commands as c
from services.decision.domain.errors import Forbidden, InvalidInput, InvalidState
from services.decision.domain.model import ENTITLEMENT_STATUSES, CaseState, Status, evolve
from services.decision.domain.rules import ParameterLookup, ParameterMissing, amount_rule, evaluate
from services.decision.domain.workflow import Workflow, workflow_of
from shared.catalog.deadlines import (
    DEFAULT_DEADLINE_POLICY,
    DeadlinePolicy,
    add_months,
    due_at,
    extended_due_at,
)
from shared.catalog.errors import CatalogError
from shared.catalog.models import Edition, Service
from shared.catalog.vocabulary import GroundEffect, Outcome
from shared.contracts.decisions import (
    ApplicationReopened,
    CaseFlagged,
    CaseOpened,
    DeadlineApproaching,
    DeadlineBreached,
    DecisionDrafted,
    DecisionMade,
    DecisionOutcome,
    DecisionReturnedForRework,
    DocumentsChecked,
    EligibilityInputs,
    EntitlementRestored,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    Evaluation,
    ExecutorAssigned,
    Ground,
    HouseholdMember,
    InspectionCompleted,
    InspectionScheduled,
    ReconfirmationDue,
    ReconfirmationReceived,
    TermExtended,
)
from shared.contracts.event import DomainEvent

HEAD = "head"
SPECIALIST = "specialist"
INSPECTOR = "inspector"
REVIEWER = "reviewer"
SYSTEM_ROLE = "system"


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


def decide(command: c.Command, state: CaseState, env: Env) -> list[DomainEvent]:
    if isinstance(command, c.OpenCase):
        return _open(command, state, env)
    if state.opened is None:
        raise InvalidState(f"case {state.application_id!r} is not open")
    if isinstance(command, c.AssignExecutor):
        return _assign(command, state, env)
    if isinstance(command, c.CheckDocuments):
        return _check_documents(command, state, env)
    if isinstance(command, c.ScheduleInspection):
        return _schedule(command, state, env)
    if isinstance(command, c.RecordInspection):
        return _record_inspection(command, state, env)
    if isinstance(command, c.DraftDecision):
        return _draft_decision(command, state, env)
    if isinstance(command, c.ReturnForRework):
        return _return(command, state, env)
    if isinstance(command, c.SignDecision):
        return _sign(command, state, env)
    if isinstance(command, c.ExtendTerm):
        return _extend(command, state, env)
    if isinstance(command, c.FireTimer):
        return _fire(command, state, env)
    if isinstance(command, c.RecordFact):
        return _record_fact(command, state, env)
    return _reopen(command, state, env)


# --------------------------------------------------------------------------- helpers


def _require(actor: c.Actor, state: CaseState, *roles: str, regional: bool = False) -> None:
    """Role and scope: the case's own office; with `regional`, also the region's higher body,
    whose tokens carry the region id as their office (e.g. "akmola")."""
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role!r} may not do this; allowed: {', '.join(roles)}")
    if actor.role == SYSTEM_ROLE or actor.office == state.office_id:
        return
    if regional and state.opened is not None and actor.office == state.opened.region:
        return
    raise Forbidden(f"office {actor.office!r} may not act on a case of office {state.office_id!r}")


def _result_id(edition: Edition, outcome: DecisionOutcome) -> str | None:
    wanted = {"approved": Outcome.POSITIVE, "refused": Outcome.NEGATIVE, "information": Outcome.INFO}[outcome]
    return next((r.id for r in edition.results if r.outcome is wanted), None)


def _grounds(edition: Edition, ids: tuple[str, ...] | list[str]) -> tuple[Ground, ...]:
    """Refusal grounds: the edition's refusal grounds, or `rule:<id>` naming one of its rules
    (a failed condition the catalog lists no ground for). Nothing else can be cited."""
    refusal = {g.id: g for g in edition.refusal_grounds}
    rules = {r.id: r for r in edition.rules}
    out: list[Ground] = []
    for gid in ids:
        if gid in refusal:
            out.append(Ground(id=gid, text=refusal[gid].text, source="refusal_grounds"))
        elif gid.startswith("rule:") and gid.removeprefix("rule:") in rules:
            out.append(Ground(id=gid, text=rules[gid.removeprefix("rule:")].text, source="rule"))
        else:
            known = sorted(refusal) or ["(the catalog lists no refusal grounds for this edition)"]
            raise InvalidInput(f"ground {gid!r} is not in the catalog's list: {', '.join(known)}")
    return tuple(out)


def _flag(state: CaseState, env: Env, exc: ParameterMissing) -> CaseFlagged:
    return CaseFlagged(
        application_id=state.application_id,
        reason="parameter_not_in_force",
        parameter=exc.parameter,
        region=exc.region,
        on_date=exc.on_date,
        message=str(exc),
        flagged_at=env.now,
    )


def _inputs(state: CaseState, env: Env, cmd: c.DraftDecision | None) -> EligibilityInputs:
    opened = state.opened
    assert opened is not None
    household: tuple[HouseholdMember, ...] = opened.household
    if state.inspection is not None and state.inspection.act.household:
        household = state.inspection.act.household
    if cmd is not None and cmd.household is not None:
        household = cmd.household
    return EligibilityInputs(
        application_date=opened.received_at.astimezone(env.tz).date(),
        region=opened.region,
        channel=opened.channel,
        # Names decide nothing: the evaluation (published with DecisionMade) carries none.
        household=tuple(m.model_copy(update={"full_name": None}) for m in household),
        housing_costs=cmd.housing_costs if cmd else None,
        registered_unemployed=(
            cmd.registered_unemployed
            if cmd and cmd.registered_unemployed is not None
            else ("registered_unemployed" in opened.categories or None)
        ),
        subject_birth_date=cmd.subject_birth_date if cmd else None,
        amount=cmd.amount if cmd else None,
        facts=dict(cmd.facts) if cmd else {},
    )


def _made(
    state: CaseState,
    env: Env,
    draft: DecisionDrafted,
    *,
    signed_by: str | None,
    automated: bool,
) -> list[DomainEvent]:
    opened = state.opened
    assert opened is not None
    due = state.due_at
    made = DecisionMade(
        application_id=state.application_id,
        service_id=opened.service_id,
        edition_id=opened.edition_id,
        office_id=opened.office_id,
        region=opened.region,
        channel=opened.channel,
        outcome=draft.outcome,
        result_id=draft.result_id,
        grounds=draft.grounds,
        amount=draft.amount,
        period_start=draft.period_start,
        period_end=draft.period_end,
        automated=automated,
        drafted_by=None if automated else draft.drafted_by,
        signed_by=signed_by,
        decided_at=env.now,
        due_at=due,
        on_time=None if due is None else env.now <= due,
        evaluation=draft.evaluation,
    )
    events: list[DomainEvent] = [made]
    if draft.outcome == "approved" and env.workflow.recurring:
        start = draft.period_start or env.today()
        events.append(
            EntitlementStarted(
                application_id=state.application_id,
                service_id=opened.service_id,
                office_id=opened.office_id,
                start=start,
                amount=draft.amount,
                reconfirm_by=next_quarter_start(start) if env.workflow.quarterly_reconfirmation else None,
            )
        )
    return events


def next_quarter_start(day: date) -> date:
    first_month = ((day.month - 1) // 3) * 3 + 1
    return add_months(date(day.year, first_month, 1), 3)


def _draft(
    state: CaseState, env: Env, cmd: c.DraftDecision | None, drafted_by: str
) -> DecisionDrafted | CaseFlagged:
    """Evaluate the rules and build the draft; a missing parameter gives a flag instead."""
    edition = env.edition
    service_id = env.service.id
    inputs = _inputs(state, env, cmd)
    try:
        evaluation = evaluate(service_id, edition, inputs, env.lookup)
    except ParameterMissing as exc:
        return _flag(state, env, exc)
    outcome, grounds = _outcome(evaluation, env, cmd)
    amount = evaluation.amount
    if evaluation.amount_source == "formula" and cmd is not None and cmd.amount not in (None, amount):
        raise InvalidInput(f"the amount is set by the catalog parameter ({amount}); it cannot be overridden")
    if outcome == "approved" and amount_rule(edition) is not None and amount is None and cmd is not None:
        raise InvalidInput(
            f"amount is required: the catalog gives no formula (rule {amount_rule(edition)!r}); "
            "the specialist records it"
        )
    return DecisionDrafted(
        application_id=state.application_id,
        outcome=outcome,
        result_id=_result_id(edition, outcome),
        grounds=_grounds(edition, grounds),
        amount=amount if outcome == "approved" else None,
        period_start=cmd.period_start if cmd else None,
        period_end=cmd.period_end if cmd else None,
        evaluation=evaluation,
        drafted_by=drafted_by,
        drafted_at=env.now,
    )


def _outcome(
    evaluation: Evaluation, env: Env, cmd: c.DraftDecision | None
) -> tuple[DecisionOutcome, tuple[str, ...]]:
    if evaluation.computable:
        if evaluation.outcome is None:
            missing = [f"{x.id} ({x.detail})" for x in evaluation.conditions if x.holds is None]
            raise InvalidInput("inputs missing for: " + "; ".join(missing))
        if cmd is not None and cmd.outcome is not None and cmd.outcome != evaluation.outcome:
            raise InvalidInput(
                f"the rules give {evaluation.outcome!r}; an officer cannot record {cmd.outcome!r} "
                "(return the case or correct the inputs)"
            )
        return evaluation.outcome, evaluation.grounds
    if cmd is None:
        # Automated service without a computable rule: the positive (or info) result is issued.
        has_info = any(r.outcome is Outcome.INFO for r in env.edition.results)
        has_positive = any(r.outcome is Outcome.POSITIVE for r in env.edition.results)
        return ("information" if has_info and not has_positive else "approved"), ()
    if cmd.outcome is None:
        raise InvalidInput("no computable rule decides this service: record the outcome")
    if cmd.outcome == "refused" and not cmd.grounds:
        raise InvalidInput("a refusal needs at least one ground from the catalog's list")
    return cmd.outcome, cmd.grounds


# --------------------------------------------------------------------------- handlers


def _open(cmd: c.OpenCase, state: CaseState, env: Env) -> list[DomainEvent]:
    if state.opened is not None:
        return []  # already open: a redelivered application
    sub = cmd.submitted
    wf = env.workflow
    household = tuple(
        HouseholdMember(
            relation=m.relation,
            full_name=m.full_name,
            monthly_income=m.declared_monthly_income,  # None stays unknown, never zero
        )
        for m in sub.family_members or ()
    )
    opened = CaseOpened(
        application_id=sub.application_id,
        registration_number=sub.registration_number,
        service_id=sub.service_id,
        subtype=sub.subtype,
        edition_id=sub.edition_id,
        channel=sub.channel,
        office_id=sub.office_id,
        region=sub.region,
        received_at=sub.received_at,
        due_at=sub.due_at,
        household=household,
        categories=tuple(sub.categories or ()),
        automated=wf.automated,
        assignment_required=wf.assignment_required,
        inspection=wf.inspection,
        signature_required=wf.signature_required,
    )
    events: list[DomainEvent] = [opened]
    if sub.due_at is None:
        events.append(
            CaseFlagged(
                application_id=sub.application_id,
                reason="no_computable_term",
                message=f"no computable term: {sub.due_note or 'the catalog gives none'}",
                flagged_at=env.now,
            )
        )
    if wf.automated:
        state = _evolve_all(state, events)
        try:
            draft = _draft(state, env, None, "system:decision")
        except InvalidInput as exc:
            flag = CaseFlagged(
                application_id=sub.application_id,
                reason="input_missing",
                message=str(exc),
                flagged_at=env.now,
            )
            return [*events, flag]
        if isinstance(draft, CaseFlagged):
            return [*events, draft]
        events.extend(_made(state, env, draft, signed_by=None, automated=True))
    return events


def _evolve_all(state: CaseState, events: list[DomainEvent]) -> CaseState:
    for e in events:
        state = evolve(state, e)
    return state


def _assign(cmd: c.AssignExecutor, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, HEAD)
    if not state.is_open or state.status is Status.AWAITING_SIGNATURE:
        raise InvalidState(f"cannot assign an executor to a case in status {state.status.value}")
    return [
        ExecutorAssigned(
            application_id=state.application_id,
            executor=cmd.executor,
            assigned_by=cmd.actor.subject,
            assigned_at=env.now,
        )
    ]


def _need_review(state: CaseState, what: str) -> None:
    if state.status is Status.REGISTERED:
        raise InvalidState(f"cannot {what}: the head has not assigned an executor yet")
    if state.status not in (Status.UNDER_REVIEW, Status.AWAITING_INSPECTION):
        raise InvalidState(f"cannot {what} in status {state.status.value}")


def _check_documents(cmd: c.CheckDocuments, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, SPECIALIST)
    _need_review(state, "check documents")
    return [
        DocumentsChecked(
            application_id=state.application_id,
            complete=cmd.complete,
            notes=cmd.notes,
            checked_by=cmd.actor.subject,
            checked_at=env.now,
        )
    ]


def _inspection_possible(state: CaseState, env: Env, action: str) -> None:
    if env.workflow.inspection == "none":
        raise InvalidState(f"edition {env.edition.id!r} of {env.service.id!r} has no inspection")
    _need_review(state, action)
    if state.inspection is not None and not state.reopened:  # a reopened case may be inspected again
        raise InvalidState("the inspection was already completed")


def _schedule(cmd: c.ScheduleInspection, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, INSPECTOR, SPECIALIST, HEAD, SYSTEM_ROLE)
    _inspection_possible(state, env, "schedule an inspection")
    return [
        InspectionScheduled(
            application_id=state.application_id,
            office_id=state.office_id,
            inspection_date=cmd.inspection_date,
            inspecting_body=cmd.inspecting_body,
            communicated_to_applicant=cmd.communicated_to_applicant,
            scheduled_by=cmd.actor.subject,
            scheduled_at=env.now,
        )
    ]


def _record_inspection(cmd: c.RecordInspection, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, INSPECTOR, SYSTEM_ROLE)
    _inspection_possible(state, env, "record an inspection")
    return [
        InspectionCompleted(
            application_id=state.application_id,
            office_id=state.office_id,
            act=cmd.act,
            recorded_by=cmd.actor.subject,
            recorded_at=env.now,
        )
    ]


def _draft_decision(cmd: c.DraftDecision, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, SPECIALIST)
    scheduled_not_done = state.inspection_date is not None and state.inspection is None
    if (
        state.status is Status.AWAITING_INSPECTION
        or scheduled_not_done
        or (env.workflow.inspection == "required" and state.inspection is None)
    ):
        raise InvalidState("the inspection must be completed before a decision is drafted")
    _need_review(state, "draft a decision")
    if state.executor is not None and state.executor != cmd.actor.subject:
        raise Forbidden(f"the case is assigned to {state.executor!r}")
    draft = _draft(state, env, cmd, cmd.actor.subject)
    if isinstance(draft, CaseFlagged):
        return [draft]
    if draft.outcome == "approved" and state.documents_complete is False:
        raise InvalidState(
            "the document check found the set incomplete: it cannot be approved until a new check"
            " finds it complete"
        )
    if env.workflow.signature_required:
        return [draft]
    # The catalog names no signing step: the executor's decision is the decision.
    after = _evolve_all(state, [draft])
    return [draft, *_made(after, env, draft, signed_by=None, automated=False)]


def _return(cmd: c.ReturnForRework, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, HEAD)
    if state.status is not Status.AWAITING_SIGNATURE:
        raise InvalidState(f"nothing to return: status is {state.status.value}")
    return [
        DecisionReturnedForRework(
            application_id=state.application_id,
            reason=cmd.reason,
            returned_by=cmd.actor.subject,
            returned_at=env.now,
        )
    ]


def _sign(cmd: c.SignDecision, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, HEAD)
    if state.status is not Status.AWAITING_SIGNATURE or state.draft is None:
        raise InvalidState(f"nothing to sign: status is {state.status.value}")
    return _made(state, env, state.draft, signed_by=cmd.actor.subject, automated=False)


def _extend(cmd: c.ExtendTerm, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, HEAD)
    if not state.is_open:
        raise InvalidState(f"cannot extend the term of a case in status {state.status.value}")
    if not env.workflow.extension_allowed:
        raise InvalidState(
            f"the catalog allows no extension for {env.service.id!r} edition {env.edition.id!r}"
        )
    if state.breached or (state.due_at is not None and env.now > state.due_at):
        raise InvalidState("the term has already passed: an extension must be decided before the due date")
    opened = state.opened
    assert opened is not None
    try:
        new_due = extended_due_at(
            env.service,
            env.edition,
            opened.channel,
            opened.received_at,
            env.tz,
            opened.subtype,
            policy=env.policy,
        )
    except CatalogError as exc:
        raise InvalidState(str(exc)) from exc
    if state.due_at is not None and new_due <= state.due_at:
        raise InvalidState("the term is already extended to the catalog's maximum")
    return [
        TermExtended(
            application_id=state.application_id,
            reason=cmd.reason,
            previous_due_at=state.due_at,
            new_due_at=new_due,
            extended_by=cmd.actor.subject,
            extended_at=env.now,
        )
    ]


def _fire(cmd: c.FireTimer, state: CaseState, env: Env) -> list[DomainEvent]:
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
            Ground(id=restore.id, text=restore.text, source="termination_grounds")
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


_FACT_WORDS: dict[str, tuple[str, ...]] = {
    "death": ("death",),
    "moved_away": ("moving", "moved", "residence"),
    "full_state_care": ("state_support", "state_care", "full_state"),
    "false_information": ("false",),
    "child_turned_18": ("age", "18"),
    "refused_work": ("refused_work",),
    "placed_in_job": ("restor",),
}


def _fact_ground(edition: Edition, fact: str, ground_id: str | None = None) -> Ground:
    """The catalog ground a recorded fact falls under.

    The specialist may name it (`ground_id`, checked against the edition's lists); otherwise it
    is found by the fact's words in the grounds' ids, and when several grounds match (an
    applicant's death vs a child's death) the specialist must choose: nothing is guessed."""
    grounds = [(g, "termination_grounds") for g in edition.termination_grounds] + [
        (g, "refusal_grounds") for g in edition.refusal_grounds
    ]
    if ground_id is not None:
        for g, source in grounds:
            if g.id == ground_id:
                return Ground(id=g.id, text=g.text, source=source)
        raise InvalidInput(f"ground {ground_id!r} is not in edition {edition.id!r}'s lists")
    words = _FACT_WORDS.get(fact, ())
    matches = [(g, source) for g, source in grounds if any(word in g.id for word in words)]
    termination = [m for m in matches if m[1] == "termination_grounds"]
    candidates = termination or matches
    if len(candidates) > 1:
        ids = ", ".join(g.id for g, _ in candidates)
        raise InvalidInput(f"fact {fact!r} matches several grounds ({ids}): name one as ground_id")
    if candidates:
        g, source = candidates[0]
        return Ground(id=g.id, text=g.text, source=source)
    return Ground(id=fact, text=f"recorded fact: {fact.replace('_', ' ')}", source="fact")


def _record_fact(cmd: c.RecordFact, state: CaseState, env: Env) -> list[DomainEvent]:
    _require(cmd.actor, state, SPECIALIST, SYSTEM_ROLE)
    if state.status not in ENTITLEMENT_STATUSES:
        raise InvalidState(f"no running entitlement: status is {state.status.value}")
    aid = state.application_id
    who = cmd.actor.subject
    if cmd.fact == "reconfirmation_received":
        if not env.workflow.quarterly_reconfirmation:
            raise InvalidInput(f"edition {env.edition.id!r} of {env.service.id!r} has no re-confirmation")
        current = state.reconfirm_by or next_quarter_start(cmd.on)
        return [
            ReconfirmationReceived(
                application_id=aid, received_on=cmd.on, next_due_by=add_months(current, 3), recorded_by=who
            )
        ]
    ground = _fact_ground(env.edition, cmd.fact, cmd.ground_id)
    if cmd.fact == "placed_in_job":
        if state.status is not Status.SUSPENDED:
            raise InvalidState("the entitlement is not suspended")
        return [EntitlementRestored(application_id=aid, ground=ground, effective=cmd.on, recorded_by=who)]
    if cmd.fact == "refused_work":
        sanction = next(
            (
                g
                for g in (*env.edition.termination_grounds, *env.edition.refusal_grounds)
                if g.effect is GroundEffect.DEPRIVE_FOR_PERIOD and g.period is not None
            ),
            None,
        )
        if sanction is not None and sanction.period is not None:
            until = (
                add_months(cmd.on, sanction.period.value)
                if sanction.period.unit.value == "months"
                else (cmd.on + timedelta(days=sanction.period.value))
            )
            g = Ground(id=sanction.id, text=sanction.text, source="termination_grounds")
            return [
                EntitlementSuspended(
                    application_id=aid, ground=g, effective=cmd.on, until=until, recorded_by=who
                )
            ]
        return [EntitlementSuspended(application_id=aid, ground=ground, effective=cmd.on, recorded_by=who)]
    return [EntitlementTerminated(application_id=aid, ground=ground, effective=cmd.on, recorded_by=who)]


def _reopen(cmd: c.ReopenApplication, state: CaseState, env: Env) -> list[DomainEvent]:
    # Complaints are answered by the office or a higher body of the case's region.
    _require(cmd.actor, state, REVIEWER, SYSTEM_ROLE, regional=True)
    if state.decision is None:
        raise InvalidState(f"only a decided case can be reopened (status {state.status.value})")
    opened = state.opened
    assert opened is not None
    events: list[DomainEvent] = []
    new_due: datetime | None
    try:
        new_due = due_at(
            env.service, env.edition, opened.channel, env.now, env.tz, opened.subtype, policy=env.policy
        )
    except CatalogError as exc:
        new_due = None
        events.append(
            CaseFlagged(
                application_id=state.application_id,
                reason="no_computable_term",
                message=str(exc),
                flagged_at=env.now,
            )
        )
    if state.status in ENTITLEMENT_STATUSES and state.status is not Status.SUSPENDED:
        # Payments stop while the case is under review again, and downstream systems are told so.
        events.insert(
            0,
            EntitlementSuspended(
                application_id=state.application_id,
                ground=Ground(
                    id="reopened_after_complaint",
                    text=f"the case was reopened after complaint {cmd.complaint_id}",
                    source="fact",
                ),
                effective=env.now.astimezone(env.tz).date(),
                recorded_by=cmd.actor.subject,
            ),
        )
    reopened = ApplicationReopened(
        application_id=state.application_id,
        complaint_id=cmd.complaint_id,
        reason=cmd.reason,
        reopened_by=cmd.actor.subject,
        reopened_at=env.now,
        new_due_at=new_due,
    )
    suspended = [e for e in events if isinstance(e, EntitlementSuspended)]
    flagged = [e for e in events if not isinstance(e, EntitlementSuspended)]
    return [*suspended, reopened, *flagged]


__all__ = ["Env", "decide", "next_quarter_start"]
