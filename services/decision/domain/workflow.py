"""A case's workflow, read from the catalog edition's steps (never hard-coded per service).

* automated: the edition says `fully_automated` - the case is decided without a human step;
* assignment_required: a `department_head` step appoints the executor (resolution / бұрыштама);
* signature_required: a `department_head` step signs the result;
* inspection: `required`, `conditional` (only when someone schedules one) or `none`;
* extension_allowed: the SLA has an `extension`;
* recurring: the result is a running entitlement (the edition has termination grounds or a
  quarterly re-confirmation rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.catalog.models import Edition
from shared.catalog.vocabulary import Automation

HEAD = "department_head"
RECONFIRMATION_RULE = "quarterly_reconfirmation"

InspectionMode = Literal["required", "conditional", "none"]


@dataclass(frozen=True)
class Workflow:
    automated: bool
    assignment_required: bool
    signature_required: bool
    inspection: InspectionMode
    extension_allowed: bool
    recurring: bool
    quarterly_reconfirmation: bool


def _head_actions(edition: Edition) -> list[str]:
    return [step.action.lower() for step in edition.steps if HEAD in step.actors]


def workflow_of(edition: Edition) -> Workflow:
    actions = _head_actions(edition)
    inspection: InspectionMode = "none"
    if edition.inspection is not None:
        inspection = "conditional" if edition.inspection.conditional else "required"
    rule_ids = {rule.id for rule in edition.rules}
    automated = edition.automation is Automation.FULLY_AUTOMATED
    return Workflow(
        automated=automated,
        assignment_required=not automated
        and any(word in a for a in actions for word in ("resolution", "executor", "assign")),
        signature_required=not automated and any("sign" in a for a in actions),
        inspection="none" if automated else inspection,
        extension_allowed=edition.sla is not None and edition.sla.extension is not None,
        recurring=bool(edition.termination_grounds) or RECONFIRMATION_RULE in rule_ids,
        quarterly_reconfirmation=RECONFIRMATION_RULE in rule_ids,
    )
