"""Every key of the one table, and the access patterns they serve (no Scan anywhere).

Each partition key of a town's data starts with ``TOWN#<town>``, so no call can be written
without one (the IAM policies rely on it: ``dynamodb:LeadingKeys``). A few partitions are
the deployment's own: ``PLATFORM`` (the list of towns, operators), ``PLATFORM#…`` (STOP to
the shared SMS number), ``NOTICE#DEFERRED`` (texts waiting for the morning) and the
``SLA#…`` partitions of the SLA sweep. Times in sort keys are fixed-width UTC
(``2026-11-22T02:12:40.123456Z``), so that string order is time order.

The strings here are stored data: changing one makes what is already stored unreadable
(``tests/unit/test_access_patterns.py`` pins them). What reads them, and through which
index, is the table in ``access_patterns.py``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from chalicelib.domain.followers import tracking_key

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sort_time(at: datetime) -> str:
    """An instant as it sorts in a key: fixed-width UTC with microseconds."""
    return at.astimezone(UTC).strftime(TIME_FORMAT)


def parse_sort_time(text: str) -> datetime:
    """The instant ``sort_time`` wrote. Read with fromisoformat, which takes this fixed
    form (and the "Z") as it is: strptime would load its locale machinery on a cold call."""
    if len(text) != 27 or not text.endswith("Z"):
        raise ValueError(f"not a sort time: {text[:40]!r}")
    return datetime.fromisoformat(text)


def upto(at: datetime) -> str:
    """A sort key bound that includes every ``<at>#…`` key of that instant."""
    return sort_time(at) + "~"


def key_hash(secret: str) -> str:
    """SHA-256 of an API key's secret: what the key is found by (the secret is never
    stored)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- a town's own partition: PK=TOWN#<town> ------------------------------------------------

TOWN_PREFIX = "TOWN#"
TOWN_SK = "TOWN"
CATALOGUE_PREFIX = "CAT#"
ROUTING_SK = "CAT#ROUTING"
API_KEY_PREFIX = "APIKEY#"
KEY_HASH_PREFIX = "KEYHASH#"
STAFF_PREFIX = "STAFF#"
TALLY_PREFIX = "TALLY#"
ALERT_PREFIX = "ALERT#"


def town_pk(town_id: str) -> str:
    return f"TOWN#{town_id}"


def town_of(pk: str) -> str:
    """The town of a ``TOWN#<town>`` partition key."""
    return pk.removeprefix(TOWN_PREFIX)


def service_sk(code: str) -> str:
    return f"CAT#SERVICE#{code}"


def department_sk(code: str) -> str:
    return f"CAT#DEPT#{code}"


def zone_sk(code: str) -> str:
    return f"CAT#ZONE#{code}"


ZONE_PREFIX = zone_sk("")


def catalogue_kind(sk: str) -> str:
    """SERVICE, DEPT, ZONE or ROUTING: the kind of catalogue item a ``CAT#…`` key holds."""
    return sk.split("#")[1]


def api_key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def key_hash_sk(secret_hash: str) -> str:
    return f"KEYHASH#{secret_hash}"


def staff_sk(user_id: str) -> str:
    return f"STAFF#{user_id}"


def tally_sk(name: str) -> str:
    """A named counter: ``disputes#<dept>``, ``sms#<month>``, ``refused#<day>#…``."""
    return f"TALLY#{name}"


def tally_name(sk: str) -> str:
    return sk.removeprefix(TALLY_PREFIX)


def sms_month_sk(month: str) -> str:
    return tally_sk(f"sms#{month}")


USAGE_PREFIX = "USAGE#"


def usage_sk(month: str) -> str:
    """A town's usage of one calendar month (``2026-12``): its counters, one per attribute."""
    return f"USAGE#{month}"


EXPORT_PREFIX = "EXPORT#"


def export_sk(job_id: str) -> str:
    """A town's export job (open data of a year, or the whole town), kept a week (TTL)."""
    return f"EXPORT#{job_id}"


def rate_sk(key_id: str, window_epoch: int) -> str:
    """Submissions of one API key in the minute that starts at ``window_epoch``."""
    return f"RATE#{key_id}#{window_epoch}"


def alert_sk(alert_id: str) -> str:
    return f"ALERT#{alert_id}"


def alert_of(sk: str) -> str:
    return sk.removeprefix(ALERT_PREFIX)


