"""`make sms FROM=+13125550147 TEXT="pothole outside 112 Oak St"`: a resident texts the
town's number, and the town's reply is printed.

Publishes what SNS two-way SMS would publish to the inbound topic of the running
`make run` (to Maple Falls' number, +18005550311); its pump hands it to ``receive_sms``,
and the reply the app texts back is recorded by the emulator and written to
.run/outbox.jsonl by the runner (local/outbox.py), where this waits for it a few seconds.

Without TEXT, a scripted conversation: a pothole at 112 Oak St is reported, confirmed, its
questions answered, and filed with channel sms; then STATUS <its number>. Each exchange
is printed. Reads the emulator's address from .run/demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

RUN_DIR = Path(__file__).resolve().parent.parent / ".run"
TOWN_NUMBER = "+18005550311"  # Maple Falls' own (chalicelib.services.towns.DEMO_SMS_NUMBER)
DEMO_SENDER = "+13125550147"
WAIT_SECONDS = 20.0  # the first minute of `make run` writes the demo year: replies are slower
FIRST_TEXT = "pothole outside 112 Oak St"


class Phone:
    """A resident's phone texting the running town: sends, then reads the reply from the
    outbox the runner writes."""

    def __init__(self, sender: str, run_dir: Path = RUN_DIR, wait: float = WAIT_SECONDS,
                 sns: Any = None) -> None:
        self.sender = sender
        self.outbox = run_dir / "outbox.jsonl"
        self.wait = wait
        self._sns = sns if sns is not None else _sns_client(run_dir)
        self._topic = next(t["TopicArn"] for t in self._sns.list_topics()["Topics"]
                           if t["TopicArn"].endswith("-sms-inbound"))

    def _read_from(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        if not self.outbox.exists():
            return [], offset
        with self.outbox.open("rb") as f:
            f.seek(offset)
            data = f.read()
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits
        lines = [json.loads(line) for line in complete.decode("utf-8").splitlines() if line]
        return lines, offset + len(complete)

    def text(self, body: str) -> list[str]:
        """Send ``body``; the town's replies to this phone (none when none came in time)."""
        offset = self.outbox.stat().st_size if self.outbox.exists() else 0
        self._sns.publish(TopicArn=self._topic, Message=json.dumps({
            "originationNumber": self.sender, "destinationNumber": TOWN_NUMBER,
            "messageBody": body, "inboundMessageId": str(uuid.uuid4())}))
        deadline = time.monotonic() + self.wait
        found: list[str] = []
        while time.monotonic() < deadline:
            lines, offset = self._read_from(offset)
            found += [m["text"] for m in lines if m.get("channel") == "sms"
                      and m.get("to") == self.sender]
            if found:
                # A second text of the same reply (the receipt) comes right after.
                time.sleep(0.6)
                lines, offset = self._read_from(offset)
                return found + [m["text"] for m in lines if m.get("channel") == "sms"
                                and m.get("to") == self.sender]
            time.sleep(0.2)
        return found


def _sns_client(run_dir: Path) -> Any:
    facts = json.loads((run_dir / "demo.json").read_text())
    os.environ.update({"AWS_ENDPOINT_URL": facts["aws_endpoint_url"],
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    import boto3

    return boto3.client("sns", region_name="us-east-1")


def exchange(phone: Phone, body: str) -> list[str]:
    print(f"> {phone.sender}: {body}")
    replies = phone.text(body)
    for reply in replies:
        print(f"< {TOWN_NUMBER}: {reply}")
    if not replies:
        print(f"  (no reply within {phone.wait:.0f} s: is `make run` running? a refusal "
              "is in its log)")
    return replies


def next_answer(reply: str) -> str | None:
    """What the scripted resident answers to the town's last text."""
    if re.search(r"\bis filed\b", reply):
        return None
    if "Reply YES" in reply:
        return "YES"
    if "Reply with a number" in reply:
        return "2"
    if "Reply with a date" in reply:
        return "2026-11-20 08:00"
    if "Reply one or more numbers" in reply or re.search(r"Reply 1 ", reply):
        return "1"
    return "none"


def demo(phone: Phone, max_turns: int = 8) -> str | None:
    """The scripted conversation; the filed report's tracking number."""
    replies = exchange(phone, FIRST_TEXT)
    for _ in range(max_turns):
        if not replies:
            return None
        answer = next_answer(replies[-1])
        if answer is None:
            break
        replies = exchange(phone, answer)
    found = re.search(r"Report (\w{4}-\w{4})", " ".join(replies))
    if found is None:
        print("the conversation did not end with a filed report")
        return None
    exchange(phone, f"STATUS {found[1]}")
    return found[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sms", description=__doc__)
    parser.add_argument("sender", nargs="?", default="",
                        help=f"the resident's phone, E.164 (default {DEMO_SENDER})")
    parser.add_argument("text", nargs="?", default="",
                        help="what they texted; none: the scripted pothole conversation")
    args = parser.parse_args(argv)
    phone = Phone(args.sender or DEMO_SENDER)
    if args.text:
        exchange(phone, args.text)
    elif demo(phone) is None:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
