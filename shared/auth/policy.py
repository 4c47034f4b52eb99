"""Who may issue which command: one table per service, read by HTTP and Kafka alike.

A `Permission` names the roles allowed and the scope they act in. The role check needs only
the actor; the scope check needs the target (its office, region, and who submitted it), so the
service layer runs it once it has loaded the aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.domain.errors import Forbidden, NotFound


class Scope(StrEnum):
    OFFICE = "office"
    """The target's own office (cross-office roles such as auditors: every office)."""
    OFFICE_OR_REGION = "office_or_region"
    """The target's office, or its region's higher body (a token whose office is the region id)."""
    OWN_SUBMISSIONS = "own_submissions"
    """As OFFICE, and a ЦОН operator only what it submitted itself."""
    SYSTEM = "system"
    """Automated steps of the service itself (timers, automated decisions)."""


@dataclass(frozen=True)
class Permission:
    roles: frozenset[str]
    scope: Scope = Scope.OFFICE

    @classmethod
    def of(cls, *roles: str, scope: Scope = Scope.OFFICE) -> Permission:
        return cls(frozenset(str(r) for r in roles), scope)


@dataclass(frozen=True)
class Target:
    """What the scope check needs to know of the aggregate a command acts on."""

    office: str | None
    region: str | None = None
    submitted_by: str | None = None


class Policy:
    """command type -> permission. A command type missing from the table is refused."""

    def __init__(
        self,
        table: Mapping[type, Permission],
        *,
        cross_office_roles: Iterable[str] = (),
        own_submissions_roles: Iterable[str] = (),
        system_role: str = "system",
    ) -> None:
        self.table = dict(table)
        self.cross_office_roles = frozenset(str(r) for r in cross_office_roles)
        self.own_submissions_roles = frozenset(str(r) for r in own_submissions_roles)
        self.system_role = system_role

    def permission(self, command: type) -> Permission:
        try:
            return self.table[command]
        except KeyError:
            raise Forbidden(f"{command.__name__} is not a command of this service") from None

    def roles(self, command: type) -> list[str]:
        return sorted(self.permission(command).roles)

    def check_role(self, command: type, role: str) -> None:
        permission = self.permission(command)
        if role not in permission.roles:
            raise Forbidden(
                f"role {role!r} may not do this; allowed: {', '.join(sorted(permission.roles))}",
                allowed_roles=sorted(permission.roles),
            )

    def offices_visible(self, role: str, office: str) -> list[str] | None:
        """The offices a reader with `role` sees: None for cross-office roles (every office)."""
        return None if role in self.cross_office_roles else [office]

    def submitter_filter(self, command: type, role: str, subject: str) -> str | None:
        """Whose submissions alone `role` may see with `command`: the subject itself under
        `OWN_SUBMISSIONS` for the roles held to it (a ЦОН operator), else None (no such limit)."""
        if self.permission(command).scope is Scope.OWN_SUBMISSIONS and role in self.own_submissions_roles:
            return subject
        return None

    def may_act_on(self, command: type, role: str, office: str, subject: str, target: Target) -> bool:
        permission = self.permission(command)
        if role not in permission.roles:
            return False
        if role == self.system_role or role in self.cross_office_roles:
            return True
        in_office = target.office is not None and office == target.office
        if permission.scope is Scope.OFFICE_OR_REGION and target.region is not None:
            in_office = in_office or office == target.region
        if not in_office:
            return False
        if permission.scope is Scope.OWN_SUBMISSIONS and role in self.own_submissions_roles:
            return target.submitted_by == subject
        return True

    def check_scope(
        self,
        command: type,
        role: str,
        office: str,
        subject: str,
        target: Target,
        *,
        hide: bool = False,
        not_found: str = "no such application",
    ) -> None:
        """Refuse a command on a target outside the actor's scope (Forbidden). With `hide` the
        refusal is NotFound saying `not_found`, the words of a target that does not exist:
        another office's case is not revealed to exist. A role refusal stays Forbidden."""
        self.check_role(command, role)
        if self.may_act_on(command, role, office, subject, target):
            return
        if hide:
            raise NotFound(not_found)
        raise Forbidden(f"office {office!r} may not act on a case of office {target.office!r}")
