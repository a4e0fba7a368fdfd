"""Fakes of what sends and what remembers sending: the notice book, the messenger, the
limits on what strangers can make a town send, residents' sign-in codes and sessions, and
retried submissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.errors import Conflict, StorageUnavailable


class FakeNoticeBook:
    """NoticeBook: stops, claims with their stop links, and deferred texts."""

    def __init__(self) -> None:
        self.stops: set[tuple[str | None, str]] = set()
        self.claims: set[tuple[str, str, str]] = set()
        self.stop_links: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.deferred: dict[str, tuple[str, str]] = {}

    def stopped(self, town_id: str, contact_hashes: list[str],
                phone_hashes: list[str]) -> tuple[set[str], set[str]]:
        return ({h for h in contact_hashes if (town_id, h) in self.stops},
                {h for h in phone_hashes if (None, h) in self.stops})

    def stop(self, town_id: str | None, contact_hash: str, at: datetime) -> None:
        self.stops.add((town_id, contact_hash))

    def restart(self, town_id: str | None, contact_hash: str) -> None:
        self.stops.discard((town_id, contact_hash))

    def claim(self, town_id: str, event_id: str, key: str, expires_at: int,
              stop_hash: str | None = None, request_id: str | None = None) -> bool:
        if (town_id, event_id, key) in self.claims:
            return False
        self.claims.add((town_id, event_id, key))
        if stop_hash and request_id:
            self.stop_links[(town_id, event_id, key)] = (stop_hash, request_id)
        return True

    def stop_link(self, town_id: str, event_id: str, key: str) -> tuple[str, str] | None:
        return self.stop_links.get((town_id, event_id, key))

    def release(self, town_id: str, event_id: str, key: str) -> None:
        self.claims.discard((town_id, event_id, key))
        self.stop_links.pop((town_id, event_id, key), None)

    def defer(self, town_id: str, send_at: datetime, key: str, body: str) -> None:
        self.deferred[f"{send_at.isoformat()}#{town_id}#{key}"] = (town_id, body)

    def deferred_until(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        due = sorted(k for k in self.deferred if k.split("#")[0] <= now.isoformat())
        return [(k, *self.deferred[k]) for k in due[:limit]]

    def drop_deferred(self, key: str) -> None:
        self.deferred.pop(key, None)


class FakeMessenger:
    """Messenger: what was sent; addresses in ``fail_for`` cannot be reached."""

    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.sent: list[dict[str, str | None]] = []
        self.fail_for = fail_for or set()

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        if (email or phone) in self.fail_for:
            raise StorageUnavailable("messages cannot be sent right now")
        self.sent.append({"email": email, "phone": phone, "subject": subject, "text": text})


class FakeLimits:
    """Limits in memory: windowed budgets and kept tallies."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, str, int], int] = {}
        self.tallies: dict[tuple[str, str], int] = {}

    def take(self, town_id: str, name: str, window: int, limit: int, expires_at: int,
             amount: int = 1) -> bool:
        used = self.windows.get((town_id, name, window), 0)
        if used + amount > limit:
            return False
        self.windows[(town_id, name, window)] = used + amount
        return True

    def add(self, town_id: str, name: str, amount: int) -> None:
        self.tallies[(town_id, name)] = self.tallies.get((town_id, name), 0) + amount

    def totals(self, town_id: str, prefix: str) -> dict[str, int]:
        return {name: n for (t, name), n in self.tallies.items()
                if t == town_id and name.startswith(prefix)}

    def spend_sms(self, town_id: str, month: str, segments: int, cap: int) -> bool:
        used = self.tallies.get((town_id, f"sms#{month}"), 0)
        if used + segments > cap:
            return False
        self.tallies[(town_id, f"sms#{month}")] = used + segments
        return True


class FakeResidentAccess:
    """ResidentAccess in memory: one code per contact (hash, expiry, tries) and sessions."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], tuple[str, int, int]] = {}
        self.sessions: dict[tuple[str, str], tuple[str, int]] = {}

    def save_code(self, town_id: str, contact_hash: str, code_hash: str, expires_at: int,
                  not_before: int) -> bool:
        found = self.codes.get((town_id, contact_hash))
        if found is not None and found[1] >= not_before:
            return False
        self.codes[(town_id, contact_hash)] = (code_hash, expires_at, 0)
        return True

    def take_code(self, town_id: str, contact_hash: str,
                  max_tries: int) -> tuple[str, int, int] | None:
        found = self.codes.get((town_id, contact_hash))
        if found is None or found[2] >= max_tries:
            return None
        taken = (found[0], found[1], found[2] + 1)
        self.codes[(town_id, contact_hash)] = taken
        return taken

    def drop_code(self, town_id: str, contact_hash: str) -> None:
        found = self.codes.get((town_id, contact_hash))
        if found is not None:
            self.codes[(town_id, contact_hash)] = ("", found[1], found[2])

    def save_session(self, town_id: str, session_hash: str, contact_hash: str,
                     expires_at: int) -> None:
        self.sessions[(town_id, session_hash)] = (contact_hash, expires_at)

    def session_contact(self, town_id: str, session_hash: str) -> tuple[str, int] | None:
        return self.sessions.get((town_id, session_hash))


class FakeIdempotency:
    """IdempotencyGuard: each key's payload and first result."""

    def __init__(self) -> None:
        self.done: dict[str, tuple[dict[str, object], dict[str, object]]] = {}

    def run_once(self, key: str, payload: dict[str, object],
                 work: Callable[[], dict[str, object]],
                 deadline: object = None) -> dict[str, object]:
        if key in self.done:
            first_payload, result = self.done[key]
            if first_payload != payload:
                raise Conflict("this Idempotency-Key was already used for a different "
                               "request")
            return result
        result = work()
        self.done[key] = (payload, result)
        return result
