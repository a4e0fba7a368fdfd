"""Shared fixtures: an in-process AWS (moto) with the resources of infra/template.yaml,
the demo town seeded, and Chalice's test client.

Tests never talk to real AWS: the endpoint variables that point the local run at moto's
server are removed, so every boto3/pynamodb call lands in ``mock_aws``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from chalicelib import bootstrap
from chalicelib.config import settings_from_env
from chalicelib.services.ports import TownDirectory

DEMO_KEY = "t311_test_demo_key_0123456789"
OTHER_KEY = "t311_test_other_key_9876543210"
# Maple Falls' work-order key: may post servicerequestupdates (DEMO_KEY may only submit).
UPDATES_KEY = "t311_test_updates_key_5555555555"


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every boto3 and pynamodb session a test makes reads botocore's service models through
    one loader, so each test's fresh clients do not parse the same JSON files again (it was
    most of a test's set-up time). The app still makes its own sessions, as in production."""
    import botocore.session

    loaders: dict[object, object] = {}
    make_loader = botocore.session.create_loader

    def shared_loader(search_paths_str=None):  # noqa: ANN001, ANN202 - botocore's signature
        if search_paths_str not in loaders:
            loaders[search_paths_str] = make_loader(search_paths_str)
        return loaders[search_paths_str]

    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session, "create_loader", shared_loader)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def _template() -> dict:
    """infra/template.yaml parsed once per test process (YAML parsing cost 0.6 s a test)."""
    from local.provision import load_template

    return load_template()


@pytest.fixture(scope="session")
def signing_key():  # noqa: ANN201 - local.tokens.SigningKey
    from local.tokens import new_signing_key

    return new_signing_key()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name.startswith("TOWN311_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Town311")
    bootstrap.reset()


@dataclass
class Deployment:
    """What a test needs to know about the emulated deployment."""

    environment: dict[str, str]
    container: bootstrap.Container
    session: boto3.session.Session
    clock: list[datetime]

    def client(self, service: str):  # noqa: ANN201 - boto3 client
        return self.session.client(service, region_name="us-east-1")


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, signing_key,  # noqa: ANN001
               _template: dict) -> Iterator[Deployment]:
    """Resources from infra/template.yaml in moto, Maple Falls and a second town seeded."""
    from chalicelib.services.towns import create_town, seed_demo_town
    from local.provision import provision
    from local.tokens import app_environment

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        clock = [datetime(2026, 11, 20, 15, 30, tzinfo=UTC)]
        saved = _DEPLOYED.get(signing_key)
        if saved is not None and _restore(saved[1]):
            environment = saved[0]
            for name, value in environment.items():
                monkeypatch.setenv(name, value)
            container = bootstrap.Container(settings_from_env(), now=lambda: clock[0])
            bootstrap.install(container)
            container._table  # noqa: B018 - bound now, as seeding the towns would have
        else:
            environment = (provision(session, template=copy.deepcopy(_template))
                           | app_environment(signing_key))
            for name, value in environment.items():
                monkeypatch.setenv(name, value)
            container = bootstrap.Container(settings_from_env(), now=lambda: clock[0])
            bootstrap.install(container)
            seed_demo_town(container.towns, api_key=DEMO_KEY, articles=container.articles)
            create_town(container.towns, "riverton.example", "Riverton", "America/New_York",
                        "small_town", api_key=OTHER_KEY)
            _add_updates_key(container)
            _DEPLOYED[signing_key] = (environment, _snapshot())
        yield Deployment(environment, container, session, clock)
        bootstrap.reset()


# Provisioning the template and seeding the two towns is the same work for every test and
# was most of the suite's time (about 0.6 s a test). The first test of each worker does it
# through the API; the emulator's state right after is kept and every later test starts
# from a deep copy of it inside its own fresh mock_aws, so tests stay isolated.
_DEPLOYED: dict[object, tuple[dict[str, str], object]] = {}


def _copyable_locks() -> None:
    """moto's SQS queues hold a threading.Condition: a copy gets a new, unheld one."""
    import copyreg
    import threading

    copyreg.pickle(threading.Condition, lambda _: (threading.Condition, ()))


def _snapshot() -> object:
    """Every moto backend the deployment touched, copied in one go (shared references,
    e.g. an SNS subscription to an SQS queue, stay shared); None if one cannot be copied,
    and then every test provisions for itself as before."""
    from moto.core.base_backend import BackendDict

    _copyable_locks()
    state = {(backends.service_name, account, region): backend
             for backends in BackendDict._instances
             for account, by_region in dict.items(backends)
             for region, backend in dict.items(by_region)}
    try:
        return copy.deepcopy(state)
    except Exception:  # noqa: BLE001 - a backend moto cannot copy: take the slow path
        return None


def _restore(snapshot: object) -> bool:
    from moto.backends import get_backend

    if snapshot is None:
        return False
    for (service, account, region), backend in copy.deepcopy(snapshot).items():
        get_backend(service)[account][region] = backend
    return True


def _add_updates_key(container: bootstrap.Container) -> None:
    from chalicelib.domain.towns import SCOPE_UPDATES, ApiKey

    container.towns.add_api_key(ApiKey(
        town_id="maplefalls.example", key_id="work-orders", name="Work orders",
        prefix=UPDATES_KEY[:9], scopes=frozenset({SCOPE_UPDATES})), UPDATES_KEY)


class Staff:
    """Signs staff tokens the way the local runner does (tests/…: ``staff("town_admin")``).

    The app accepts a token only from someone on the staff list, so with a deployment each
    token also gets its person's staff record (the token's roles, departments and e-mail),
    unless ``on_staff=False``. Tokens with other departments are other people (subjects)."""

    def __init__(self, key, records: Callable[[], TownDirectory] | None = None) -> None:  # noqa: ANN001
        self._key = key
        self._records = records

    def token(self, *roles: str, town: str | None = "maplefalls.example",
              departments: tuple[str, ...] = (), on_staff: bool = True,
              **overrides) -> str:  # noqa: ANN003
        from chalicelib.domain.towns import StaffMember
        from local.tokens import mint

        email = overrides.pop("email", f"{'-'.join(roles) or 'nobody'}@{town or 'platform'}")
        subject = overrides.pop("subject", "+".join((f"sub-{email}", *departments)))
        if on_staff and self._records is not None:
            self._records().save_staff(StaffMember(
                user_id=subject, town_id=town, email=email, name=email, roles=roles,
                departments=departments))
        return mint(self._key, subject=subject, email=email, town=town, roles=roles,
                    departments=departments, **overrides)

    def headers(self, *roles: str, **kwargs) -> dict[str, str]:  # noqa: ANN003
        return {"Authorization": f"Bearer {self.token(*roles, **kwargs)}",
                "Content-Type": "application/json"}


@pytest.fixture
def staff(signing_key, request: pytest.FixtureRequest) -> Staff:  # noqa: ANN001
    if "deployment" not in request.fixturenames:
        return Staff(signing_key)
    return Staff(signing_key,
                 lambda: request.getfixturevalue("deployment").container.town_store)


@pytest.fixture
def api(deployment: Deployment):  # noqa: ANN201 - chalice.test.Client
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client
