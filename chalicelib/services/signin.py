"""Who is staff now: a valid token says who signed in; their staff record says what they
may do.

An ID token cannot be recalled: Cognito's last for an hour, and a removed or demoted person
keeps theirs until it expires. So every staff call also looks up the signer's staff record
(``TOWN#t / STAFF#<sub>``; operators under ``PLATFORM / STAFF#<sub>``) and the record, not
the token, decides:

- no record, or an inactive (removed) one: the sign-in is refused (401), whatever the token
  says;
- the roles and departments are the record's. A token that claims a role or department the
  record no longer has is refused (401: "sign in again"), so a demotion ends the old token
  rather than leaving it half-working; a promotion works at once.

A warm container remembers each answer (present or absent) for at most ``MAX_SECONDS``, so a
staff call costs one GetItem a minute per person, and a removal or role change reaches
every container within that minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.domain.access import Principal, Role, refuse_impossible_identity
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.towns import StaffMember
from chalicelib.services.directory import TTLCache

if TYPE_CHECKING:
    from chalicelib.services.ports import TownDirectory

# The promise: a removal or role change takes effect everywhere within a minute, even if a
# deployment caches towns and catalogues for longer.
MAX_SECONDS = 60.0


class StaffRoster:
    """Checks a token's claims against the staff record, remembered per container."""

    def __init__(self, directory: TownDirectory, seconds: float = MAX_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._directory = directory
        self._records: TTLCache[tuple[str | None, str], StaffMember | None] = TTLCache(
            min(seconds, MAX_SECONDS), clock)

    def forget(self) -> None:
        """Read every record afresh from now on (tests)."""
        self._records.clear()

    def confirm(self, claimed: Principal) -> Principal:
        """The caller as their staff record has them, or Unauthenticated."""
        town_id, subject = claimed.town_id, claimed.subject
        record = self._records.get_or_load(
            (town_id, subject), lambda: self._directory.get_staff(town_id, subject))
        if record is None or not record.active or record.town_id != town_id:
            # The same answer for "never was" and "no longer is": nothing to probe.
            raise Unauthenticated("this sign-in is not on the staff list; ask your town admin")
        roles = frozenset(Role(r) for r in record.roles if r in Role._value2member_map_)
        departments = frozenset(record.departments)
        refuse_impossible_identity(record.town_id, roles)
        if not (claimed.roles <= roles and claimed.departments <= departments):
            raise Unauthenticated("your roles or departments have changed since you signed "
                                  "in; sign in again")
        return Principal(subject=subject, town_id=record.town_id, roles=roles,
                         departments=departments, email=record.email or claimed.email,
                         source_ip=claimed.source_ip, kind=claimed.kind)
