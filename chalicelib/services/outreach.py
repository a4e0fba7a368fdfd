"""What a stranger can make the town send, and what every text costs.

Anything an anonymous caller can make the town send (a sign-in code, an alert sign-up's
confirmation, a "me too" confirmation, a report's receipt) costs the town money and can
be aimed at someone else's phone. So every such send passes ``allow_anonymous_send``
first: the phone must be in one of the town's countries, and the number, the caller's
address and the town each have an hourly budget. Refusals are counted per town and day
(``refusals``) and say nothing about whether the contact is known.

Every text the deployment sends, for whatever reason, goes through ``MeteredMessenger``:
it counts the text's segments against the town's one monthly SMS cap, and refuses texts
to countries the town does not serve.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.errors import InvalidInput, Problem, Throttled, Town311Error
from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.phones import country_of, e164
from chalicelib.domain.towns import Town

if TYPE_CHECKING:
    from chalicelib.services.ports import Limits, Messenger, TownDirectory, UsageMeter

log = logging.getLogger(__name__)

HOUR, DAY = 3600, 86400
# Budgets of anonymous sends (every purpose together). A person asks for a code, gets it,
# maybe asks once more: three an hour is plenty; ten a day stops a slow drip at a victim.
PER_CONTACT_PER_HOUR, PER_CONTACT_PER_DAY = 3, 10
PER_SOURCE_PER_HOUR = 10  # one household or office behind one address
# Wrong codes: each code allows 5 tries, but a new code does not bring new guesses.
GUESSES_PER_CONTACT_PER_DAY = 10
GUESSES_PER_SOURCE_PER_HOUR = 30


class TextRefused(Town311Error):
    """A text the town will not send (its workers record it and go on; never retried)."""


class SmsCapReached(Throttled, TextRefused):
    """The town's texts for this month are spent: nothing more is texted until the next
    month (or until the town admin raises the cap)."""

    def __init__(self) -> None:
        super().__init__("this town cannot send more text messages this month; use e-mail",
                         retry_after_seconds=DAY)


class CountryNotServed(InvalidInput, TextRefused):
    """The town does not text numbers of that country (or it is no number at all)."""


@dataclass(frozen=True)
class OutreachPorts:
    limits: Limits
    now: Callable[[], datetime]
    usage: UsageMeter | None = None  # what the town uses this month (services.usage)


def _digest(text: str) -> str:
    return hashlib.sha256(f"source:{text}".encode()).hexdigest()[:32]


def phone_for(town: Town, phone: str | None, field: str = "phone") -> str | None:
    """A phone as the town stores it: E.164 in one of the countries it texts, or a 400."""
    if not phone or not phone.strip():
        return None
    number = e164(phone, town.region, field)
    country = country_of(number)
    if country not in town.texted_countries:
        raise CountryNotServed.of([Problem(
            field, f"{town.name} sends texts only to numbers in "
                   f"{', '.join(town.texted_countries)}")])
    return number


def email_for(email: str | None) -> str | None:
    return email.strip() if email and email.strip() else None


def allow_anonymous_send(ports: OutreachPorts, town: Town, *, email: str | None,
                         phone: str | None, source_ip: str | None, purpose: str) -> None:
    """Throttled (429) unless this anonymous send is within every budget: the contact's
    (per hour and per day), the caller's address's, and the town's. ``phone`` is E.164
    (``phone_for``). The refusal is the same whoever the contact is."""
    now = int(ports.now().timestamp())
    hour, day = now // HOUR, now // DAY
    checks: list[tuple[str, int, int, int]] = []
    for h in contact_hashes(email, phone):
        checks.append((f"contact#{h}#h", hour, PER_CONTACT_PER_HOUR, HOUR))
        checks.append((f"contact#{h}#d", day, PER_CONTACT_PER_DAY, DAY))
    if source_ip:
        checks.append((f"source#{_digest(source_ip)}", hour, PER_SOURCE_PER_HOUR, HOUR))
    checks.append(("town", hour, town.anonymous_messages_per_hour, HOUR))
    for name, window, limit, length in checks:
        if not ports.limits.take(town.town_id, f"send#{name}", window, limit,
                                 (window + 1) * length + DAY):
            reason = name.split("#")[0]
            _refused(ports, town, purpose, reason)
            raise Throttled("too many messages were asked for; try again later",
                            retry_after_seconds=length - now % length)


def allow_guess(ports: OutreachPorts, town: Town, contact_hash: str,
                source_ip: str | None) -> None:
    """A wrong code is about to be judged: Throttled once the contact's guesses for the
    day or the caller's for the hour are spent, whatever code is current."""
    now = int(ports.now().timestamp())
    hour, day = now // HOUR, now // DAY
    checks = [(f"guess#contact#{contact_hash}", day, GUESSES_PER_CONTACT_PER_DAY, DAY)]
    if source_ip:
        checks.append((f"guess#source#{_digest(source_ip)}", hour,
                       GUESSES_PER_SOURCE_PER_HOUR, HOUR))
    for name, window, limit, length in checks:
        if not ports.limits.take(town.town_id, name, window, limit,
                                 (window + 1) * length + DAY):
            _refused(ports, town, "code", name.split("#")[1] + "_guesses")
            raise Throttled("too many wrong codes; try again later",
                            retry_after_seconds=length - now % length)


