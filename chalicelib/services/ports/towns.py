"""Towns, their catalogues and staff, identity and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.access import Principal
    from chalicelib.domain.catalogue import Catalogue, Department, Service
    from chalicelib.domain.routing import RoutingRules
    from chalicelib.domain.towns import ApiKey, AuditEntry, StaffMember, Town
    from chalicelib.domain.zones import Zone


class TownDirectory(Protocol):
    """Towns and everything configured for them. Catalogue edits take the town's new
    changeset and store it with the edit."""

    def get_town(self, town_id: str) -> Town | None: ...

    def list_towns(self) -> list[str]: ...

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue: ...

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None: ...

    def create_town(self, town: Town, catalogue: Catalogue) -> None: ...

    def save_town(self, town: Town) -> None: ...

    def town_at_domain(self, host: str) -> str | None:
        """The town whose pages ``host`` (a ``web_domain_of`` name) serves."""
        ...

    def map_web_domain(self, town: Town, previous: str | None) -> None:
        """Save the town with its new ``web_domain``, moving the address from ``previous``;
        Conflict when another town has it."""
        ...

    def town_at_number(self, number: str) -> str | None:
        """The town whose SMS number ``number`` (E.164) is."""
        ...

    def map_sms_number(self, town: Town, previous: str | None) -> None:
        """Save the town with its new ``sms_number``, moving the number from ``previous``;
        Conflict when another town has it."""
        ...

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


class SignInCodes(Protocol):
    """The user pool's token endpoint (OAuth 2.0 authorization code with PKCE): what a
    browser coming back from the hosted sign-in page brings is exchanged for an ID token."""

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> tuple[str, int]:
        """The ID token and how many seconds it lasts; Unauthenticated when the pool
        refuses the code, StorageUnavailable when it cannot be asked."""
        ...


class IdentityProvider(Protocol):
    """Where staff sign in (Cognito in the cloud): accounts follow the town's staff list."""

    def provision(self, member: StaffMember) -> str:
        """Create or update the sign-in for ``member``; returns the user id it got."""
        ...

    def disable(self, member: StaffMember) -> None: ...
