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
from typing import Any

from chalicelib.config import Settings, get_settings
from chalicelib.domain.requests import utc_now
from chalicelib.services.admin import AdminPorts
from chalicelib.services.directory import CachedTownDirectory
from chalicelib.services.intake import IntakePorts
from chalicelib.services.ports import (
    AuditLog,
    IdempotencyGuard,
    IdentityProvider,
    RequestStore,
    TownDirectory,
)


def new_id() -> str:
    from ulid import ULID

    return str(ULID())


@dataclass
class Container:
    """Everything the handlers need, built lazily from settings."""

    settings: Settings
    now: Callable[[], datetime] = utc_now
    make_id: Callable[[], str] = new_id
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.session.Session().client(
                service, region_name=self.settings.region)
        return self._clients[service]

    @cached_property
    def _table(self) -> Any:
        """The pynamodb item classes, bound to the table once (one shared connection)."""
        from chalicelib.adapters import dynamodb

        dynamodb.bind_table(self.settings.table_name, self.settings.region)
        return dynamodb

    @cached_property
    def town_store(self) -> TownDirectory:
        """Uncached: what staff and admins read and change."""
        return self._table.DynamoTownDirectory()

    @cached_property
    def towns(self) -> TownDirectory:
        """Cached for a while: what residents' calls read on every request."""
        return CachedTownDirectory(self.town_store, self.settings.cache_seconds)

    @cached_property
    def requests(self) -> RequestStore:
        return self._table.DynamoRequestStore()

    @cached_property
    def nearby(self) -> Any:
        """Open requests near a point (NearbyRequests), for the duplicate check."""
        from chalicelib.adapters.nearby import DynamoNearbyRequests

        self._table  # noqa: B018 - binds the item classes to the table first
        return DynamoNearbyRequests()

    # Adapters get a way to make their client, not the client: a POST without a photo never
    # pays for an S3 client, nor one without an Idempotency-Key for powertools' store.

    @cached_property
    def routing_queue(self) -> Any:
        """Requests waiting for a department (RoutingQueue): one message per submission."""
        from chalicelib.adapters.aws import SqsRoutingQueue

        return SqsRoutingQueue(lambda: self.client("sqs"), self.settings.routing_queue_url)

    @cached_property
    def photos(self) -> Any:
        from chalicelib.adapters.aws import S3PhotoStore

        return S3PhotoStore(lambda: self.client("s3"), self.settings.photo_bucket)

    @cached_property
    def channels(self) -> Any:
        """Departments' own queues and the webhook queue (AssignmentChannels)."""
        from chalicelib.adapters.channels import SqsAssignmentChannels

        s = self.settings
        return SqsAssignmentChannels(lambda: self.client("sqs"), s.queue_prefix,
                                     s.webhook_queue_url, s.public_base_url or "")

    @property
    def webhook_ports(self) -> Any:
        from chalicelib.adapters.channels import HttpWebhookPoster
        from chalicelib.services.delivery import WebhookPorts

        return WebhookPorts(towns=self.towns, poster=HttpWebhookPoster(), now=self.now,
                            destinations=self.webhook_destinations)

    @cached_property
    def resolver(self) -> Any:
        """Host names to addresses (HostResolver); tests put a fake here."""
        from chalicelib.adapters.channels import SystemResolver

        return SystemResolver()

    @property
    def webhook_destinations(self) -> Any:
        """Where departments' webhooks may go: public addresses (loopback too on a local
        run), checked at save and at every delivery."""
        from chalicelib.services.delivery import WebhookDestinations

        return WebhookDestinations(self.resolver, self.settings.allow_loopback_webhooks)

    @cached_property
    def notice_queue(self) -> Any:
        from chalicelib.adapters.aws import SqsNoticeQueue

        return SqsNoticeQueue(lambda: self.client("sqs"), self.settings.notice_queue_url)

    @property
    def notice_ports(self) -> Any:
        """What telling residents and supervisors needs (chalicelib.services.notices)."""
        from chalicelib.services.notices import NoticePorts

        return NoticePorts(store=self.requests, towns=self.towns,
                           book=self._table.DynamoNoticeBook(), queue=self.notice_queue,
                           messenger=self.messenger, now=self.now,
                           base_url=self.settings.public_base_url or "")

    @cached_property
    def escalations(self) -> Any:
        """Escalation topics on SNS, per town and audience (made on first use)."""
        from chalicelib.adapters.escalations import SnsEscalationTopics

        return SnsEscalationTopics(lambda: self.client("sns"), self.settings.queue_prefix)

    @property
    def sweep_ports(self) -> Any:
        from chalicelib.services.service_levels import SweepPorts

        return SweepPorts(store=self.requests, towns=self.towns, escalations=self.escalations,
                          new_id=self.make_id, now=self.now,
                          base_url=self.settings.public_base_url or "",
                          outreach=self.outreach)

    @cached_property
    def idempotency(self) -> IdempotencyGuard:
        from chalicelib.adapters.aws import PowertoolsIdempotency

        return PowertoolsIdempotency(self.settings.idempotency_table_name)

    @cached_property
    def tokens(self) -> Any:
        from chalicelib.adapters.tokens import JwtVerifier

        s = self.settings
        jwks = f"{s.jwt_issuer.rstrip('/')}/.well-known/jwks.json" \
            if s.jwt_issuer and not s.jwt_public_key else None
        return JwtVerifier(s.jwt_issuer or "unset", s.jwt_audience or "unset",
                           public_key_pem=s.jwt_public_key, jwks_url=jwks)

    @cached_property
    def roster(self) -> Any:
        """Staff records behind every staff call (StaffRoster), kept for at most a minute.
        Its clock is the container's, so a test (or `make clock`) moves it on."""
        from chalicelib.services.signin import StaffRoster

        return StaffRoster(self.town_store, self.settings.cache_seconds,
                           clock=lambda: self.now().timestamp())

    @cached_property
    def audit(self) -> AuditLog:
        return self._table.DynamoAuditLog()

    @cached_property
    def identity(self) -> IdentityProvider:
        from chalicelib.adapters.identity import CognitoIdentity, LocalIdentity

        if self.settings.user_pool_id:
            return CognitoIdentity(lambda: self.client("cognito-idp"), self.settings.user_pool_id)
        return LocalIdentity(self.make_id)

    @cached_property
    def outbox(self) -> Any:
        """What actually sends (SES and SNS), or the log on the emulator."""
        from chalicelib.adapters.messages import AwsMessenger, LoggedMessenger

        if self.settings.mail_from:
            return AwsMessenger(lambda: self.client("ses"), lambda: self.client("sns"),
                                self.settings.mail_from)
        return LoggedMessenger()

    @cached_property
    def messenger(self) -> Any:
        """Every message goes through here: texts count against the town's monthly cap."""
        from chalicelib.services.outreach import MeteredMessenger

        # The outbox is looked up on each send, so a test can swap it at any time.
        return MeteredMessenger(lambda: self.outbox, self.towns, self.limits, self.now)

    @cached_property
    def phone_migration(self) -> Any:
        return self._table.DynamoPhoneMigration()

    @cached_property
    def limits(self) -> Any:
        """Budgets of what strangers can make a town send, and its monthly texts."""
        return self._table.DynamoLimits()

    @property
    def outreach(self) -> Any:
        from chalicelib.services.outreach import OutreachPorts

        return OutreachPorts(limits=self.limits, now=self.now)

    @cached_property
    def subscribers(self) -> Any:
        """Emergency alert subscribers (chalicelib.services.subscribers)."""
        return self._table.DynamoSubscribers()

    @cached_property
    def alert_store(self) -> Any:
        """Emergency alerts, their progress and delivery records."""
        return self._table.DynamoAlerts()

    @property
    def alert_ports(self) -> Any:
        from chalicelib.services.alerts import AlertPorts

        return AlertPorts(alerts=self.alert_store, subscribers=self.subscribers,
                          towns=self.town_store, audit=self.audit, queue=self.notice_queue,
                          messenger=self.messenger, book=self._table.DynamoNoticeBook(),
                          new_id=self.make_id, now=self.now,
                          base_url=self.settings.public_base_url or "")

    @cached_property
    def resident_access(self) -> Any:
        return self._table.DynamoResidentAccess()

    @property
    def admin(self) -> AdminPorts:
        return AdminPorts(towns=self.town_store, audit=self.audit, identity=self.identity,
                          new_id=self.make_id, now=self.now,
                          webhooks=self.webhook_destinations)

    @property
    def routing_ports(self) -> Any:
        """What routing a request needs (chalicelib.services.routing): the router, and
        department work and inbound updates, whose hand-offs and declines route again."""
        from chalicelib.services.routing import RoutingPorts

        return RoutingPorts(towns=self.towns, store=self.requests, new_id=self.make_id,
                            now=self.now, channels=self.channels, notices=self.notice_queue)

    @property
    def intake(self) -> IntakePorts:
        return IntakePorts(store=self.requests, routing=self.routing_queue, photos=self.photos,
                           new_id=self.make_id, now=self.now, notices=self.notice_queue,
                           outreach=self.outreach)

    @property
    def escalation_ports(self) -> Any:
        """What admins' escalation topics need (chalicelib.services.escalations)."""
        from chalicelib.services.escalations import EscalationPorts

        return EscalationPorts(towns=self.town_store, topics=self.escalations,
                               outreach=self.outreach)

    @property
    def subscriber_ports(self) -> Any:
        """What residents' alert subscriptions need (chalicelib.services.subscribers)."""
        from chalicelib.services.subscribers import SubscriberPorts

        return SubscriberPorts(store=self.subscribers, messenger=self.messenger,
                               new_id=self.make_id, now=self.now, outreach=self.outreach,
                               deliveries=self.alert_store)

    @property
    def tracking_ports(self) -> Any:
        """What residents following a request need (chalicelib.services.tracking)."""
        from chalicelib.services.tracking import TrackingPorts

        return TrackingPorts(store=self.requests, towns=self.towns, new_id=self.make_id,
                             now=self.now, notices=self.notice_queue, channels=self.channels,
                             photos=self.photos, outreach=self.outreach,
                             messages=self.notice_ports)

    @property
    def sign_in_ports(self) -> Any:
        """What residents' one-time codes need (chalicelib.services.residents)."""
        from chalicelib.services.residents import SignInPorts

        return SignInPorts(access=self.resident_access, messenger=self.messenger,
                           outreach=self.outreach, now=self.now)

    @property
    def photo_work(self) -> Any:
        """What photo uploads, hiding and deleting need (chalicelib.services.photos)."""
        from chalicelib.services.photos import PhotoWork

        return PhotoWork(store=self.requests, uploads=self.photos, new_id=self.make_id,
                         now=self.now)

    @property
    def migration_ports(self) -> Any:
        """What rewriting stored phones needs (chalicelib.services.migrations)."""
        from chalicelib.services.migrations import MigrationPorts

        return MigrationPorts(towns=self.town_store, requests=self.requests,
                              followers=self.requests, book=self.notice_ports.book,
                              migration=self.phone_migration)

    @property
    def photo_ports(self) -> Any:
        """What processing an uploaded photo needs (chalicelib.services.photos)."""
        from chalicelib.services.photos import PhotoPorts

        return PhotoPorts(bucket=self.photos, store=self.requests, new_id=self.make_id,
                          now=self.now, towns=self.towns)


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
    get_settings.cache_clear()
