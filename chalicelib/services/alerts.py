"""Emergency alerts: compose, preview, approve by a second person, fan out, cancel.

Recipients are chosen with one Query per targeted zone (or the town-wide audience) of
confirmed subscribers; a subscriber in two targeted zones counts once. Sending goes
through the notices queue in batches of 50 recipients; each message is claimed with a
conditional write before it is sent, so a retried or re-delivered batch never sends anyone
the same alert twice on the same channel, and progress is counted as it happens.

Each message is settled (and counted) once, in the transaction that ends its claim; the
fan-out sets how many messages it planned, and whoever settles the last one marks the
alert sent. A test alert goes only to the town's staff test list, with TEST first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib.domain import alerts as domain
from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.alerts import Alert
from chalicelib.domain.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    StorageUnavailable,
)
from chalicelib.domain.followers import contact_hashes, new_secret, secret_hash
from chalicelib.domain.subscribers import AudienceCount, AudienceMember
from chalicelib.domain.towns import AuditEntry, Town
from chalicelib.schemas.notices import BATCH_SIZE, AlertApproved, AlertBatch, AlertRecipient
from chalicelib.services.outreach import SmsCapReached, TextRefused

if TYPE_CHECKING:
    from chalicelib.domain.zones import Zone
    from chalicelib.services.ports import (
        AlertStore,
        AuditLog,
        Messenger,
        NoticeBook,
        NoticeQueue,
        SubscriberStore,
        TownDirectory,
        UsageMeter,
    )

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertPorts:
    alerts: AlertStore
    subscribers: SubscriberStore
    towns: TownDirectory
    audit: AuditLog
    queue: NoticeQueue
    messenger: Messenger
    book: NoticeBook  # STOP to the SMS number
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    base_url: str = ""
    sleep: Callable[[float], None] = time.sleep  # waiting for the next second's texts
    usage: UsageMeter | None = None  # what the town uses this month (services.usage)


PACING_TRIES = 20  # seconds a text waits for its turn (send_notices has 60 s), then retried


def _record(ports: AlertPorts, who: Principal, alert: Alert, action: str,
            details: dict[str, object]) -> None:
    ports.audit.record(AuditEntry(
        town_id=alert.town_id, at=ports.now(), entry_id=ports.new_id(), actor=who.actor,
        actor_kind="staff", action=action, target=alert.alert_id, source_ip=who.source_ip,
        details=details))


class AlertDraft(Protocol):
    """What a manager writes (the edge's validated ``AlertIn``)."""

    @property
    def fallback_language(self) -> str: ...
    @property
    def title(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> Mapping[str, str]: ...
    @property
    def severity(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def zones(self) -> list[str]: ...
    @property
    def area(self) -> Mapping[str, object] | None: ...
    @property
    def test(self) -> bool: ...


def compose(ports: AlertPorts, who: Principal, body: AlertDraft) -> Alert:
    """A draft alert to the zones asked (or those a drawn area overlaps), checked against
    the town's zones; a second person approves it before anything is sent."""
    return _compose(ports, who, body, list(body.zones), body.test)


def _compose(ports: AlertPorts, who: Principal, body: AlertDraft, zones: list[str],
             test: bool) -> Alert:
    require(who, Permission.SEND_ALERTS, who.town_id)
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset)
    known = {z.code for z in catalogue.zones}
    problems = [Problem("zones", f"{z!r} is not a zone of {town.name}")
                for z in zones if z not in known]
    area = None
    if body.area is not None:
        from chalicelib.domain.zones import Zone, parse_zone_geometry

        try:
            area = parse_zone_geometry(body.area, "area")
        except InvalidInput as e:
            problems.extend(e.problems)
        if area is not None and not zones:
            # The town's zones the drawn area overlaps (by their bounding boxes) are
            # the audiences read; within them, people with a home point are kept only if
            # it lies inside the area.
            drawn = Zone("area", "area", "other", area).bbox
            zones = [z.code for z in catalogue.zones if _overlap(z.bbox, drawn)]
    if body.fallback_language not in body.body:
        problems.append(Problem("body", f"needs the fallback language "
                                        f"{body.fallback_language!r}"))
    if body.fallback_language not in body.title:
        problems.append(Problem("title", f"needs the fallback language "
                                         f"{body.fallback_language!r}"))
    if body.expires_at <= ports.now():
        problems.append(Problem("expires_at", "must be in the future"))
    if problems:
        raise InvalidInput.of(problems)
    alert = Alert(
        town_id=town.town_id, alert_id=ports.new_id(), title=dict(body.title),
        body=dict(body.body), fallback_language=body.fallback_language,
        severity=body.severity, category=body.category, expires_at=body.expires_at,
        zones=tuple(dict.fromkeys(zones)), created_by=who.actor,
        created_at=ports.now(), test=test, area=area)
    ports.alerts.save(alert, new=True)
    _record(ports, who, alert, "alert.composed", {"severity": alert.severity,
                                                 "zones": list(alert.zones)})
    return alert


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
             ) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _mine(ports: AlertPorts, who: Principal, alert_id: str) -> Alert:
    if not who.town_id:
        raise AccessDenied("alerts belong to a town")
    alert = ports.alerts.get(who.town_id, alert_id[:64])
    if alert is None:
        raise NotFound(f"no alert {alert_id[:64]!r}")
    return alert


def recipients(ports: AlertPorts, alert: Alert) -> Iterator[AudienceMember]:
    """Each confirmed subscriber of the alert's zones once (one Query per zone); for a
    correction, only those the corrected alert reached; for a test alert, the town's
    staff test list and nobody else."""
    if alert.test:
        yield from _test_list(ports, alert)
        return
    seen: set[str] = set()
    only = ports.alerts.delivered_to(alert.town_id, alert.corrects) if alert.corrects \
        else None
    area = None
    if alert.area is not None:
        from chalicelib.domain.zones import Zone

        area = Zone("area", "area", "other", alert.area)
    for zone in alert.zones or ("*",):
        for person in ports.subscribers.audience(alert.town_id, zone):
            if only is not None and person["subscriber_id"] not in only:
                continue
            home = person.get("home")
            if area is not None and home and not area.covers(home[0], home[1]):
                continue
            if person["subscriber_id"] not in seen:
                seen.add(person["subscriber_id"])
                yield person


def _test_list(ports: AlertPorts, alert: Alert) -> Iterator[AudienceMember]:
    import hashlib

    town = ports.towns.get_town(alert.town_id)
    for address in dict.fromkeys(town.alert_test_recipients if town else ()):
        email = "@" in address
        # A stable id per address: a retried fan-out claims the same message again.
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:24]
        yield {"subscriber_id": f"staff-{digest}", "language": alert.fallback_language,
               "phone": None if email else address, "email": address if email else None,
               "stop_key": "", "home": None}


