"""The one-complaint read with personal data (the complainant, the text, the attachments and the
reviewer's reasoning, all from the stream): audited, and only for the offices that handle the
complaint - the one that registered it and the one that reviews it - and for auditors and
administrators. An office that is only contested sees the complaint in the lists (no personal
data); its one-complaint read is 404, as for any other office. The official the complaint names
(`officer` = their token's subject) may not read it (403)."""

from __future__ import annotations

from typing import Any

from services.complaints.domain.commands import ReadComplaint
from services.complaints.domain.policy import POLICY
from services.complaints.service_layer.unit_of_work import PgComplaintsUnit
from shared.audit import AuditEntry
from shared.audit.pseudonyms import iin_pseudonym
from shared.contracts.complaints import ComplaintRegistered
from shared.domain.actor import Actor
from shared.domain.errors import Forbidden, NotFound
from shared.service_layer import Meta

PERSONAL_FIELDS = ["complainant", "text", "attachments", "reasoning"]


def names_the_actor(complaint: ComplaintRegistered, actor: Actor) -> bool:
    """Is `actor` the official the complaint is about?"""
    officer = (complaint.officer or "").strip().casefold()
    return bool(officer) and officer == actor.subject.strip().casefold()


async def read_one(cmd: ReadComplaint, uow: PgComplaintsUnit, meta: Meta) -> dict[str, Any]:
    """One complaint with the personal data: a personal-data read, audited."""
    actor = meta.actor
    POLICY.check_role(ReadComplaint, actor.role)
    row = await uow.queries.one(uow.conn, cmd.complaint_id)
    visible = POLICY.offices_visible(actor.role, actor.office)
    if row is None or (
        visible is not None and not {row["registered_at_office"], row["reviewing_office"]} & set(visible)
    ):
        raise NotFound("no such complaint")
    state, _ = await uow.complaints.load(cmd.complaint_id)
    complaint = state.complaint
    if names_the_actor(complaint, actor):
        raise Forbidden("this complaint names you as the official complained about: you may not read it")
    details: dict[str, Any] = {"query": "complaint with complainant", "fields": PERSONAL_FIELDS}
    if complaint.complainant.iin:  # whose data: `qyzmet audit export --iin` finds the read by it
        details["person_pseudonym"] = iin_pseudonym(uow.audit_key, complaint.complainant.iin)
    await uow.audit.append(
        AuditEntry(
            actor=actor.subject, role=actor.role, office=actor.office, action="personal_data.read",
            subject=f"complaint/{cmd.complaint_id}", details=details, correlation_id=meta.correlation_id,
        )
    )  # fmt: skip
    return {
        **row,
        "complainant": complaint.complainant.model_dump(mode="json"),
        "text": complaint.text,
        "attachments": [a.model_dump(mode="json") for a in complaint.attachments],
        "reasoning": state.resolved.reasoning if state.resolved else None,
        "reopen_withheld": state.resolved.reopen_withheld if state.resolved else None,
        "review_term_basis": complaint.review_term_basis,
        "routing_basis": complaint.routing_basis,
    }
