"""Residents signing up for emergency alerts: double opt-in, zones from a list or a home
point, and leaving at once (STOP, the link in every alert, or their own delete)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.catalogue import Catalogue
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Problem, Unauthenticated
from chalicelib.domain.followers import contact_hashes, secret_hash
from chalicelib.domain.notices import language_for
from chalicelib.domain.phones import e164_or_none
from chalicelib.domain.subscribers import ACTIVE, CODE_SECONDS, MAX_TRIES, PENDING, Subscriber
from chalicelib.domain.towns import Town
from chalicelib.services.outreach import (
    OutreachPorts,
    allow_anonymous_send,
    allow_guess,
    phone_for,
)

if TYPE_CHECKING:
    from chalicelib.services.ports import AlertDeliveries, Messenger, SubscriberStore, TownDirectory

CONFIRM_WORDS = {
    "en": ("{town} alerts: your confirmation code is {code}. Reply STOP to cancel.",
           "{town}: confirm your emergency alerts",
           "Your code is {code}. Enter it where you signed up, within 24 hours. If you did "
           "not ask for {town}'s emergency alerts, ignore this message."),
    "es": ("Alertas de {town}: su código de confirmación es {code}. Responda STOP para "
           "cancelar.",
           "{town}: confirme sus alertas de emergencia",
           "Su código es {code}. Escríbalo donde se suscribió, en las próximas 24 horas. Si "
           "no pidió las alertas de emergencia de {town}, ignore este mensaje."),
}


@dataclass(frozen=True)
class SubscriberPorts:
    store: SubscriberStore
    messenger: Messenger
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    outreach: OutreachPorts | None = None  # budgets of anonymous sends and guesses
    deliveries: AlertDeliveries | None = None  # the stop link's hash in each e-mail


def _code_hash(subscriber_id: str, code: str) -> str:
    return hashlib.sha256(f"{subscriber_id}:{code.strip()}".encode()).hexdigest()


def subscribe(ports: SubscriberPorts, town: Town, catalogue: Catalogue, *,
              email: str | None, phone: str | None, language: str | None,
              zones: list[str], home: tuple[float, float] | None,
              source_ip: str | None = None) -> Subscriber:
    """Sign up (pending) and send the confirmation code by text, else by e-mail.

    A subscription the same contact already has stays exactly as it is until the new
    sign-up is confirmed: whoever types someone else's phone here can cost them one text
    (within the anonymous budgets), never their alerts."""
    problems = []
    if not email and not phone:
        problems.append(Problem("phone", "give a phone and/or an e-mail address"))
    number = None
    if phone:
        try:
            number = phone_for(town, phone)
        except InvalidInput as e:
            problems.extend(e.problems)
    known = {z.code for z in catalogue.zones}
    unknown = [z for z in zones if z not in known]
    if unknown:
        problems.append(Problem("zones", f"{', '.join(unknown)} is not a zone of {town.name}"))
    chosen = list(dict.fromkeys(zones))
    if home is not None and catalogue.zones:
        from chalicelib.domain.zones import zones_containing

        chosen += [z.code for z in zones_containing(catalogue.zones, *home)
                   if z.code not in chosen]
    if problems:
        raise InvalidInput.of(problems)
    if ports.outreach is not None:
        allow_anonymous_send(ports.outreach, town, email=email, phone=number,
                             source_ip=source_ip, purpose="alert_sign_up")
    code = f"{secrets.randbelow(1_000_000):06d}"
    subscriber_id = ports.new_id()
    now = ports.now()
    subscriber = Subscriber(
        town_id=town.town_id, subscriber_id=subscriber_id,
        language=language_for(language, town.locales), zones=tuple(chosen), created_at=now,
        phone=number, email=email, status=PENDING, code_hash=_code_hash(subscriber_id, code),
        code_expires=int(now.timestamp()) + CODE_SECONDS, home=home)
    ports.store.save(subscriber)
    text, subject, mail = CONFIRM_WORDS.get(subscriber.language, CONFIRM_WORDS["en"])
    name = town.branding.display_name or town.name
    if number:
        ports.messenger.send(town_id=town.town_id, email=None, phone=number,
                             subject=subject.format(town=name),
                             text=text.format(town=name, code=code))
    else:
        ports.messenger.send(town_id=town.town_id, email=email, phone=None,
                             subject=subject.format(town=name),
                             text=mail.format(town=name, code=code))
    return subscriber


def confirm(ports: SubscriberPorts, town: Town, subscriber_id: str, code: str,
            source_ip: str | None = None) -> Subscriber:
    """The code sent at sign-up makes the subscription active (replacing any earlier one
    of the same contact). Each try is counted in the same write that checks the tries
    left, so concurrent guesses cannot share one; the contact's and the caller's guess
    budgets hold across sign-ups. An active subscription answers no details here."""
    subscriber = ports.store.get(town.town_id, subscriber_id[:64])
    if subscriber is None:
        raise NotFound("no such sign-up; sign up again")
    if subscriber.status == ACTIVE:
        raise Conflict("this sign-up is already confirmed")
    if ports.outreach is not None:
        allow_guess(ports.outreach, town, subscriber.contact_hashes[0], source_ip)
    now = int(ports.now().timestamp())
    if subscriber.code_expires < now or not ports.store.take_try(
            town.town_id, subscriber.subscriber_id, MAX_TRIES):
        raise Conflict("this code has expired or was tried too often; sign up again")
    if not secrets.compare_digest(subscriber.code_hash or "",
                                  _code_hash(subscriber.subscriber_id, code or "")):
        raise Unauthenticated("that code is not right")
    for h in subscriber.contact_hashes:
        old_id = ports.store.find_by_contact(town.town_id, h)
        old = ports.store.get(town.town_id, old_id) if old_id else None
        if old is not None and old.subscriber_id != subscriber.subscriber_id:
            ports.store.remove(old)
    active = replace(subscriber, status=ACTIVE, code_hash=None, code_expires=0, tries=0)
    ports.store.save(active)
    return active


def stop_by_link(ports: SubscriberPorts, town: Town, subscriber_id: str, key: str) -> None:
    """The stop link in an alert e-mail: that e-mail address gets no more alerts. A phone
    on the same subscription is not the link holder's to silence (STOP by text is)."""
    subscriber = ports.store.get(town.town_id, subscriber_id[:64])
    if subscriber is None or not subscriber.email or not _stop_key_holds(
            ports, subscriber, key or ""):
        raise NotFound("this link is not valid (or you already stopped these alerts)")
    ports.store.remove(subscriber)
    if subscriber.phone:
        ports.store.save(replace(subscriber, email=None, stop_key=""))