def preview(ports: AlertPorts, who: Principal, alert_id: str) -> dict[str, object]:
    """Who it would reach, per channel and language, and what the texts would cost."""
    require(who, Permission.SEND_ALERTS, who.town_id)
    return _reach(ports, _mine(ports, who, alert_id))


def _reach(ports: AlertPorts, alert: Alert) -> dict[str, object]:
    by: dict[str, dict[str, int]] = {"sms": {}, "email": {}}
    segments = 0
    total = 0
    for person in recipients(ports, alert):
        total += 1
        language = person["language"] if person["language"] in alert.body \
            else alert.fallback_language
        for channel in ("sms", "email"):
            if person.get("phone" if channel == "sms" else "email"):
                by[channel][language] = by[channel].get(language, 0) + 1
        if person.get("phone"):
            segments += domain.sms_segments(_sms_text(alert, language))
    return {"alert_id": alert.alert_id, "status": alert.status, "recipients": total,
            "by_channel": by, "sms_segments": segments,
            "estimated_sms_cost_usd": round(segments * domain.SMS_SEGMENT_USD, 2)}


def _sms_text(alert: Alert, language: str) -> str:
    title, body = alert.words(language)
    return f"{title}: {body}"


def request_approval(ports: AlertPorts, who: Principal, alert_id: str) -> Alert:
    """Put a draft forward: it is now awaiting approval and in the approvals queue. Its
    author or a colleague who composes alerts asks; the audit log says who asked."""
    require(who, Permission.SEND_ALERTS, who.town_id)
    alert = _mine(ports, who, alert_id)
    alert.ask_approval(who.actor, ports.now())
    ports.alerts.save(alert)
    _record(ports, who, alert, "alert.approval_requested", {
        "created_by": alert.created_by, "test": alert.test, "zones": list(alert.zones)})
    return alert


