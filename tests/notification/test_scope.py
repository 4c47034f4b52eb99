"""Office scope as in intake and decision: a ЦОН operator sees the notifications and letters of
the applications it received itself only; a clerk its office's; an auditor every office's."""

from __future__ import annotations

from services.notification.service import NotificationService
from shared.auth.roles import Role

from .events import decided, submitted
from .helpers import deliver, notify
from .test_api import client
from .test_webhooks import token


async def test_a_tson_operator_sees_only_its_own_submissions(service: NotificationService) -> None:
    app = submitted()
    await notify(service, app)
    await notify(service, decided(app))
    await deliver(service)
    own = token(Role.TSON, app.office_id, app.received_by)
    colleague = token(Role.TSON, app.office_id, "operator.other@" + app.office_id)
    params = {"application": app.application_id}
    async with client(service) as http:
        mine = (await http.get("/v1/notifications", params=params, headers=own)).json()["notifications"]
        assert {n["kind"] for n in mine} == {"talon_issued", "decision_made"}
        theirs = await http.get("/v1/notifications", params=params, headers=colleague)
        assert theirs.status_code == 200 and theirs.json()["notifications"] == []
        clerk = await http.get("/v1/notifications", params=params, headers=token(Role.CLERK, app.office_id))
        assert len(clerk.json()["notifications"]) == len(mine)
        letters = f"/v1/results/{app.application_id}/letters"
        assert (await http.get(letters, headers=own)).status_code == 200
        assert (await http.get(letters, headers=colleague)).status_code == 404
        assert (await http.get(letters, headers=token(Role.AUDITOR, "ministry"))).status_code == 200
