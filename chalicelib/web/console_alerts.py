"""The emergency manager's desk in the staff console: the town's alerts with their
progress, composing an alert in every town language, the preview of whom it reaches and
what the texts cost, the approvals queue for the second person, sending progress, cancel
and correction.

Every screen calls the services of the JSON emergency API (``services.alerts``, with the
same ``alert_ports``): they decide who may compose, approve or cancel, and refuse the
author approving their own alert. A composed alert is a draft until someone who composes
alerts asks for approval (``alerts.request_approval``, on the audit log); only then is it
in the approvals queue, and only then does the desk offer "Approve and send" (the JSON API
still approves a plain draft, for older clients).

Compose offers the town's zones as checkboxes (with their confirmed subscribers), a map
over them (``static/console_alerts.js``: a click on a zone ticks it, "draw an area" makes
a polygon) and, without JavaScript, a text box for a GeoJSON polygon that the service
checks; and "send as a test", which goes only to the town's staff test list.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.api.forms import PostedForm
    from chalicelib.domain.access import Principal
    from chalicelib.domain.alerts import Alert
    from chalicelib.domain.towns import Town
    from chalicelib.domain.zones import Zone
    from chalicelib.services.alerts import AlertPorts

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)
BASE = "/console/alerts"
# The alert's states as the desk groups them, in the order it shows them.
STATES = ("awaiting_approval", "draft", "sending", "sent", "cancelled")
TEST_LIST_MAX = 10  # as TownSettingsIn.alert_test_recipients


def _ports() -> AlertPorts:
    return bootstrap.container().alert_ports


def _town(req: PageRequest) -> Town:
    # signed_in() has set the signed-in person's town; an operator has none here and the
    # services refuse them before this is read.
    from chalicelib.domain.errors import AccessDenied

    if req.town is None:
        raise AccessDenied("alerts belong to a town")
    return req.town


def _languages(town: Town) -> list[str]:
    """Every language the town speaks (not only those the pages are translated into):
    an alert is written in each."""
    return list(dict.fromkeys(code.split("-")[0].lower() for code in town.locales)) or ["en"]


def _language_names(codes: list[str], shown_in: str) -> dict[str, str]:
    from babel import Locale, UnknownLocaleError

    names: dict[str, str] = {}
    for code in codes:
        try:
            names[code] = (Locale.parse(code).get_display_name(shown_in) or code).capitalize()
        except (ValueError, UnknownLocaleError):
            names[code] = code
    return names


def _zones(town: Town) -> list[Zone]:
    from chalicelib.services import directory

    return list(directory.catalogue_of(bootstrap.container().towns, town).zones)


def _when(req: PageRequest, town: Town) -> Any:
    """A time as staff read it: the town's local date and time, in the page's language."""
    from babel.dates import format_datetime

    return lambda at: format_datetime(at.astimezone(town.zone), format="medium",
                                      locale=req.language) if at else ""


def _context(req: PageRequest, town: Town) -> dict[str, Any]:
    languages = _languages(town)
    zones = _zones(town)
    return {"alert_languages": languages,
            "language_names": _language_names(languages, req.language),
            "zone_names": {z.code: z.name for z in zones}, "when": _when(req, town),
            # The shapes the map of an alert's zones and drawn area is drawn from.
            "area_shapes": [{"code": z.code, "name": z.name, "geometry": z.geometry}
                            for z in zones]}


# --- the desk ----------------------------------------------------------------------------


@blueprint.route(BASE, methods=["GET"])
@staff
def desk(req: PageRequest, who: Principal) -> Response:
    """The town's alerts by state, with the counts each stored alert has."""
    from chalicelib.services import alerts

    found = alerts.desk(_ports(), who)
    grouped = {state: [a for a in found if a.status == state] for state in STATES}
    return render_console(req, who, "console/alerts/desk.html", grouped=grouped,
                          progress=alerts.progress, audiences=alerts.audiences(_ports(), who),
                          saved=req.query.get("saved") == "1", errors={}, typed=None,
                          **_context(req, _town(req)))


