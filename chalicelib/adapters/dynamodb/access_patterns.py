"""The access patterns of the one table: what the app reads and writes, by which key, on
the table or which index, and which adapter method does it (no Scan anywhere).

The key shapes are those ``keys.py`` builds. ``tests/unit/test_access_patterns.py`` checks
this table against the GSIs of ``infra/template.yaml`` and the pynamodb index classes;
``docs/data-model.md`` is generated from it (``infra/data_model.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE = "table"

# Each GSI and its key attributes, as infra/template.yaml declares them (a test checks).
INDEXES: dict[str, tuple[str, str]] = {
    "by_requested": ("GSI1PK", "GSI1SK"),
    "by_updated": ("GSI2PK", "GSI2SK"),
    "by_place": ("GSI3PK", "GSI3SK"),
    "by_department": ("GSI4PK", "GSI4SK"),
    "by_sla": ("GSI5PK", "GSI5SK"),
}


@dataclass(frozen=True)
class AccessPattern:
    """One way the app reads or writes the table."""

    pattern: str  # in plain words
    operation: str  # GetItem, Query, …
    key: str  # the key condition's shape
    index: str  # TABLE or an index of INDEXES
    used_by: str  # the adapter method (names in chalicelib.adapters.dynamodb)


def _p(pattern: str, operation: str, key: str, used_by: str,
       index: str = TABLE) -> AccessPattern:
    return AccessPattern(pattern, operation, key, index, used_by)


ACCESS_PATTERNS: tuple[AccessPattern, ...] = (
    # towns and catalogue
    _p("a town by jurisdiction_id", "GetItem", "PK=TOWN#<town>, SK=TOWN",
       "DynamoTownDirectory.get_town"),
    _p("the town a web address is mapped to (the resident pages' front door)", "GetItem",
       "PK=PLATFORM#WEBDOMAIN#<host>, SK=WEBDOMAIN", "DynamoTownDirectory.town_at_domain"),
    _p("the town an SMS number belongs to (an inbound text's town)", "GetItem",
       "PK=PLATFORM#SMSNUMBER#<e164>, SK=SMSNUMBER", "DynamoTownDirectory.town_at_number"),
    _p("the town an e-mail intake address reaches (a town's own address)", "GetItem",
       "PK=PLATFORM#MAILTO#<address>, SK=MAILTO", "DynamoIntakeAddresses.town_for"),
    _p("every hosted town", "Query", "PK=PLATFORM, SK begins_with TOWN#",
       "DynamoTownDirectory.list_towns"),
    _p("a town's catalogue (services, departments, zones, routing)", "Query",
       "PK=TOWN#<town>, SK begins_with CAT#", "DynamoTownDirectory.get_catalogue"),
    _p("an API key by the hash of its secret", "GetItem",
       "PK=TOWN#<town>, SK=KEYHASH#<sha256>", "DynamoTownDirectory.find_api_key"),
    _p("a town's API keys", "Query", "PK=TOWN#<town>, SK begins_with APIKEY#",
       "DynamoTownDirectory.list_api_keys"),
    _p("a staff member (an operator: PK=PLATFORM)", "GetItem",
       "PK=TOWN#<town>, SK=STAFF#<user>", "DynamoTownDirectory.get_staff"),
    _p("a town's staff", "Query", "PK=TOWN#<town>, SK begins_with STAFF#",
       "DynamoTownDirectory.list_staff"),
    _p("everything stored for a town (export): its partitions", "Query",
       "PK=TOWN#<town>; PK=TOWN#<town>#REQ#<id>; PK=TOWN#<town>#AUDIT",
       "DynamoTownDirectory.export"),
    _p("everything stored for a town (export): its requests, all time", "Query",
       "GSI1PK=TOWN#<town>", "DynamoTownDirectory.export", "by_requested"),
    _p("a town's audit log, newest first", "Query",
       "PK=TOWN#<town>#AUDIT, SK < <before>", "DynamoAuditLog.page"),
    _p("the version of a town's gazetteer residents read (addresses, landmarks)", "GetItem",
       "PK=TOWN#<town>, SK=GAZ#HEAD", "DynamoGazetteer.summary"),
    _p("the pieces of one gazetteer version", "Query",
       "PK=TOWN#<town>, SK begins_with GAZ#V#<version>#", "DynamoGazetteer.load"),
    # requests and timeline
    _p("a request, fields only", "GetItem", "PK=TOWN#<town>#REQ#<id>, SK=META",
       "DynamoRequestStore.get"),
    _p("a request with its timeline", "Query",
       "PK=TOWN#<town>#REQ#<id>, SK <= META (EVENT#<at>#<id> and META)",
       "DynamoRequestStore.get"),
    _p("several requests by id (Open311 id list)", "BatchGetItem",
       "PK=TOWN#<town>#REQ#<id>, SK=META", "DynamoRequestStore.get_many"),
    _p("a request by its Open311 token (hashed)", "GetItem",
       "PK=TOWN#<town>#TOKENHASH#<sha256>, SK=TOKEN",
       "DynamoRequestStore.request_id_for_token_hash"),
    _p("a request by its tracking number", "GetItem",
       "PK=TOWN#<town>#TRACK#<number>, SK=TRACK", "DynamoRequestStore.request_id_for_tracking"),
    _p("a town's requests by requested time, newest first, paged", "Query",
       "GSI1PK=TOWN#<town>, GSI1SK between <from> and <to>~", "DynamoRequestStore.find",
       "by_requested"),
    _p("a town's requests by updated time, newest first, paged", "Query",
       "GSI2PK=TOWN#<town>, GSI2SK between <from> and <to>~", "DynamoRequestStore.find",
       "by_updated"),
    _p("open requests of a service in a geohash-7 cell (sparse: open with a point)", "Query",
       "GSI3PK=TOWN#<town>#SVC#<service>#<cell>, GSI3SK >= <since>",
       "DynamoNearbyRequests.open_near", "by_place"),
    _p("a department's open work, oldest first (sparse: open only)", "Query",
       "GSI4PK=TOWN#<town>#DEPT#<department>, GSI4SK=<requested>#<id>",
       "DynamoRequestStore.department_work", "by_department"),
    _p("open requests no router assigned, across towns (sparse)", "Query",
       "GSI4PK=UNROUTED, GSI4SK < <cutoff>", "DynamoRequestStore.unrouted_before",
       "by_department"),
    _p("a town's counters (disputes, ratings)", "Query",
       "PK=TOWN#<town>, SK begins_with TALLY#<prefix>", "DynamoRequestStore.tallies"),
    # service levels
    _p("open requests whose next SLA step is due, one UTC hour (sparse, keys only)",
       "Query", "GSI5PK=SLA#<yyyy-mm-ddThh>, GSI5SK <= <now>~", "DynamoRequestStore.sla_due",
       "by_sla"),
    _p("the oldest hour the SLA sweep has not finished", "GetItem",
       "PK=SLA#SWEEP, SK=CURSOR", "DynamoRequestStore.sla_cursor"),
    # followers and residents
    _p("a request's followers (reporter and \"me too\"s)", "Query",
       "PK=TOWN#<town>#REQ#<id>, SK begins_with SUB#", "DynamoRequestStore.followers_of"),
    _p("a confirm link by the hash of its secret", "GetItem",
       "PK=TOWN#<town>#LINK#<sha256>, SK=LINK", "DynamoRequestStore.take_link"),
    _p("the requests a resident reported (or follows: FOLLOW#)", "Query",
       "PK=TOWN#<town>#RESIDENT#<contact hash>, SK begins_with REQ#",
       "DynamoRequestStore.requests_of_resident"),
    _p("how a resident is tied to a request", "BatchGetItem",
       "PK=TOWN#<town>#RESIDENT#<contact hash>, SK=REQ#<id> | FOLLOW#<id>",
       "DynamoRequestStore.is_reporter_or_follower"),
    _p("a resident's sign-in code", "UpdateItem",
       "PK=TOWN#<town>#RESIDENT#<contact hash>, SK=CODE", "DynamoResidentAccess.take_code"),
    _p("a resident's session", "GetItem", "PK=TOWN#<town>#RSESSION#<sha256>, SK=SESSION",
       "DynamoResidentAccess.session_contact"),
    # notices
    _p("who must not get messages (town stop link; STOP to the shared number)",
       "BatchGetItem",
       "PK=TOWN#<town>#OPTOUT#<contact hash> | PLATFORM#SMSOPTOUT#<phone hash>, SK=OPTOUT",
       "DynamoNoticeBook.stopped"),
    _p("a message already sent for an event", "PutItem",
       "PK=TOWN#<town>#NOTICE#<event id>, SK=<follower>#<channel>", "DynamoNoticeBook.claim"),
    _p("texts held back by quiet hours, due by now", "Query",
       "PK=NOTICE#DEFERRED, SK <= <now>~", "DynamoNoticeBook.deferred_until"),
    # reports by text message
    _p("a phone's report by text in progress (strongly consistent)", "GetItem",
       "PK=TOWN#<town>#SMS#<phone hash>, SK=CONV", "DynamoSmsConversations.conversation"),
    _p("save it on its version", "PutItem (condition: version)",
       "PK=TOWN#<town>#SMS#<phone hash>, SK=CONV", "DynamoSmsConversations.save_conversation"),
    _p("an inbound text handled once (SNS redelivers)", "PutItem (condition: new)",
       "PK=TOWN#<town>#SMSIN#<message id>, SK=SMSIN", "DynamoSmsConversations.claim_message"),
    _p("a photo link by the hash of its secret, taken once", "GetItem",
       "PK=TOWN#<town>#PHOTOLINK#<sha256>, SK=PHOTOLINK",
       "DynamoSmsConversations.take_photo_link"),
    # limits
    _p("a budget of anonymous sends or guesses in one window", "UpdateItem",
       "PK=TOWN#<town>#LIMIT#<name>#<window>, SK=LIMIT", "DynamoLimits.take"),
    _p("texts this month, refusals per day", "UpdateItem",
       "PK=TOWN#<town>, SK=TALLY#sms#<month> | TALLY#refused#<day>#…",
       "DynamoLimits.spend_sms"),
    # open data and exports
    _p("a town's requests by updated time, oldest first, after a position (the open-data "
       "feed and the year's file)", "Query",
       "GSI2PK=TOWN#<town>, GSI2SK between <after>#<id> and <until>~",
       "DynamoOpenDataSource.in_order", "by_updated"),
    _p("a town's requests of a period by requested time, oldest first (the year's file)",
       "Query", "GSI1PK=TOWN#<town>, GSI1SK between <start> and <end>~",
       "DynamoOpenDataSource.in_order", "by_requested"),
    _p("create an export job (once per id)", "PutItem (condition: new)",
       "PK=TOWN#<town>, SK=EXPORT#<job>", "DynamoExportJobs.create"),
    _p("an export job, its progress and file", "GetItem",
       "PK=TOWN#<town>, SK=EXPORT#<job>", "DynamoExportJobs.get"),
    _p("an export job's progress", "PutItem", "PK=TOWN#<town>, SK=EXPORT#<job>",
       "DynamoExportJobs.save"),
    # usage
    _p("add to a town's usage of this month (requests, photos, messages)", "UpdateItem",
       "PK=TOWN#<town>, SK=USAGE#<yyyy-mm>", "DynamoUsage.add"),
    _p("the usage of every hosted town in one month (one key per town)", "BatchGetItem",
       "PK=TOWN#<town>, SK=USAGE#<yyyy-mm>", "DynamoUsage.months"),
    _p("an API key's submissions this minute", "TransactWriteItems",
       "PK=TOWN#<town>, SK=RATE#<key id>#<minute>", "DynamoRequestStore.add"),
    # departments' deliveries
    _p("a try at delivering to a department's queue or webhook (TTL)", "PutItem",
       "PK=TOWN#<town>#DELIVERED#<department>, "
       "SK=<at>#<delivery id>#<channel>#<attempt>",
       "DynamoDeliveryResults.record"),
    _p("a department's latest delivery results, newest first", "Query",
       "PK=TOWN#<town>#DELIVERED#<department>, newest first, limit",
       "DynamoDeliveryResults.recent"),
    # subscribers
    _p("an alert subscriber", "GetItem", "PK=TOWN#<town>#ALERTSUB#<id>, SK=SUB",
       "DynamoSubscribers.get"),
    _p("a town's subscription of a contact", "GetItem",
       "PK=TOWN#<town>#ALERTCONTACT#<contact hash>, SK=SUB",
       "DynamoSubscribers.find_by_contact"),
    _p("who an alert to a zone reaches (* the whole town)", "Query",
       "PK=TOWN#<town>#AUDIENCE#<zone>", "DynamoSubscribers.audience"),
    _p("a phone's subscriptions in every town (STOP)", "Query",
       "PK=PLATFORM#ALERTPHONE#<phone hash>", "DynamoSubscribers.subscriptions_of_phone"),
    # emergency alerts
    _p("a town's alerts", "Query", "PK=TOWN#<town>, SK begins_with ALERT#",
       "DynamoAlerts.list"),
    _p("an alert's progress (strongly consistent)", "Query",
       "PK=TOWN#<town>#ALERT#<id>, SK begins_with TALLY#", "DynamoAlerts.counts"),
    _p("one message per recipient and channel", "PutItem",
       "PK=TOWN#<town>#ALERT#<id>#DELIVERY, SK=<subscriber>#<channel>",
       "DynamoAlerts.claim"),
    _p("the town's texts this second", "UpdateItem",
       "PK=TOWN#<town>#SMSRATE#<second>, SK=TALLY", "DynamoAlerts.take_sms_slot"),
    # figures (chalicelib.domain.figures)
    _p("a town's day items of one dimension over a range of days (a period and the days "
       "after it, for the backlog)", "Query",
       "PK=TOWN#<town>#FIG#<dimension>, SK between <yyyy-mm-dd># and <yyyy-mm-dd>#~",
       "DynamoFigureStore.days"),
    _p("how many requests are open now, per dimension value", "GetItem",
       "PK=TOWN#<town>, SK=FIG#OPEN", "DynamoFigureStore.open_now"),
    _p("a request's part in the figures (strongly consistent)", "GetItem",
       "PK=TOWN#<town>#REQ#<id>, SK=TALLIED", "DynamoFigureStore.tally"),
    _p("count one request event: its tally (on its version), its day items and the open "
       "counts", "TransactWriteItems",
       "PK=TOWN#<town>#REQ#<id>, SK=TALLIED; PK=TOWN#<town>#FIG#<dimension>, "
       "SK=<day>#<value>; PK=TOWN#<town>, SK=FIG#OPEN", "DynamoFigureStore.record"),
    _p("a request's facts for a \"me too\" (the request as it is now)", "GetItem",
       "PK=TOWN#<town>#REQ#<id>, SK=META", "DynamoFigureStore.facts"),
    _p("the backfill: every request of a town (then each one's partition)", "Query",
       "GSI1PK=TOWN#<town>", "DynamoFigureStore.history", "by_requested"),
    _p("the backfill: a request with its timeline and followers", "Query",
       "PK=TOWN#<town>#REQ#<id>", "DynamoFigureStore.history"),
    _p("the backfill: a town's day items, to replace them", "Query",
       "PK=TOWN#<town>#FIG#<dimension>", "DynamoFigureStore.replace"),
    _p("count an answered question once: its mark (new only, TTL) and the town's and the "
       "channel's day items", "TransactWriteItems",
       "PK=TOWN#<town>#ANSWERED#<sha256 of the mark>, SK=ANSWERED; "
       "PK=TOWN#<town>#FIG#town|channel, SK=<day>#<value>", "DynamoFigureStore.count_answered"),
    # knowledge base (chalicelib.domain.knowledge)
    _p("a town's articles, all of them (tens to a few hundred)", "Query",
       "PK=TOWN#<town>, SK begins_with ART#", "DynamoArticleStore.articles"),
    _p("an article", "GetItem", "PK=TOWN#<town>, SK=ART#<article id>",
       "DynamoArticleStore.get"),
    _p("create or replace an article", "PutItem", "PK=TOWN#<town>, SK=ART#<article id>",
       "DynamoArticleStore.save"),
    _p("add a pack's articles the town does not have", "PutItem (condition: new)",
       "PK=TOWN#<town>, SK=ART#<article id>", "DynamoArticleStore.add_new"),
    _p("remove an article", "DeleteItem (condition: exists)",
       "PK=TOWN#<town>, SK=ART#<article id>", "DynamoArticleStore.delete"),
    # migrations
    _p("every request id of a town (operator-run migration)", "Query",
       "GSI1PK=TOWN#<town>", "DynamoPhoneMigration.request_ids", "by_requested"),
)


# What each item class is stored under (docs/data-model.md; a test checks every class is
# here). ``TableItem`` itself writes bare markers and deletes any item by its key.
ITEM_KEYS: dict[str, str] = {
    "TableItem": "PK=TOWN#<town>#REQ#<id>, SK=ONCE#<update id> (an update applied once)",
    "TownItem": "PK=TOWN#<town>, SK=TOWN",
    "PlatformTownItem": "PK=PLATFORM, SK=TOWN#<town>",
    "WebDomainItem": "PK=PLATFORM#WEBDOMAIN#<host>, SK=WEBDOMAIN",
    "SmsNumberItem": "PK=PLATFORM#SMSNUMBER#<e164>, SK=SMSNUMBER",
    "MailAddressItem": "PK=PLATFORM#MAILTO#<address>, SK=MAILTO",
    "ApiKeyItem": "PK=TOWN#<town>, SK=APIKEY#<key id> | KEYHASH#<sha256 of the secret>",
    "StaffItem": "PK=TOWN#<town> | PLATFORM, SK=STAFF#<user>",
    "ServiceItem": "PK=TOWN#<town>, SK=CAT#SERVICE#<code>",
    "DepartmentItem": "PK=TOWN#<town>, SK=CAT#DEPT#<code>",
    "ZoneItem": "PK=TOWN#<town>, SK=CAT#ZONE#<code>",
    "RoutingItem": "PK=TOWN#<town>, SK=CAT#ROUTING",
    "AuditItem": "PK=TOWN#<town>#AUDIT, SK=<at>#<entry id>",
    "RequestItem": "PK=TOWN#<town>#REQ#<id>, SK=META; GSI1 TOWN#<town> / <requested>#<id>; "
                   "GSI2 TOWN#<town> / <updated>#<id>; GSI3 (open, with a point) "
                   "TOWN#<town>#SVC#<service>#<cell> / <requested>#<id>; GSI4 (open) "
                   "TOWN#<town>#DEPT#<department> / <requested>#<id>, or UNROUTED / "
                   "<requested>#<town>#<id>; GSI5 (open, with an SLA step) SLA#<hour> / "
                   "<at>#<town>#<id>",
    "RequestCounters": "PK=TOWN#<town>#REQ#<id>, SK=META (the counters only)",
    "EventItem": "PK=TOWN#<town>#REQ#<id>, SK=EVENT#<at>#<event id>",
    "TokenItem": "PK=TOWN#<town>#TOKENHASH#<sha256 of the token>, SK=TOKEN",
    "TrackItem": "PK=TOWN#<town>#TRACK#<tracking number>, SK=TRACK",
    "FollowerItem": "PK=TOWN#<town>#REQ#<id>, SK=SUB#<follower>",
    "LinkItem": "PK=TOWN#<town>#LINK#<sha256 of the secret>, SK=LINK",
    "SweepCursorItem": "PK=SLA#SWEEP, SK=CURSOR",
    "ResidentItem": "PK=TOWN#<town>#RESIDENT#<contact hash>, SK=REQ#<id> | FOLLOW#<id>",
    "ResidentCodeItem": "PK=TOWN#<town>#RESIDENT#<contact hash>, SK=CODE",
    "ResidentSessionItem": "PK=TOWN#<town>#RSESSION#<sha256 of the session>, SK=SESSION",
    "OptOutItem": "PK=TOWN#<town>#OPTOUT#<contact hash> | PLATFORM#SMSOPTOUT#<phone hash>, "
                  "SK=OPTOUT",
    "NoticeClaimItem": "PK=TOWN#<town>#NOTICE#<event id>, SK=<follower>#<channel>",
    "DeferredNoticeItem": "PK=NOTICE#DEFERRED, SK=<send at>#<town>#<key>",
    "ConversationItem": "PK=TOWN#<town>#SMS#<phone hash>, SK=CONV (TTL expires_at)",
    "InboundSmsItem": "PK=TOWN#<town>#SMSIN#<message id>, SK=SMSIN (TTL expires_at)",
    "PhotoLinkItem": "PK=TOWN#<town>#PHOTOLINK#<sha256 of the secret>, SK=PHOTOLINK "
                     "(TTL expires_at)",
    "LimitItem": "PK=TOWN#<town>#LIMIT#<name>#<window>, SK=LIMIT",
    "TallyItem": "PK=TOWN#<town>, SK=TALLY#<name>; PK=TOWN#<town>#ALERT#<id>, "
                 "SK=TALLY#<outcome>[#<shard>]; PK=TOWN#<town>#SMSRATE#<second>, SK=TALLY",
    "RateItem": "PK=TOWN#<town>, SK=RATE#<key id>#<minute>",
    "UsageItem": "PK=TOWN#<town>, SK=USAGE#<yyyy-mm>",
    "DeliveryResultItem": "PK=TOWN#<town>#DELIVERED#<department>, "
                          "SK=<at>#<delivery id>#<channel>#<attempt>",
    "ExportJobItem": "PK=TOWN#<town>, SK=EXPORT#<job> (TTL expires_at)",
    "SubscriberItem": "PK=TOWN#<town>#ALERTSUB#<id>, SK=SUB",
    "AudienceItem": "PK=TOWN#<town>#AUDIENCE#<zone | *>, SK=SUB#<subscriber>",
    "AudienceCountItem": "PK=TOWN#<town>#AUDIENCECOUNT, SK=ZONE#<zone | *> | COUNTED",
    "SubscriberPointer": "PK=TOWN#<town>#ALERTCONTACT#<contact hash>, SK=SUB; "
                         "PK=PLATFORM#ALERTPHONE#<phone hash>, SK=<town>#<subscriber>",
    "AlertItem": "PK=TOWN#<town>, SK=ALERT#<id>",
    "DeliveryItem": "PK=TOWN#<town>#ALERT#<id>#DELIVERY, SK=<subscriber>#<channel>",
    "GazetteerHeadItem": "PK=TOWN#<town>, SK=GAZ#HEAD",
    "GazetteerPieceItem": "PK=TOWN#<town>, SK=GAZ#V#<version>#<piece>",
    "FigureDayItem": "PK=TOWN#<town>#FIG#<dimension>, SK=<yyyy-mm-dd>#<value>",
    "OpenCountItem": "PK=TOWN#<town>, SK=FIG#OPEN",
    "RequestTallyItem": "PK=TOWN#<town>#REQ#<id>, SK=TALLIED",
    "AnsweredMarkItem": "PK=TOWN#<town>#ANSWERED#<sha256 of the mark>, SK=ANSWERED "
                        "(TTL expires_at)",
    "ArticleItem": "PK=TOWN#<town>, SK=ART#<article id>",
}
