"""Service levels for staff: the SLA figures, the town's figures kept as events happen
(chalicelib.services.figures), and the SNS topics that carry escalations."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, model_validator

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, query_as, respond
from chalicelib.schemas.fields import OptionalInstant
from chalicelib.schemas.model import WireModel
from chalicelib.services import escalations, service_levels

blueprint = Blueprint(__name__)


class FiguresQuery(WireModel):
    model_config = ConfigDict(extra="ignore")

    # With an offset, 1970..2099 (schemas.fields): a report has no town to read local time in.
    start_date: OptionalInstant = None
    end_date: OptionalInstant = None


class TownFiguresQuery(WireModel):
    model_config = ConfigDict(extra="ignore")

    # Town-time days, inclusive (2026-11-01); by default the last 30 days to today.
    start: date | None = None
    end: date | None = None
    by: Annotated[str, Field(max_length=20)] = "town"  # a dimension; the service checks it
    value: Annotated[str | None, Field(max_length=100)] = None
    daily: bool = False


class SubscriptionIn(WireModel):
    model_config = ConfigDict(extra="forbid")

    audience: Annotated[str, Field(pattern=r"^(supervisor|town_admin|department:[a-z0-9_]{1,40})$")]
    protocol: Literal["email", "sms"]
    endpoint: Annotated[str, Field(min_length=3, max_length=254)]

    @model_validator(mode="after")
    def _address(self) -> SubscriptionIn:
        import re

        ok = re.match(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", self.endpoint) \
            if self.protocol == "email" else re.match(r"^\+[1-9][0-9]{7,14}$", self.endpoint)
        if not ok:
            raise ValueError("endpoint must be an e-mail address (email) or an E.164 "
                             "phone number (sms)")
        return self


@blueprint.route("/staff/reports/service-levels", methods=["GET"])
@json_view
def figures() -> Response:
    c = bootstrap.container()
    who = caller(blueprint)
    query = query_as(blueprint, FiguresQuery)
    return respond(service_levels.figures_report(c.requests, who, query.start_date,
                                                 query.end_date, c.now()))


@blueprint.route("/staff/reports/figures", methods=["GET"])
@json_view
def town_figures() -> Response:
    """The town's figures over a period by a dimension, or one value of it day by day."""
    from chalicelib.services import figures as town_figures_service

    who = caller(blueprint)
    query = query_as(blueprint, TownFiguresQuery)
    return respond(town_figures_service.report(
        bootstrap.container().figure_ports, who, query.start, query.end, query.by,
        query.value, query.daily))


@blueprint.route("/admin/escalations", methods=["GET"])
@json_view
def topics() -> Response:
    """The town's escalation topics, one per audience."""
    found = escalations.topics(bootstrap.container().escalation_ports, caller(blueprint))
    return respond({"topics": found})


@blueprint.route("/admin/escalations/subscriptions", methods=["POST"])
@json_view
def subscribe() -> Response:
    who = caller(blueprint)
    body = body_as(blueprint, SubscriptionIn)
    arn = escalations.subscribe(bootstrap.container().escalation_ports, who, body.audience,
                                body.protocol, body.endpoint)
    return respond({"audience": body.audience, "subscription_arn": arn}, status=201)
