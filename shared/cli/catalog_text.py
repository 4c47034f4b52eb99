"""`qyzmet catalog show`'s text: a service, its editions, terms, documents, steps and grounds."""

from __future__ import annotations

from shared.catalog.catalog import Catalog
from shared.catalog.models import Edition, Service


def describe_service(catalog: Catalog, service: Service) -> list[str]:
    """The lines `qyzmet catalog show SERVICE` prints."""
    out = [f"{service.id}: {service.name_en}", f"  kk: {service.name_kk}"]
    if service.name_ru:
        out.append(f"  ru: {service.name_ru} (not in the seeds)")
    out.append(f"  category: {service.category.value}")
    if service.subtypes:
        out.append(f"  subtypes: {', '.join(service.subtypes)}")
    out.extend(f"  note: {n}" for n in service.notes)
    missing = service.standard_missing()
    if missing is not None:
        out.append(f"  CANNOT BE APPLIED FOR: {missing} (README, 'Adding an edition')")
    for edition in service.editions:
        out.extend(describe_edition(catalog, edition))
    return out


def describe_edition(catalog: Catalog, e: Edition) -> list[str]:
    until = e.effective_to.isoformat() if e.effective_to else "(repeal not in the seeds)"
    out = [
        "",
        f"== edition {e.id} [{e.region}] {e.effective_from.isoformat()} .. {until}",
        f"   {e.doc_type.value}, {e.coverage.value}; act {e.act}: {catalog.legal_act(e.act).issuer} "
        f"No. {catalog.legal_act(e.act).number} of {catalog.legal_act(e.act).date.isoformat()}",
        f"   authority: {e.authority}",
        f"   source: seeds/{e.source.file} {e.source.lines}"
        + (f" (main text {e.source.main_text_lines})" if e.source.main_text_lines else ""),
        f"   in force: {e.in_force_note}",
    ]
    if e.coverage.value == "amendment_only":
        out.append("   (only an amendment of this version is in the seeds: no documents, term or steps)")
    if e.channels:
        out.append(f"   channels: {', '.join(e.channels)}")
    if e.sla is not None:
        sla = e.sla
        base = f"{sla.total} {sla.unit.value}" if sla.total is not None and sla.unit else "not in the seeds"
        if sla.term_parameter:
            base = f"parameter {sla.term_parameter} (per district; `qyzmet params set`)"
        start = sla.starts_at.value if sla.starts_at else "?"
        out.append(
            f"   SLA: {base}, clock starts at {start}"
            + (f"; excludes {', '.join(sla.excludes)}" if sla.excludes else "")
        )
        for c in sla.per_channel:
            term = f"{c.total} {c.unit.value}" if c.total is not None and c.unit else "no term in the seeds"
            out.append(
                f"     via {c.channel}: {term}"
                + (f" (excludes {', '.join(c.excludes)})" if c.excludes else "")
            )
        for s in sla.per_subtype:
            out.append(f"     subtype {s.subtype}: {s.total} {s.unit.value}")
        if sla.extension:
            ext = sla.extension
            out.append(f"     extension: up to {ext.max_total} {ext.unit.value} if {ext.condition}")
        for f in sla.forwarding:
            term = f"{f.max} {f.unit.value}" if f.max and f.unit else (f.cadence or "")
            cited = f" ({f.source})" if f.source else ""
            out.append(f"     forwarding {f.from_channel} -> {f.to}: {term}{cited}")
        if sla.notify_after_decision:
            n = sla.notify_after_decision
            out.append(f"     notify after decision: {n.max} {n.unit.value} ({n.who})")
        if sla.note:
            out.append(f"     note: {sla.note}")
    if e.documents:
        out.append("   documents:")
        for d in e.documents:
            flag = "required" if d.required else "optional"
            cond = f" - when: {d.condition_text}" if d.condition_text else ""
            out.append(f"     - {d.id} ({flag}){cond}")
    if e.representation is not None and e.representation.document is not None:
        rep = e.representation
        out.append(
            f"   representative: power of attorney {rep.document} required,"
            f" notarisation {rep.notarised.value} ({rep.source})"
        )
    if e.steps:
        out.append("   steps:")
        for i, step in enumerate(e.steps, 1):
            dur = f" [{step.duration.max} {step.duration.unit.value}]" if step.duration else ""
            out.append(f"     {i}. {' | '.join(step.actors)}: {step.action}{dur}")
    if e.inspection:
        out.append(f"   inspection: {e.inspection.actor or 'actor not named'}: {e.inspection.what}")
    if e.refusal_grounds:
        out.append("   refusal grounds:")
        out.extend(f"     - {g.id}: {g.text}" for g in e.refusal_grounds)
    if e.termination_grounds:
        out.append("   termination grounds:")
        out.extend(f"     - {g.id} ({g.effect.value}): {g.text}" for g in e.termination_grounds)
    if e.rules:
        out.append("   rules:")
        for r in e.rules:
            params = f" [parameters: {', '.join(r.parameters)}]" if r.parameters else ""
            out.append(f"     - {r.id}: {r.text}{params}")
    if e.complaints:
        out.append(f"   complaints to: {'; '.join(e.complaints.to) or '(no procedure in this text)'}")
        review = e.complaints.review_term
        out.append(f"     review term: parameter {review.parameter} ({review.legal_reference})")
    out.extend(f"   note: {n}" for n in e.notes)
    return out
