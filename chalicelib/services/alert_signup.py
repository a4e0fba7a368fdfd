"""Emergency alert sign-up as the town's web page offers it: zones chosen by ticking them
or found from an address (the town's gazetteer gives the point, the zones that hold it are
the resident's), and a signed-in resident changing their zones or language.

Every send still goes through ``subscribers`` (double opt-in, the anonymous budgets, the
town's countries); this module only turns what a page asks into what that service takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.domain.notices import language_for
from chalicelib.services import directory, subscribers

if TYPE_CHECKING:
    from chalicelib.domain.gazetteer import GazetteerEntry
    from chalicelib.domain.subscribers import Subscriber
    from chalicelib.domain.towns import Town
    from chalicelib.domain.zones import Zone
    from chalicelib.services.gazetteer import Geocoder
    from chalicelib.services.ports import TownDirectory
    from chalicelib.services.subscribers import SubscriberPorts

ADDRESS_CHOICES = 5


class AddressUnclear(InvalidInput):
    """The typed address matches several places (or none): the page asks which."""

    def __init__(self, typed: str, choices: list[GazetteerEntry]) -> None:
        problem = Problem("address", "choose your address from the list" if choices
                          else "no such address in the town")
        super().__init__(f"address: {problem.message}", [problem])
        self.typed = typed
        self.choices = choices


@dataclass(frozen=True)
class SignUp:
    """What the sign-up form asked for, as typed (the service checks it)."""

    phone: str | None
    email: str | None
    language: str | None
    zones: list[str]
    address: str | None = None


def town_zones(towns: TownDirectory, town: Town) -> list[Zone]:
    """The zones a resident may choose, in the town's order."""
    return list(directory.catalogue_of(towns, town).zones)


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def place_of(geocoder: Geocoder, town: Town, address: str) -> GazetteerEntry:
    """The one place of the town's gazetteer the resident meant: the suggestion whose
    label is what they typed, or the only suggestion; otherwise AddressUnclear with the
    candidates, so they pick (a first guess could put them in the wrong ward)."""
    typed = address.strip()[:200]
    found = geocoder.suggest(town.town_id, typed, ADDRESS_CHOICES) if typed else []
    exact = [e for e in found if _plain(e.label) == _plain(typed)]
    if len(exact) == 1 or len(found) == 1:
        return exact[0] if exact else found[0]
    raise AddressUnclear(typed, found)


def sign_up(ports: SubscriberPorts, towns: TownDirectory, geocoder: Geocoder, town: Town,
            form: SignUp, source_ip: str | None) -> Subscriber:
    """``subscribers.sign_up`` with the address's point as the resident's home (its
    zones are added to those ticked). The address is found before anything is sent."""
    home = None
    if form.address and form.address.strip():
        place = place_of(geocoder, town, form.address)
        home = (place.lat, place.long)
    return subscribers.sign_up(ports, towns, town, email=form.email, phone=form.phone,
                               language=form.language, zones=form.zones, home=home,
                               source_ip=source_ip)


def change_own(ports: SubscriberPorts, towns: TownDirectory, town: Town, contact_hash: str,
               zones: list[str], language: str | None) -> Subscriber:
    """The signed-in resident's new zones and language. The old audience entries go with
    the old record (``remove``) and the new ones are written with it (``save``), as a
    confirmation replaces an earlier subscription."""
    current = subscribers.own(ports, town, contact_hash)
    known = {z.code for z in town_zones(towns, town)}
    unknown = [z for z in zones if z not in known]
    if unknown:
        raise InvalidInput.of([Problem("zones", f"{', '.join(unknown)} is not a zone of "
                                                f"{town.name}")])
    changed = replace(current, zones=tuple(dict.fromkeys(zones)),
                      language=language_for(language or current.language, town.locales))
    if changed != current:
        ports.store.remove(current)
        ports.store.save(changed)
    return changed