@blueprint.route(BASE + "/test-list", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_test_list(req: PageRequest, who: Principal) -> Response:
    """The staff test list (one phone or e-mail a line), saved through the town settings
    service, which only a town administrator may use."""
    from chalicelib.api.http import validated
    from chalicelib.domain.errors import Problem
    from chalicelib.schemas.admin import TownSettingsIn
    from chalicelib.services import admin, alerts

    form = req.form()
    typed = form.fields.get("test_list", "")
    lines = [line.strip() for line in typed.splitlines() if line.strip()]
    try:
        if len(lines) > TEST_LIST_MAX:
            raise InvalidInput.of([Problem("alert_test_recipients", "too many")])
        admin.update_settings(bootstrap.container().admin, who,
                              validated(TownSettingsIn, {"alert_test_recipients": lines}))
    except InvalidInput:
        found = alerts.desk(_ports(), who)
        grouped = {state: [a for a in found if a.status == state] for state in STATES}
        return render_console(
            req, who, "console/alerts/desk.html", status=400, grouped=grouped,
            progress=alerts.progress, audiences=alerts.audiences(_ports(), who),
            saved=False, typed=typed,
            errors={"test_list": req.gettext(
                "Enter at most 10 lines, each a phone number or an e-mail address")},
            **_context(req, _town(req)))
    return redirect(req, BASE, saved=1)


@blueprint.route(BASE + "/approvals", methods=["GET"])
@staff
def approvals(req: PageRequest, who: Principal) -> Response:
    """The drafts waiting for a second person, each with exactly what it says."""
    from chalicelib.services import alerts

    waiting = alerts.awaiting_approval(_ports(), who)
    return render_console(req, who, "console/alerts/approvals.html", waiting=waiting,
                          **_context(req, _town(req)))


# --- composing ---------------------------------------------------------------------------


def _compose_form(req: PageRequest, who: Principal, *, status: int = 200,
                  values: dict[str, str] | None = None, ticked: list[str] | None = None,
                  errors: dict[str, str] | None = None, corrects: Alert | None = None
                  ) -> Response:
    from chalicelib.domain.alerts import CATEGORIES, SEVERITIES
    from chalicelib.services import alerts

    zones = alerts.zones_to_alert(_ports(), who)
    seen = alerts.audiences(_ports(), who)
    town = _town(req)
    context = _context(req, town)
    shown = dict(values or {})
    shown.setdefault("fallback_language", context["alert_languages"][0])
    return render_console(req, who, "console/alerts/compose.html", status=status,
                          values=shown, ticked=set(ticked or ()), errors=errors or {},
                          zones=zones, severities=SEVERITIES, categories=CATEGORIES,
                          corrects=corrects, audiences=seen,
                          zone_shapes=[{"code": z.code, "name": z.name,
                                        "geometry": z.geometry} for z in zones],
                          **context)


def _draft(req: PageRequest, form: PostedForm, town: Town, *, with_zones: bool
           ) -> tuple[Any, dict[str, str], list[str]]:
    """The posted compose form as the API's ``AlertIn`` (InvalidInput names each
    problem), the values to show again, and the zones ticked."""
    from chalicelib.api.emergency import AlertIn
    from chalicelib.api.http import validated
    from chalicelib.domain.errors import Problem

    languages = _languages(town)
    names = ["fallback_language", "severity", "category", "expires_at", "area", "test"] + \
        [f"{part}_{code}" for part in ("title", "body") for code in languages]
    values = {n: form.fields.get(n, "").strip() for n in names}
    ticked = [z.code for z in _zones(town) if form.fields.get(f"zone_{z.code}")] \
        if with_zones else []
    expires: str | None = None
    if values["expires_at"]:
        try:
            # A datetime-local field: the town's wall clock, no offset.
            local = datetime.fromisoformat(values["expires_at"])
            expires = local.replace(tzinfo=town.zone).isoformat() \
                if local.tzinfo is None else None
        except ValueError:
            expires = None
        if expires is None:
            raise InvalidInput.of([Problem("expires_at", "not a date and time")])
    area: object = None
    if values["area"] and with_zones:
        import json

        try:
            # The drawn (or pasted) polygon as GeoJSON; the service checks its shape.
            area = json.loads(values["area"])
        except ValueError:
            raise InvalidInput.of([Problem("area", "not GeoJSON")]) from None
        if not isinstance(area, dict):
            raise InvalidInput.of([Problem("area", "not a GeoJSON object")])
    draft = validated(AlertIn, {
        "fallback_language": values["fallback_language"] or languages[0],
        "title": {c: values[f"title_{c}"] for c in languages if values[f"title_{c}"]},
        "body": {c: values[f"body_{c}"] for c in languages if values[f"body_{c}"]},
        "severity": values["severity"], "category": values["category"],
        "expires_at": expires, "zones": ticked, "area": area,
        "test": bool(values["test"]) and with_zones})
    return draft, values, ticked


def _compose_errors(req: PageRequest, error: InvalidInput, languages: list[str],
                    fallback: str) -> dict[str, str]:
    """The problems, said next to each field in the page's language."""
    said = {
        "title": req.gettext("Enter a title in the fallback language (at most 120 "
                             "characters)"),
        "body": req.gettext("Enter the message in the fallback language (at most 1200 "
                            "characters)"),
        "severity": req.gettext("Choose how severe it is"),
        "category": req.gettext("Choose a category"),
        "expires_at": req.gettext("Enter when the alert ends, a date and time in the "
                                  "future"),
        "zones": req.gettext("Choose zones from the list"),
        "fallback_language": req.gettext("Choose the fallback language"),
        "area": req.gettext("The area must be a GeoJSON polygon whose outline closes and "
                            "does not cross itself, or leave it empty"),
    }
    found: dict[str, str] = {}
    for problem in error.problems:
        parts = problem.field.replace("[", ".").replace("]", "").split(".")
        field = parts[0] if parts[0] in said else "title"
        if field in ("title", "body"):
            # A text in another language that is too long is named by its language.
            code = parts[1] if len(parts) > 1 and parts[1] in languages else fallback
            found.setdefault(f"{field}_{code}", said[field])
        else:
            found.setdefault(field, said[field])
    return found


@blueprint.route(BASE + "/new", methods=["GET"])
@staff
def compose_form(req: PageRequest, who: Principal) -> Response:
    return _compose_form(req, who)


@blueprint.route(BASE + "/new", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def compose(req: PageRequest, who: Principal) -> Response:
    """Save the draft, then show whom it reaches before asking for approval."""
    from chalicelib.services import alerts

    form = req.form()
    town = _town(req)
    values: dict[str, str] = {k: v.strip() for k, v in form.fields.items()
                              if k != "csrf_token"}
    ticked = [z.code for z in _zones(town) if form.fields.get(f"zone_{z.code}")]
    try:
        draft, values, ticked = _draft(req, form, town, with_zones=True)
        made = alerts.compose(_ports(), who, draft)
    except InvalidInput as e:
        errors = _compose_errors(req, e, _languages(town),
                                 values.get("fallback_language") or _languages(town)[0])
        return _compose_form(req, who, status=400, values=values, ticked=ticked,
                             errors=errors)
    return redirect(req, f"{BASE}/{made.alert_id}/preview")


@blueprint.route(BASE + "/{alert_id}/preview", methods=["GET"])
@staff
def preview(req: PageRequest, who: Principal, alert_id: str) -> Response:
    """Whom the draft reaches per channel and language, the SMS segments and their cost
    (the preview service's numbers), before asking for approval."""
    from chalicelib.services import alerts

    reach = alerts.preview(_ports(), who, alert_id)
    alert = alerts.show(_ports(), who, alert_id)
    return render_console(req, who, "console/alerts/preview.html", alert=alert,
                          reach=reach, **_context(req, _town(req)))


# --- one alert: approval, progress, cancel -----------------------------------------------


@blueprint.route(BASE + "/{alert_id}", methods=["GET"])
@staff
def show(req: PageRequest, who: Principal, alert_id: str) -> Response:
    """The alert as it will be (or was) sent, with its progress while sending; for a
    draft, whom it reaches and the approve button."""
    from chalicelib.services import alerts

    alert, reach = alerts.at_desk(_ports(), who, alert_id)
    return render_console(req, who, "console/alerts/alert.html", alert=alert, reach=reach,
                          progress=alerts.progress(alert), asked=req.query.get("asked"),
                          **_context(req, _town(req)))


@blueprint.route(BASE + "/{alert_id}/approve", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def approve(req: PageRequest, who: Principal, alert_id: str) -> Response:
    """The second person approves: the alert is sent (the author is refused)."""
    from chalicelib.services import alerts

    req.form()
    alerts.approve(_ports(), who, alert_id)
    return redirect(req, f"{BASE}/{alert_id[:64]}")


@blueprint.route(BASE + "/{alert_id}/request-approval", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def request_approval(req: PageRequest, who: Principal, alert_id: str) -> Response:
    """The draft goes to the approvals queue (the audit log says who asked)."""
    from chalicelib.services import alerts

    req.form()
    alerts.request_approval(_ports(), who, alert_id)
    return redirect(req, f"{BASE}/{alert_id[:64]}", asked=1)


@blueprint.route(BASE + "/{alert_id}/cancel", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def cancel(req: PageRequest, who: Principal, alert_id: str) -> Response:
    from chalicelib.services import alerts

    req.form()
    alerts.cancel(_ports(), who, alert_id)
    return redirect(req, f"{BASE}/{alert_id[:64]}")


# --- a correction ------------------------------------------------------------------------


@blueprint.route(BASE + "/{alert_id}/correction", methods=["GET"])
@staff
def correction_form(req: PageRequest, who: Principal, alert_id: str) -> Response:
    from chalicelib.services import alerts

    first = alerts.show(_ports(), who, alert_id)
    values = {f"{part}_{code}": text for part, texts in (("title", first.title),
                                                         ("body", first.body))
              for code, text in texts.items()}
    values.update(fallback_language=first.fallback_language, severity=first.severity,
                  category=first.category,
                  expires_at=first.expires_at.astimezone(_town(req).zone).strftime(
                      "%Y-%m-%dT%H:%M"))
    return _compose_form(req, who, values=values, ticked=list(first.zones), corrects=first)


@blueprint.route(BASE + "/{alert_id}/correction", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def correct(req: PageRequest, who: Principal, alert_id: str) -> Response:
    """A follow-up to the same people: a new draft that needs its own approval."""
    from chalicelib.services import alerts

    form = req.form()
    town = _town(req)
    values: dict[str, str] = {k: v.strip() for k, v in form.fields.items()
                              if k != "csrf_token"}
    try:
        draft, values, _ = _draft(req, form, town, with_zones=False)
        made = alerts.correct(_ports(), who, alert_id, draft)
    except InvalidInput as e:
        errors = _compose_errors(req, e, _languages(town),
                                 values.get("fallback_language") or _languages(town)[0])
        first = alerts.show(_ports(), who, alert_id)
        return _compose_form(req, who, status=400, values=values, ticked=list(first.zones),
                             errors=errors, corrects=first)
    return redirect(req, f"{BASE}/{made.alert_id}/preview")
