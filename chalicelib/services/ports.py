"""The ports services depend on: every store and gateway, as a ``Protocol``. Adapters
implement them (chalicelib.adapters), tests hand in fakes (tests/fakes), and one contract
suite per port runs on both (tests/integration), so a fake cannot drift from the real thing.

The values they take and return live in the domain (chalicelib.domain.queries and the
aggregates), so no adapter imports from the services.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib.domain.catalogue import Catalogue, Department, Service
from chalicelib.domain.followers import Follower
from chalicelib.domain.queries import Quota, RequestPage, RequestQuery

# Re-exported: adapters written before the values moved to the domain import them here.
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.routing import RoutingRules
from chalicelib.domain.towns import ApiKey, AuditEntry, StaffMember, Town
from chalicelib.domain.zones import Zone

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.access import Principal
    from chalicelib.domain.addresses import Destination
    from chalicelib.domain.alerts import Alert
    from chalicelib.domain.requests import Reporter
    from chalicelib.domain.subscribers import AudienceMember, Subscriber


# --- towns, staff and the audit log ----------------------------------------------------------


class TownDirectory(Protocol):
    """Towns and everything configured for them. Catalogue edits take the town's new
    changeset and store it with the edit."""

    def get_town(self, town_id: str) -> Town | None: ...

    def list_towns(self) -> list[str]: ...

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue: ...

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None: ...

    def create_town(self, town: Town, catalogue: Catalogue) -> None: ...

    def save_town(self, town: Town) -> None: ...

    def save_service(self, town_id: str, service: Service, position: int,
                     changeset: str) -> None: ...

    def save_department(self, town_id: str, department: Department,
                        changeset: str) -> None: ...

    def delete_department(self, town_id: str, code: str, changeset: str) -> None: ...

    def save_zone(self, town_id: str, zone: Zone, changeset: str) -> None: ...

    def save_routing(self, town_id: str, routing: RoutingRules, changeset: str) -> None: ...

    def delete_zone(self, town_id: str, code: str, changeset: str) -> None: ...

    def add_api_key(self, key: ApiKey, secret: str) -> None: ...

    def list_api_keys(self, town_id: str) -> list[ApiKey]: ...

    def revoke_api_key(self, town_id: str, key_id: str) -> ApiKey: ...

    def save_staff(self, member: StaffMember) -> None: ...

    def list_staff(self, town_id: str) -> list[StaffMember]: ...

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        """A town's member of staff; ``town_id`` None: the platform's own (operators)."""
        ...

    def export(self, town_id: str) -> Iterator[dict[str, object]]:
        """Every stored item of the town, as JSON-ready documents (an operator's export)."""
        ...


class AuditLog(Protocol):
    """Who changed what in a town, newest first."""

    def record(self, entry: AuditEntry) -> None: ...

    def page(self, town_id: str, before: datetime | None, limit: int) -> list[AuditEntry]: ...


class TokenVerifier(Protocol):
    """Staff sign-in tokens (JWTs from the user pool, or the local run's own)."""

    def verify(self, token: str, source_ip: str | None = None) -> Principal:
        """Who the token says the caller is; Unauthenticated if it is not a valid one."""
        ...


class IdentityProvider(Protocol):
    """Where staff sign in (Cognito in the cloud): accounts follow the town's staff list."""

    def provision(self, member: StaffMember) -> str:
        """Create or update the sign-in for ``member``; returns the user id it got."""
        ...

    def disable(self, member: StaffMember) -> None: ...


# --- service requests, their followers and service levels --------------------------------


class FollowerStore(Protocol):
    """What telling a request's followers needs: the request, its followers, and the
    links that confirm a follower's new address."""

    def get(self, town_id: str, request_id: str, *,
            with_timeline: bool) -> ServiceRequest | None: ...

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]: ...

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None: ...

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None: ...

    def save_follower(self, town_id: str, request_id: str, follower: Follower,
                      dropped: str | None = None) -> None:
        """Write a follower that confirmed or dropped an address (``dropped``: the hash
        of the address no longer theirs to be found by); NotFound if they stopped
        following meanwhile."""
        ...

    def save_link(self, town_id: str, secret_hash: str, request_id: str, follower_id: str,
                  channel: str, expires_at: int) -> None: ...

    def take_link(self, town_id: str, secret_hash: str,
                  now: int) -> tuple[str, str, str] | None:
        """(request, follower, channel) of a confirm link, removed as it is used; None if
        there is none, it expired, or someone used it a moment earlier."""
        ...


