"""An in-process deployment on moto, built the way the functional tests build theirs.

``local.provision.provision`` creates the tables, bucket, queues and topic of
``infra/template.yaml`` and returns the app's environment; the demo town is seeded through
the app's own container, and the app is driven through ``chalice.test.Client``. The warm
call counts and the throughput figures are taken here.

``seed_items`` dumps the seeded table so that a cold-start subprocess can load the same
items with plain boto3, without importing (and so pre-paying for) pynamodb, pydantic or
the app before its timer starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.environment import API_KEY, REGION, isolate


@dataclass
class Deployment:
    """What the measurements need: the app's client, its container and raw AWS clients."""

    environment: dict[str, str]
    container: Any  # chalicelib.bootstrap.Container
    http: Any  # chalice.test.TestHTTPClient
    session: Any  # boto3.session.Session

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)

    @property
    def table(self) -> str:
        return self.environment["TOWN311_TABLE"]

    @property
    def idempotency_table(self) -> str:
        return self.environment["TOWN311_IDEMPOTENCY_TABLE"]

    @property
    def queue_url(self) -> str:
        return self.environment["TOWN311_ROUTING_QUEUE_URL"]

    def fresh_container(self) -> None:
        """Install a new container: empty caches and no clients, as in a cold Lambda."""
        from chalicelib import bootstrap
        from chalicelib.config import settings_from_env

        self.container = bootstrap.Container(settings_from_env())
        bootstrap.install(self.container)


@contextmanager
def deployment() -> Iterator[Deployment]:
    """Resources from infra/template.yaml in ``mock_aws``, Maple Falls seeded, the app's
    container installed; the environment is restored afterwards."""
    saved = dict(os.environ)
    isolate(os.environ)
    import boto3
    from moto import mock_aws

    try:
        with mock_aws():
            from chalice.test import Client

            from app import app
            from chalicelib import bootstrap
            from chalicelib.config import settings_from_env
            from chalicelib.services.towns import seed_demo_town
            from local.provision import provision

            session = boto3.session.Session(region_name=REGION)
            environment = provision(session)
            os.environ.update(environment)
            container = bootstrap.Container(settings_from_env())
            bootstrap.install(container)
            try:
                seed_demo_town(container.towns, api_key=API_KEY)
                with Client(app) as client:
                    yield Deployment(environment, container, client.http, session)
            finally:
                bootstrap.reset()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed_items(dep: Deployment) -> list[dict[str, Any]]:
    """Every item of the main table, in DynamoDB's wire shape (a Scan: bench only)."""
    dynamodb = dep.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=dep.table):
        items.extend(page["Items"])
    return items
