"""Figures from the table's stream, end to end on moto: requests filed and worked through
the real services, their new timeline and follower items read from the table's stream
(dynamodbstreams), filtered as infra/template.yaml's event source says, handed to the
figures function as Lambda would (local/pump.py's StreamSource), and counted. The
figures agree with the requests themselves; the backfill rebuilds exactly the same; and
the whole stream delivered again counts nothing twice."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.figures import DIMENSIONS
from chalicelib.domain.followers import FOLLOWER, Follower
from chalicelib.domain.queries import RequestQuery
from chalicelib.services import figures, tracking
from local.demo_history import seed_demo_history
from local.provision import load_template
from local.pump import StreamSource

TOWN = "maplefalls.example"


def stream_source(deployment, handler) -> StreamSource:
    table = deployment.container.settings.table_name
    arn = deployment.client("dynamodb").describe_table(TableName=table)["Table"][
        "LatestStreamArn"]
    mapping = load_template()["Resources"]["CountFigures"]["Properties"]["Events"][
        "CountFiguresDynamodbEventSource"]["Properties"]
    import json

    # A stream ARN names an account: botocore would call an account endpoint that moto
    # does not answer (local/run.py turns that off the same way).
    from botocore.config import Config

    streams = deployment.session.client("dynamodbstreams", region_name="us-east-1",
                                        config=Config(account_id_endpoint_mode="disabled"))
    return StreamSource(streams=streams, stream_arn=arn,
                        handler=handler, function_name="CountFigures",
                        filters=[json.loads(f["Pattern"])
                                 for f in mapping["FilterCriteria"]["Filters"]],
                        batch_size=mapping["BatchSize"])


def pump(source: StreamSource) -> int:
    total = 0
    while (read := source.poll_once(wait_seconds=0)):
        total += read
    return total


def stored(deployment) -> tuple[dict, dict]:
    store = deployment.container.figures
    days = {d: store.days(TOWN, d, date(2026, 1, 1)) for d in DIMENSIONS}
    return days, {k: n for k, n in (store.open_now(TOWN) or {}).items() if n}


@pytest.fixture
def history(deployment):
    """A month of Maple Falls filed and worked through the services, a duplicate merged
    into another request (its follower moves), and a "me too"."""
    c = deployment.container
    now = c.now()
    seed_demo_history(c, TOWN, now, count=12)
    requests = c.requests.find(TOWN, RequestQuery(start=now - timedelta(days=31), end=now,
                                                  page_size=100)).items
    still_open = [r for r in requests if r.status == "open"]
    agent = Principal(subject="agent", town_id=TOWN, roles=frozenset({Role.AGENT}))
    ports = dataclasses.replace(c.tracking_ports, notices=None, channels=None)
    c.requests.follow(TOWN, still_open[1].request_id,
                      Follower.make(FOLLOWER, now, "neighbour@example.org", None, None, ()))
    tracking.merge(ports, agent, still_open[1].request_id, still_open[0].request_id, None)
    return c.requests.find(TOWN, RequestQuery(start=now - timedelta(days=31), end=now,
                                              page_size=100)).items


def test_the_stream_counts_what_the_requests_say_and_the_backfill_agrees(deployment,
                                                                         history):
    from chalicelib.events.figures import process_stream

    calls = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        return process_stream(event, context)

    read = pump(stream_source(deployment, handler))
    assert read > sum(calls) > 0  # the filter kept the META, token, index... items out

    c = deployment.container
    analyst = Principal(subject="ana", town_id=TOWN, roles=frozenset({Role.ANALYST}))
    today = c.now().astimezone(c.towns.get_town(TOWN).zone).date()
    month = figures.period(c.figure_ports, analyst, today - timedelta(days=40), today,
                           "town")["all"]
    open_now = [r for r in history if r.status == "open"]
    closed = [r for r in history if r.status == "closed"]
    assert month.opened == len(history) == 12
    assert month.closed == len(closed) and month.backlog == len(open_now)
    assert month.duplicates == 1
    # The "me too", and the duplicate's follower moving to its parent.
    assert month.followers == 2
    assert month.to_close.count == len(closed)
    by_service = figures.period(c.figure_ports, analyst, today - timedelta(days=40), today,
                                "service")
    assert sum(f.opened for f in by_service.values()) == 12
    assert {code: f.backlog for code, f in by_service.items() if f.backlog} == {
        code: n for code in {r.service_code for r in open_now}
        if (n := sum(r.service_code == code for r in open_now))}

    live = stored(deployment)
    done = figures.backfill(c.figure_ports, TOWN)
    assert done.requests == 12
    assert stored(deployment) == live

    # Everything delivered again (Lambda retrying, a replay from TRIM_HORIZON).
    pump(stream_source(deployment, process_stream))
    assert stored(deployment) == live


def test_the_backfill_command_rebuilds_every_town(deployment, capsys):
    from chalicelib.domain.figures import DayChange, RequestTally
    from chalicelib.events.figures import main

    store = deployment.container.figures
    # Figures with no history behind them (counted before a restore, say): rebuilt away.
    store.record(TOWN, "gone", RequestTally(), RequestTally(frozenset({"e"}), None, False, 1),
                 [DayChange(date(2026, 11, 2), "town", "all", {"opened": 1}, 1)])
    assert main([]) == 0
    printed = capsys.readouterr().out
    assert f"{TOWN}: 0 requests" in printed and "riverton.example: 0 requests" in printed
    assert store.days(TOWN, "town", date(2026, 1, 1)) == []
    assert store.open_now(TOWN) == {}


def test_the_function_counts_a_record_as_lambda_invokes_it(deployment):
    from chalice.test import Client

    from app import app

    facts = ('{"service": "pothole", "department": "public_works", "zone": null, '
             '"channel": "web", "requested": "2026-11-20T15:00:00.000000Z", '
             '"expected": null, "rating": null, "resolution": null}')
    record = {"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s",
              "dynamodb": {"SequenceNumber": "100", "StreamViewType": "NEW_IMAGE",
                           "Keys": {}, "NewImage": {
                               "PK": {"S": f"TOWN#{TOWN}#REQ#R1"},
                               "SK": {"S": "EVENT#2026-11-20T15:00:00.000000Z#E1"},
                               "at": {"S": "2026-11-20T15:00:00.000000Z"},
                               "event_id": {"S": "E1"}, "kind": {"S": "submitted"},
                               "facts": {"S": facts}}}}
    broken = {**record, "dynamodb": {**record["dynamodb"], "SequenceNumber": "101",
                                     "NewImage": {**record["dynamodb"]["NewImage"],
                                                  "at": {"S": "yesterday"}}}}
    with Client(app) as client:
        answer = client.lambda_.invoke("count_figures", {"Records": [record, broken]}).payload
    assert answer == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    [day] = deployment.container.figures.days(TOWN, "service", date(2026, 11, 20))
    assert (day.value, day.figures.opened) == ("pothole", 1)
