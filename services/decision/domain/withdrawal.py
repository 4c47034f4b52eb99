"""The applicant withdraws the application: the case closes, unless a decision was signed.

A withdrawal is taken at intake and reaches the case as `ApplicationWithdrawn` on
`applications.v1`; a head may sign the decision meanwhile. The race resolves one way, the same in
both services: **the case's own order is authoritative**. Whichever of the signature and the
withdrawal the case stream records first wins:

* the withdrawal first: the case is closed undecided (`CaseWithdrawn`, timers cancelled); a
  later signature is refused, since a withdrawn case takes no further command;
* the signature first: the decision stands and the case answers `WithdrawalTooLate`; intake,
  which may have accepted the withdrawal before it learnt of the decision, shows the application
  as decided and records on its stream that the withdrawal was overridden
  (`WithdrawalOverridden`, see `services/intake/domain/application.py`).

Once any decision was signed (also on a case reopened after a complaint) the application can no
longer be withdrawn: the complaint is what is withdrawn then, not the application.
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.env import Env
from services.decision.domain.model import CaseState, Status
from shared.contracts.decisions import CaseWithdrawn, WithdrawalTooLate
from shared.contracts.event import DomainEvent


def close_withdrawn(cmd: c.CloseWithdrawn, state: CaseState, env: Env) -> list[DomainEvent]:
    if state.status is Status.WITHDRAWN:
        return []  # the same withdrawal again: closed already
    decided = state.last_decision  # in force, or set aside by a reopening
    if decided is not None:
        return [
            WithdrawalTooLate(
                application_id=state.application_id,
                withdrawn_by=cmd.withdrawn_by,
                withdrawn_at=cmd.withdrawn_at,
                decided_at=decided.decided_at,
                outcome=decided.outcome,
            )
        ]
    return [
        CaseWithdrawn(
            application_id=state.application_id,
            withdrawn_by=cmd.withdrawn_by,
            withdrawn_at=cmd.withdrawn_at,
            closed_at=env.now,
        )
    ]
