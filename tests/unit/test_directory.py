"""A warm container remembers towns, catalogues and keys for a while, and no longer."""

from __future__ import annotations

import pytest

from chalicelib.config import SettingsError, settings_from_env
from chalicelib.domain.errors import AccessDenied, TownSuspended, UnknownJurisdiction
from chalicelib.domain.towns import SCOPE_SUBMIT, SCOPE_UPDATES, SUSPENDED
from chalicelib.services.directory import CachedTownDirectory, authorise_key, find_town
from chalicelib.services.towns import seed_demo_town
from tests.fakes import FakeTownDirectory


def test_answers_are_cached_until_they_expire():
    inner, clock = FakeTownDirectory(), [0.0]
    seed_demo_town(inner, api_key="k" * 20)
    cached = CachedTownDirectory(inner, seconds=60, clock=lambda: clock[0])
    for _ in range(3):
        town = cached.get_town("maplefalls.example")
        cached.get_catalogue(town.town_id, town.changeset)
        cached.find_api_key(town.town_id, "k" * 20)
    assert inner.reads == 3
    clock[0] = 61
    cached.get_town("maplefalls.example")
    assert inner.reads == 4


def test_forgetting_one_town_reads_it_and_its_new_catalogue_again():
    import dataclasses

    inner, clock = FakeTownDirectory(), [0.0]
    seed_demo_town(inner, api_key="k" * 20)
    cached = CachedTownDirectory(inner, seconds=60, clock=lambda: clock[0])
    town = cached.get_town("maplefalls.example")
    inner.save_town(dataclasses.replace(town, name="Renamed", changeset="2030-01-01"))
    assert cached.get_town("maplefalls.example").name == "Maple Falls"  # remembered
    cached.forget_town("maplefalls.example")
    again = cached.get_town("maplefalls.example")
    assert again.name == "Renamed" and again.changeset == "2030-01-01"
    cached.forget_town("nowhere.example")  # a town not remembered: nothing to drop


def test_keys_are_checked_within_the_town_only():
    directory = FakeTownDirectory()
    demo = seed_demo_town(directory, api_key="demo-secret-000000")
    key = authorise_key(directory, demo.town, "demo-secret-000000", scope=SCOPE_SUBMIT)
    assert key.town_id == demo.town.town_id
    for secret in (None, "", "other"):
        with pytest.raises(AccessDenied):
            authorise_key(directory, demo.town, secret, scope=SCOPE_SUBMIT)


def test_a_towns_first_key_may_submit_but_not_post_updates():
    directory = FakeTownDirectory()
    demo = seed_demo_town(directory, api_key="demo-secret-000000")
    with pytest.raises(AccessDenied):
        authorise_key(directory, demo.town, "demo-secret-000000", scope=SCOPE_UPDATES)


def test_a_suspended_town_takes_no_new_requests():
    import dataclasses

    directory = FakeTownDirectory()
    demo = seed_demo_town(directory, api_key="demo-secret-000000")
    suspended = dataclasses.replace(demo.town, status=SUSPENDED)
    with pytest.raises(TownSuspended):
        authorise_key(directory, suspended, "demo-secret-000000", scope=SCOPE_SUBMIT)


def test_unknown_town():
    with pytest.raises(UnknownJurisdiction):
        find_town(FakeTownDirectory(), "nowhere.example")


def test_missing_settings_are_named():
    with pytest.raises(SettingsError) as failed:
        settings_from_env({"TOWN311_TABLE": "t"})
    assert "TOWN311_PHOTO_BUCKET" in str(failed.value)
    assert "TOWN311_ROUTING_QUEUE_URL" in str(failed.value)
