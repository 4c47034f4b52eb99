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


_KNOWN: dict[int, tuple[Edition, Workflow]] = {}
"""Workflows read so far, by edition object (kept with it: an id is only unique while its object
lives). The catalog's editions live as long as the catalog; a re-read catalog brings new ones."""
_KNOWN_MAX = 1024


def workflow_of(edition: Edition) -> Workflow:
    """The edition's workflow (read once per edition object: a case asks for it on every command,
    an automated decision several times)."""
    known = _KNOWN.get(id(edition))
    if known is not None and known[0] is edition:
        return known[1]
    if len(_KNOWN) >= _KNOWN_MAX:  # editions of catalogs read before: forget them
        _KNOWN.clear()
    workflow = _read_workflow(edition)
    _KNOWN[id(edition)] = (edition, workflow)
    return workflow


def _read_workflow(edition: Edition) -> Workflow:
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
