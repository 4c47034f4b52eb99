"""Who may do what in the notification service: one table, read by the HTTP edge and the
handlers alike. Reading notifications and letters follows the other services: the application's
office (auditors and administrators: every office), and a ЦОН operator only the applications it
received itself (`OWN_SUBMISSIONS`, as intake and decision); a result is handed over by the office's desk
(clerk, ЦОН operator); ЦОН webhooks are an administrator's."""

from __future__ import annotations

from services.notification.domain import commands as c
from shared.auth.policy import Permission, Policy, Scope
from shared.auth.roles import CROSS_OFFICE_ROLES, Role
from shared.domain.actor import SYSTEM_ROLE

POLICY = Policy(
    {
        c.NotifyOn: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.FanOut: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.RecordAttempt: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.RecordAttempts: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.ExpireKeeping: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.RecordWebhookAttempt: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.CollectResult: Permission.of(Role.TSON, Role.CLERK),
        c.ReadNotifications: Permission.of(*Role, scope=Scope.OWN_SUBMISSIONS),
        c.ReadLetters: Permission.of(Role.TSON, Role.CLERK, Role.AUDITOR, scope=Scope.OWN_SUBMISSIONS),
        c.ReadManifest: Permission.of(Role.TSON, Role.CLERK, Role.AUDITOR),
        c.Subscribe: Permission.of(Role.ADMIN),
        c.Unsubscribe: Permission.of(Role.ADMIN),
        c.Redeliver: Permission.of(Role.ADMIN),
        c.ReadWebhooks: Permission.of(Role.ADMIN),
    },
    cross_office_roles=CROSS_OFFICE_ROLES,
    own_submissions_roles=(Role.TSON,),
    system_role=SYSTEM_ROLE,
)