class RequestStore(FollowerStore, Protocol):
    """Service requests with their timelines, followers and the indexes that find them."""

    def add(self, request: ServiceRequest, first_event: TimelineEvent,
            quota: Quota | None = None, audit: AuditEntry | None = None,
            reporter: Follower | None = None) -> None:
        """Store a new request (with its audit entry, in the same write); Throttled, and
        nothing stored, when ``quota`` is used up."""
        ...

    def unrouted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]: ...

    def department_work(self, town_id: str, department: str, state: str | None, limit: int,
                        after: str | None) -> RequestPage: ...

    def requests_of_resident(self, town_id: str, contact_hash: str) -> list[str]: ...

    def forget_resident(self, town_id: str, contact_hash: str,
                        request_ids: list[str]) -> None: ...

    def requests_followed_by(self, town_id: str, contact_hash: str) -> list[str]: ...

    def is_reporter_or_follower(self, town_id: str, request_id: str,
                                contact_hash: str) -> str | None: ...

    def follow(self, town_id: str, request_id: str, follower: Follower) -> bool:
        """Add a follower to an open request; False if they follow it already."""
        ...

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None: ...

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]: ...

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None: ...

    def request_id_for_tracking(self, town_id: str, tracking_number: str) -> str | None: ...

    def tallies(self, town_id: str, prefix: str) -> dict[str, int]: ...

    def record_change(self, request: ServiceRequest, event: TimelineEvent,
                      once: str | None = None, tally: dict[str, int] | None = None) -> None:
        """Save ``request`` (read at ``request.version``) with ``event``; Conflict if it
        changed meanwhile; AlreadyApplied if ``once`` was recorded before."""
        ...

    def get(self, town_id: str, request_id: str, *,
            with_timeline: bool) -> ServiceRequest | None: ...

    def get_many(self, town_id: str, request_ids: list[str]) -> list[ServiceRequest]: ...

    def request_id_for_token_hash(self, town_id: str, token_hash: str) -> str | None: ...

    def find(self, town_id: str, query: RequestQuery) -> RequestPage: ...


class ServiceLevelStore(RequestStore, Protocol):
    """The request store as the SLA sweep reads it: requests due by the hour, and the
    oldest hour the sweep has not finished."""

    def sla_due(self, bucket_hour: datetime, now: datetime,
                limit: int) -> list[tuple[str, str]]:
        """(town, request id) of open requests whose next SLA step, in that UTC hour, is
        due by ``now``."""
        ...

    def sla_cursor(self) -> datetime | None:
        """The oldest hour the SLA sweep has not finished (None: it never ran)."""
        ...

    def save_sla_cursor(self, hour: datetime) -> None: ...


class PhoneMigrationStore(Protocol):
    """What rewriting typed phones as E.164 needs beyond the request store."""

    def request_ids(self, town_id: str) -> Iterator[str]: ...

    def set_reporter_phone(self, town_id: str, request_id: str, reporter: Reporter) -> None: ...

    def add_resident_entry(self, town_id: str, contact_hash: str, request_id: str, *,
                           reported: bool) -> None:
        """List the request under the resident: one they reported, else one they follow."""


# --- queues, photos, messages and residents' sign-in -----------------------------------------


class NoticeQueue(Protocol):
    """The notices queue (SQS): what to tell whom, sent by its own worker."""

    def send(self, bodies: list[str]) -> None:
        """Put messages on the notices queue (chalicelib.schemas.notices)."""
        ...


class RoutingQueue(Protocol):
    """The routing queue (SQS): new requests waiting for a department."""

    def request_submitted(self, town_id: str, request_id: str) -> None:
        """Ask the router to assign a newly stored request to a department."""
        ...


class PhotoInbox(Protocol):
    """Where an uploaded photo waits (S3 ``incoming/``) until it is made safe."""

    def receive_upload(self, town_id: str, request_id: str, photo_id: str,
                       content: bytes, content_type: str) -> str:
        """Store an uploaded photo under ``incoming/`` for processing; returns its key."""
        ...


class IdempotencyGuard(Protocol):
    """Submissions with an Idempotency-Key (powertools' idempotency on DynamoDB)."""

    def run_once(self, key: str, payload: dict[str, object],
                 work: Callable[[], dict[str, object]],
                 deadline: object = None) -> dict[str, object]:
        """Run ``work`` once per key; repeats get the first result, a changed payload a
        Conflict, and a repeat while the first is still running RetryLater. ``deadline``
        (a Lambda context) bounds how long an unfinished first call blocks a retry."""
        ...


class Messenger(Protocol):
    """What sends e-mail (SES) and texts (SNS)."""

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        """Send one message for a town to a resident by e-mail and/or SMS (E.164)."""
        ...