# A town's gazetteer: one head item naming the version residents read, and that version's
# pieces (a zlib-compressed JSON list cut into pieces that fit an item). A new upload writes
# its pieces under a new version, then moves the head: readers see one version whole.
GAZETTEER_HEAD_SK = "GAZ#HEAD"


def gazetteer_pieces_prefix(version: str) -> str:
    return f"GAZ#V#{version}#"


def gazetteer_piece_sk(version: str, index: int) -> str:
    return f"{gazetteer_pieces_prefix(version)}{index:03d}"


# --- the deployment's own partitions --------------------------------------------------------

PLATFORM_PK = "PLATFORM"


def platform_town_sk(town_id: str) -> str:
    """A hosted town in the platform's list (PK=PLATFORM)."""
    return town_pk(town_id)


WEB_DOMAIN_SK = "WEBDOMAIN"


def web_domain_pk(host: str) -> str:
    """Which town a web address is (one item per address: two towns cannot share one)."""
    return f"PLATFORM#WEBDOMAIN#{host}"


SMS_NUMBER_SK = "SMSNUMBER"
CONVERSATION_SK = "CONV"
INBOUND_SMS_SK = "SMSIN"
PHOTO_LINK_SK = "PHOTOLINK"


def conversation_pk(town_id: str, phone_hash: str) -> str:
    """A resident's report by text in progress, by the hash of their phone."""
    return f"{town_pk(town_id)}#SMS#{phone_hash}"


def inbound_sms_pk(town_id: str, message_id: str) -> str:
    return f"{town_pk(town_id)}#SMSIN#{message_id}"


def photo_link_pk(town_id: str, secret_hash: str) -> str:
    return f"{town_pk(town_id)}#PHOTOLINK#{secret_hash}"


def sms_number_pk(number: str) -> str:
    """A town's SMS number (E.164), pointing at the town."""
    return f"PLATFORM#SMSNUMBER#{number}"
MAIL_ADDRESS_SK = "MAILTO"


def mail_address_pk(address: str) -> str:
    """Which town an e-mail intake address reaches (one item per address)."""
    return f"PLATFORM#MAILTO#{address.lower()}"


def staff_pk(town_id: str | None) -> str:
    """Where a staff record lives: its town's partition, or the platform's (operators)."""
    return town_pk(town_id) if town_id is not None else PLATFORM_PK


def staff_town(pk: str) -> str | None:
    return town_of(pk) if pk.startswith(TOWN_PREFIX) else None


# --- a town's audit log: PK=TOWN#<town>#AUDIT ----------------------------------------------


def audit_pk(town_id: str) -> str:
    return f"TOWN#{town_id}#AUDIT"


def audit_sk(at: datetime, entry_id: str) -> str:
    return f"{sort_time(at)}#{entry_id}"


def audit_entry_of(sk: str) -> tuple[datetime, str]:
    at, entry_id = sk.split("#", 1)
    return parse_sort_time(at), entry_id


# --- a request's partition: PK=TOWN#<town>#REQ#<id> ----------------------------------------

META_SK = "META"
EVENT_PREFIX = "EVENT#"
FOLLOWER_PREFIX = "SUB#"


def request_pk(town_id: str, request_id: str) -> str:
    return f"TOWN#{town_id}#REQ#{request_id}"


def event_sk(at: datetime, event_id: str) -> str:
    return f"EVENT#{sort_time(at)}#{event_id}"


def once_sk(key: str) -> str:
    """An external update applied to a request (its id), so that it applies once."""
    return f"ONCE#{key}"


def follower_sk(follower_id: str) -> str:
    return f"SUB#{follower_id}"


def follower_of(sk: str) -> str:
    return sk.removeprefix(FOLLOWER_PREFIX)


# --- single-item lookups -------------------------------------------------------------------

TOKEN_SK = "TOKEN"
TRACK_SK = "TRACK"
LINK_SK = "LINK"
CODE_SK = "CODE"
SESSION_SK = "SESSION"
OPT_OUT_SK = "OPTOUT"
LIMIT_SK = "LIMIT"


def token_pk(town_id: str, token_hash: str) -> str:
    return f"TOWN#{town_id}#TOKENHASH#{token_hash}"


def track_pk(town_id: str, tracking_number: str) -> str:
    """A tracking number as typed, in its stored form (``None`` if it cannot be one, which
    then finds nothing)."""
    return f"TOWN#{town_id}#TRACK#{tracking_key(tracking_number)}"


def link_pk(town_id: str, secret_hash: str) -> str:
    return f"TOWN#{town_id}#LINK#{secret_hash}"


