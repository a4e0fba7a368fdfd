"""The town's own view of its requests: search, open one with its whole timeline, and enter
a request for a resident who phoned or came to the counter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, can, require, require_department
from chalicelib.domain.errors import AccessDenied, NotFound
from chalicelib.domain.queries import RequestPage, RequestQuery
from chalicelib.domain.requests import ServiceRequest
from chalicelib.schemas import admin as wire
from chalicelib.schemas.open311_documents import as_town_time
from chalicelib.services import intake

if TYPE_CHECKING:
    from chalicelib.services.ports import IdempotencyGuard, RequestStore, TownDirectory

STAFF_WINDOW = timedelta(days=366)


def _readable_departments(who: Principal, town_id: str, asked: str | None) -> tuple[str, ...]:
    """Town-wide readers see every department; department workers only their own."""
    if can(who, Permission.READ_REQUESTS):
        require(who, Permission.READ_REQUESTS, town_id)
        return (asked,) if asked else ()
    require(who, Permission.READ_DEPARTMENT_REQUESTS, town_id)
    if asked and asked not in who.departments:
        raise AccessDenied(f"department {asked[:40]!r} is not yours")
    return (asked,) if asked else tuple(sorted(who.departments))


def search(towns: TownDirectory, store: RequestStore, who: Principal, search: wire.StaffSearch,
           now: datetime) -> RequestPage:
    """A page of the requests the person may read, filtered; "overdue" is judged at ``now``."""
    town_id = who.town_id or ""
    departments = _readable_departments(who, town_id, search.department)
    town = towns.get_town(town_id)
    if town is None:
        raise NotFound("your town no longer exists")
    # The edge (schemas.fields.TownTime) has range-checked both; no offset is town time.
    end = as_town_time(search.end_date, town.zone) if search.end_date else now
    start = max(as_town_time(search.start_date, town.zone) if search.start_date
                else end - STAFF_WINDOW, end - STAFF_WINDOW)
    query = RequestQuery(
        start=start, end=end, statuses=(search.status,) if search.status else (),
        service_codes=(search.service_code,) if search.service_code else (),
        departments=departments, zone=search.zone, text=search.q,
        channels=(search.channel,) if search.channel else (),
        overdue=search.overdue, as_of=now, disputed=search.disputed,
        page=search.page or 1, page_size=search.page_size or 50)
    return store.find(town_id, query)


def open_request(store: RequestStore, who: Principal, request_id: str) -> ServiceRequest:
    """One request with its whole timeline, internal events included."""
    town_id = who.town_id or ""
    if not can(who, Permission.READ_REQUESTS) and not can(who, Permission.READ_DEPARTMENT_REQUESTS):
        raise AccessDenied("your role does not allow reading requests")
    found = store.get(town_id, request_id, with_timeline=True) if who.town_id else None
    if found is None:
        raise NotFound(f"no service request {request_id[:64]!r}")
    require_department(who, found.department, town_id)
    return found


def enter_request(towns: TownDirectory, ports: intake.IntakePorts, who: Principal,
                  body: wire.StaffRequestIn, once: tuple[IdempotencyGuard, str] | None = None
                  ) -> intake.Receipt:
    """A request entered for a resident: it records the channel and who entered it.

    With ``once`` (the guard and a key the console's form carries), sending the same
    entry again — a double click, a reload — answers the first receipt and stores nothing
    new; the key is the agent's own, so two agents' keys never meet."""
    require(who, Permission.ENTER_REQUESTS, who.town_id)
    town = towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    catalogue = towns.get_catalogue(town.town_id, town.changeset)
    fields = {k: v for k, v in body.model_dump(exclude={"attributes", "channel"}).items()
              if v is not None}
    fields = {k: str(v) for k, v in fields.items()}
    attributes = {k: v if isinstance(v, list) else [v] for k, v in body.attributes.items()}
    form = intake.read_submission(fields, attributes, town, catalogue)
    if once is not None:
        guard, key = once
        return intake.submit_request_once(
            f"staff:{who.subject}:{key}", guard, form, town, catalogue, None, ports,
            source_ip=who.source_ip, channel=body.channel, entered_by=who.actor)
    return intake.submit_request(form, town, catalogue, None, ports, channel=body.channel,
                                 entered_by=who.actor, source_ip=who.source_ip)