class ResidentAccess(Protocol):
    """Residents' sign-in codes and sessions, keyed by the hash of their contact."""

    def save_code(self, town_id: str, contact_hash: str, code_hash: str, expires_at: int,
                  not_before: int) -> bool:
        """Store a fresh code unless one was issued after ``not_before`` (anti-flooding)."""
        ...

    def take_code(self, town_id: str, contact_hash: str,
                  max_tries: int) -> tuple[str, int, int] | None:
        """Count one try at the stored code, in the write that checks the tries left: its
        hash, expiry and tries so far, or None when there is no code or none is left."""
        ...

    def drop_code(self, town_id: str, contact_hash: str) -> None:
        """The code no longer works; the stored one stays until it expires, so that the
        resend timer still holds."""
        ...

    def save_session(self, town_id: str, session_hash: str, contact_hash: str,
                     expires_at: int) -> None: ...

    def session_contact(self, town_id: str, session_hash: str) -> tuple[str, int] | None: ...


class NearbyRequests(Protocol):
    """Open requests by place: the ``by_place`` index of open requests with a point."""

    def open_near(self, town_id: str, service_code: str, cells: list[str],
                  since: datetime) -> list[ServiceRequest]:
        """The town's open requests of ``service_code`` whose point lies in one of the
        geohash-7 ``cells``, requested at or after ``since``, in no particular order."""
        ...


