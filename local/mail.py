"""`make mail FILE=local/pothole.eml`: a resident e-mails the town.

Puts the raw message where SES receiving would (``inbound-mail/`` of the running
`make run`'s bucket); its pump hands the new object to ``receive_mail``, which makes a
draft request in triage and answers the sender. Then prints that answer from the
runner's outbox (.run/outbox.jsonl). Reads the emulator's address from .run/demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from email.utils import parseaddr
from pathlib import Path

RUN_DIR = Path(__file__).resolve().parent.parent / ".run"  # `make run`'s (or $RUN_DIR)


def _sender(raw: bytes) -> str:
    from email import policy
    from email.parser import BytesParser

    headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    return parseaddr(str(headers.get("From", "")))[1].lower()


def _new_lines(path: Path, start: int) -> list[dict[str, str]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[start:]
    return [json.loads(line) for line in lines if line.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.mail", description=__doc__)
    parser.add_argument("file", help="a raw e-mail message (.eml), as SES would store it")
    parser.add_argument("--wait", type=float, default=30.0,
                        help="seconds to wait for the answer (default 30)")
    args = parser.parse_args(argv)
    raw = Path(args.file).read_bytes()
    run_dir = Path(os.environ.get("RUN_DIR") or RUN_DIR)
    facts = json.loads((run_dir / "demo.json").read_text())
    endpoint = facts["aws_endpoint_url"]
    bucket = facts["environment"]["TOWN311_PHOTO_BUCKET"]
    domain = facts["environment"].get("TOWN311_MAIL_INTAKE_DOMAIN", "")
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    import boto3

    outbox = run_dir / "outbox.jsonl"
    seen = len(outbox.read_text(encoding="utf-8").splitlines()) if outbox.exists() else 0
    key = f"inbound-mail/{uuid.uuid4().hex}"
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=bucket, Key=key, Body=raw)
    sender = _sender(raw)
    print(f"delivered {args.file} to s3://{bucket}/{key} (as SES would; the town's "
          f"address is <town id>@{domain or '<no intake domain>'})")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        answers = [m for m in _new_lines(outbox, seen)
                   if m.get("channel") == "email" and sender and sender in m.get("to", "")]
        if answers:
            from local.outbox import describe

            for message in answers:
                print(describe(message))
            return
        time.sleep(0.5)
    print(f"no answer to {sender or 'the sender'} within {args.wait:g} s: the same message "
          "(its Message-ID) was answered before, or it was refused (an unverified sender, an "
          "auto-reply, a flood, or no town's address); see `make run`'s log")


if __name__ == "__main__":
    main()
