"""The console's work screens, continued: the "after" photo on close, merging a duplicate
from the request's page, and bulk actions on the town-wide list."""

from __future__ import annotations

from tests.functional.helpers import body
from tests.functional.test_photos import _jpeg_with_gps
from tests.web.pages import text
from tests.web.test_console_work import (  # noqa: F401 - crew and pothole: fixtures
    TOWN,
    TRASH,
    Session,
    _file,
    _stored,
    crew,
    pothole,
)

BOUNDARY = "----town311console"


def _multipart(session: Session, fields: dict[str, str], photo: bytes, filename: str,
               content_type: str) -> tuple[bytes, dict[str, str]]:
    parts = b"".join(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
        for k, v in {"csrf_token": session.csrf, **fields}.items())
    parts += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"media\"; "
              f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    sent = parts + photo + f"\r\n--{BOUNDARY}--\r\n".encode()
    return sent, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                  "Cookie": session.cookie}


def _close_with(session: Session, request_id: str, department: str, photo: bytes,
                filename: str = "after.jpg", content_type: str = "image/jpeg"):  # noqa: ANN202
    sent, headers = _multipart(session, {"action": "close", "department": department,
                                         "resolution": "fixed", "note": "Patched"},
                               photo, filename, content_type)
    return session.api.http.post(f"/console/requests/{request_id}/act", body=sent,
                                 headers=headers)


def _incoming(deployment) -> list[str]:  # noqa: ANN001
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    found = deployment.client("s3").list_objects_v2(Bucket=bucket, Prefix="incoming/")
    return [o["Key"] for o in found.get("Contents", [])]


def test_a_worker_closes_with_an_after_photo_the_resident_sees(api, deployment, staff,
                                                               crew, pothole) -> None:  # noqa: F811
    from chalicelib.services import photos

    page = crew.get(f"/console/requests/{pothole}")
    assert 'enctype="multipart/form-data"' in page.body.decode()
    closed = _close_with(crew, pothole, "public_works", _jpeg_with_gps())
    assert closed.status_code == 303, text(closed)
    (key,) = _incoming(deployment)
    assert key.startswith(f"incoming/{TOWN}/{pothole}/{photos.STAFF_PREFIX}")
    # What the bucket's event does with every upload, presigned or through the app.
    assert photos.process_upload(key, deployment.container.photo_ports) == "published"
    stored = _stored(api, staff, pothole)
    assert stored["status"] == "closed"
    assert [(p["by"], p["hidden"]) for p in stored["photos"]] == [("staff", False)]
    number = stored["extended_attributes"]["tracking_number"]
    track = body(api.http.get(f"/towns/{TOWN}/track/{number}",
                              headers={"Accept": "application/json"}))
    (shown,) = track["photos"]
    assert shown["url"].endswith(".jpg") and shown["photo_id"].startswith("staff-")
    assert api.http.get(shown["url"]).status_code in (200, 302, 303)


def test_a_file_that_is_no_photo_is_refused_and_nothing_changes(api, deployment, staff,
                                                                crew, pothole) -> None:  # noqa: F811
    before = _stored(api, staff, pothole)
    refused = _close_with(crew, pothole, "public_works", b"MZ\x90\x00 not a picture",
                          "after.jpg", "image/jpeg")
    assert refused.status_code == 400
    assert "JPEG, PNG, WebP or HEIC" in text(refused)
    assert _incoming(deployment) == []
    assert _stored(api, staff, pothole)["timeline"] == before["timeline"]


def test_another_departments_worker_cannot_send_a_photo(api, deployment, staff) -> None:
    trash = _file(api, deployment, TRASH)
    streets = Session(api, staff.token("department_worker", departments=("public_works",)))
    refused = _close_with(streets, trash, "sanitation", _jpeg_with_gps())
    assert refused.status_code == 403
    assert "Bins left full" not in text(refused)
    assert _incoming(deployment) == []
    assert _stored(api, staff, trash)["status"] == "open"


def test_the_photo_service_holds_workers_to_their_department(api, deployment) -> None:
    import pytest

    from chalicelib.domain.access import Principal, Role
    from chalicelib.domain.errors import AccessDenied, NotFound
    from chalicelib.services import photos

    trash = _file(api, deployment, TRASH)
    c = deployment.container
    town = c.towns.get_town(TOWN)
    assert town is not None
    worker = Principal(subject="crew-4", town_id=TOWN,
                       roles=frozenset({Role.DEPARTMENT_WORKER}),
                       departments=frozenset({"public_works"}))
    with pytest.raises(AccessDenied):
        photos.receive_staff_photo(c.photo_work, c.photos, town, worker, "sanitation", trash,
                                   _jpeg_with_gps())
    with pytest.raises(NotFound):  # naming their own department does not reach it
        photos.receive_staff_photo(c.photo_work, c.photos, town, worker, "public_works",
                                   trash, _jpeg_with_gps())
    assert _incoming(deployment) == []


# --- merging a duplicate from the request's page ---------------------------------------------


