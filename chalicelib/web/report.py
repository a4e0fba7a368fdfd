"""Report a problem: choose the service, answer its questions, say where, see reports
nearby, leave a contact if you like, check your answers, submit; then the confirmation,
where photos are added. Works without JavaScript; ``static/report.js`` adds address
suggestions as you type, "use my location" and upload progress.

The flow's state rides in hidden fields (``services.web_reports``): each screen posts to
the service's page and the answer is the next screen; only the final submit changes
anything, and it is answered with a 303 to the confirmation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.pages import (
    FORM_CONTENT_TYPES,
    PageRequest,
    find_town,
    page_view,
    redirect,
    render,
    translations,
)

if TYPE_CHECKING:
    from chalicelib.domain.towns import Town
    from chalicelib.services.web_reports import FieldError, ReportPorts, Screen

blueprint = Blueprint(__name__)
page = page_view(blueprint)

BASE = "/towns/{town}/report"
# The submitter's token, from the submit to the confirmation page (where photos are
# added with it): HttpOnly, this browser only, for a few hours.
REPORT_COOKIE = "t311_report"
REPORT_COOKIE_SECONDS = 4 * 3600


def _ports() -> ReportPorts:
    from chalicelib.services.web_reports import ReportPorts

    c = bootstrap.container()
    return ReportPorts(towns=c.towns, geocoder=c.geocoder, nearby=c.nearby, intake=c.intake,
                       idempotency=c.idempotency, limits=c.limits, now=c.now)


def _town_text(req: PageRequest) -> Any:
    """The catalogue's gettext (locale/<lang>/catalogue.po): a pack's English text in the
    page's language, else the town's own text. Plain text: the page escapes it."""
    t = translations(req.language)
    return lambda text: t.gettext(text) if text else text


@blueprint.route(BASE, methods=["GET"])
@page
def choose(req: PageRequest, town: str) -> Response:
    from chalicelib.services import web_reports

    place = find_town(req, town)
    search = req.query.get("q", "")[:200]
    c = bootstrap.container()
    choice = web_reports.choose_service(c.towns, place, search, _town_text(req),
                                        c.knowledge_ports, req.language)
    return render(req, "report/choose.html", choice=choice, search=search)


@blueprint.route(BASE + "/{service_code}", methods=["GET"])
@page
def questions(req: PageRequest, town: str, service_code: str) -> Response:
    from chalicelib.services import web_reports

    place = find_town(req, town)
    screen = web_reports.first_screen(bootstrap.container().towns, place, service_code[:100])
    return _screen(req, place, screen)


@blueprint.route(BASE + "/{service_code}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@page
def answered(req: PageRequest, town: str, service_code: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.services import web_reports

    place = find_town(req, town)
    form = req.form()
    draft = validated(web_reports.ReportDraft, {**form.fields, "attributes": form.attributes})
    outcome = web_reports.answer(
        _ports(), place, service_code[:100], draft, form.fields.get("step", ""),
        form.fields.get("change", ""), form.fields.get("place", ""), req.language,
        req.source_ip, req.raw.lambda_context)
    if isinstance(outcome, web_reports.Screen):
        return _screen(req, place, outcome)
    req.set_cookie(REPORT_COOKIE, f"{outcome.tracking_number}.{outcome.token}",
                   max_age=REPORT_COOKIE_SECONDS, same_site="Strict")
    return redirect(req, f"/towns/{place.town_id}/report/sent/{outcome.tracking_number}")


def _screen(req: PageRequest, town: Town, screen: Screen, status: int | None = None) -> Response:
    from chalicelib.services import web_reports

    assert screen.service is not None
    translate = _town_text(req)
    service = web_reports.in_language(screen.service, translate)
    listed = [replace(e, question=translate(e.question)) for e in screen.errors]
    errors = {e.field: e for e in listed}
    return render(req, f"report/{screen.name}.html",
                  status=status if status is not None else (400 if errors else 200),
                  screen=screen, draft=screen.draft, service=service, errors=errors,
                  error_list=listed,
                  hidden_answers=web_reports.hidden_answers(screen.draft),
                  place_choice=web_reports.place_choice, not_listed=web_reports.NOT_LISTED,
                  answer_names=_answer_names(service, screen.draft),
                  action=req.url(f"/towns/{town.town_id}/report/{service.code}"))


def _answer_names(service: Any, draft: Any) -> dict[str, list[str]]:
    """Each answered question's answer as the resident saw it (list values by name)."""
    names: dict[str, list[str]] = {}
    for q in service.questions:
        given = [v for v in draft.attributes.get(q.code, []) if v.strip()]
        by_key = {c.key: c.name for c in q.values}
        if given:
            names[q.code] = [by_key.get(v, v) for v in given]
    return names


# --- the confirmation, and photos added to it -------------------------------------------------


def _token_for(req: PageRequest, number: str) -> str | None:
    held, _, token = req.cookies.get(REPORT_COOKIE, "").partition(".")
    return token if held and held == number else None