def session_pk(town_id: str, session_hash: str) -> str:
    return f"TOWN#{town_id}#RSESSION#{session_hash}"


# --- a resident, by the hash of their e-mail or phone: PK=TOWN#<town>#RESIDENT#<hash> -------

REPORTED_PREFIX = "REQ#"
FOLLOWED_PREFIX = "FOLLOW#"


def resident_pk(town_id: str, contact_hash: str) -> str:
    return f"TOWN#{town_id}#RESIDENT#{contact_hash}"


def reported_sk(request_id: str) -> str:
    """A request the resident reported."""
    return f"REQ#{request_id}"


def followed_sk(request_id: str) -> str:
    """A request the resident follows."""
    return f"FOLLOW#{request_id}"


# --- messages: stops, claims, deferred texts -----------------------------------------------

SMS_OPT_OUT_PREFIX = "PLATFORM#SMSOPTOUT#"
DEFERRED_PK = "NOTICE#DEFERRED"


def opt_out_pk(town_id: str | None, contact_hash: str) -> str:
    """A stop: the town's own stop link, or (no town) STOP to the shared number, which is
    about the number and covers every town."""
    return f"TOWN#{town_id}#OPTOUT#{contact_hash}" if town_id else \
        f"PLATFORM#SMSOPTOUT#{contact_hash}"


def is_sms_opt_out(pk: str) -> bool:
    return pk.startswith(SMS_OPT_OUT_PREFIX)


def opt_out_hash(pk: str) -> str:
    return pk.rsplit("#", 1)[-1]


def notice_pk(town_id: str, event_id: str) -> str:
    """The messages sent for one timeline event (SK: ``<follower>#<channel>``)."""
    return f"TOWN#{town_id}#NOTICE#{event_id}"


def deferred_sk(send_at: datetime, town_id: str, key: str) -> str:
    return f"{sort_time(send_at)}#{town_id}#{key}"


def limit_pk(town_id: str, name: str, window: int) -> str:
    return f"TOWN#{town_id}#LIMIT#{name}#{window}"


# --- what became of deliveries to a department's queue or webhook ---------------------------


def delivery_result_pk(town_id: str, department: str) -> str:
    """A department's recent delivery results (SK: ``<at>#<delivery id>#<channel>#<attempt>``:
    one assignment goes on both channels at once)."""
    return f"TOWN#{town_id}#DELIVERED#{department}"


def delivery_result_sk(at: datetime, delivery_id: str, channel: str, attempt: int) -> str:
    return f"{sort_time(at)}#{delivery_id}#{channel}#{attempt:03d}"


# --- emergency alert subscribers ------------------------------------------------------------

SUBSCRIBER_SK = "SUB"
AUDIENCE_PREFIX = "#AUDIENCE#"
WHOLE_TOWN = "*"


def subscriber_pk(town_id: str, subscriber_id: str) -> str:
    return f"TOWN#{town_id}#ALERTSUB#{subscriber_id}"


def alert_contact_pk(town_id: str, contact_hash: str) -> str:
    return f"TOWN#{town_id}#ALERTCONTACT#{contact_hash}"


def audience_pk(town_id: str, zone: str) -> str:
    """Who an alert to ``zone`` reaches (``*``: the whole town)."""
    return f"TOWN#{town_id}#AUDIENCE#{zone}"


def audience_zone(pk: str) -> str | None:
    """The zone of an audience partition key; None for any other key."""
    return pk.rsplit(AUDIENCE_PREFIX, 1)[1] if AUDIENCE_PREFIX in pk else None


def audience_sk(subscriber_id: str) -> str:
    return f"SUB#{subscriber_id}"


def audience_count_pk(town_id: str) -> str:
    """How many confirmed subscribers each audience of a town has (one item per zone)."""
    return f"TOWN#{town_id}#AUDIENCECOUNT"


AUDIENCE_COUNT_PREFIX = "ZONE#"
AUDIENCE_COUNTED_SK = "COUNTED"  # present once the counts were backfilled from audiences


def audience_count_sk(zone: str) -> str:
    return f"{AUDIENCE_COUNT_PREFIX}{zone}"


def alert_phone_pk(phone_hash: str) -> str:
    """A phone's subscriptions in every town (STOP to the shared number)."""
    return f"PLATFORM#ALERTPHONE#{phone_hash}"


def alert_phone_sk(town_id: str, subscriber_id: str) -> str:
    return f"{town_id}#{subscriber_id}"


# --- emergency alerts -----------------------------------------------------------------------