def _stop_key_holds(ports: SubscriberPorts, subscriber: Subscriber, key: str) -> bool:
    """``<alert>.<secret>`` names the alert e-mail it was sent in, whose delivery record
    holds the secret's hash; a key without a dot is a link sent before that."""
    if "." in key:
        alert_id, secret = key.split(".", 1)
        stored = ports.deliveries.stop_hash(subscriber.town_id, alert_id[:64],
                                            f"{subscriber.subscriber_id}#email") \
            if ports.deliveries is not None else None
        return stored is not None and secrets.compare_digest(stored, secret_hash(secret))
    return bool(subscriber.stop_key) and secrets.compare_digest(subscriber.stop_key, key)


def stop_by_phone(store: SubscriberStore, phone: str) -> int:
    """STOP texted to the shared number: every alert subscription of that phone, in every
    town, is removed at once."""
    removed = 0
    for h in contact_hashes(None, e164_or_none(phone) or phone):
        for town_id, subscriber_id in store.subscriptions_of_phone(h):
            found = store.get(town_id, subscriber_id)
            if found is not None:
                store.remove(found)
                removed += 1
    return removed


def own(ports: SubscriberPorts, town: Town, contact_hash: str) -> Subscriber:
    subscriber_id = ports.store.find_by_contact(town.town_id, contact_hash)
    found = ports.store.get(town.town_id, subscriber_id) if subscriber_id else None
    if found is None:
        raise NotFound("you have no alert subscription here")
    return found


def document(s: Subscriber) -> dict[str, object]:
    return {"subscriber_id": s.subscriber_id, "status": s.status, "language": s.language,
            "zones": list(s.zones), "phone": s.phone, "email": s.email,
            "channels": list(s.channels)}


def sign_up(ports: SubscriberPorts, towns: TownDirectory, town: Town, *,
            email: str | None, phone: str | None, language: str | None, zones: list[str],
            home: tuple[float, float] | None, source_ip: str | None = None) -> Subscriber:
    """``subscribe`` against the town's current catalogue (its zones)."""
    return subscribe(ports, town, towns.get_catalogue(town.town_id, town.changeset),
                     email=email, phone=phone, language=language, zones=zones, home=home,
                     source_ip=source_ip)


def delete_own(ports: SubscriberPorts, town: Town, contact_hash: str) -> None:
    """The signed-in resident ends their own subscription."""
    ports.store.remove(own(ports, town, contact_hash))