class PhotoBucket(Protocol):
    """The photo bucket as the photo worker sees it: read an upload, publish the safe
    copies, delete."""

    def read(self, key: str) -> bytes | None: ...

    def publish(self, key: str, content: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class PhotoUploads(Protocol):
    """Direct uploads to the photo bucket (presigned POSTs)."""

    def upload_form(self, key: str, content_type: str, max_bytes: int,
                    seconds: int) -> dict[str, object]:
        """A presigned POST for one object: its URL and the form fields to send."""
        ...

    def delete(self, key: str) -> None: ...


class PhotoStorage(PhotoInbox, PhotoBucket, PhotoUploads, Protocol):
    """The photo bucket (S3) behind all three, and the links that show a photo."""

    def signed_url(self, key: str, seconds: int = 900) -> str:
        """A link that shows the object for ``seconds``."""
        ...


# --- what the notices worker remembers, and what strangers can make a town send ---------------


class NoticeBook(Protocol):
    """What the sender remembers: who said stop, what was sent, what waits for morning."""

    def stopped(self, town_id: str, contact_hashes: list[str],
                phone_hashes: list[str]) -> tuple[set[str], set[str]]:
        """Which contacts said stop to this town (every channel), and which phones sent
        STOP to the SMS number (texts only)."""
        ...

    def stop(self, town_id: str | None, contact_hash: str, at: datetime) -> None:
        """``town_id`` None: STOP to the shared SMS number, which covers every town."""
        ...

    def restart(self, town_id: str | None, contact_hash: str) -> None: ...

    def claim(self, town_id: str, event_id: str, key: str, expires_at: int,
              stop_hash: str | None = None, request_id: str | None = None) -> bool:
        """Take the send of ``event_id`` to ``key`` (False: taken before). An e-mail's
        claim holds the hash of its stop link's secret and the request."""
        ...

    def stop_link(self, town_id: str, event_id: str, key: str) -> tuple[str, str] | None:
        """(stop secret's hash, request) of the message sent for ``event_id`` to ``key``."""
        ...

    def release(self, town_id: str, event_id: str, key: str) -> None: ...

    def defer(self, town_id: str, send_at: datetime, key: str, body: str) -> None: ...

    def deferred_until(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        """(key, town, body) of held-back messages whose time has come, oldest first."""
        ...

    def drop_deferred(self, key: str) -> None: ...


class Limits(Protocol):
    """Fixed-window counters, each changed atomically (a conditional add)."""

    def take(self, town_id: str, name: str, window: int, limit: int, expires_at: int,
             amount: int = 1) -> bool:
        """Add ``amount`` to counter ``name`` of window ``window``, unless it would pass
        ``limit``; True if added."""
        ...

    def add(self, town_id: str, name: str, amount: int) -> None:
        """Add to a tally that is kept (refusals per day, texts per month, a refund)."""
        ...

    def totals(self, town_id: str, prefix: str) -> dict[str, int]: ...

    def spend_sms(self, town_id: str, month: str, segments: int, cap: int) -> bool:
        """Count ``segments`` against the town's monthly cap; False (nothing counted) if
        they would pass it."""
        ...


# --- departments' channels and webhooks --------------------------------------------------


class WebhookPoster(Protocol):
    def post(self, destination: Destination, body: bytes,
             headers: dict[str, str]) -> int | None:
        """POST ``body`` to the destination's checked addresses only (never a new lookup
        of its name), following no redirect; the HTTP status of the answer, or None if
        none came back (refused, timed out, reset)."""
        ...


class HostResolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to (IPv4 and IPv6, as text); empty if it
        resolves to none or the lookup failed."""
        ...


class DepartmentQueues(Protocol):
    def queue_name_for(self, town_id: str, department: str) -> str: ...

    def queue_url_for(self, town_id: str, department: str) -> str:
        """The department's queue URL; the queue is made if it does not exist yet."""
        ...


class AssignmentChannels(DepartmentQueues, Protocol):
    """Delivers an assignment to a department's own channels (beyond the console inbox):
    its SQS queue and its webhook, one send per channel."""

    def deliver(self, town_id: str, department: Department, request: ServiceRequest,
                event: TimelineEvent) -> None: ...

    def retry_webhook_later(self, receipt_handle: str, seconds: int) -> None:
        """Leave a failed webhook delivery on its queue, hidden for ``seconds``."""
        ...


class AlertTopics(Protocol):
    """SNS topics per town and audience ("department:<code>", "supervisor",
    "town_admin"); staff subscribe by e-mail or SMS."""

    def publish(self, town_id: str, audience: str, subject: str, text: str) -> None: ...

    def topic_arn(self, town_id: str, audience: str) -> str:
        """The audience's topic (made on first use)."""
        ...

    def subscribe(self, town_id: str, audience: str, protocol: str, endpoint: str) -> str:
        """Subscribe an e-mail address or phone ("email"/"sms") to the audience's topic;
        the subscription's ARN (or "pending confirmation")."""
        ...


# --- emergency alerts and their subscribers ----------------------------------------------


class SubscriberStore(Protocol):
    """Emergency alert subscribers, their contact pointers and the audiences per zone."""

    def get(self, town_id: str, subscriber_id: str) -> Subscriber | None: ...

    def find_by_contact(self, town_id: str, contact_hash: str) -> str | None:
        """The confirmed subscription of a contact (a pending one points nowhere)."""
        ...

    def save(self, s: Subscriber) -> None:
        """Write a subscriber (pending or active) with its contact pointers and, when
        active, its audience entries and the STOP pointer, at once."""
        ...

    def remove(self, s: Subscriber) -> None:
        """Forget a subscriber everywhere at once (STOP, the link, or their own delete)."""
        ...

    def take_try(self, town_id: str, subscriber_id: str, max_tries: int) -> bool:
        """Count one try at a pending sign-up's code, in the write that checks the tries
        left: False when none is left (or it is not pending)."""
        ...

    def subscriptions_of_phone(self, phone_hash: str) -> list[tuple[str, str]]:
        """(town, subscriber) of every active subscription of a phone, in every town."""
        ...

    def audience(self, town_id: str, zone: str) -> Iterator[AudienceMember]:
        """Active subscribers of one zone ("*": the whole town), page by page."""
        ...


class AlertDeliveries(Protocol):
    """An alert's one-message-per-recipient records, as the stop link reads them."""

    def stop_hash(self, town_id: str, alert_id: str, key: str) -> str | None:
        """The hash of the stop link's secret in the message of ``alert_id`` to ``key``."""
        ...


class AlertStore(AlertDeliveries, Protocol):
    """Alerts, their progress counts and their one-message-per-recipient records."""

    def save(self, alert: Alert, new: bool = False) -> None:
        """Store an alert; an existing one only if nobody changed it since it was read
        (Conflict); moves ``alert.version`` on."""
        ...

    def get(self, town_id: str, alert_id: str) -> Alert | None:
        """The alert with its progress counts."""
        ...

    def count(self, town_id: str, alert_id: str, outcome: str, amount: int = 1) -> None: ...

    def counts(self, town_id: str, alert_id: str) -> dict[str, int]:
        """The alert's tallies, read strongly consistent."""
        ...

    def plan(self, town_id: str, alert_id: str, tallies: dict[str, int]) -> None:
        """Set (not add) what the fan-out planned: a retried fan-out writes the same
        numbers again instead of doubling them."""
        ...

    def mark_sent(self, town_id: str, alert_id: str) -> bool:
        """sending → sent, only if it is still sending (a cancel meanwhile wins)."""
        ...

    def delivered_to(self, town_id: str, alert_id: str) -> set[str]:
        """The subscribers an alert reached (on any channel)."""
        ...

    def take_sms_slot(self, town_id: str, second: int, per_second: int) -> bool:
        """One of the town's texts for this second, if any is left."""
        ...

    def claim(self, town_id: str, alert_id: str, key: str, expires_at: int,
              stop_hash: str | None = None) -> bool:
        """Take the message of ``alert_id`` to ``key`` (False: taken before)."""
        ...

    def settle(self, town_id: str, alert_id: str, key: str, state: str | None,
               tally: str | None = None) -> bool:
        """Record how a claimed message ended and add one to ``tally``, once however
        often its batch is retried; None gives the claim back. False: already settled."""
        ...

    # Last: inside this class the name ``list`` is this method (hence builtins.list above).
    def list(self, town_id: str) -> builtins.list[Alert]:
        """The town's alerts, newest first."""
        ...
