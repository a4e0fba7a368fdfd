"""E-mail intake: SES stores each message a town's address receives under
``inbound-mail/`` of the private bucket, and S3 invokes ``receive_mail`` (the trigger is
in infra/: the bucket's notification, beside the photo function's ``incoming/``, which
it does not overlap). Each message becomes a draft request in triage, or a recorded
refusal (chalicelib.services.mail_intake)."""

from __future__ import annotations

from chalicelib import coldstart

coldstart.starting()  # before the imports below: chalicelib/coldstart.py says why

import json
import logging
from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.errors import Town311Error
from chalicelib.events.pipeline import uploaded_keys

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)


@blueprint.lambda_function(name="receive_mail")
def receive_mail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """S3 ObjectCreated under ``inbound-mail/``: handle each stored message; a bad message
    is refused or skipped (never retried), and one message never stops the others."""
    try:
        return _receive(event, context)
    finally:
        coldstart.started()


def _receive(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.services.mail_intake import receive_mail as handle

    ports = bootstrap.container().mail_ports
    outcomes: dict[str, int] = {}
    failed = 0
    for key in uploaded_keys(event):
        try:
            outcome = handle(key, ports, context)
        except Town311Error as e:
            # A store or SES unavailable: Lambda tries the event again (twice); what was
            # done is not redone (one request per message, one reply, the same photos).
            log.error("e-mail not handled; S3 will retry the event", exc_info=e,
                      extra={"key": key})
            failed += 1
            continue
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if failed:
        raise RuntimeError(f"{failed} e-mail(s) could not be handled: {json.dumps(outcomes)}")
    return outcomes