def approve(ports: AlertPorts, who: Principal, alert_id: str) -> Alert:
    """A second emergency manager (or a town admin) approves: then it is sent. The person
    who wrote it may approve only a test alert, and only if the town allows it.

    An alert awaiting approval is the usual case; a plain draft (nobody asked) is still
    accepted, so JSON clients written before the "ask for approval" step, and drafts
    stored before it, keep working. The console only offers approval of alerts someone
    asked about."""
    require(who, Permission.APPROVE_ALERTS, who.town_id)
    alert = _mine(ports, who, alert_id)
    town = ports.towns.get_town(alert.town_id)
    alone = alert.test and town is not None and town.alert_test_self_approval
    if alert.created_by == who.actor and not alone:
        raise AccessDenied("a second person must approve this alert")
    if alert.test and not (town and town.alert_test_recipients):
        raise Conflict("a test alert goes only to the town's staff test list, and it is "
                       "empty: a town admin sets alert_test_recipients")
    alert.approve(who.actor)
    alert.sent_at = ports.now()
    ports.alerts.save(alert)
    _record(ports, who, alert, "alert.approved", {
        "created_by": alert.created_by, "title": alert.title, "body": alert.body,
        "zones": list(alert.zones), "test": alert.test})
    ports.queue.send([AlertApproved(town_id=alert.town_id,
                                    alert_id=alert.alert_id).model_dump_json()])
    return alert


def correct(ports: AlertPorts, who: Principal, alert_id: str, body: AlertDraft) -> Alert:
    """A follow-up to an alert already sent, to the same people: a new draft that needs
    its own approval, with the first one's zones."""
    require(who, Permission.SEND_ALERTS, who.town_id)
    first = _mine(ports, who, alert_id)
    if first.status not in (domain.SENDING, domain.SENT):
        raise Conflict("only an alert that went out can be corrected")
    draft = _compose(ports, who, body, list(first.zones), first.test)
    draft.corrects = first.alert_id
    ports.alerts.save(draft)
    return draft


def cancel(ports: AlertPorts, who: Principal, alert_id: str) -> Alert:
    require(who, Permission.SEND_ALERTS, who.town_id)
    alert = _mine(ports, who, alert_id)
    alert.cancel(who.actor, ports.now())
    ports.alerts.save(alert)
    _record(ports, who, alert, "alert.cancelled", {})
    return alert


def fan_out(ports: AlertPorts, town_id: str, alert_id: str) -> int:
    """Put the recipients on the queue in batches (ten batches per SQS call)."""
    alert = ports.alerts.get(town_id, alert_id)
    if alert is None or alert.status != domain.SENDING:
        return 0
    batch: list[AudienceMember] = []
    bodies: list[str] = []
    queued = 0
    messages = 0
    for person in recipients(ports, alert):
        messages += bool(person.get("phone")) + bool(person.get("email"))
        batch.append(person)
        if len(batch) == BATCH_SIZE:
            bodies.append(_batch(town_id, alert_id, batch))
            queued += len(batch)
            batch = []
    if batch:
        bodies.append(_batch(town_id, alert_id, batch))
        queued += len(batch)
    # Set before any batch can settle a message, so the last one to settle sees it.
    ports.alerts.plan(town_id, alert_id, {"recipients": queued,
                                          domain.PLANNED_TALLY: messages})
    if messages == 0:
        ports.alerts.mark_sent(town_id, alert_id)
        return 0
    ports.queue.send(bodies)
    return queued


