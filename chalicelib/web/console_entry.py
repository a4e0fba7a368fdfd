"""Enter a request for a resident (agents, supervisors, admins): choose the service, then
one form with the channel, the service's questions, the place and the resident's
contact; the confirmation gives the tracking number to read back to the resident.

The form posts to itself: "Find the address" shows the gazetteer's suggestions to pick
from (no script needed); "Enter the request" makes it (``services.staff_entry``, which
goes through the staff API's own ``staff.enter_request``), answered with a 303 to the
confirmation.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect, translations

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.services.staff_entry import EntryForm, EntryPorts

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

BASE = "/console/requests/new"


def _ports() -> EntryPorts:
    from chalicelib.services.staff_entry import EntryPorts

    c = bootstrap.container()
    return EntryPorts(towns=c.towns, geocoder=c.geocoder, intake=c.intake, nearby=c.nearby,
                      idempotency=c.idempotency, tracking=c.tracking_ports, now=c.now)


def _town_text(req: PageRequest) -> Any:
    """The catalogue's text in the page's language (as on the report pages)."""
    t = translations(req.language)
    return lambda text: t.gettext(text) if text else text


@blueprint.route(BASE, methods=["GET"])
@staff
def choose(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import staff_entry

    describe = req.query.get("describe", "")[:200]
    c = bootstrap.container()
    choice = staff_entry.services_to_enter(c.towns, who, _town_text(req), describe,
                                           c.knowledge_ports, req.language)
    return render_console(req, who, "console/entry/choose.html", choice=choice,
                          describe=describe, answered=req.query.get("answered") == "1",
                          form_key=secrets.token_urlsafe(12))


@blueprint.route("/console/requests/answered", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def answered(req: PageRequest, who: Principal) -> Response:
    """"Answered — no request needed": the caller's question was answered with an article;
    counted once as an information request on the phone channel (the form's key: a
    second click or a resubmitted form counts nothing more)."""
    from chalicelib.services import knowledge

    posted = req.form().fields
    article_id = posted.get("article_id", "")[:64]
    knowledge.answered_on_phone(bootstrap.container().knowledge_ports, who, article_id,
                                posted.get("key", "")[:64] or req.csrf_token)
    return redirect(req, BASE, answered=1)


@blueprint.route(BASE + "/{service_code}", methods=["GET"])
@staff
def blank(req: PageRequest, who: Principal, service_code: str) -> Response:
    from chalicelib.services import staff_entry

    c = bootstrap.container()
    form = staff_entry.blank_form(c.towns, who, service_code[:100], c.now())
    return _form(req, who, form)


@blueprint.route(BASE + "/{service_code}", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def enter(req: PageRequest, who: Principal, service_code: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.services import staff_entry

    posted = req.form()
    draft = validated(staff_entry.EntryDraft, {**posted.fields,
                                               "attributes": posted.attributes})
    action = posted.fields.get("action", "")[:80]
    outcome = staff_entry.enter(_ports(), who, service_code[:100], draft,
                                looking_up=action == "find",
                                follow=action[7:] if action.startswith("follow:") else None)
    if isinstance(outcome, staff_entry.EntryForm):
        return _form(req, who, outcome)
    if isinstance(outcome, staff_entry.Followed):
        return redirect(req, f"/console/requests/{outcome.request_id}", done="followed")
    return redirect(req, f"/console/requests/entered/{outcome.service_request_id}")


@blueprint.route("/console/requests/entered/{request_id}", methods=["GET"])
@staff
def entered(req: PageRequest, who: Principal, request_id: str) -> Response:
    from chalicelib.services import staff_entry

    request = staff_entry.entered(bootstrap.container().requests, who, request_id[:64])
    return render_console(req, who, "console/entry/entered.html", request=request)


def _day(req: PageRequest) -> Any:
    """A date as the agent reads it, in the town's time zone."""
    from chalicelib.web.requests_map import local_day

    zone = req.town.zone if req.town is not None else None
    return lambda at: local_day(at, zone, req.language) if zone else at.date().isoformat()


def _form(req: PageRequest, who: Principal, form: EntryForm) -> Response:
    from chalicelib.services import staff_entry, web_reports

    translate = _town_text(req)
    service = web_reports.in_language(form.service, translate)
    listed = [replace(e, question=translate(e.question)) for e in form.errors]
    return render_console(
        req, who, "console/entry/form.html", status=400 if listed else 200,
        service=service, draft=form.draft, errors={e.field: e for e in listed},
        error_list=listed, suggestions=form.suggestions, channels_list=staff_entry.CHANNELS,
        duplicates=form.duplicates, day=_day(req),
        place_choice=web_reports.place_choice, not_listed=web_reports.NOT_LISTED,
        action=req.url(f"{BASE}/{form.service.code}"))
