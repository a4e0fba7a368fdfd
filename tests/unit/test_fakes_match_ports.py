"""Every port in chalicelib/services/ports/ has a fake in tests/fakes, and each fake's
methods take what the port's take (same names, kinds and defaults). The contract tests in
tests/integration then check that they also behave like the real adapters."""

from __future__ import annotations

import inspect
from typing import Protocol

import pytest

from chalicelib.services import ports
from tests import fakes

FAKES: dict[type, type] = {
    ports.TownDirectory: fakes.FakeTownDirectory,
    ports.AuditLog: fakes.FakeAuditLog,
    ports.TokenVerifier: fakes.FakeTokenVerifier,
    ports.IdentityProvider: fakes.FakeIdentity,
    ports.FollowerStore: fakes.FakeRequestStore,
    ports.RequestStore: fakes.FakeRequestStore,
    ports.ServiceLevelStore: fakes.FakeRequestStore,
    ports.PhoneMigrationStore: fakes.FakePhoneMigration,
    ports.NearbyRequests: fakes.FakeNearbyRequests,
    ports.NoticeQueue: fakes.FakeNoticeQueue,
    ports.RoutingQueue: fakes.FakeRoutingQueue,
    ports.PhotoInbox: fakes.FakePhotoStorage,
    ports.PhotoBucket: fakes.FakePhotoStorage,
    ports.PhotoUploads: fakes.FakePhotoStorage,
    ports.PhotoStorage: fakes.FakePhotoStorage,
    ports.IdempotencyGuard: fakes.FakeIdempotency,
    ports.Messenger: fakes.FakeMessenger,
    ports.ResidentAccess: fakes.FakeResidentAccess,
    ports.NoticeBook: fakes.FakeNoticeBook,
    ports.Limits: fakes.FakeLimits,
    ports.WebhookPoster: fakes.FakePoster,
    ports.HostResolver: fakes.FakeResolver,
    ports.DepartmentQueues: fakes.FakeAssignmentChannels,
    ports.AssignmentChannels: fakes.FakeAssignmentChannels,
    ports.EscalationTopics: fakes.FakeEscalationTopics,
    ports.DeliveryResults: fakes.FakeDeliveryResults,
    ports.SubscriberStore: fakes.FakeSubscribers,
    ports.AlertDeliveries: fakes.FakeAlerts,
    ports.AlertStore: fakes.FakeAlerts,
    ports.SignInCodes: fakes.FakeSignInCodes,
    ports.UsageMeter: fakes.FakeUsage,
    ports.OpenDataSource: fakes.FakeOpenDataSource,
    ports.ExportJobs: fakes.FakeExportJobs,
    ports.ExportFiles: fakes.FakeExportFiles,
    ports.ExportQueue: fakes.FakeExportQueue,
    ports.FigureStore: fakes.FakeFigureStore,
    ports.ArticleStore: fakes.FakeArticleStore,
    ports.SmsConversations: fakes.FakeSmsConversations,
    ports.InboundMailbox: fakes.FakeInboundMailbox,
    ports.IntakeAddresses: fakes.FakeIntakeAddresses,
    ports.CatalogueWords: fakes.FakeCatalogueWords,
}


def _port_methods(port: type) -> dict[str, inspect.Signature]:
    found: dict[str, inspect.Signature] = {}
    for klass in reversed(port.__mro__):
        if klass in (object, Protocol) or not getattr(klass, "_is_protocol", False):
            continue
        for name, member in vars(klass).items():
            if callable(member) and not name.startswith("_"):
                found[name] = inspect.signature(member)
    return found


def _shape(signature: inspect.Signature) -> list[tuple[str, object, bool]]:
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty)
            for p in signature.parameters.values()]


def test_every_port_has_a_fake() -> None:
    declared = {value for value in vars(ports).values()
                if isinstance(value, type) and getattr(value, "_is_protocol", False)
                and value.__module__.startswith(ports.__name__)}
    assert declared - set(FAKES) == set()


@pytest.mark.parametrize("port", list(FAKES), ids=lambda p: p.__name__)
def test_the_fake_takes_what_the_port_takes(port: type) -> None:
    fake = FAKES[port]
    methods = _port_methods(port)
    assert methods, f"{port.__name__} declares no methods"
    for name, expected in methods.items():
        assert hasattr(fake, name), f"{fake.__name__} lacks {name}"
        assert _shape(inspect.signature(getattr(fake, name))) == _shape(expected), name
