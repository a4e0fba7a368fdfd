"""Every HTTP route registered at import, every view module imported on its first call.

A Lambda container of the API serves whichever route its first resident calls; importing
the fifteen view modules (and the schemas and services each pulls in) for the one route
that call needs was most of a cold start. So app.py registers, from ``ROUTE_TABLE`` (a
generated list of every route: ``python -m chalicelib.api.routes`` rewrites
``route_table.py``), a stand-in view per route with the route's own options. The first call
to any route of a module imports it and registers its blueprint in the stand-ins' place
(Chalice's public ``register_blueprint``), and is answered by the real view; later calls
go straight to it. ``tests/unit/test_route_table.py`` checks that the table is what the
blueprints declare, option by option, so the two can never drift apart.
"""

from __future__ import annotations

import importlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from chalice import Blueprint, Chalice, CORSConfig

# Open311 is a public API used from browsers too: any origin may read, and post with a key.
OPEN311_CORS = CORSConfig(allow_origin="*",
                          allow_headers=["Authorization", "Idempotency-Key"], max_age=600)
# The blueprints serving HTTP, in the order app.py registered them before they were lazy
# (order decides nothing in Chalice's routing: a path and a method name one view).
VIEW_MODULES = (
    "chalicelib.api.open311", "chalicelib.api.docs", "chalicelib.api.media",
    "chalicelib.api.staff", "chalicelib.api.admin", "chalicelib.api.platform",
    "chalicelib.api.departments", "chalicelib.api.channels", "chalicelib.api.residents",
    "chalicelib.api.duplicates", "chalicelib.api.tracking", "chalicelib.api.photos",
    "chalicelib.api.service_levels", "chalicelib.api.alerts", "chalicelib.api.emergency",
    "chalicelib.api.places", "chalicelib.api.open_data", "chalicelib.api.forecast",
    "chalicelib.api.articles",
    "chalicelib.api.drafts",
    # The resident pages (static files apart, so a stylesheet loads no templates).
    "chalicelib.web.files", "chalicelib.web.home", "chalicelib.web.report",
    "chalicelib.web.track", "chalicelib.web.residents", "chalicelib.web.requests_map",
    "chalicelib.web.alerts_pages", "chalicelib.web.open_data", "chalicelib.web.performance",
    "chalicelib.web.answers",
    # The staff console.
    "chalicelib.web.console", "chalicelib.web.console_signin", "chalicelib.web.console_work",
    "chalicelib.web.console_entry", "chalicelib.web.console_admin",
    "chalicelib.web.console_alerts", "chalicelib.web.console_platform",
    "chalicelib.web.console_people",
    "chalicelib.web.console_setup", "chalicelib.web.console_dashboard",
    "chalicelib.web.console_answers",
    "chalicelib.web.console_mail",
)


class Route(NamedTuple):
    """One path and method, the module whose blueprint serves it, and Chalice's options."""

    path: str
    method: str
    module: str
    view_name: str
    content_types: tuple[str, ...]
    open311_cors: bool


def declared_routes(modules: Iterable[str] = VIEW_MODULES) -> list[Route]:
    """The routes the blueprints declare, read by registering them on a scratch app (what
    the generator writes and the test compares with ``ROUTE_TABLE``).

    Only in a process of its own: Chalice consumes a blueprint's route options as it
    registers it (``methods`` is popped), so a blueprint registers correctly once."""
    routes = []
    for name in modules:
        scratch = Chalice(app_name="route-table", configure_logs=False)
        scratch.register_blueprint(_blueprint_of(name))
        for path, methods in scratch.routes.items():
            for method, entry in methods.items():
                if entry.cors is not None and entry.cors.__dict__ != OPEN311_CORS.__dict__:
                    raise ValueError(f"{method} {path}: a CORS setting the table cannot hold")
                if entry.authorizer is not None or entry.api_key_required:
                    raise ValueError(f"{method} {path}: an option the table cannot hold")
                routes.append(Route(path, method, name, entry.view_name,
                                    tuple(entry.content_types), entry.cors is not None))
    return sorted(routes)


def _blueprint_of(module_name: str) -> Blueprint:
    blueprint = importlib.import_module(module_name).blueprint
    if not isinstance(blueprint, Blueprint):
        raise TypeError(f"{module_name}.blueprint is not a Chalice Blueprint")
    return blueprint


class LazyRoutes:
    """The stand-ins of one app, and the lock that lets one thread load a module at a time
    (``chalice local`` serves on threads; Lambda never does)."""

    def __init__(self, app: Chalice, table: Iterable[Route]) -> None:
        self._app = app
        self._table = list(table)
        self._loaded: set[str] = set()
        self._lock = threading.Lock()
        for route in self._table:
            app.route(route.path, methods=[route.method], name=route.view_name,
                      content_types=list(route.content_types),
                      cors=OPEN311_CORS if route.open311_cors else False,
                      )(self._stand_in(route))

    def _stand_in(self, route: Route) -> Callable[..., Any]:
        def stand_in(**params: Any) -> Any:
            self.load(route.module)
            return self._app.routes[route.path][route.method].view_function(**params)

        stand_in.__name__ = route.view_name
        stand_in.__doc__ = f"Imports {route.module} on its first call, then serves from it."
        return stand_in

    def load(self, module_name: str) -> None:
        """Put ``module_name``'s real views in place of its stand-ins (once).

        The blueprint is registered on a scratch route map and its entries then replace the
        stand-ins one by one, so ``app.routes`` keeps its keys: whoever is iterating over
        it (the local gateway, a test calling every route) is not disturbed."""
        if module_name in self._loaded:
            return
        with self._lock:
            if module_name in self._loaded:
                return
            blueprint = _blueprint_of(module_name)
            live = self._app.routes
            scratch: dict[str, dict[str, Any]] = defaultdict(dict)
            self._app.routes = scratch
            try:
                self._app.register_blueprint(blueprint)
            finally:
                self._app.routes = live
            expected = {(r.path, r.method) for r in self._table if r.module == module_name}
            found = {(path, method) for path, methods in scratch.items() for method in methods}
            if found != expected:
                raise RuntimeError(f"{module_name} declares other routes than route_table.py "
                                   "says: run `python -m chalicelib.api.routes`")
            for path, methods in scratch.items():
                for method, entry in methods.items():
                    live[path][method] = entry
            self._loaded.add(module_name)

    def load_all(self) -> None:
        for name in dict.fromkeys(route.module for route in self._table):
            self.load(name)


def register_routes(app: Chalice) -> LazyRoutes:
    """Register every route of ``ROUTE_TABLE`` on ``app``, each module loaded lazily."""
    from chalicelib.api.route_table import ROUTE_TABLE

    return LazyRoutes(app, (Route(*row) for row in ROUTE_TABLE))


def write_route_table() -> str:
    """The source of route_table.py for the blueprints as they are now."""
    rows = "".join(f"    {tuple(route)!r},\n" for route in declared_routes())
    return ('"""Every HTTP route: generated by `python -m chalicelib.api.routes` from the '
            'blueprints\n(tests/unit/test_route_table.py fails when it is stale). Rows are '
            'chalicelib.api.routes.Route.\n"""\n\n'
            "ROUTE_TABLE: tuple[tuple[str, str, str, str, tuple[str, ...], bool], ...] = (\n"
            f"{rows})\n")


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).with_name("route_table.py")
    target.write_text(write_route_table())
    print(f"wrote {target}")
