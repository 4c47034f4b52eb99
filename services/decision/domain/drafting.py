"""Drafting a decision and making it: the rules are evaluated on the case's inputs, the outcome
and grounds are held to the catalog, and the decision is made with the entitlement it starts
(at once where the catalog names no signing step).
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.built import built, model_of
from services.decision.domain.entitlements import next_quarter_start
from services.decision.domain.env import Env
from services.decision.domain.errors import Forbidden, InvalidInput, InvalidState
from services.decision.domain.input_checks import check_period
from services.decision.domain.model import CaseState, Status, evolve_all
from services.decision.domain.review import need_review
from services.decision.domain.rules import ParameterMissing, amount_rule, evaluate
from shared.catalog.models import Edition
from shared.catalog.vocabulary import Outcome
from shared.contracts.decisions import (
    CaseFlagged,
    DecisionDrafted,
    DecisionMade,
    DecisionOutcome,
    DecisionSubmittedForSignature,
    EligibilityInputs,
    EntitlementStarted,
    Evaluation,
    Ground,
    HouseholdMember,
)
from shared.contracts.event import DomainEvent


def draft_decision(cmd: c.DraftDecision, state: CaseState, env: Env) -> list[DomainEvent]:
    scheduled_not_done = state.inspection_date is not None and state.inspection is None
    if (
        state.status is Status.AWAITING_INSPECTION
        or scheduled_not_done
        or (env.workflow.inspection == "required" and state.inspection is None)
    ):
        raise InvalidState("the inspection must be completed before a decision is drafted")
    need_review(state, "draft a decision")
    if state.executor is not None and state.executor != cmd.actor.subject:
        raise Forbidden(f"the case is assigned to {state.executor!r}")
    draft = evaluate_draft(state, env, cmd, cmd.actor.subject)
    if isinstance(draft, CaseFlagged):
        return [draft]
    if draft.outcome == "approved" and state.documents_complete is False:
        raise InvalidState(
            "the document check found the set incomplete: it cannot be approved until a new check"
            " finds it complete"
        )
    if env.workflow.signature_required:
        # The draft stays internal; that the case awaits the head's signature is published.
        submitted = DecisionSubmittedForSignature(
            application_id=state.application_id, submitted_by=cmd.actor.subject, submitted_at=env.now
        )
        return [draft, submitted]
    # The catalog names no signing step: the executor's decision is the decision.
    after = evolve_all(state, [draft])
    return [draft, *decision_made(after, env, draft, signed_by=None, automated=False)]


def evaluate_draft(
    state: CaseState, env: Env, cmd: c.DraftDecision | None, drafted_by: str
) -> DecisionDrafted | CaseFlagged:
    """Evaluate the rules and build the draft; a missing parameter gives a flag instead."""
    edition = env.edition
    service_id = env.service.id
    inputs = _inputs(state, env, cmd)
    try:
        if cmd is not None:
            check_period(cmd, state, env)
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
    # An automated draft is made of validated parts only (the case, the evaluation, the catalog);
    # an officer's command is plain data: a draft that quotes it is validated.
    return model_of(
        DecisionDrafted,
        trusted=cmd is None,
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


def _inputs(state: CaseState, env: Env, cmd: c.DraftDecision | None) -> EligibilityInputs:
    opened = state.opened
    assert opened is not None
    household: tuple[HouseholdMember, ...] = opened.household
    if state.inspection is not None and state.inspection.act.household:
        household = state.inspection.act.household
    if cmd is not None and cmd.household is not None:
        household = cmd.household
    return model_of(  # the case's inputs are validated; an officer's command is plain data
        EligibilityInputs,
        trusted=cmd is None,
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
        commission_conclusion=state.inspection.act.conclusion if state.inspection is not None else None,
    )


def _grounds(edition: Edition, ids: tuple[str, ...] | list[str]) -> tuple[Ground, ...]:
    """Refusal grounds: the edition's refusal grounds, or `rule:<id>` naming one of its rules
    (a failed condition the catalog lists no ground for). Nothing else can be cited."""
    refusal = {g.id: g for g in edition.refusal_grounds}
    rules = {r.id: r for r in edition.rules}
    out: list[Ground] = []
    for gid in ids:
        if gid in refusal:
            g = refusal[gid]
            out.append(Ground(id=gid, text=g.text, text_kk=g.text_kk, source="refusal_grounds"))
        elif gid.startswith("rule:") and gid.removeprefix("rule:") in rules:
            out.append(Ground(id=gid, text=rules[gid.removeprefix("rule:")].text, source="rule"))
        else:
            known = sorted(refusal) or ["(the catalog lists no refusal grounds for this edition)"]
            raise InvalidInput(f"ground {gid!r} is not in the catalog's list: {', '.join(known)}")
    return tuple(out)


def _result_id(edition: Edition, outcome: DecisionOutcome) -> str | None:
    wanted = {"approved": Outcome.POSITIVE, "refused": Outcome.NEGATIVE, "information": Outcome.INFO}[outcome]
    return next((r.id for r in edition.results if r.outcome is wanted), None)


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


def decision_made(
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
    made = built(  # of the case and the draft, both validated (or built of validated parts)
        DecisionMade,
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
