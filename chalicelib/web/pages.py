"""What every resident page shares: rendering a template in the resident's language, the
CSRF check on every form, cookies, security headers, and domain errors shown as a page in
the town's branding (the pages' side of the second error border; JSON routes have
``api.errors``).

Pages are server-rendered (Jinja2) and work without JavaScript; the little JavaScript there
is comes from fingerprinted files (``web.assets``), never inline: the Content-Security-Policy
allows no inline script. Each page view is ``@page_view`` and gets a :class:`PageRequest`.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import AccessDenied, InvalidInput, Problem, Town311Error

if TYPE_CHECKING:
    from babel.support import NullTranslations
    from jinja2 import Environment

    from chalicelib.api.forms import PostedForm
    from chalicelib.domain.towns import Town

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
LOCALES = HERE / "locale"

LANGUAGE_COOKIE = "t311_lang"
CSRF_COOKIE = "t311_csrf"
CSRF_FIELD = "csrf_token"
SOURCE_LANGUAGE = "en"  # the language the templates are written in
_YEAR = 365 * 24 * 3600
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}")

FORM_CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]


class CsrfRefused(AccessDenied):
    """A form post without the token this browser was given (or from another site)."""


# --- templates and languages -------------------------------------------------------------

_env_lock = threading.Lock()
_environment: Environment | None = None
_translations: dict[str, NullTranslations] = {}


def environment() -> Environment:
    """The one Jinja2 environment of the container (templates compiled once each)."""
    global _environment
    if _environment is None:
        with _env_lock:
            if _environment is None:
                from jinja2 import Environment, FileSystemLoader, select_autoescape

                env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                                  autoescape=select_autoescape(("html",)),
                                  extensions=["jinja2.ext.i18n"], trim_blocks=True,
                                  lstrip_blocks=True, auto_reload=False)
                env.policies["ext.i18n.trimmed"] = True
                _environment = env
    return _environment


def catalogue_languages() -> tuple[str, ...]:
    """Languages with a message catalogue (and the templates' own)."""
    found = {p.name for p in LOCALES.iterdir() if p.is_dir() and list(p.glob("*.po"))}
    return (SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE}))


def translations(language: str) -> NullTranslations:
    """The language's messages: every ``locale/<language>/*.po`` (one file per page area,
    so areas are translated side by side), compiled in memory on first use."""
    found = _translations.get(language)
    if found is None:
        from io import BytesIO

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
        from babel.support import NullTranslations, Translations

        merged: Translations | None = None
        for po in sorted((LOCALES / language).glob("*.po")) if language != SOURCE_LANGUAGE \
                else ():
            with po.open("rb") as f:
                catalogue = read_po(f, locale=language)
            compiled = BytesIO()
            write_mo(compiled, catalogue)
            compiled.seek(0)
            part = Translations(compiled)
            merged = part if merged is None else merged.merge(part)
        found = merged if merged is not None else NullTranslations()
        _translations[language] = found
    return found


def town_languages(town: Town) -> list[str]:
    """The languages the town offers residents that have a catalogue, its own first."""
    have = set(catalogue_languages())
    offered = [code.split("-")[0].lower() for code in town.locales]
    chosen = [code for code in dict.fromkeys(offered) if code in have]
    return chosen or [SOURCE_LANGUAGE]


