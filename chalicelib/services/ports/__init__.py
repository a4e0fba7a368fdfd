"""The ports services depend on: every store and gateway, as a ``Protocol``. Adapters
implement them (chalicelib.adapters), tests hand in fakes (tests/fakes), and one contract
suite per port runs on both (tests/integration), so a fake cannot drift from the real thing.

The values they take and return live in the domain (chalicelib.domain.queries and the
aggregates), so no adapter imports from the services.
"""

from __future__ import annotations

from chalicelib.services.ports.alerts import (
    AlertDeliveries,
    AlertStore,
    SubscriberStore,
)
from chalicelib.services.ports.departments import (
    AssignmentChannels,
    DeliveryResults,
    DepartmentQueues,
    EscalationTopics,
    HostResolver,
    WebhookPoster,
)
from chalicelib.services.ports.exports import (
    ExportFiles,
    ExportJobs,
    ExportQueue,
    OpenDataSource,
)
from chalicelib.services.ports.figures import FigureStore
from chalicelib.services.ports.knowledge import ArticleStore
from chalicelib.services.ports.mail import InboundMailbox, IntakeAddresses
from chalicelib.services.ports.messages import (
    IdempotencyGuard,
    Limits,
    Messenger,
    NearbyRequests,
    NoticeBook,
    NoticeQueue,
    PhotoBucket,
    PhotoInbox,
    PhotoStorage,
    PhotoUploads,
    ResidentAccess,
    RoutingQueue,
)
from chalicelib.services.ports.requests import (
    FollowerStore,
    PhoneMigrationStore,
    RequestStore,
    ServiceLevelStore,
)
from chalicelib.services.ports.sms import SmsConversations
from chalicelib.services.ports.towns import (
    AuditLog,
    IdentityProvider,
    SignInCodes,
    TokenVerifier,
    TownDirectory,
)
from chalicelib.services.ports.usage import UsageMeter
from chalicelib.services.ports.words import CatalogueWords

__all__ = [
    "CatalogueWords",
    "SmsConversations",
    "InboundMailbox",
    "IntakeAddresses",
    "ExportFiles",
    "ExportJobs",
    "ExportQueue",
    "OpenDataSource",
    "FigureStore",
    "ArticleStore",
    "TownDirectory",
    "AuditLog",
    "TokenVerifier",
    "SignInCodes",
    "IdentityProvider",
    "FollowerStore",
    "RequestStore",
    "ServiceLevelStore",
    "PhoneMigrationStore",
    "NoticeQueue",
    "RoutingQueue",
    "PhotoInbox",
    "IdempotencyGuard",
    "Messenger",
    "ResidentAccess",
    "NearbyRequests",
    "PhotoBucket",
    "PhotoUploads",
    "PhotoStorage",
    "NoticeBook",
    "Limits",
    "WebhookPoster",
    "HostResolver",
    "DepartmentQueues",
    "AssignmentChannels",
    "DeliveryResults",
    "EscalationTopics",
    "SubscriberStore",
    "AlertDeliveries",
    "AlertStore",
    "UsageMeter",
]
