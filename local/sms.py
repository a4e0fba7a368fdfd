"""`make sms FROM=+15550100200 TEXT=STOP`: a resident texts the town's number.

Publishes what SNS two-way SMS would publish to the inbound topic of the running
`make run`; its pump hands it to ``receive_sms`` (STOP stops every text to that phone,
START undoes it). Reads the emulator's address from .run/demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

RUN_DIR = Path(__file__).resolve().parent.parent / ".run"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sms", description=__doc__)
    parser.add_argument("sender", help="the resident's phone, E.164 (+15550100200)")
    parser.add_argument("text", help="what they texted (STOP, START, ...)")
    args = parser.parse_args(argv)
    facts = json.loads((RUN_DIR / "demo.json").read_text())
    endpoint = facts["aws_endpoint_url"]
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    import boto3

    sns = boto3.client("sns", region_name="us-east-1")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith("-sms-inbound"))
    sns.publish(TopicArn=topic, Message=json.dumps({
        "originationNumber": args.sender, "destinationNumber": "+18005550311",
        "messageBody": args.text, "inboundMessageId": "local"}))
    print(f"texted {args.text!r} from {args.sender} to the town's number")


if __name__ == "__main__":
    main()
