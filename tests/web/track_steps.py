"""Steps the track and resident page tests share: report, close, sign in through the pages
with the code read from the emulator's outbox, post a page form with the cookies a browser
holds."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from tests.functional.helpers import POTHOLE, TOWN, body, post_request
from tests.web.pages import FORM, TOWN_PAGE, cookies, csrf

# What a browser sends; curl sends */* and API clients application/json.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def make_outbox(deployment: Any) -> Any:
    """What the app sent through the emulator's SES and SNS (as the tracking tests read
    it): the sign-in codes and confirm links a resident would get."""
    from chalicelib.adapters.messages import AwsMessenger
    from local.outbox import Outbox

    deployment.client("ses").verify_email_identity(EmailAddress="311@maplefalls.example")
    deployment.container.__dict__["outbox"] = AwsMessenger(
        lambda: deployment.client("ses"), lambda: deployment.client("sns"),
        "311@maplefalls.example")
    return Outbox()


def report(api: Any, contact: dict[str, str] | None = None) -> dict[str, str]:
    """File a pothole (as the Open311 API would); its id and tracking number."""
    (receipt,) = body(post_request(api, {**POTHOLE, **(contact or {})}))
    rid = receipt["service_request_id"]
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    return {"id": rid, "number": request["extended_attributes"]["tracking_number"]}


def close(api: Any, staff: Any, rid: str, resolution: str = "fixed",
          note: str = "Filled and rolled") -> None:
    r = api.http.post(f"/departments/public_works/requests/{rid}/close",
                      body=json.dumps({"resolution": resolution, "note": note}).encode(),
                      headers=staff.headers("department_worker", departments=("public_works",)))
    assert r.status_code == 200, r.body


def page(api: Any, path: str, cookie: str = "", **headers: str) -> Any:
    return api.http.get(path, headers={**BROWSER, **({"Cookie": cookie} if cookie else {}),
                                       **headers})


def post(api: Any, path: str, fields: dict[str, str], cookie: str, token: str | None) -> Any:
    """A page form as a browser posts it: its CSRF token (None: left out) and cookies."""
    sent = {**({"csrf_token": token} if token is not None else {}), **fields}
    return api.http.post(path, body=urlencode(sent), headers={**FORM, "Cookie": cookie})


def multipart(fields: dict[str, str], photo: tuple[bytes, str] | None) -> tuple[bytes, str]:
    """A multipart/form-data body, with a ``media`` file part (or an empty one, as a
    browser sends a file input nobody used)."""
    boundary = "----town311-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    content, kind = photo if photo else (b"", "application/octet-stream")
    filename = "photo.jpg" if photo else ""
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="media"; '
                 f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                 + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def browser_token(api: Any) -> tuple[str, str]:
    """A CSRF token and the cookie header a browser holds after opening a page."""
    first = page(api, f"{TOWN_PAGE}/sign-in")
    token = csrf(first)
    return token, f"t311_csrf={token}"


def code_from(outbox: Any, to: str) -> str:
    (mail,) = [m for m in outbox.new_messages() if m["to"] == to and "code" in m["text"]]
    return re.search(r"\b(\d{6})\b", mail["text"]).group(1)


def sign_in(api: Any, outbox: Any, contact: str, number: str | None = None) -> str:
    """Sign in through the pages; the Cookie header of the signed-in browser."""
    token, jar = browser_token(api)
    sent = post(api, f"{TOWN_PAGE}/sign-in", {"contact": contact, **(
        {"number": number} if number else {})}, jar, token)
    assert sent.status_code == 303, sent.body
    jar += f"; t311_signin={cookies(sent)['t311_signin']}"
    done = post(api, f"{TOWN_PAGE}/sign-in/code", {"code": code_from(outbox, contact), **(
        {"number": number} if number else {})}, jar, token)
    assert done.status_code == 303, done.body
    return f"t311_csrf={token}; t311_resident={cookies(done)['t311_resident']}"


def token_of(jar: str) -> str:
    return re.search(r"t311_csrf=([^;]+)", jar).group(1)