def _batch(town_id: str, alert_id: str, people: list[AudienceMember]) -> str:
    return AlertBatch(town_id=town_id, alert_id=alert_id, recipients=[
        AlertRecipient.model_validate(p) for p in people]).model_dump_json()


def deliver(ports: AlertPorts, town_id: str, alert_id: str,
            people: list[AudienceMember]) -> dict[str, int]:
    """Send one batch: each person once per channel, never to a stopped phone, nothing
    once the alert is cancelled. A failed send is given back and retried with the batch."""
    outcome = {"sent": 0, "failed": 0, "opted_out": 0, "repeated": 0, "cancelled": 0,
               "over_cap": 0, "off_test_list": 0}
    alert = ports.alerts.get(town_id, alert_id)
    town = ports.towns.get_town(town_id)
    if alert is None or town is None or alert.status == domain.CANCELLED:
        outcome["cancelled"] = len(people)
        return outcome
    # A test alert reaches the staff test list as it is now, whatever a batch carries.
    test_list = set(town.alert_test_recipients) if alert.test else None
    phones = {p["subscriber_id"]: contact_hashes(None, p.get("phone")) for p in people}
    _, texts_stopped = ports.book.stopped(town_id, [], sorted(
        {h for hs in phones.values() for h in hs}))
    expires = int(ports.now().timestamp()) + 90 * 86400
    for person in people:
        language = alert.fallback_language if alert.test else person["language"]
        title, body = alert.words(language)
        sms_text = f"{title}: {body}"
        if alert.test:  # TEST is the first word of the subject, the text and the e-mail
            sms_text = f"{domain.TEST_MARK}: {sms_text}"
            title, body = f"{domain.TEST_MARK}: {title}", f"{domain.TEST_MARK}: {body}"
        for channel, address in (("sms", person.get("phone")), ("email", person.get("email"))):
            if not address:
                continue
            key = f"{person['subscriber_id']}#{channel}"
            # Every e-mail has its own stop link; its claim keeps only the secret's hash.
            stop_secret = new_secret() if channel == "email" else None
            if not ports.alerts.claim(town_id, alert_id, key, expires,
                                      stop_hash=secret_hash(stop_secret)
                                      if stop_secret else None):
                outcome["repeated"] += 1
                continue
            if test_list is not None and address not in test_list:
                ports.alerts.settle(town_id, alert_id, key, "off_test_list", "off_test_list")
                outcome["off_test_list"] += 1
                continue
            if channel == "sms" and any(h in texts_stopped for h in phones[
                    person["subscriber_id"]]):
                ports.alerts.settle(town_id, alert_id, key, "opted_out", "opted_out")
                outcome["opted_out"] += 1
                continue
            if channel == "sms" and not _sms_turn(ports, town):
                # Out of turns: given back, the batch is retried later.
                ports.alerts.settle(town_id, alert_id, key, None)
                outcome["failed"] += 1
                continue
            stop = (f"{ports.base_url.rstrip('/')}/towns/{town_id}/alerts/subscribers/"
                    f"{person['subscriber_id']}/stop?key={alert_id}.{stop_secret}")
            from chalicelib.domain.notices import EMAIL_FOOTER, SMS_FOOTER

            footer = TEST_FOOTER.replace("$town", town.name) if alert.test else \
                EMAIL_FOOTER.get(language, EMAIL_FOOTER["en"]).replace("$unsubscribe", stop)
            text = sms_text + SMS_FOOTER.get(language, SMS_FOOTER["en"]) \
                if channel == "sms" else body + footer
            try:
                ports.messenger.send(town_id=town_id,
                                     email=address if channel == "email" else None,
                                     phone=address if channel == "sms" else None,
                                     subject=title[:100], text=text)
            except TextRefused as e:
                # Over the month's cap (counted for every text the town sends), or a number
                # the town does not text: recorded, not sent; the e-mail still goes.
                state = "over_cap" if isinstance(e, SmsCapReached) else "refused"
                ports.alerts.settle(town_id, alert_id, key, state, state)
                outcome["over_cap"] += 1
                continue
            except StorageUnavailable:
                # Recorded as a failed try, and given back: the batch is retried (5 times,
                # then the notices dead-letter queue and its alarm).
                ports.alerts.settle(town_id, alert_id, key, None)
                ports.alerts.count(town_id, alert_id, "failed_tries")
                outcome["failed"] += 1
                continue
            ports.alerts.settle(town_id, alert_id, key, "sent", f"sent_{channel}")
            outcome["sent"] += 1
    # Each message is counted by the messenger; this says how many were alerts (one write
    # per batch; a retried batch counts only what it sends: the rest are claimed).
    from chalicelib.services.usage import count

    count(ports.usage, town_id, ports.now(), alert_messages=outcome["sent"])
    if outcome["failed"]:
        raise StorageUnavailable(f"{outcome['failed']} alert message(s) not sent; retried")
    # Also when this try settled nothing: the try before may have settled the last
    # message and stopped before marking the alert sent.
    if alert.status == domain.SENDING:
        finish_if_settled(ports, town_id, alert_id)
    return outcome


