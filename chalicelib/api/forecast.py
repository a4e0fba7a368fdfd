"""The 8-week forecast of requests per service, for staff reports (services.forecasting)."""

from __future__ import annotations

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field

from chalicelib import bootstrap
from chalicelib.api.http import caller, json_view, query_as, respond
from chalicelib.schemas.model import WireModel
from chalicelib.services import forecasting

blueprint = Blueprint(__name__)


class ForecastQuery(WireModel):
    model_config = ConfigDict(extra="ignore")

    service: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None = None
    weeks: Annotated[int, Field(ge=1, le=forecasting.MAX_WEEKS)] = 8


@blueprint.route("/staff/reports/forecast", methods=["GET"])
@json_view
def forecast() -> Response:
    c = bootstrap.container()
    who = caller(blueprint)
    query = query_as(blueprint, ForecastQuery)
    return respond(forecasting.town_forecast(c.figure_ports, who, query.service,
                                             query.weeks))
