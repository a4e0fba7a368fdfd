"""What the staff, admin and platform APIs answer: towns, departments, zones, services, API
keys, staff, the audit log, routing and requests as staff see them (plain JSON)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.sla import policy_document


def town_document(town: Any, intake_domain: str | None = None) -> dict[str, Any]:
    """``intake_domain``: the deployment's (settings); without it the town shows no
    e-mail intake address, as a deployment that receives no mail."""
    from chalicelib.domain.towns import intake_address

    return {
        "jurisdiction_id": town.town_id, "name": town.name, "timezone": town.timezone,
        "locale": town.locale, "locales": list(town.locales), "status": town.status,
        "changeset": town.changeset, "contact_email": town.contact_email,
        "contact_phone": town.contact_phone, "contact_url": town.contact_url,
        "key_service": town.key_service,
        "branding": {"display_name": town.branding.display_name,
                     "logo_url": town.branding.logo_url,
                     "primary_colour": town.branding.primary_colour,
                     "accent_colour": town.branding.accent_colour},
        "calendar": {"hours": {d: list(h) if h else None for d, h in town.calendar.hours.items()},
                     "holidays": [d.isoformat() for d in town.calendar.holidays]},
        "photo_limit": town.photo_limit,
        "web_domain": town.web_domain,
        "sms_number": town.sms_number,
        # Where residents e-mail reports: the town's own address, else the default one.
        "intake_email": intake_address(town, intake_domain),
        "intake_email_is_default": town.intake_email is None,
        "alert_sms_per_second": town.alert_sms_per_second,
        "sms_monthly_cap_usd": town.sms_monthly_cap_usd,
        "alert_test_self_approval": town.alert_test_self_approval,
        "alert_test_recipients": list(town.alert_test_recipients),
        "sms_countries": list(town.texted_countries),
        "anonymous_messages_per_hour": town.anonymous_messages_per_hour,
        "open_data_grid_m": town.open_data_grid_m,
        "sensitive_services": list(town.sensitive_services),
        "sla": {"ladder": [{"at": at, "notify": who} for at, who in town.sla_ladder],
                "emergency": {"active": town.emergency_active, "services": {
                    code: None if t is None else {"amount": t.amount, "unit": t.unit}
                    for code, t in town.emergency_services.items()}}},
        "notices": {
            "quiet_hours": list(town.notices.quiet_hours) if town.notices.quiet_hours else None,
            "dispute_window_days": town.notices.dispute_window_days,
            "templates": {lang: {kind: {"subject": w.subject, "text": w.text}
                                 for kind, w in kinds.items()}
                          for lang, kinds in town.notices.templates.items()}},
    }


def department_document(d: Any, *, secret: str | None = None) -> dict[str, Any]:
    doc = {"code": d.code, "name": d.name, "email": d.email, "queue": d.queue,
           "webhook_url": d.webhook_url}
    if secret is not None:
        doc["webhook_secret"] = secret  # shown once, when it is made
    return doc


def zone_document(z: Any, *, with_geometry: bool = True) -> dict[str, Any]:
    doc = {"code": z.code, "name": z.name, "kind": z.kind, "bbox": list(z.bbox)}
    if with_geometry:
        doc["geometry"] = z.geometry
    return doc


def service_admin_document(s: Any) -> dict[str, Any]:
    return {
        "code": s.code, "name": s.name, "description": s.description, "group": s.group,
        "keywords": list(s.keywords), "type": s.type, "department": s.department,
        "active": s.active,
        "duplicate_radius_m": s.duplicate_radius_m,
        "duplicate_window_days": s.duplicate_window_days,
        "sla": None if s.sla is None else policy_document(s.sla),
        "questions": [{"code": q.code, "datatype": q.datatype, "description": q.description,
                       "required": q.required, "variable": q.variable, "order": q.order,
                       "datatype_description": q.datatype_description,
                       "values": [{"key": v.key, "name": v.name} for v in q.values]}
                      for q in s.questions],
    }


def api_key_document(k: Any, secret: str | None = None) -> dict[str, Any]:
    doc = {"key_id": k.key_id, "name": k.name, "prefix": k.prefix,
           "rate_limit_per_minute": k.rate_limit_per_minute, "revoked": k.revoked,
           "created_at": k.created_at.isoformat() if k.created_at else None,
           "scopes": sorted(k.scopes)}
    if secret is not None:
        doc["secret"] = secret  # shown once, when created or rotated
    return doc


def staff_document(m: Any) -> dict[str, Any]:
    return {"user_id": m.user_id, "email": m.email, "name": m.name, "roles": list(m.roles),
            "departments": list(m.departments), "active": m.active}


def audit_document(e: Any) -> dict[str, Any]:
    return {"at": e.at.isoformat(), "id": e.entry_id, "actor": e.actor,
            "actor_kind": e.actor_kind, "action": e.action, "target": e.target,
            "source_ip": e.source_ip, "details": e.details}


def staff_request_document(r: Any, zone: Any) -> dict[str, Any]:
    """A request as the town's staff see it: reporter contact and the whole timeline."""
    from chalicelib.schemas.open311_documents import open311_time, request_document

    doc = request_document(r, zone, extensions=True, staff=True)
    doc["department"] = r.department
    doc["entered_by"] = r.entered_by
    doc["reporter"] = {} if r.reporter.is_empty() else {
        k: v for k, v in vars(r.reporter).items() if v is not None and v != ""}
    doc["photos"] = [{"photo_id": p.photo_id, "url": f"/{p.display_key}",
                      "thumbnail_url": f"/{p.thumbnail_key}", "hidden": p.hidden,
                      "by": p.added_by} for p in r.photos]
    doc["timeline"] = [
        {"at": open311_time(e.at, zone), "kind": e.kind, "summary": e.summary,
         "description": e.description, "public": e.public, "actor_role": e.actor_role}
        for e in r.timeline]
    guess = r.intake_guess
    doc["intake_guess"] = None if guess is None else {
        "services": list(guess.services), "place_text": guess.place_text,
        "place_label": guess.place_label, "lat": guess.lat, "long": guess.long}
    return doc


def routing_document(routing: Any) -> dict[str, Any]:
    return {"triage": routing.triage,
            "rules": [{"service_code": r.service_code, "department": r.department,
                       "zone": r.zone} for r in routing.rules]}