def alert_pk(town_id: str, alert_id: str) -> str:
    """An alert's progress counters (SK: ``TALLY#<outcome>#<shard>``)."""
    return f"TOWN#{town_id}#ALERT#{alert_id}"


def alert_tally_sk(name: str, shard: int | None = None) -> str:
    return tally_sk(name if shard is None else f"{name}#{shard}")


def alert_tally_name(sk: str) -> str:
    """The outcome a (sharded) alert tally counts."""
    return tally_name(sk).split("#")[0]


def delivery_pk(town_id: str, alert_id: str) -> str:
    """One message per recipient and channel (SK: ``<subscriber>#<channel>``)."""
    return f"TOWN#{town_id}#ALERT#{alert_id}#DELIVERY"


def delivery_subscriber(sk: str) -> str:
    return sk.split("#")[0]


def sms_rate_pk(town_id: str, second: int) -> str:
    """The town's texts in one second (SK: ``TALLY``)."""
    return f"TOWN#{town_id}#SMSRATE#{second}"


SMS_RATE_SK = "TALLY"


# --- a town's figures (chalicelib.domain.figures) -------------------------------------------

FIGURES_OPEN_SK = "FIG#OPEN"  # PK=TOWN#<town>: how many are open now, per dimension value
TALLIED_SK = "TALLIED"  # PK=TOWN#<town>#REQ#<id>: the request's part in the figures


def figures_pk(town_id: str, dimension: str) -> str:
    """A town's day items of one dimension (SK: ``<yyyy-mm-dd>#<value>``), so a period is
    one Query per dimension over a range of days."""
    return f"TOWN#{town_id}#FIG#{dimension}"


def figures_sk(day: date, value: str) -> str:
    return f"{day.isoformat()}#{value}"


def figures_day_of(sk: str) -> tuple[date, str]:
    """(day, value) of a day item's sort key."""
    day, value = sk.split("#", 1)
    return date.fromisoformat(day), value


def open_count_name(dimension: str, value: str) -> str:
    """The attribute of the FIG#OPEN item that counts one dimension value's open requests."""
    return f"{dimension}#{value}"


def request_of(pk: str) -> tuple[str, str]:
    """(town, request id) of a request's partition key ``TOWN#<town>#REQ#<id>``."""
    town, request_id = pk.removeprefix(TOWN_PREFIX).rsplit("#REQ#", 1)
    return town, request_id


# --- request indexes ------------------------------------------------------------------------

UNROUTED = "UNROUTED"
SLA_CURSOR_PK, SLA_CURSOR_SK = "SLA#SWEEP", "CURSOR"


def requested_key(requested_at: datetime, request_id: str) -> str:
    """The sort key of a request in by_requested, by_place and by_department."""
    return f"{sort_time(requested_at)}#{request_id}"


def updated_key(updated_at: datetime, request_id: str) -> str:
    return f"{sort_time(updated_at)}#{request_id}"


def place_key(town_id: str, service_code: str, geohash: str) -> str:
    """by_place: a town's open requests of one service in one geohash-7 cell."""
    return f"TOWN#{town_id}#SVC#{service_code}#{geohash}"


def department_key(town_id: str, department: str) -> str:
    """by_department: a department's open work."""
    return f"TOWN#{town_id}#DEPT#{department}"


def unrouted_key(requested_at: datetime, town_id: str, request_id: str) -> str:
    """by_department under UNROUTED: open requests no router assigned, across towns."""
    return f"{sort_time(requested_at)}#{town_id}#{request_id}"


def sla_bucket(at: datetime) -> str:
    """The by_sla partition of an instant: its UTC hour, across every town."""
    return "SLA#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def sla_key(at: datetime, town_id: str, request_id: str) -> str:
    return f"{sort_time(at)}#{town_id}#{request_id}"


def sla_request_of(key: str) -> tuple[str, str]:
    """(town, request id) of a by_sla sort key."""
    _, town, request_id = key.rsplit("#", 2)
    return town, request_id


# --- knowledge base (chalicelib.domain.knowledge) --------------------------------------------

ARTICLE_PREFIX = "ART#"  # PK=TOWN#<town>: one item per article, all read with one Query
ANSWERED_SK = "ANSWERED"


def article_sk(article_id: str) -> str:
    return f"{ARTICLE_PREFIX}{article_id}"


def answered_pk(town_id: str, mark: str) -> str:
    """An answered question counted once (the mark hashed: it may hold a browser's id)."""
    return f"{town_pk(town_id)}#ANSWERED#{key_hash(mark)}"