def test_a_supervisor_merges_a_nearby_duplicate(api, deployment, staff, pothole) -> None:  # noqa: F811
    from tests.functional.helpers import POTHOLE

    again = _file(api, deployment, {**POTHOLE, "description": "Same hole, again"})
    desk = Session(api, staff.token("supervisor"))
    page = desk.get(f"/console/requests/{again}")
    assert "Possible duplicates nearby" in text(page)
    number = _stored(api, staff, pothole)["extended_attributes"]["tracking_number"]
    assert f"Merge this one into {number}" in text(page)
    assert f'data-duplicate="{again}"' not in page.body.decode()  # not itself
    merged = desk.post(f"/console/requests/{again}/merge", {"into": pothole})
    assert merged.status_code == 303
    assert merged.headers["Location"] == f"/console/requests/{again}?done=merge"
    duplicate = _stored(api, staff, again)
    assert duplicate["status"] == "closed"
    assert duplicate["extended_attributes"]["state"] == "closed"
    assert duplicate["extended_attributes"]["parent_service_request_id"] == pothole
    assert [e["kind"] for e in _stored(api, staff, pothole)["timeline"]][-1] == "merged"
    closed = text(desk.get(f"/console/requests/{again}?done=merge"))
    assert "Done." in closed and "Possible duplicates nearby" not in closed
    into_closed = desk.post(f"/console/requests/{pothole}/merge", {"into": again})
    assert into_closed.status_code == 400
    assert "that request was merged into this one" in text(into_closed)


def test_a_worker_without_the_merge_right_is_offered_nothing_and_refused(
        api, deployment, staff, crew, pothole) -> None:  # noqa: F811
    from tests.functional.helpers import POTHOLE

    again = _file(api, deployment, POTHOLE)
    page = text(crew.get(f"/console/requests/{again}"))
    assert "Possible duplicates nearby" not in page
    before = _stored(api, staff, again)
    refused = crew.post(f"/console/requests/{again}/merge", {"into": pothole})
    assert refused.status_code == 403
    assert _stored(api, staff, again)["timeline"] == before["timeline"]


def test_a_merge_into_itself_or_nothing_is_explained(api, staff, pothole) -> None:  # noqa: F811
    desk = Session(api, staff.token("supervisor"))
    itself = desk.post(f"/console/requests/{pothole}/merge", {"into": pothole})
    assert itself.status_code == 400 and "cannot be merged into itself" in text(itself)
    empty = desk.post(f"/console/requests/{pothole}/merge", {"into": ""})
    assert empty.status_code == 400 and "data-error-summary" in empty.body.decode()
    assert _stored(api, staff, pothole)["status"] == "open"


# --- bulk actions on the town-wide list ------------------------------------------------------


def _pick(*requests: tuple[str, str]) -> dict[str, str]:
    return {f"pick-{request_id}": department for request_id, department in requests}


def test_the_list_offers_a_checkbox_per_request(api, staff, pothole) -> None:  # noqa: F811
    desk = Session(api, staff.token("supervisor"))
    page = desk.get("/console/requests")
    assert f'name="pick-{pothole}" value="public_works"' in page.body.decode()
    assert "Apply to the selected requests" in text(page)


def test_bulk_close_as_duplicates_reports_each_item(api, deployment, staff, pothole) -> None:  # noqa: F811
    from tests.functional.helpers import POTHOLE

    second, third = _file(api, deployment, POTHOLE), _file(api, deployment, POTHOLE)
    number = _stored(api, staff, pothole)["extended_attributes"]["tracking_number"]
    desk = Session(api, staff.token("supervisor"))
    done = desk.post("/console/requests/bulk", {
        "bulk": "duplicate", "into": f"#{number}",
        **_pick((second, "public_works"), (third, "public_works"), (pothole, "public_works"))})
    assert done.status_code == 200
    shown = text(done)
    assert "2 of 3 done." in shown
    assert "cannot be merged into itself" in shown
    for request_id in (second, third):
        stored = _stored(api, staff, request_id)
        assert stored["status"] == "closed"
        assert stored["extended_attributes"]["parent_service_request_id"] == pothole
    assert _stored(api, staff, pothole)["status"] == "open"


def test_bulk_hand_off_moves_each_and_refuses_what_moved_meanwhile(
        api, deployment, staff, crew, pothole) -> None:  # noqa: F811
    from tests.functional.helpers import POTHOLE

    second = _file(api, deployment, POTHOLE)
    trash = _file(api, deployment, TRASH)
    done = crew.post("/console/requests/bulk", {
        "bulk": "hand_off", "to": "utilities", "reason": "Their cable trench",
        **_pick((pothole, "public_works"), (second, "sanitation"), (trash, "sanitation"))})
    assert done.status_code == 200
    shown = text(done)
    assert "1 of 3 done." in shown and "Handed off" in shown
    assert _stored(api, staff, pothole)["department"] == "utilities"
    assert _stored(api, staff, second)["department"] == "public_works"  # named wrong
    assert _stored(api, staff, trash)["department"] == "sanitation"  # not theirs
    assert "Bins left full" not in shown


def test_a_worker_cannot_bulk_merge(api, deployment, staff, crew, pothole) -> None:  # noqa: F811
    from tests.functional.helpers import POTHOLE

    second = _file(api, deployment, POTHOLE)
    done = crew.post("/console/requests/bulk", {"bulk": "duplicate", "into": pothole,
                                                **_pick((second, "public_works"))})
    assert "0 of 1 done." in text(done) and "merge requests" in text(done)
    assert _stored(api, staff, second)["status"] == "open"


def test_a_bulk_form_without_a_choice_is_explained(api, staff, pothole) -> None:  # noqa: F811
    desk = Session(api, staff.token("supervisor"))
    nothing = desk.post("/console/requests/bulk", {"bulk": "duplicate", "into": pothole})
    assert nothing.status_code == 400 and "tick at least one request" in text(nothing)
    unknown = desk.post("/console/requests/bulk", {"bulk": "duplicate", "into": "ZZZZ-ZZZZ",
                                                   **_pick((pothole, "public_works"))})
    assert unknown.status_code == 400 and "data-error-summary" in unknown.body.decode()
    no_csrf = desk.post("/console/requests/bulk", {"bulk": "hand_off", "to": "utilities",
                                                   **_pick((pothole, "public_works"))},
                        token="")
    assert no_csrf.status_code == 403
    assert _stored(api, staff, pothole)["department"] == "public_works"
