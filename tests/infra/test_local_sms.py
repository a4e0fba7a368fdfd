"""`make sms` (local/sms.py): one text prints the town's reply, read from the outbox the
runner writes; no TEXT runs the scripted conversation to a filed pothole and its STATUS.

The emulator's SNS is stood in for by an object that hands each publish to the real
``receive_sms`` (as the runner's pump does) and appends what the app texted to
.run/outbox.jsonl (as the runner's outbox does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local import sms as local_sms

TOWN_ID = "maplefalls.example"


class PumpedSns:
    def __init__(self, lambdas, deployment, outbox: Path) -> None:
        self.lambdas, self.deployment, self.outbox = lambdas, deployment, outbox

    def list_topics(self) -> dict:
        return {"Topics": [{"TopicArn": "arn:aws:sns:us-east-1:123456789012:t-sms-inbound"}]}

    def publish(self, TopicArn: str, Message: str) -> None:  # noqa: N803 - boto3's names
        sent = self.deployment.container.outbox.sent
        before = len(sent)
        self.lambdas.lambda_.invoke("receive_sms", self.lambdas.events.generate_sns_event(
            message=Message))
        with self.outbox.open("a", encoding="utf-8") as f:
            for m in sent[before:]:
                f.write(json.dumps({"channel": "sms", "to": m["phone"], "text": m["text"]})
                        + "\n")


@pytest.fixture
def phone(deployment, tmp_path):
    from chalice.test import Client

    from app import app
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(deployment.container.gazetteer_store, TOWN_ID, deployment.clock[0])
    with Client(app) as lambdas:
        yield local_sms.Phone(local_sms.DEMO_SENDER, run_dir=tmp_path, wait=0.5,
                              sns=PumpedSns(lambdas, deployment, tmp_path / "outbox.jsonl"))


def test_one_text_prints_the_towns_reply(phone, capsys):
    local_sms.exchange(phone, "HELP")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "> +13125550147: HELP"
    assert out[1].startswith("< +18005550311: Maple Falls 311 by text:")


def test_no_reply_says_so(phone, capsys):
    local_sms.exchange(local_sms.Phone("+13125550199", run_dir=phone.outbox.parent,
                                       wait=0.3, sns=phone._sns), "STOP")
    assert "(no reply within" in capsys.readouterr().out


def test_the_scripted_conversation_files_a_pothole_by_text_and_asks_its_status(
        phone, deployment, capsys):
    number = local_sms.demo(phone)
    assert number is not None
    store = deployment.container.requests
    request = store.get(TOWN_ID, store.request_id_for_tracking(TOWN_ID, number.replace(
        "-", "")), with_timeline=False)
    assert (request.channel, request.service_code, request.place.address) == (
        "sms", "pothole", "112 Oak St")
    out = capsys.readouterr().out
    assert "> +13125550147: pothole outside 112 Oak St" in out
    assert f"> +13125550147: STATUS {number}" in out
    assert f"< +18005550311: {number} Pothole: open." in out