def _accepted(header: str) -> list[str]:
    """Accept-Language as plain language codes, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = tag.split("-")[0].strip().lower()
        if _LANGUAGE_TAG.fullmatch(code) and q > 0:
            ranked.append((-q, i, code))
    return [code for _, _, code in sorted(ranked)]


_HTML = ("text/html", "application/xhtml+xml")


def wants_page(accept: str, query: Mapping[str, str]) -> bool:
    """For a path that answers both API clients and people (the track page, the alerts in
    force): True for a browser. ``?format=json|html`` decides if given; else an Accept
    header naming HTML at a weight no lower than JSON's. No Accept, or ``*/*``, is an API
    client, which gets the JSON it always got."""
    fmt = str(query.get("format", "")).lower()
    if fmt in ("json", "html"):
        return fmt == "html"
    weights: dict[str, float] = {}
    for part in accept.split(",")[:30]:
        media, _, options = part.strip().partition(";")
        q = 1.0
        for param in options.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        weights[media] = max(q, weights.get(media, 0.0))
    html = max(weights.get(m, 0.0) for m in _HTML)
    return html > 0 and html >= weights.get("application/json", 0.0)


# --- the request as a page sees it ---------------------------------------------------------


class PageRequest:
    """The current call, read once: the query, cookies, the resident's language, the
    browser's CSRF token and where the app is mounted (API Gateway's stage prefix)."""

    def __init__(self, blueprint: Blueprint) -> None:
        request = blueprint.current_request
        self.raw = request
        self.query: dict[str, str] = dict(request.query_params or {})
        self.headers = request.headers
        self.context: dict[str, Any] = request.context or {}
        self.cookies = _cookies(self.headers.get("cookie", ""))
        self.set_cookies: list[str] = []
        self.town: Town | None = None
        self.language = SOURCE_LANGUAGE
        stage = self.context.get("stage")
        full = str(self.context.get("path") or "")
        self.base = f"/{stage}" if stage and full.startswith(f"/{stage}/") else ""
        token = self.cookies.get(CSRF_COOKIE, "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token):
            token = secrets.token_urlsafe(32)
            self.set_cookie(CSRF_COOKIE, token, max_age=None, same_site="Strict")
        self.csrf_token = token

    @property
    def source_ip(self) -> str | None:
        return (self.context.get("identity") or {}).get("sourceIp")

    def for_town(self, town: Town) -> Town:
        """Remember the town (for the error page's branding) and settle the language:
        ``?lang=`` (remembered in a cookie), else the cookie, else the browser's
        Accept-Language, else the town's first language."""
        self.town = town
        self.choose_language(town_languages(town))
        return town

    def choose_language(self, offered: list[str]) -> None:
        """The page's language among ``offered`` (the first is the default)."""
        asked = self.query.get("lang", "").lower()
        if asked in offered:
            if self.cookies.get(LANGUAGE_COOKIE) != asked:
                self.set_cookie(LANGUAGE_COOKIE, asked, max_age=_YEAR, same_site="Lax")
            self.language = asked
        elif self.cookies.get(LANGUAGE_COOKIE) in offered:
            self.language = self.cookies[LANGUAGE_COOKIE]
        else:
            wanted = [c for c in _accepted(self.headers.get("accept-language", ""))
                      if c in offered]
            self.language = wanted[0] if wanted else offered[0]

    def set_cookie(self, name: str, value: str, *, max_age: int | None,
                   same_site: str = "Lax", path: str = "/") -> None:
        """An HttpOnly cookie (never readable by script); ``path`` inside the app, e.g.
        ``/towns/<town>/report`` for what only one area needs."""
        parts = [f"{name}={value}", f"Path={self.base}{path}", "HttpOnly",
                 f"SameSite={same_site}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if _secure_cookies():
            parts.append("Secure")
        self.set_cookies.append("; ".join(parts))

    def url(self, path: str, **query: Any) -> str:
        """A link inside the app (stage prefix added), with query parameters."""
        pairs = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.base}{path}" + (f"?{urlencode(pairs, doseq=True)}" if pairs else "")

    def form(self) -> PostedForm:
        """The posted form, after the CSRF check (every page form goes through here)."""
        from chalicelib.api.forms import read_form

        if self.raw.method not in ("POST", "PUT", "PATCH", "DELETE"):
            raise InvalidInput.of([Problem("method", "send the form with POST")])
        self._check_origin()
        form = read_form(self.raw.raw_body or b"", self.headers.get("content-type"))
        sent = form.fields.get(CSRF_FIELD, "")
        if not (self.cookies.get(CSRF_COOKIE) and sent and hmac.compare_digest(
                sent.encode(), self.cookies[CSRF_COOKIE].encode())):
            raise CsrfRefused("this form has expired: go back, reload the page and send it "
                              "again")
        return form

    def pairs(self) -> list[tuple[str, str]]:
        """The posted urlencoded form's pairs in order, repeated names kept (ticked
        checkboxes: ``form()`` keeps a field's last value only). Read after ``form()``
        has checked the CSRF token."""
        from urllib.parse import parse_qsl

        body = self.raw.raw_body or b""
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            return parse_qsl(text, keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput.of([Problem("body", "is not a valid form")]) from None

    def _check_origin(self) -> None:
        # Browsers say where a form post comes from; another site's post is refused even
        # before the token is looked at (the token is the check that always runs).
        if self.headers.get("sec-fetch-site", "same-origin") not in (
                "same-origin", "none"):
            raise CsrfRefused("forms can only be sent from this site")

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.language).gettext(message)
        return text % values if values else text


def _cookies(header: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in header.split(";")[:50]:
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in found:
            found[name] = value.strip().strip('"')
    return found


def _secure_cookies() -> bool:
    # Secure everywhere but the local run, which serves plain http on loopback.
    base = bootstrap.container().settings.public_base_url or "https://"
    return not base.startswith("http://")


# --- responses -----------------------------------------------------------------------------


def content_security_policy(nonce: str, *, connect: Iterable[str] = (),
                            form_action: Iterable[str] = ()) -> str:
    """No inline script anywhere; the one inline style block (the town's colours) carries
    a nonce. Map tiles come from OpenStreetMap; photos may be uploaded straight to S3."""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data: blob: https:",
        "connect-src " + " ".join(("'self'", *connect)),
        "form-action " + " ".join(("'self'", *form_action)),
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ))