def _sent_page(req: PageRequest, place: Town, number: str, error: FieldError | None = None,
               status: int = 200) -> Response:
    from chalicelib.services import web_reports

    c = bootstrap.container()
    found = web_reports.confirmation(c.requests, place, number, _token_for(req, number),
                                     c.photos)
    request = found.request
    expected = None
    if request.expected_at is not None:
        from babel.dates import format_date

        expected = format_date(request.expected_at.astimezone(place.zone).date(), "full",
                               locale=req.language)
    from chalicelib.services.photos import MAX_BYTES

    # report.js posts photos straight to the bucket: the page lets it connect there.
    connect = [found.upload_origin] if found.upload_origin else []
    return render(req, "report/sent.html", status=status, headers={"connect": connect},
                  request=request, service_name=_town_text(req)(request.service_name),
                  expected=expected, photos_allowed=found.photos_allowed, error=error,
                  added=req.query.get("added") == "1", max_mb=MAX_BYTES // 2**20,
                  max_bytes=MAX_BYTES, through_app_mb=web_reports.THROUGH_APP_BYTES // 2**20,
                  through_app_bytes=web_reports.THROUGH_APP_BYTES,
                  direct=found.upload_origin is not None)


@blueprint.route(BASE + "/sent/{number}", methods=["GET"])
@page
def sent(req: PageRequest, town: str, number: str) -> Response:
    place = find_town(req, town)
    return _sent_page(req, place, number[:40])


@blueprint.route("/towns/{town}/p/{secret}", methods=["GET"])
@page
def photo_link(req: PageRequest, town: str, secret: str) -> Response:
    """The link a report by text message ends with: a page with one button that opens the
    report. Opening the link uses nothing up: phones fetch links for their previews, and
    a preview must not spend the resident's only link."""
    find_town(req, town)
    return render(req, "report/photo_link.html", secret=secret[:64])


@blueprint.route("/towns/{town}/p/{secret}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@page
def open_photo_link(req: PageRequest, town: str, secret: str) -> Response:
    """The button on the link's page: opens that report's page, where a photo can be
    added, in this browser (the report's token goes in the same cookie the web report
    uses). The link works once and for a day; after that it is a friendly 404
    (page_view's error page)."""
    from chalicelib.services.sms_intake import open_photo_link as take_link

    place = find_town(req, town)
    req.form()  # the CSRF check: only this site's button opens it
    c = bootstrap.container()
    number, token = take_link(c.sms_conversations, place, secret[:64], c.now())
    req.set_cookie(REPORT_COOKIE, f"{number}.{token}", max_age=REPORT_COOKIE_SECONDS,
                   same_site="Lax")
    return redirect(req, f"/towns/{place.town_id}/report/sent/{number}")


@blueprint.route(BASE + "/sent/{number}/photos", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@page
def add_photo(req: PageRequest, town: str, number: str) -> Response:
    """One photo, posted as a plain multipart form (or by report.js, with progress)."""
    from chalicelib.services import web_reports

    place = find_town(req, town)
    number = number[:40]
    c = bootstrap.container()
    if len(req.raw.raw_body or b"") > c.settings.max_body_bytes:
        from chalicelib.services.photos import MAX_BYTES

        return _sent_page(req, place, number, web_reports.FieldError(
            "media", "too_big", limit=MAX_BYTES // 2**20), status=413)
    form = req.form()
    media = form.media.content if form.media else None
    error = web_reports.add_photo(c.photo_work, c.photos, place, number,
                                  _token_for(req, number), media)
    if error is not None:
        return _sent_page(req, place, number, error, status=400)
    return redirect(req, f"/towns/{place.town_id}/report/sent/{number}", added=1)


@blueprint.route(BASE + "/sent/{number}/upload-form", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@page
def upload_form(req: PageRequest, town: str, number: str) -> Response:
    """For report.js: a presigned POST for one photo, which the browser then sends straight
    to the bucket (past the app's request size). The form carries the page's CSRF token
    and the type the script read in the file's first bytes; the submitter's token stays in
    its HttpOnly cookie. JSON either way (errors too: the script falls back to the plain
    form post, whose page says what is wrong)."""
    from chalicelib.api.errors import json_error_response
    from chalicelib.api.http import respond
    from chalicelib.domain.errors import Town311Error
    from chalicelib.services import web_reports

    try:
        place = find_town(req, town)
        number = number[:40]
        content_type = req.form().fields.get("content_type", "")[:100]
        c = bootstrap.container()
        form = web_reports.photo_upload_form(c.photo_work, c.limits, place, number,
                                             _token_for(req, number), content_type)
    except Town311Error as e:
        return json_error_response(e)
    upload: Any = form["upload"]
    return respond({"url": upload["url"], "fields": upload["fields"],
                    "photo_id": form["photo_id"], "max_bytes": form["max_bytes"]})
