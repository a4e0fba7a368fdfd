"""The one composition root: builds adapters and their clients on first use.

Handlers call ``container()``; nothing is created at import, so a cold start pays only for
what its first call needs, and tests can ``install`` a container of fakes or ``reset`` to
rebuild against a fresh moto backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.domain.instants import utc_now

if TYPE_CHECKING:  # each loads on the first call that needs it, not on cold start
    from chalicelib.config import Settings
    from chalicelib.services.admin import AdminPorts
    from chalicelib.services.alerts import AlertPorts
    from chalicelib.services.delivery import (
        DeliveryTestPorts,
        WebhookDestinations,
        WebhookPorts,
    )
    from chalicelib.services.drafts import DraftPorts
    from chalicelib.services.escalations import EscalationPorts
    from chalicelib.services.figures import FigurePorts
    from chalicelib.services.gazetteer import GazetteerPorts, GazetteerStore, Geocoder
    from chalicelib.services.intake import IntakePorts
    from chalicelib.services.knowledge import KnowledgePorts
    from chalicelib.services.mail_intake import MailPorts
    from chalicelib.services.migrations import MigrationPorts
    from chalicelib.services.notices import NoticePorts
    from chalicelib.services.open_data import OpenDataPorts
    from chalicelib.services.outreach import OutreachPorts
    from chalicelib.services.photos import PhotoPorts, PhotoWork
    from chalicelib.services.ports import (
        AlertStore,
        ArticleStore,
        AssignmentChannels,
        AuditLog,
        CatalogueWords,
        DeliveryResults,
        EscalationTopics,
        ExportFiles,
        ExportJobs,
        ExportQueue,
        FigureStore,
        HostResolver,
        IdempotencyGuard,
        IdentityProvider,
        InboundMailbox,
        IntakeAddresses,
        Limits,
        Messenger,
        NearbyRequests,
        NoticeBook,
        NoticeQueue,
        OpenDataSource,
        PhoneMigrationStore,
        PhotoStorage,
        RequestStore,
        ResidentAccess,
        RoutingQueue,
        ServiceLevelStore,
        SignInCodes,
        SmsConversations,
        SubscriberStore,
        TokenVerifier,
        TownDirectory,
        UsageMeter,
    )
    from chalicelib.services.residents import SignInPorts
    from chalicelib.services.routing import RoutingPorts
    from chalicelib.services.service_levels import SweepPorts
    from chalicelib.services.signin import StaffRoster
    from chalicelib.services.sms_intake import SmsPorts
    from chalicelib.services.subscribers import SubscriberPorts
    from chalicelib.services.tracking import TrackingPorts
    from chalicelib.services.usage import UsagePorts


def new_id() -> str:
    from ulid import ULID

    return str(ULID())


@dataclass
class Container:
    """Everything the handlers need, built lazily from settings."""

    settings: Settings
    now: Callable[[], datetime] = utc_now
    make_id: Callable[[], str] = new_id
    # boto3 clients are untyped (no stubs are installed): an adapter is handed a way to
    # make its own and keeps it behind its port, so nothing else sees one.
    _clients: dict[str, object] = field(default_factory=dict)

    def client(self, service: str) -> object:
        if service not in self._clients:
            self._clients[service] = self.aws_session.create_client(
                service, region_name=self.settings.region)
        return self._clients[service]

    @cached_property
    def aws_session(self) -> Any:
        """The one botocore session every client of the function is made from: pynamodb's
        (the shared connection's). Each session reads and parses botocore's endpoint and
        service data anew, so a POST with a session per library paid for that twice; plain
        botocore clients (not boto3's) because boto3 adds only resources, which nothing
        here uses, and its import."""
        from chalicelib.adapters.dynamodb import shared_botocore_session

        self._table  # noqa: B018 - binds the item classes to the table first
        return shared_botocore_session()

    @cached_property
    def _table(self) -> str:
        """Binds the pynamodb item classes to the table once (one shared connection);
        read it before making any DynamoDB adapter. Its value is the table's name."""
        from chalicelib.adapters.dynamodb import bind_table

        bind_table(self.settings.table_name, self.settings.region)
        return self.settings.table_name

    @cached_property
    def town_store(self) -> TownDirectory:
        """Uncached: what staff and admins read and change."""
        from chalicelib.adapters.dynamodb import DynamoTownDirectory

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoTownDirectory()

    @cached_property
    def towns(self) -> TownDirectory:
        """Cached for a while: what residents' calls read on every request."""
        from chalicelib.services.directory import CachedTownDirectory

        return CachedTownDirectory(self.town_store, self.settings.cache_seconds)

    def town_changed(self, town_id: str | None) -> None:
        """A town admin changed the town: this container's resident pages show it at once
        (they keep a town for ``cache_seconds``); other containers' copies expire within
        that. Any catalogue change gives the town a new changeset, so dropping the town
        brings the new catalogue too."""
        from chalicelib.services.directory import CachedTownDirectory

        towns = self.__dict__.get("towns")  # nothing cached yet: nothing to forget
        if town_id and isinstance(towns, CachedTownDirectory):
            towns.forget_town(town_id)

    @cached_property
    def service_levels(self) -> ServiceLevelStore:
        """The request store with the SLA sweep's index and cursor."""
        from chalicelib.adapters.dynamodb import DynamoRequestStore

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoRequestStore()

    @cached_property
    def requests(self) -> RequestStore:
        """Requests, their timelines and followers: the same adapter as service_levels."""
        return self.service_levels

    @cached_property
    def nearby(self) -> NearbyRequests:
        """Open requests near a point (NearbyRequests), for the duplicate check."""
        from chalicelib.adapters.nearby import DynamoNearbyRequests

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoNearbyRequests()

    @cached_property
    def gazetteer_store(self) -> GazetteerStore:
        """Each town's addresses, intersections and landmarks (a few items per town)."""
        from chalicelib.adapters.dynamodb.gazetteer import DynamoGazetteer

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoGazetteer()

    @cached_property
    def geocoder(self) -> Geocoder:
        """Residents' address suggestions and "use my location": the town's own gazetteer,
        searched in memory and read again after the catalogue's cache period."""
        from chalicelib.services.gazetteer import TownGazetteer

        return TownGazetteer(self.gazetteer_store, self.settings.cache_seconds)

    @property
    def gazetteer_ports(self) -> GazetteerPorts:
        """What a town admin's gazetteer upload needs (chalicelib.services.gazetteer)."""
        from chalicelib.services.gazetteer import GazetteerPorts, TownGazetteer

        def forget(town_id: str) -> None:  # a cloud geocoder keeps no copy to drop
            if isinstance(self.geocoder, TownGazetteer):
                self.geocoder.forget(town_id)

        return GazetteerPorts(towns=self.town_store, store=self.gazetteer_store,
                              audit=self.audit, new_id=self.make_id, now=self.now,
                              forget=forget)

    # Adapters get a way to make their client, not the client: a POST without a photo never
    # pays for an S3 client, nor one without an Idempotency-Key for powertools' store.

    @cached_property
    def routing_queue(self) -> RoutingQueue:
        """Requests waiting for a department: one message per submission."""
        from chalicelib.adapters.aws import SqsRoutingQueue

        return SqsRoutingQueue(lambda: self.client("sqs"), self.settings.routing_queue_url)

    @cached_property
    def photos(self) -> PhotoStorage:
        from chalicelib.adapters.aws import S3PhotoStore

        return S3PhotoStore(lambda: self.client("s3"), self.settings.photo_bucket)

    @cached_property
    def channels(self) -> AssignmentChannels:
        """Departments' own queues and the webhook queue; each send to a department's
        queue is recorded in its delivery results."""
        from chalicelib.adapters.channels import SqsAssignmentChannels
        from chalicelib.services.delivery import RecordedChannels

        s = self.settings
        return RecordedChannels(
            SqsAssignmentChannels(lambda: self.client("sqs"), s.queue_prefix,
                                  s.webhook_queue_url, s.public_base_url or ""),
            self.delivery_results, self.now)

    @cached_property
    def delivery_results(self) -> DeliveryResults:
        """What became of each delivery to a department's queue or webhook (kept 14 days)."""
        from chalicelib.adapters.dynamodb import DynamoDeliveryResults

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoDeliveryResults()

    @property
    def webhook_ports(self) -> WebhookPorts:
        from chalicelib.adapters.channels import HttpWebhookPoster
        from chalicelib.services.delivery import WebhookPorts

        # Uncached: a webhook saved (or a secret rotated) a moment ago is what the next POST
        # uses; a test delivery sent right after saving must not find the old catalogue.
        # Two reads per delivery, small next to the POST itself.
        return WebhookPorts(towns=self.town_store, poster=HttpWebhookPoster(), now=self.now,
                            destinations=self.webhook_destinations,
                            results=self.delivery_results)

    @property
    def delivery_test_ports(self) -> DeliveryTestPorts:
        """A town admin's test delivery to a department (chalicelib.services.delivery)."""
        from chalicelib.services.delivery import DeliveryTestPorts

        return DeliveryTestPorts(towns=self.town_store, channels=self.channels,
                                 results=self.delivery_results, limits=self.limits,
                                 audit=self.audit, new_id=self.make_id, now=self.now)

    @cached_property
    def resolver(self) -> HostResolver:
        """Host names to addresses; tests put a fake here."""
        from chalicelib.adapters.channels import SystemResolver

        return SystemResolver()

    @property
    def webhook_destinations(self) -> WebhookDestinations:
        """Where departments' webhooks may go: public addresses (loopback too on a local
        run), checked at save and at every delivery."""
        from chalicelib.services.delivery import WebhookDestinations

        return WebhookDestinations(self.resolver, self.settings.allow_loopback_webhooks)

    @cached_property
    def notice_queue(self) -> NoticeQueue:
        from chalicelib.adapters.aws import SqsNoticeQueue

        return SqsNoticeQueue(lambda: self.client("sqs"), self.settings.notice_queue_url)

    @property
    def notice_book(self) -> NoticeBook:
        """Who said stop, which messages were sent, and texts waiting for the morning."""
        from chalicelib.adapters.dynamodb import DynamoNoticeBook

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoNoticeBook()

    @property
    def notice_ports(self) -> NoticePorts:
        """What telling residents and supervisors needs (chalicelib.services.notices)."""
        from chalicelib.services.notices import NoticePorts

        return NoticePorts(store=self.requests, towns=self.towns,
                           book=self.notice_book, queue=self.notice_queue,
                           messenger=self.messenger, now=self.now,
                           base_url=self.settings.public_base_url or "")

    @cached_property
    def escalations(self) -> EscalationTopics:
        """Escalation topics on SNS, per town and audience (made on first use)."""
        from chalicelib.adapters.escalations import SnsEscalationTopics

        return SnsEscalationTopics(lambda: self.client("sns"), self.settings.queue_prefix)

    @property
    def sweep_ports(self) -> SweepPorts:
        from chalicelib.services.service_levels import SweepPorts

        return SweepPorts(store=self.service_levels, towns=self.towns,
                          escalations=self.escalations,
                          new_id=self.make_id, now=self.now,
                          base_url=self.settings.public_base_url or "",
                          outreach=self.outreach)

    @cached_property
    def idempotency(self) -> IdempotencyGuard:
        from chalicelib.adapters.aws import PowertoolsIdempotency

        return PowertoolsIdempotency(self.settings.idempotency_table_name,
                                     lambda: self.client("dynamodb"))

    @cached_property
    def tokens(self) -> TokenVerifier:
        from chalicelib.adapters.tokens import JwtVerifier

        s = self.settings
        jwks = f"{s.jwt_issuer.rstrip('/')}/.well-known/jwks.json" \
            if s.jwt_issuer and not s.jwt_public_key else None
        return JwtVerifier(s.jwt_issuer or "unset", s.jwt_audience or "unset",
                           public_key_pem=s.jwt_public_key, jwks_url=jwks)

    @cached_property
    def sign_in_codes(self) -> SignInCodes:
        """The user pool's token endpoint, for the console's hosted sign-in (cloud only:
        the setting names the pool's hosted UI domain)."""
        from chalicelib.adapters.hosted_ui import CognitoSignInCodes

        return CognitoSignInCodes(self.settings.cognito_domain or "",
                                  self.settings.jwt_audience or "")

    @cached_property
    def roster(self) -> StaffRoster:
        """Staff records behind every staff call, kept for at most a minute.
        Its clock is the container's, so a test (or `make clock`) moves it on."""
        from chalicelib.services.signin import StaffRoster

        return StaffRoster(self.town_store, self.settings.cache_seconds,
                           clock=lambda: self.now().timestamp())

    @cached_property
    def audit(self) -> AuditLog:
        from chalicelib.adapters.dynamodb import DynamoAuditLog

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoAuditLog()

    @cached_property
    def identity(self) -> IdentityProvider:
        from chalicelib.adapters.identity import CognitoIdentity, LocalIdentity

        if self.settings.user_pool_id:
            return CognitoIdentity(lambda: self.client("cognito-idp"), self.settings.user_pool_id)
        return LocalIdentity(self.make_id)

    @cached_property
    def outbox(self) -> Messenger:
        """What actually sends (SES and SNS), or the log on the emulator."""
        from chalicelib.adapters.messages import AwsMessenger, LoggedMessenger

        if self.settings.mail_from:
            return AwsMessenger(lambda: self.client("ses"), lambda: self.client("sns"),
                                self.settings.mail_from)
        return LoggedMessenger()

    @cached_property
    def messenger(self) -> Messenger:
        """Every message goes through here: texts count against the town's monthly cap."""
        from chalicelib.services.outreach import MeteredMessenger

        # The outbox is looked up on each send, so a test can swap it at any time.
        return MeteredMessenger(lambda: self.outbox, self.towns, self.limits, self.now,
                                self.usage)

    @cached_property
    def phone_migration(self) -> PhoneMigrationStore:
        from chalicelib.adapters.dynamodb import DynamoPhoneMigration

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoPhoneMigration()

    @cached_property
    def limits(self) -> Limits:
        """Budgets of what strangers can make a town send, and its monthly texts."""
        from chalicelib.adapters.dynamodb import DynamoLimits

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoLimits()

    @property
    def outreach(self) -> OutreachPorts:
        from chalicelib.services.outreach import OutreachPorts

        return OutreachPorts(limits=self.limits, now=self.now, usage=self.usage)

    @cached_property
    def usage(self) -> UsageMeter:
        """What each town uses per month (chalicelib.services.usage)."""
        from chalicelib.adapters.dynamodb import DynamoUsage

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoUsage()

    @property
    def usage_ports(self) -> UsagePorts:
        """What the usage and cost figures need: the towns, their counters, the prices."""
        from chalicelib.config import aws_prices
        from chalicelib.services.usage import UsagePorts

        return UsagePorts(towns=self.town_store, usage=self.usage, prices=aws_prices(),
                          now=self.now)

    @cached_property
    def figures(self) -> FigureStore:
        """A town's figures, counted per request event (chalicelib.services.figures)."""
        from chalicelib.adapters.dynamodb import DynamoFigureStore

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoFigureStore()

    @cached_property
    def article_store(self) -> ArticleStore:
        """A town's knowledge base, uncached (chalicelib.services.knowledge)."""
        from chalicelib.adapters.dynamodb import DynamoArticleStore

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoArticleStore()

    @cached_property
    def articles(self) -> ArticleStore:
        """The town's articles kept for ``cache_seconds`` per container (searches read
        them all); writes through it are seen at once here."""
        from chalicelib.services.knowledge import CachedArticles

        return CachedArticles(self.article_store, self.settings.cache_seconds,
                              clock=lambda: self.now().timestamp())

    @property
    def knowledge_ports(self) -> KnowledgePorts:
        """What answers need (chalicelib.services.knowledge): ``answer_for_text`` and
        ``record_answered`` take these."""
        from chalicelib.services.knowledge import KnowledgePorts

        return KnowledgePorts(towns=self.towns, articles=self.articles, figures=self.figures,
                              audit=self.audit, new_id=self.make_id, now=self.now)

    @property
    def figure_ports(self) -> FigurePorts:
        from chalicelib.services.figures import FigurePorts

        return FigurePorts(towns=self.towns, figures=self.figures, now=self.now)

    @cached_property
    def subscribers(self) -> SubscriberStore:
        """Emergency alert subscribers (chalicelib.services.subscribers)."""
        from chalicelib.adapters.dynamodb import DynamoSubscribers

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoSubscribers()

    @cached_property
    def alert_store(self) -> AlertStore:
        """Emergency alerts, their progress and delivery records."""
        from chalicelib.adapters.dynamodb import DynamoAlerts

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoAlerts()

    @property
    def alert_ports(self) -> AlertPorts:
        from chalicelib.services.alerts import AlertPorts

        return AlertPorts(alerts=self.alert_store, subscribers=self.subscribers,
                          towns=self.town_store, audit=self.audit, queue=self.notice_queue,
                          messenger=self.messenger, book=self.notice_book,
                          new_id=self.make_id, now=self.now,
                          base_url=self.settings.public_base_url or "", usage=self.usage)

    @cached_property
    def resident_access(self) -> ResidentAccess:
        from chalicelib.adapters.dynamodb import DynamoResidentAccess

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoResidentAccess()

    @property
    def admin(self) -> AdminPorts:
        from chalicelib.services.admin import AdminPorts

        return AdminPorts(towns=self.town_store, audit=self.audit, identity=self.identity,
                          new_id=self.make_id, now=self.now,
                          webhooks=self.webhook_destinations, articles=self.articles,
                          addresses=self.intake_addresses,
                          intake_domain=self.settings.mail_intake_domain)

    @cached_property
    def open_data_source(self) -> OpenDataSource:
        """A town's requests in index order (the open-data feed and files)."""
        from chalicelib.adapters.dynamodb import DynamoOpenDataSource

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoOpenDataSource()

    @cached_property
    def export_jobs(self) -> ExportJobs:
        from chalicelib.adapters.dynamodb import DynamoExportJobs

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoExportJobs()

    @cached_property
    def export_files(self) -> ExportFiles:
        """Export files under exports/ of the deployment's private bucket."""
        from chalicelib.adapters.exports import S3ExportFiles

        return S3ExportFiles(lambda: self.client("s3"), self.settings.photo_bucket)

    @cached_property
    def export_queue(self) -> ExportQueue:
        from chalicelib.adapters.exports import SqsExportQueue

        return SqsExportQueue(lambda: self.client("sqs"), self.settings.export_queue_url)

    @property
    def open_data_ports(self) -> OpenDataPorts:
        """What open data and background exports need (chalicelib.services.open_data)."""
        from chalicelib.services.open_data import OpenDataPorts

        return OpenDataPorts(towns=self.towns, source=self.open_data_source,
                             jobs=self.export_jobs, files=self.export_files,
                             queue=self.export_queue, audit=self.audit, new_id=self.make_id,
                             now=self.now,
                             photo_root=(self.settings.public_base_url or "").rstrip("/"))

    @property
    def routing_ports(self) -> RoutingPorts:
        """What routing a request needs (chalicelib.services.routing): the router, and
        department work and inbound updates, whose hand-offs and declines route again."""
        from chalicelib.services.routing import RoutingPorts

        return RoutingPorts(towns=self.towns, store=self.requests, new_id=self.make_id,
                            now=self.now, channels=self.channels, notices=self.notice_queue)

    @property
    def intake(self) -> IntakePorts:
        from chalicelib.services.intake import IntakePorts

        return IntakePorts(store=self.requests, routing=self.routing_queue, photos=self.photos,
                           new_id=self.make_id, now=self.now, notices=self.notice_queue,
                           outreach=self.outreach, usage=self.usage)

    @cached_property
    def inbound_mail(self) -> InboundMailbox:
        """Raw messages SES stored under inbound-mail/ of the private bucket."""
        from chalicelib.adapters.mail import S3InboundMailbox

        return S3InboundMailbox(lambda: self.client("s3"), self.settings.photo_bucket)

    @cached_property
    def intake_addresses(self) -> IntakeAddresses:
        """Towns' own e-mail intake addresses (one item per address)."""
        from chalicelib.adapters.dynamodb.mail import DynamoIntakeAddresses

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoIntakeAddresses()

    @cached_property
    def catalogue_words(self) -> CatalogueWords:
        """The packs' catalogue text in residents' languages, for the channels that reply
        by themselves (texts, e-mail): each language read on its first use."""
        from chalicelib.adapters.catalogue_words import PoCatalogueWords

        return PoCatalogueWords()

    @property
    def mail_ports(self) -> MailPorts:
        """What e-mail intake needs (chalicelib.services.mail_intake)."""
        from chalicelib.services.mail_intake import MailPorts

        return MailPorts(mailbox=self.inbound_mail, addresses=self.intake_addresses,
                         towns=self.towns, intake=self.intake, geocoder=self.geocoder,
                         guard=self.idempotency, limits=self.limits, book=self.notice_book,
                         messenger=self.messenger,
                         intake_domain=self.settings.mail_intake_domain,
                         words=self.catalogue_words,
                         base_url=self.settings.public_base_url or "", audit=self.audit)

    @property
    def draft_ports(self) -> DraftPorts:
        """What confirming an e-mail draft needs (chalicelib.services.drafts)."""
        from chalicelib.services.drafts import DraftPorts

        return DraftPorts(routing=self.routing_ports, audit=self.audit)

    @property
    def escalation_ports(self) -> EscalationPorts:
        """What admins' escalation topics need (chalicelib.services.escalations)."""
        from chalicelib.services.escalations import EscalationPorts

        return EscalationPorts(towns=self.town_store, topics=self.escalations,
                               outreach=self.outreach)

    @property
    def subscriber_ports(self) -> SubscriberPorts:
        """What residents' alert subscriptions need (chalicelib.services.subscribers)."""
        from chalicelib.services.subscribers import SubscriberPorts

        return SubscriberPorts(store=self.subscribers, messenger=self.messenger,
                               new_id=self.make_id, now=self.now, outreach=self.outreach,
                               deliveries=self.alert_store)

    @property
    def tracking_ports(self) -> TrackingPorts:
        """What residents following a request need (chalicelib.services.tracking)."""
        from chalicelib.services.tracking import TrackingPorts

        return TrackingPorts(store=self.requests, towns=self.towns, new_id=self.make_id,
                             now=self.now, notices=self.notice_queue, channels=self.channels,
                             photos=self.photos, outreach=self.outreach,
                             messages=self.notice_ports)

    @property
    def sign_in_ports(self) -> SignInPorts:
        """What residents' one-time codes need (chalicelib.services.residents)."""
        from chalicelib.services.residents import SignInPorts

        return SignInPorts(access=self.resident_access, messenger=self.messenger,
                           outreach=self.outreach, now=self.now)

    @property
    def photo_work(self) -> PhotoWork:
        """What photo uploads, hiding and deleting need (chalicelib.services.photos)."""
        from chalicelib.services.photos import PhotoWork

        return PhotoWork(store=self.requests, uploads=self.photos, new_id=self.make_id,
                         now=self.now)

    @property
    def migration_ports(self) -> MigrationPorts:
        """What rewriting stored phones needs (chalicelib.services.migrations)."""
        from chalicelib.services.migrations import MigrationPorts

        return MigrationPorts(towns=self.town_store, requests=self.requests,
                              followers=self.requests, book=self.notice_ports.book,
                              migration=self.phone_migration)

    @cached_property
    def sms_conversations(self) -> SmsConversations:
        """Reports by text in progress, texts handled, photo links (services.sms_intake)."""
        from chalicelib.adapters.dynamodb import DynamoSmsConversations

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoSmsConversations()

    @property
    def sms_ports(self) -> SmsPorts:
        """What texts to a town's number need (chalicelib.services.sms_intake)."""
        from chalicelib.services.sms_intake import SmsPorts

        return SmsPorts(towns=self.towns, conversations=self.sms_conversations,
                        book=self.notice_book, subscribers=self.subscribers,
                        messenger=self.messenger, limits=self.limits, requests=self.requests,
                        geocoder=self.geocoder, intake=self.intake, now=self.now,
                        words=self.catalogue_words,
                        base_url=self.settings.public_base_url or "",
                        # A question that is not a report is answered from the town's
                        # knowledge base (and counted as an information request).
                        answer=self._answer_text_message)

    def _answer_text_message(self, town_id: str, text: str, language: str,
                             mark: str) -> str | None:
        from chalicelib.services.knowledge import answer_text_message

        return answer_text_message(self.knowledge_ports, town_id, text, language, mark)

    @property
    def photo_ports(self) -> PhotoPorts:
        """What processing an uploaded photo needs (chalicelib.services.photos)."""
        from chalicelib.services.photos import PhotoPorts

        return PhotoPorts(bucket=self.photos, store=self.requests, new_id=self.make_id,
                          now=self.now, towns=self.towns, usage=self.usage)


_container: Container | None = None


def shifted_clock(path: str) -> Callable[[], datetime]:
    """Now, moved forward by the file's ``shift_seconds`` (re-read on every call, so that
    `make clock` reaches the running API and event pump at once). Local runs only."""
    import json
    from datetime import timedelta

    def now() -> datetime:
        try:
            with open(path, encoding="utf-8") as f:
                shift = float(json.load(f).get("shift_seconds", 0))
        except (OSError, ValueError, AttributeError):
            shift = 0.0
        return utc_now() + timedelta(seconds=shift)

    return now


def container() -> Container:
    global _container
    if _container is None:
        from chalicelib.config import get_settings

        settings = get_settings()
        clock = shifted_clock(settings.clock_file) if settings.clock_file else utc_now
        _container = Container(settings, now=clock)
    return _container


def install(replacement: Container) -> None:
    """Use ``replacement`` from now on (tests: fakes, a fixed clock, fresh moto clients)."""
    global _container
    _container = replacement


def reset() -> None:
    global _container
    _container = None
    from chalicelib.config import get_settings

    get_settings.cache_clear()