def _headers(req: PageRequest, nonce: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    extra = dict(extra or {})
    headers: dict[str, Any] = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(
            nonce, connect=extra.pop("connect", ()), form_action=extra.pop("form_action", ())),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        # Pages show the resident's own requests and tokens: never kept by a shared cache.
        "Cache-Control": "no-store",
        "Content-Language": req.language,
        "Vary": "Cookie, Accept-Language",
    }
    headers.update(extra)
    if req.set_cookies:
        headers["Set-Cookie"] = req.set_cookies if len(req.set_cookies) > 1 \
            else req.set_cookies[0]
    return headers


def theme_colours(town: Town | None) -> dict[str, str]:
    """The town's colours, only when they are plain hex colours (they go into CSS)."""
    branding = town.branding if town else None
    primary = branding.primary_colour if branding else ""
    accent = branding.accent_colour if branding else ""
    return {"primary": primary if _HEX_COLOUR.fullmatch(primary or "") else "#1f5f8b",
            "accent": accent if _HEX_COLOUR.fullmatch(accent or "") else "#f2a900"}


def _template_gettext(t: NullTranslations) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``_("Reported at %(place)s", place=...)`` in templates: the translation is trusted
    markup, the values are escaped as they are put in (Jinja's "newstyle" gettext)."""
    from markupsafe import Markup

    def gettext(message: str, **values: Any) -> Markup:
        return Markup(t.gettext(message)) % values if values else Markup(t.gettext(message))

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> Markup:
        return Markup(t.ngettext(singular, plural, n)) % {"num": n, **values}

    return gettext, ngettext


def render(req: PageRequest, template: str, *, status: int = 200,
           headers: dict[str, Any] | None = None, **context: Any) -> Response:
    """A page: the template in the resident's language, with what every page needs."""
    from chalicelib.web import assets

    gettext, ngettext = _template_gettext(translations(req.language))
    nonce = secrets.token_urlsafe(16)
    town = req.town
    page = environment().get_template(template).render(
        req=req, town=town, language=req.language,
        languages=town_languages(town) if town else [SOURCE_LANGUAGE],
        colours=theme_colours(town), nonce=nonce, csrf_field=CSRF_FIELD,
        asset=lambda name: req.url(f"/static/{assets.asset(name).served_as}"),
        url=req.url, gettext=gettext, ngettext=ngettext, _=gettext,
        # The town's catalogue text (service names), in the page's language when a
        # catalogue translates it (pack services), else as the town wrote it.
        catalogue=translations(req.language).gettext,
        **context)
    return Response(body=page, status_code=status, headers=_headers(req, nonce, headers))


def redirect(req: PageRequest, path: str, **query: Any) -> Response:
    """After a form post: 303 to the next page (the POST is never repeated by Back)."""
    return Response(body="", status_code=303, headers={
        "Location": req.url(path, **query), "Cache-Control": "no-store",
        **({"Set-Cookie": req.set_cookies if len(req.set_cookies) > 1 else req.set_cookies[0]}
           if req.set_cookies else {})})


def error_page(req: PageRequest, error: Town311Error) -> Response:
    from chalicelib.api.errors import status_of

    status = status_of(error)
    problems = list(getattr(error, "problems", ()) or ())
    return render(req, "error.html", status=status, status_code=status,
                  message=str(error), problems=problems)


def page_view(blueprint: Blueprint) -> Callable[[Callable[..., Response]],
                                                Callable[..., Response]]:
    """A page view: called with a :class:`PageRequest` first; a domain error becomes a page
    in the town's branding (a 404 for an unknown town or number says so plainly)."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**params: str) -> Response:
            req = PageRequest(blueprint)
            try:
                return view(req, **params)
            except Town311Error as e:
                return error_page(req, e)

        return wrapper

    return decorate


def find_town(req: PageRequest, town_id: str) -> Town:
    """The town a page is for (UnknownJurisdiction: a 404 page)."""
    from chalicelib.services import directory

    return req.for_town(directory.find_town(bootstrap.container().towns, town_id))
