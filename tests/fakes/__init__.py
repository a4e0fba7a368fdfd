"""In-memory stand-ins for every port in chalicelib/services/ports.py, one module per port
family, for fast service tests. The contract tests in tests/integration run the same
assertions against these and the DynamoDB/AWS adapters (on moto), so a fake cannot drift
from the real thing. ``from tests.fakes import X`` finds every one of them."""

from collections.abc import Callable

from tests.fakes.alerts import FakeAlerts, FakeSubscribers
from tests.fakes.exports import (
    FakeExportFiles,
    FakeExportJobs,
    FakeExportQueue,
    FakeOpenDataSource,
)
from tests.fakes.figures import FakeFigureStore, StreamedRequests
from tests.fakes.knowledge import FakeArticleStore
from tests.fakes.mail import FakeInboundMailbox, FakeIntakeAddresses
from tests.fakes.messages import (
    FakeIdempotency,
    FakeLimits,
    FakeMessenger,
    FakeNoticeBook,
    FakeResidentAccess,
)
from tests.fakes.photos import FakePhotoInbox, FakePhotoStorage
from tests.fakes.queues import (
    FakeAssignmentChannels,
    FakeEscalationTopics,
    FakeNoticeQueue,
    FakeRoutingQueue,
)
from tests.fakes.requests import FakeNearbyRequests, FakePhoneMigration, FakeRequestStore
from tests.fakes.sign_in_codes import FakeSignInCodes
from tests.fakes.sms import FakeSmsConversations
from tests.fakes.towns import (
    FakeAuditLog,
    FakeCatalogueWords,
    FakeIdentity,
    FakeTokenVerifier,
    FakeTownDirectory,
)
from tests.fakes.usage import FakeUsage
from tests.fakes.webhooks import PUBLIC, FakeDeliveryResults, FakePoster, FakeResolver


def counter_ids(prefix: str = "ID") -> Callable[[], str]:
    """Ids in order (ID000001, ID000002, ...), so a test can name what will be made."""
    n = [0]

    def new_id() -> str:
        n[0] += 1
        return f"{prefix}{n[0]:06d}"

    return new_id


__all__ = [
    "FakeCatalogueWords",
    "FakeArticleStore",
    "FakeInboundMailbox",
    "FakeIntakeAddresses",
    "FakeExportFiles",
    "FakeExportJobs",
    "FakeExportQueue",
    "FakeOpenDataSource",
    "PUBLIC",
    "FakeEscalationTopics",
    "FakeFigureStore",
    "FakeAlerts",
    "FakeAssignmentChannels",
    "FakeAuditLog",
    "FakeDeliveryResults",
    "FakeIdempotency",
    "FakeIdentity",
    "FakeLimits",
    "FakeMessenger",
    "FakeNearbyRequests",
    "FakeNoticeBook",
    "FakeSmsConversations",
    "FakeNoticeQueue",
    "FakePhoneMigration",
    "FakePhotoInbox",
    "FakePhotoStorage",
    "FakePoster",
    "FakeRequestStore",
    "FakeResidentAccess",
    "FakeResolver",
    "FakeSignInCodes",
    "FakeUsage",
    "FakeRoutingQueue",
    "FakeSubscribers",
    "StreamedRequests",
    "FakeTokenVerifier",
    "FakeTownDirectory",
    "counter_ids",
]