def _refused(ports: OutreachPorts, town: Town, purpose: str, reason: str) -> None:
    """Counted per town and day, by purpose and reason, for the town admin's figures."""
    day = ports.now().strftime("%Y-%m-%d")
    log.warning("anonymous send refused", extra={"town": town.town_id, "purpose": purpose,
                                                 "reason": reason})
    try:
        ports.limits.add(town.town_id, f"refused#{day}#{purpose}#{reason}", 1)
    except Town311Error:
        log.exception("refusal not counted")


def record_refusal(ports: OutreachPorts, town: Town, purpose: str, reason: str) -> None:
    """A message the town would not send (or a text it would not answer), counted with
    the refused anonymous sends: ``purpose`` and ``reason`` are fixed words, never input."""
    _refused(ports, town, purpose, reason)


def refusals(ports: OutreachPorts, town: Town) -> dict[str, dict[str, int]]:
    """Refused anonymous sends per day: {"2026-12-01": {"sign_in/contact": 3, ...}}."""
    found: dict[str, dict[str, int]] = {}
    for name, count in ports.limits.totals(town.town_id, "refused#").items():
        _, day, purpose, reason = name.split("#", 3)
        found.setdefault(day, {})[f"{purpose}/{reason}"] = count
    return found


class MeteredMessenger:
    """Every text any part of Town311 sends is counted against the town's monthly cap
    and goes only to the town's countries; e-mail passes through. Every message sent is
    counted in the town's usage of the month (services.usage), after it is sent: the
    senders claim each message before sending it, so a redelivery neither sends nor
    counts it again."""

    def __init__(self, outbox: Callable[[], Messenger], towns: TownDirectory, limits: Limits,
                 now: Callable[[], datetime], usage: UsageMeter | None = None) -> None:
        self._outbox = outbox
        self._towns = towns
        self._limits = limits
        self._now = now
        self._usage = usage

    def _count(self, town_id: str, **amounts: int) -> None:
        if self._usage is not None:
            from chalicelib.services.usage import count

            count(self._usage, town_id, self._now(), **amounts)

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        if email:
            self._outbox().send(town_id=town_id, email=email, phone=None, subject=subject,
                             text=text)
            self._count(town_id, messages_email=1)
        if not phone:
            return
        town = self._towns.get_town(town_id)
        if town is None:
            return
        try:  # stored before E.164 was the rule, or the town's countries changed since
            number = phone_for(town, phone)
        except InvalidInput as e:
            raise CountryNotServed(e.message, e.problems) from None
        from chalicelib.domain.alerts import SMS_SEGMENT_USD, sms_segments

        segments = sms_segments(text)
        cap = int(town.sms_monthly_cap_usd / SMS_SEGMENT_USD)
        month = self._now().strftime("%Y-%m")
        if not self._limits.spend_sms(town_id, month, segments, cap):
            raise SmsCapReached()
        try:
            self._outbox().send(town_id=town_id, email=None, phone=number, subject=subject,
                             text=text)
        except Town311Error:
            # Not sent, so not spent: the retry counts it again.
            self._limits.add(town_id, f"sms#{month}", -segments)
            raise
        self._count(town_id, messages_sms=1, sms_segments=segments)


def messaging_figures(ports: OutreachPorts, town: Town) -> dict[str, object]:
    """What the town admin sees of its texts: the countries served, this month's texts
    against the cap, and refused anonymous sends per day."""
    from chalicelib.domain.alerts import SMS_SEGMENT_USD

    month = ports.now().strftime("%Y-%m")
    used = ports.limits.totals(town.town_id, f"sms#{month}").get(f"sms#{month}", 0)
    return {"sms_countries": list(town.texted_countries),
            "anonymous_messages_per_hour": town.anonymous_messages_per_hour,
            "month": month, "sms_segments_sent": used,
            "sms_segments_cap": int(town.sms_monthly_cap_usd / SMS_SEGMENT_USD),
            "sms_spent_usd": round(used * SMS_SEGMENT_USD, 2),
            "refused": refusals(ports, town)}


# Escalations reach staff through SNS topics: SNS texts each SMS subscriber itself, so those
# texts cannot be refused one by one. They are counted all the same (subscribers known
# per audience, times the segments of each publish), so the town's one monthly figure is
# true and texts that can be refused are refused once it is spent.

def text_subscription_added(ports: OutreachPorts, town_id: str, audience: str) -> None:
    ports.limits.add(town_id, f"smssubs#{audience}", 1)


def count_topic_texts(ports: OutreachPorts, town_id: str, audience: str, text: str,
                      known: dict[tuple[str, str], int] | None = None) -> int:
    """Count what one publish to ``audience`` texts; returns the segments counted.
    ``known`` keeps the subscriber counts already read (one read per town and audience
    in a sweep, not one per publish)."""
    from chalicelib.domain.alerts import sms_segments

    name = f"smssubs#{audience}"
    known = {} if known is None else known
    if (town_id, audience) not in known:
        known[(town_id, audience)] = ports.limits.totals(town_id, name).get(name, 0)
    subscribers = known[(town_id, audience)]
    if subscribers <= 0:
        return 0
    segments = subscribers * sms_segments(text)
    ports.limits.add(town_id, f"sms#{ports.now().strftime('%Y-%m')}", segments)
    from chalicelib.services.usage import count

    count(ports.usage, town_id, ports.now(), messages_sms=subscribers, sms_segments=segments)
    return segments