TEST_FOOTER = "\n\nA test of $town's emergency alerts, sent only to the town's staff test list."


def finish_if_settled(ports: AlertPorts, town_id: str, alert_id: str) -> bool:
    """Mark the alert sent once every planned message is settled. The counts are read
    after this worker's own settlements, strongly consistent, so the worker that settles
    the last message sees them all; the write is conditional on ``sending``, so several
    workers (or a cancel) racing here is harmless."""
    if not domain.all_settled(ports.alerts.counts(town_id, alert_id)):
        return False
    return bool(ports.alerts.mark_sent(town_id, alert_id))


def _sms_turn(ports: AlertPorts, town: Town) -> bool:
    """True once the text has its turn in this second (the town's number sends at most
    ``alert_sms_per_second``), False after waiting PACING_TRIES seconds for one. The
    monthly cap is counted where every text is: services.outreach.MeteredMessenger."""
    for _ in range(PACING_TRIES):
        second = int(ports.now().timestamp())
        if ports.alerts.take_sms_slot(town.town_id, second, town.alert_sms_per_second):
            return True
        ports.sleep(1 - (ports.now().timestamp() % 1) or 0.01)
    return False


def progress(alert: Alert) -> dict[str, int]:
    c = alert.counts
    return {"recipients": c.get("recipients", 0),
            "messages": c.get(domain.PLANNED_TALLY, 0), "settled": domain.settled(c),
            "sent_sms": c.get("sent_sms", 0), "sent_email": c.get("sent_email", 0),
            "opted_out": c.get("opted_out", 0), "over_cap": c.get("over_cap", 0),
            "off_test_list": c.get("off_test_list", 0), "refused": c.get("refused", 0),
            "failed_tries": c.get("failed_tries", 0)}


def document(alert: Alert) -> dict[str, object]:
    return {"alert_id": alert.alert_id, "status": alert.status, "title": alert.title,
            "body": alert.body, "fallback_language": alert.fallback_language,
            "severity": alert.severity, "category": alert.category,
            "expires_at": alert.expires_at.isoformat(), "zones": list(alert.zones),
            "test": alert.test, "created_by": alert.created_by,
            "approved_by": alert.approved_by, "cancelled_by": alert.cancelled_by,
            "cancelled_at": alert.cancelled_at.isoformat() if alert.cancelled_at else None,
            "sent_at": alert.sent_at.isoformat() if alert.sent_at else None,
            "corrects": alert.corrects, "area": alert.area,
            "approval_requested_by": alert.asked_by,
            "approval_requested_at": alert.asked_at.isoformat() if alert.asked_at else None,
            "progress": progress(alert)}


