"""Running a town: settings, departments, zones, the catalogue, API keys and staff.

Every function takes the verified caller first, checks the permission it needs through
``domain.access.require`` (the one place permissions are decided), acts only on the
caller's own town, and writes what it changed to the town's audit log.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.catalogue import (
    AttributeChoice,
    Catalogue,
    Department,
    Service,
    ServiceQuestion,
)
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Problem, Town311Error
from chalicelib.domain.towns import (
    ApiKey,
    AuditEntry,
    Branding,
    BusinessCalendar,
    StaffMember,
    Town,
    changeset_at,
    new_api_key_secret,
)
from chalicelib.schemas import admin as wire

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        ArticleStore,
        AuditLog,
        IdentityProvider,
        IntakeAddresses,
        TownDirectory,
    )

if TYPE_CHECKING:  # these load only when a call needs them (a webhook, a zone, an SLA)
    from chalicelib.domain.routing import RoutingRules
    from chalicelib.domain.sla import SlaPolicy
    from chalicelib.domain.zones import Zone
    from chalicelib.services.delivery import WebhookDestinations


@dataclass(frozen=True)
class AdminPorts:
    towns: TownDirectory
    audit: AuditLog
    identity: IdentityProvider
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    webhooks: WebhookDestinations  # checks a department's webhook URL before it is saved
    # A pack's answers go here when a town is made from it or adds it (None: not kept).
    articles: ArticleStore | None = None
    # E-mail intake: towns' own addresses, and the domain the deployment receives mail on
    # (None: it receives none, and a town can set no address).
    addresses: IntakeAddresses | None = None
    intake_domain: str | None = None


def record(ports: AdminPorts, who: Principal, town_id: str, action: str, target: str,
           details: dict[str, object] | None = None) -> None:
    """Write one audit entry for a change ``who`` made."""
    ports.audit.record(AuditEntry(
        town_id=town_id, at=ports.now(), entry_id=ports.new_id(), actor=who.actor,
        actor_kind=who.kind, action=action, target=target, source_ip=who.source_ip,
        details=details or {}))


def own_town(ports: AdminPorts, who: Principal, permission: Permission,
             named_in_body: str | None = None) -> Town:
    """The caller's town, after the permission check; a different town named in a body
    is refused rather than silently ignored."""
    require(who, permission, who.town_id)
    if named_in_body is not None and named_in_body != who.town_id:
        raise InvalidInput.of([Problem("jurisdiction_id", "differs from your sign-in's town")])
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    return town


def catalogue_of(ports: AdminPorts, town: Town) -> Catalogue:
    return ports.towns.get_catalogue(town.town_id, town.changeset)


# --- settings -----------------------------------------------------------------------------


def _check_countries(codes: list[str]) -> None:
    """Only countries phone numbers exist for (phonenumbers' list of regions)."""
    import phonenumbers

    unknown = [c for c in codes if c not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise InvalidInput.of([Problem("sms_countries",
                                       f"{', '.join(unknown)} is not a country code")])


def update_settings(ports: AdminPorts, who: Principal, body: wire.TownSettingsIn) -> Town:
    town = own_town(ports, who, Permission.CONFIGURE_TOWN, body.jurisdiction_id)
    updated = _with_settings(town, body)
    changes = body.model_dump(exclude_unset=True, exclude={"jurisdiction_id"}, mode="json")
    if "intake_email" in changes:
        updated = dataclasses.replace(updated, intake_email=_intake_email(ports, town, body))
    moved_address = updated.intake_email != town.intake_email
    if moved_address:
        from chalicelib.services.mail_intake import point_intake_address

        # The address's pointer first: another town's address is refused before anything
        # of this town is written.
        point_intake_address(_addresses(ports), town, updated.intake_email)
    try:
        if updated.sms_number != town.sms_number:
            # The number's pointer (an inbound text's town) moves with it, in one write.
            _map_sms_number(ports, updated, town.sms_number)
        else:
            ports.towns.save_town(updated)
    except Town311Error:
        if moved_address:
            # Put the address's pointer back: the stored town still names the old one.
            _addresses(ports).point(town.intake_email, town.town_id, updated.intake_email)
        raise
    if moved_address:
        changes["intake_email"] = updated.intake_email
    record(ports, who, town.town_id, "town.settings_changed", town.town_id, changes)
    return updated


def _intake_email(ports: AdminPorts, town: Town, body: wire.TownSettingsIn) -> str | None:
    """The town's own e-mail intake address as stored (``mail_intake`` decides what a
    deployment can receive); None: the default ``<town id>@<intake domain>``."""
    from chalicelib.services.mail_intake import checked_intake_address

    return checked_intake_address(ports.towns, town, ports.intake_domain, body.intake_email)


def _addresses(ports: AdminPorts) -> IntakeAddresses:
    if ports.addresses is None:
        raise InvalidInput.of([Problem("intake_email", "this deployment receives no e-mail")])
    return ports.addresses


def _map_sms_number(ports: AdminPorts, town: Town, previous: str | None) -> None:
    """The SMS number's pointer and the town in one write; another town's number is a
    Conflict naming ``sms_number`` (so a form can say so next to the field)."""
    try:
        ports.towns.map_sms_number(town, previous)
    except Conflict as e:
        raise Conflict(e.message, [Problem("sms_number", "is another town's number")]) from e


def preview_settings(ports: AdminPorts, who: Principal, body: wire.TownSettingsIn) -> Town:
    """The town as ``update_settings`` would store it, checked the same way, but not
    stored (the console's "preview the resident page" before saving)."""
    town = own_town(ports, who, Permission.CONFIGURE_TOWN, body.jurisdiction_id)
    return _with_settings(town, body)


def _with_settings(town: Town, body: wire.TownSettingsIn) -> Town:
    changes = body.model_dump(exclude_unset=True, exclude={"jurisdiction_id"}, mode="json")
    updated = town
    for name in ("name", "timezone", "locale", "contact_email", "contact_phone",
                 "contact_url", "key_service", "photo_limit", "alert_sms_per_second",
                 "sms_monthly_cap_usd", "alert_test_self_approval",
                 "anonymous_messages_per_hour", "open_data_grid_m"):
        if name in changes:
            updated = dataclasses.replace(updated, **{name: getattr(body, name)})
    if body.locales is not None:
        updated = dataclasses.replace(updated, locales=tuple(dict.fromkeys(body.locales)))
    if body.sensitive_services is not None:
        updated = dataclasses.replace(
            updated, sensitive_services=tuple(dict.fromkeys(body.sensitive_services)))
    if body.sms_countries is not None:
        _check_countries(body.sms_countries)
        updated = dataclasses.replace(updated,
                                      sms_countries=tuple(dict.fromkeys(body.sms_countries)))
    if "sms_number" in changes:
        updated = dataclasses.replace(updated, sms_number=_sms_number(body.sms_number,
                                                                      updated.region))
    if body.alert_test_recipients is not None:
        updated = dataclasses.replace(updated, alert_test_recipients=_test_recipients(
            body.alert_test_recipients, updated.locale))
    if body.branding is not None:
        updated = dataclasses.replace(updated, branding=Branding(**body.branding.model_dump()))
    if body.calendar is not None:
        holidays = list(body.calendar.holidays)
        if body.calendar.year is not None:
            from chalicelib.domain.sla import us_federal_holidays

            # That year's holidays are the ones given; other years' are kept.
            holidays += [d for d in town.calendar.holidays if d.year != body.calendar.year]
            if body.calendar.us_federal_holidays:
                holidays += us_federal_holidays(body.calendar.year)
        updated = dataclasses.replace(updated, calendar=BusinessCalendar(
            hours=dict(body.calendar.hours), holidays=tuple(sorted(set(holidays)))))
    if body.sla is not None:
        from chalicelib.domain.sla import SlaTarget

        updated = dataclasses.replace(
            updated, sla_ladder=tuple((step.at, step.notify) for step in body.sla.ladder),
            emergency_active=body.sla.emergency.active,
            emergency_services={code: None if t is None else SlaTarget(t.amount, t.unit)
                                for code, t in body.sla.emergency.services.items()})
    if body.notices is not None:
        from chalicelib.domain.notices import NoticeSettings, check_templates

        templates = check_templates({lang: {kind: w.model_dump() for kind, w in kinds.items()}
                                     for lang, kinds in body.notices.templates.items()})
        updated = dataclasses.replace(updated, notices=NoticeSettings(
            quiet_hours=body.notices.quiet_hours,
            dispute_window_days=body.notices.dispute_window_days, templates=templates))
    return updated


def _sms_number(given: str | None, region: str) -> str | None:
    """The town's SMS number as stored and looked up: E.164, or None to remove it."""
    from chalicelib.domain.phones import e164

    return e164(given, region, "sms_number") if given and given.strip() else None


def _test_recipients(given: list[str], locale: str) -> tuple[str, ...]:
    """The staff test list as stored: e-mail addresses as given, phones in E.164 (the
    town's country for numbers without one), each once."""
    from chalicelib.domain.subscribers import e164, region_of

    found: dict[str, str] = {}
    problems = []
    for n, value in enumerate(given):
        address = value.strip()
        if "@" not in address:
            try:
                address = e164(address, region_of(locale))
            except InvalidInput:
                problems.append(Problem(f"alert_test_recipients[{n}]",
                                        "is not a valid phone number"))
                continue
        found.setdefault(address.lower(), address)
    if problems:
        raise InvalidInput.of(problems)
    return tuple(found.values())


# --- departments and zones ----------------------------------------------------------------


def put_department(ports: AdminPorts, who: Principal, code: str,
                   body: wire.DepartmentIn) -> tuple[Department, str | None]:
    """Add or change a department and its delivery channels. A webhook gets an HMAC
    secret when it is first set (or on request); it is returned this once only. Its URL
    must be https to a host whose every address is public (checked now, and again before
    every delivery)."""
    town = own_town(ports, who, Permission.CONFIGURE_TOWN)
    _check_code("code", code)
    if body.webhook_url:
        try:
            ports.webhooks.check(body.webhook_url)
        except InvalidInput as e:  # UnsafeDestination, UnresolvedHost
            raise InvalidInput.of([Problem("webhook_url", e.message)]) from e
    current = catalogue_of(ports, town).department(code)
    secret = current.webhook_secret if current and body.webhook_url else None
    new_secret_shown = None
    if body.webhook_url and (secret is None or body.rotate_webhook_secret):
        secret = new_secret_shown = "whsec_" + secrets.token_urlsafe(32)
    department = Department(code, body.name, body.email, queue=body.queue,
                            webhook_url=body.webhook_url, webhook_secret=secret)
    ports.towns.save_department(town.town_id, department, changeset_at(ports.now()))
    record(ports, who, town.town_id, "department.saved", code,
           body.model_dump(exclude={"rotate_webhook_secret"})
           | {"webhook_secret_rotated": new_secret_shown is not None})
    return department, new_secret_shown


def delete_department(ports: AdminPorts, who: Principal, code: str) -> None:
    town = own_town(ports, who, Permission.CONFIGURE_TOWN)
    catalogue = catalogue_of(ports, town)
    if catalogue.department(code) is None:
        raise NotFound(f"no department {code[:40]!r}")
    users = [s.code for s in catalogue.services if s.active and s.department == code]
    if users:
        raise Conflict(f"services still route to {code}: {', '.join(users)}; "
                       "move them to another department first")
    ports.towns.delete_department(town.town_id, code, changeset_at(ports.now()))
    record(ports, who, town.town_id, "department.deleted", code)


def put_zone(ports: AdminPorts, who: Principal, code: str, body: wire.ZoneIn) -> Zone:
    from chalicelib.domain.zones import Zone, parse_zone_geometry, zone_code_problems

    town = own_town(ports, who, Permission.CONFIGURE_TOWN)
    problems = zone_code_problems(code)
    if problems:
        raise InvalidInput.of(problems)
    zone = Zone(code=code, name=body.name, kind=body.kind,
                geometry=parse_zone_geometry(body.geometry))
    ports.towns.save_zone(town.town_id, zone, changeset_at(ports.now()))
    record(ports, who, town.town_id, "zone.saved", code, {"name": body.name, "kind": body.kind})
    return zone


def delete_zone(ports: AdminPorts, who: Principal, code: str) -> None:
    town = own_town(ports, who, Permission.CONFIGURE_TOWN)
    if not any(z.code == code for z in catalogue_of(ports, town).zones):
        raise NotFound(f"no zone {code[:40]!r}")
    ports.towns.delete_zone(town.town_id, code, changeset_at(ports.now()))
    record(ports, who, town.town_id, "zone.deleted", code)


# --- routing rules ------------------------------------------------------------------------


def put_routing(ports: AdminPorts, who: Principal, body: wire.RoutingIn) -> RoutingRules:
    """Replace the town's routing rules; every service, department and zone must exist."""
    from chalicelib.domain.routing import RoutingRule, RoutingRules

    town = own_town(ports, who, Permission.CONFIGURE_TOWN)
    catalogue = catalogue_of(ports, town)
    zones = {z.code for z in catalogue.zones}
    problems = []
    if catalogue.department(body.triage) is None:
        problems.append(Problem("triage", f"no department {body.triage!r}"))
    for n, rule in enumerate(body.rules):
        if rule.service_code not in catalogue.by_code:
            problems.append(Problem(f"rules.{n}.service_code",
                                    f"no service {rule.service_code!r}"))
        if catalogue.department(rule.department) is None:
            problems.append(Problem(f"rules.{n}.department",
                                    f"no department {rule.department!r}"))
        if rule.zone is not None and rule.zone not in zones:
            problems.append(Problem(f"rules.{n}.zone", f"no zone {rule.zone!r}"))
    if problems:
        raise InvalidInput.of(problems)
    routing = RoutingRules(tuple(RoutingRule(r.service_code, r.department, r.zone)
                                 for r in body.rules), body.triage)
    ports.towns.save_routing(town.town_id, routing, changeset_at(ports.now()))
    record(ports, who, town.town_id, "routing.changed", town.town_id,
           {"rules": len(routing.rules), "triage": routing.triage})
    return routing


def dry_run_routing(ports: AdminPorts, who: Principal,
                    body: wire.DryRunIn) -> dict[str, object]:
    """Where a request of this service at this point would go, and why; changes nothing."""
    from chalicelib.services.routing import decide, zones_of

    town = own_town(ports, who, Permission.READ_TOWN_SETTINGS)
    catalogue = catalogue_of(ports, town)
    if body.service_code not in catalogue.by_code:
        raise InvalidInput.of([Problem("service_code", f"no service {body.service_code!r}")])
    decision = decide(catalogue, body.service_code, body.lat, body.long)
    department = catalogue.department(decision.department)
    return {"department": decision.department,
            "agency_responsible": department.name if department else None,
            "reason": decision.reason, "zones": zones_of(catalogue, body.lat, body.long)}


# --- the catalogue ------------------------------------------------------------------------


def _sla_policy(body: wire.ServiceIn) -> SlaPolicy | None:
    """The service's SLA; a priority must name one of its questions and, for a list
    question, one of its answers."""
    if body.sla is None:
        return None
    from chalicelib.domain.sla import policy_from_document

    questions = {q.code: q for q in body.questions}
    problems = []
    for n, rule in enumerate(body.sla.priorities):
        question = questions.get(rule.question)
        if question is None:
            problems.append(Problem(f"sla.priorities.{n}.question",
                                    f"{rule.question!r} is not a question of this service"))
        elif question.values and rule.answer not in {v.key for v in question.values}:
            problems.append(Problem(f"sla.priorities.{n}.answer",
                                    f"{rule.answer!r} is not an answer to {rule.question!r}"))
    if problems:
        raise InvalidInput.of(problems)
    return policy_from_document(body.sla.model_dump())


def put_service(ports: AdminPorts, who: Principal, code: str, body: wire.ServiceIn) -> Service:
    """Add a service or replace one; its requests keep their history either way."""
    town = own_town(ports, who, Permission.EDIT_CATALOGUE)
    _check_code("code", code)
    catalogue = catalogue_of(ports, town)
    if body.department is not None and catalogue.department(body.department) is None:
        raise InvalidInput.of([Problem("department", f"no department {body.department!r}")])
    service = Service(
        code=code, name=body.name, description=body.description, group=body.group,
        keywords=tuple(body.keywords), type=body.type, department=body.department,
        duplicate_radius_m=body.duplicate_radius_m,
        duplicate_window_days=body.duplicate_window_days,
        sla=_sla_policy(body),
        questions=tuple(
            ServiceQuestion(code=q.code, datatype=q.datatype, description=q.description,
                            required=q.required, variable=q.variable, order=q.order,
                            datatype_description=q.datatype_description,
                            values=tuple(AttributeChoice(v.key, v.name) for v in q.values))
            for q in body.questions))
    codes = [s.code for s in catalogue.services]
    position = codes.index(code) if code in codes else len(codes)
    ports.towns.save_service(town.town_id, service, position, changeset_at(ports.now()))
    action = "service.changed" if code in codes else "service.added"
    record(ports, who, town.town_id, action, code, {"name": body.name})
    return service


def retire_service(ports: AdminPorts, who: Principal, code: str, *,
                   active: bool = False) -> Service:
    """Take a service out of the public catalogue (or bring it back); nothing is deleted,
    so its requests and their history stay as they were."""
    town = own_town(ports, who, Permission.EDIT_CATALOGUE)
    catalogue = catalogue_of(ports, town)
    current = catalogue.by_code.get(code)
    if current is None:
        raise NotFound(f"no service {code[:40]!r}")
    changed = dataclasses.replace(current, active=active)
    position = [s.code for s in catalogue.services].index(code)
    ports.towns.save_service(town.town_id, changed, position, changeset_at(ports.now()))
    record(ports, who, town.town_id, "service.restored" if active else "service.retired", code)
    return changed


@dataclass(frozen=True)
class PackAdditions:
    """What adding a template pack would bring: its departments and services the town
    does not have yet (by code; what the town has keeps its own version)."""

    pack: str
    departments: tuple[Department, ...]
    services: tuple[Service, ...]


def _pack_additions(town_catalogue: Catalogue, pack: str) -> PackAdditions:
    from chalicelib.services.towns import load_pack

    try:
        template = load_pack(pack)
    except (ValueError, OSError):
        raise InvalidInput.of([Problem("pack", f"no template pack {pack!r}")]) from None
    return PackAdditions(
        pack,
        tuple(d for d in template.departments if town_catalogue.department(d.code) is None),
        tuple(s for s in template.services if s.code not in town_catalogue.by_code))


def pack_additions(ports: AdminPorts, who: Principal, pack: str) -> PackAdditions:
    """What ``add_pack`` would add to the caller's town; changes nothing."""
    town = own_town(ports, who, Permission.EDIT_CATALOGUE)
    return _pack_additions(catalogue_of(ports, town), pack)


def add_pack(ports: AdminPorts, who: Principal, pack: str) -> list[str]:
    """Add a template pack's services (and departments) that the town does not have yet,
    and its answers the town does not have (chalicelib.services.knowledge)."""
    town = own_town(ports, who, Permission.EDIT_CATALOGUE)
    catalogue = catalogue_of(ports, town)
    additions = _pack_additions(catalogue, pack)
    changeset = changeset_at(ports.now())
    for department in additions.departments:
        ports.towns.save_department(town.town_id, department, changeset)
    added = []
    position = len(catalogue.services)
    for service in additions.services:
        ports.towns.save_service(town.town_id, service, position, changeset)
        position += 1
        added.append(service.code)
    answers = add_pack_answers(ports, town.town_id, pack)
    record(ports, who, town.town_id, "catalogue.pack_added", pack,
           {"services": added, "articles": answers})
    return added


def add_pack_answers(ports: AdminPorts, town_id: str, pack: str) -> list[str]:
    """The pack's articles the town does not have, added (none without an article store)."""
    if ports.articles is None:
        return []
    from chalicelib.services.towns import add_pack_articles

    return add_pack_articles(ports.articles, town_id, pack, ports.now())


def _check_code(field: str, code: str) -> None:
    if not wire.is_safe_code(code):
        raise InvalidInput.of([Problem(field, "use 1-40 lower-case letters, digits, - or _")])


# --- API keys -----------------------------------------------------------------------------


def create_api_key(ports: AdminPorts, who: Principal, body: wire.ApiKeyIn) -> tuple[ApiKey, str]:
    """A new key for an integration; the secret is shown once, only its hash is kept."""
    town = own_town(ports, who, Permission.MANAGE_API_KEYS)
    return _issue_key(ports, who, town, body.name, body.rate_limit_per_minute,
                      frozenset(body.scopes))


def _issue_key(ports: AdminPorts, who: Principal, town: Town, name: str,
               rate_limit: int, scopes: frozenset[str]) -> tuple[ApiKey, str]:
    secret = new_api_key_secret()
    key = ApiKey(town_id=town.town_id, key_id=ports.new_id().lower(), name=name,
                 rate_limit_per_minute=rate_limit, prefix=secret[:9], created_at=ports.now(),
                 scopes=scopes)
    ports.towns.add_api_key(key, secret)
    record(ports, who, town.town_id, "api_key.created", key.key_id,
           {"name": name, "rate_limit_per_minute": rate_limit, "scopes": sorted(scopes)})
    return key, secret


def list_api_keys(ports: AdminPorts, who: Principal) -> list[ApiKey]:
    town = own_town(ports, who, Permission.MANAGE_API_KEYS)
    return ports.towns.list_api_keys(town.town_id)


def revoke_api_key(ports: AdminPorts, who: Principal, key_id: str) -> ApiKey:
    town = own_town(ports, who, Permission.MANAGE_API_KEYS)
    revoked = ports.towns.revoke_api_key(town.town_id, key_id)
    record(ports, who, town.town_id, "api_key.revoked", key_id)
    return revoked


def rotate_api_key(ports: AdminPorts, who: Principal, key_id: str) -> tuple[ApiKey, str]:
    """A new secret for the same integration (same name, rate and scopes); the old one
    stops."""
    town = own_town(ports, who, Permission.MANAGE_API_KEYS)
    current = next((k for k in ports.towns.list_api_keys(town.town_id) if k.key_id == key_id),
                   None)
    if current is None:
        raise NotFound(f"no API key {key_id[:40]!r}")
    if current.revoked:
        raise Conflict("a revoked key cannot be rotated; create a new one")
    replacement = _issue_key(ports, who, town, current.name, current.rate_limit_per_minute,
                             current.scopes)
    ports.towns.revoke_api_key(town.town_id, key_id)
    record(ports, who, town.town_id, "api_key.rotated", key_id,
           {"replaced_by": replacement[0].key_id})
    return replacement


# --- staff --------------------------------------------------------------------------------


def add_staff(ports: AdminPorts, who: Principal, body: wire.StaffIn) -> StaffMember:
    town = own_town(ports, who, Permission.MANAGE_STAFF)
    catalogue = catalogue_of(ports, town)
    unknown = [d for d in body.departments if catalogue.department(d) is None]
    if unknown:
        raise InvalidInput.of([Problem("departments", f"no department {unknown[0]!r}")])
    if "department_worker" in body.roles and not body.departments:
        raise InvalidInput.of([Problem("departments",
                                       "a department worker needs at least one department")])
    if any(s.email.lower() == body.email.lower() for s in ports.towns.list_staff(town.town_id)):
        raise Conflict(f"{body.email} is already on the staff")
    member = StaffMember(user_id="", town_id=town.town_id, email=body.email, name=body.name,
                         roles=tuple(r.value for r in body.roles),
                         departments=tuple(body.departments))
    member = dataclasses.replace(member, user_id=ports.identity.provision(member))
    ports.towns.save_staff(member)
    record(ports, who, town.town_id, "staff.added", member.user_id,
           {"email": body.email, "roles": list(member.roles),
            "departments": list(member.departments)})
    return member


def list_staff(ports: AdminPorts, who: Principal) -> list[StaffMember]:
    town = own_town(ports, who, Permission.MANAGE_STAFF)
    return ports.towns.list_staff(town.town_id)


def remove_staff(ports: AdminPorts, who: Principal, user_id: str) -> StaffMember:
    town = own_town(ports, who, Permission.MANAGE_STAFF)
    member = ports.towns.get_staff(town.town_id, user_id)
    if member is None:
        raise NotFound(f"no staff member {user_id[:60]!r}")
    ports.identity.disable(member)
    removed = dataclasses.replace(member, active=False)
    ports.towns.save_staff(removed)
    record(ports, who, town.town_id, "staff.removed", user_id, {"email": member.email})
    return removed


# --- the audit log ------------------------------------------------------------------------


def read_audit_log(ports: AdminPorts, who: Principal, before: datetime | None,
                   limit: int) -> list[AuditEntry]:
    town = own_town(ports, who, Permission.READ_AUDIT_LOG)
    return ports.audit.page(town.town_id, before, min(max(limit, 1), 200))


# --- reading the configuration ------------------------------------------------------------


def read_town(ports: AdminPorts, who: Principal) -> tuple[Town, Catalogue]:
    """The caller's town and its whole catalogue (retired services included)."""
    town = own_town(ports, who, Permission.READ_TOWN_SETTINGS)
    return town, catalogue_of(ports, town)
