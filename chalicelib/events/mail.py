"""E-mail intake: SES stores each message a town's address receives under
``inbound-mail/`` of the private bucket, and S3 invokes ``receive_mail`` (the trigger is
in infra/: the bucket's notification, beside the photo function's ``incoming/``, which
it does not overlap). Each message becomes a draft request in triage, or a recorded
refusal (chalicelib.services.mail_intake)."""

from __future__ import annotations

from chalicelib import coldstart

coldstart.starting()  # before the imports below: chalicelib/coldstart.py says why

import logging
from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.events.pipeline import each_upload

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
    # What was done is not redone on a retry: one request per message, one reply, the
    # same photos.
    return each_upload(event, lambda key: handle(key, ports, context), "e-mail")