def list_for_staff(ports: AlertPorts, who: Principal, limit: int = 100) -> list[Alert]:
    """Every alert of the caller's town, newest first (at most ``limit``), with its
    progress."""
    require(who, Permission.SEND_ALERTS, who.town_id)
    found: list[Alert] = ports.alerts.list(who.town_id or "")[:limit]
    for alert in found:
        alert.counts = ports.alerts.counts(alert.town_id, alert.alert_id)
    return found


def show(ports: AlertPorts, who: Principal, alert_id: str) -> Alert:
    """One alert of the caller's town, as stored."""
    require(who, Permission.SEND_ALERTS, who.town_id)
    found: Alert | None = ports.alerts.get(who.town_id or "", alert_id[:64])
    if found is None:
        raise NotFound(f"no alert {alert_id[:64]!r}")
    return found



# The console's emergency desk (chalicelib/web/console_alerts.py): whoever composes alerts
# and whoever approves them. An approver who does not compose (a town admin) must still
# read exactly what they approve and follow what they let go; the JSON routes above keep
# their own checks.


def _at_the_desk(who: Principal) -> None:
    permission = Permission.SEND_ALERTS if Permission.SEND_ALERTS in who.permissions \
        else Permission.APPROVE_ALERTS
    require(who, permission, who.town_id)


def desk(ports: AlertPorts, who: Principal, limit: int = 100) -> list[Alert]:
    """Every alert of the caller's town, newest first, with its progress: for whoever
    composes (SEND_ALERTS) or approves (APPROVE_ALERTS) alerts."""
    _at_the_desk(who)
    found: list[Alert] = ports.alerts.list(who.town_id or "")[:limit]
    for alert in found:
        alert.counts = ports.alerts.counts(alert.town_id, alert.alert_id)
    return found


def awaiting_approval(ports: AlertPorts, who: Principal, limit: int = 100) -> list[Alert]:
    """The alerts of the caller's town someone asked a second person to approve, newest
    first (a draft nobody put forward is not in the queue)."""
    require(who, Permission.APPROVE_ALERTS, who.town_id)
    return [a for a in ports.alerts.list(who.town_id or "") if a.status == domain.AWAITING
            ][:limit]


def at_desk(ports: AlertPorts, who: Principal, alert_id: str
            ) -> tuple[Alert, dict[str, object] | None]:
    """One alert as stored (texts, zones, expiry, progress) and, until it is sent, whom it
    would reach (the preview's numbers): what an approver approves."""
    _at_the_desk(who)
    alert = _mine(ports, who, alert_id)
    return alert, _reach(ports, alert) if alert.status in domain.UNSENT else None


def zones_to_alert(ports: AlertPorts, who: Principal) -> list[Zone]:
    """The zones of the caller's town an alert may target, in the town's order: what the
    compose form offers (only to whoever composes alerts)."""
    require(who, Permission.SEND_ALERTS, who.town_id)
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    return list(ports.towns.get_catalogue(town.town_id, town.changeset).zones)


@dataclass(frozen=True)
class Audiences:
    """What the desk shows beside the alerts: the town's zones in its order, how many
    confirmed subscribers each has (``*``: the whole town) per channel, and the staff test
    list a test alert goes to."""

    zones: list[Zone]
    counts: dict[str, AudienceCount]
    test_list: tuple[str, ...]


def audiences(ports: AlertPorts, who: Principal) -> Audiences:
    """The zones with their subscriber counts (one Query of kept counts, not of the
    audiences), for whoever composes or approves alerts."""
    _at_the_desk(who)
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    zones = list(ports.towns.get_catalogue(town.town_id, town.changeset).zones)
    counts = ports.subscribers.audience_counts(town.town_id, [z.code for z in zones])
    return Audiences(zones=zones, counts=counts, test_list=tuple(town.alert_test_recipients))
