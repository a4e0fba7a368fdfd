"""Confirm an e-mail draft (whoever works triage): the service, chosen with Town311's
guesses first, and the place, picked from the town's addresses (typed, then "Find the
address", as on the agent's entry form, no script needed) or given as a point. The form
posts to itself; "Confirm" calls ``drafts.confirm_draft``, the service of POST
/staff/requests/{id}/confirm, which checks the permission, sets both, and routes the
request by the town's rules (303 back to the request's page). Whatever is wrong is said
on the form (400), never as an error page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.gazetteer import GazetteerEntry

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

CONFIRM = "/console/requests/{request_id}/confirm"
SUGGESTIONS = 8


@blueprint.route(CONFIRM, methods=["GET"])
@staff
def confirm_form(req: PageRequest, who: Principal, request_id: str) -> Response:
    from chalicelib.services import drafts

    draft = drafts.open_draft(bootstrap.container().draft_ports, who, request_id)
    guess = draft.intake_guess
    typed = (guess.place_label or guess.place_text or "") if guess else ""
    chosen = f"{guess.lat!r},{guess.long!r},{guess.place_label}" \
        if guess and guess.place_label and guess.lat is not None else ""
    return _form(req, who, request_id, {"service_code": draft.service_code,
                                        "place_text": typed, "place": chosen,
                                        "description": draft.description or ""},
                 suggestions=_pickable(guess))


@blueprint.route(CONFIRM, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def confirm(req: PageRequest, who: Principal, request_id: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.domain.requests import DESCRIPTION_LIMIT
    from chalicelib.schemas.drafts import ConfirmDraftIn
    from chalicelib.services import drafts, gazetteer

    fields = {k: v[:DESCRIPTION_LIMIT if k == "description" else 300]
              for k, v in req.form().fields.items()}
    c = bootstrap.container()
    drafts.open_draft(c.draft_ports, who, request_id)  # the permission, before anything
    if fields.get("action") == "find":
        typed = fields.get("place_text", "").strip()
        if len(typed) < 2:
            return _form(req, who, request_id, fields, status=400,
                         problems={"place_text": req.gettext(
                             "Type at least two letters of the address")})
        found = gazetteer.suggest(c.geocoder, c.towns, who.town_id or "", typed[:100],
                                  SUGGESTIONS)
        return _form(req, who, request_id, fields, suggestions=found)
    lat, long, address = _place(fields)
    try:
        body = validated(ConfirmDraftIn, {
            "service_code": fields.get("service_code", "").strip(), "lat": lat,
            "long": long, "address_string": address,
            "description": fields.get("description")})
        drafts.confirm_draft(c.draft_ports, who, request_id[:64], drafts.Confirmation(
            body.service_code, body.lat, body.long, body.address_string, body.description))
    except InvalidInput as e:
        return _form(req, who, request_id, fields, status=400,
                     problems=_worded(req, list(e.problems)))
    return redirect(req, f"/console/requests/{request_id[:64]}", done="confirmed")


def _place(fields: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """The point and address chosen: a suggestion picked ("lat,long,label"), else the
    point typed in the latitude and longitude boxes (no address then)."""
    picked = fields.get("place", "")
    lat, _, rest = picked.partition(",")
    long, _, label = rest.partition(",")
    if lat and long and label.strip():
        return lat, long, label.strip()
    typed_lat, typed_long = fields.get("lat", "").strip(), fields.get("long", "").strip()
    return typed_lat or None, typed_long or None, None


def _worded(req: PageRequest, problems: list[Problem]) -> dict[str, str]:
    """Each problem on the field it is about, in the reader's language."""
    say = req.gettext
    wording = {
        "service_code": say("Choose one of the town's services"),
        "place": say("Choose the place: pick an address from the town's list, or give a "
                     "point"),
        "lat": say("Give a latitude between -90 and 90"),
        "long": say("Give a longitude between -180 and 180"),
        "address_string": say("Use at most 200 characters"),
        "description": say("Use at most 4,000 characters"),
    }
    found: dict[str, str] = {}
    for p in problems:
        field = p.field if p.field in wording else "place"
        found.setdefault(field, wording[field])
    return found


def _pickable(guess: Any) -> list[GazetteerEntry] | None:
    """The guessed address as the one suggestion already on the form."""
    if guess is None or not guess.place_label or guess.lat is None or guess.long is None:
        return None
    from chalicelib.domain.gazetteer import ADDRESS, GazetteerEntry

    return [GazetteerEntry(ADDRESS, guess.place_label, guess.lat, guess.long)]


def _form(req: PageRequest, who: Principal, request_id: str, asked: dict[str, str], *,
          status: int = 200, problems: dict[str, str] | None = None,
          suggestions: list[GazetteerEntry] | None = None) -> Response:
    from chalicelib.schemas.admin_documents import staff_request_document
    from chalicelib.services import directory, drafts

    c = bootstrap.container()
    request = drafts.open_draft(c.draft_ports, who, request_id)
    town = req.town
    catalogue = directory.catalogue_of(c.towns, town) if town else None
    services = drafts.services_to_confirm(catalogue, request) if catalogue else []
    guessed = set(request.intake_guess.services) if request.intake_guess else set()
    return render_console(
        req, who, "console/work/confirm.html", status=status,
        doc=staff_request_document(request, town.zone if town else None),
        services=[(s.code, s.name, s.code in guessed) for s in services],
        asked=asked, problems=problems or {}, suggestions=suggestions,
        choice=lambda e: f"{e.lat!r},{e.long!r},{e.label}",
        action=req.url(CONFIRM.replace("{request_id}", request.request_id)))
