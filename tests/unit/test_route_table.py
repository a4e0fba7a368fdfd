"""The lazy routes: the generated table is what the blueprints declare, and a cold start
imports only the view module its first call needs.

Every check runs in a fresh interpreter: Chalice consumes a blueprint's route options as it
registers it, so a blueprint can be registered once per process, and this test process
(a pytest worker) registers them on the real app for other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> Any:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_OPTIONS = """
import json
from chalice import Chalice
from chalicelib.api import routes
from chalicelib.api.route_table import ROUTE_TABLE

def options(entry):
    cors = entry.cors
    return [entry.view_name, list(entry.content_types), repr(entry.view_args),
            None if cors is None else repr(sorted(vars(cors).items())),
            entry.api_key_required, entry.authorizer is not None]

def table(app):
    return {f"{m} {p}": options(e) for p, ms in app.routes.items() for m, e in ms.items()}

lazy = Chalice(app_name="lazy", configure_logs=False)
routes.register_routes(lazy)
stand_ins = table(lazy)
eager = Chalice(app_name="eager", configure_logs=False)
for name in routes.VIEW_MODULES:
    eager.register_blueprint(routes._blueprint_of(name))
print(json.dumps([stand_ins, table(eager), [list(r) for r in ROUTE_TABLE]]))
"""


def test_the_table_is_what_the_blueprints_declare_option_by_option() -> None:
    stand_ins, eager, table = _run(_OPTIONS)
    assert stand_ins == eager, "route_table.py is stale: run `python -m chalicelib.api.routes`"
    assert len(table) == len(eager) > 90


_SWAP = """
import json
from chalice import Chalice
from chalicelib.api import routes

app = Chalice(app_name="lazy", configure_logs=False)
lazy = routes.register_routes(app)
keys_before = {p: list(m) for p, m in app.routes.items()}
stand_in = app.routes["/towns/{town}/open311/v2/{resource}"]["GET"].view_function
lazy.load("chalicelib.api.open311")
real = app.routes["/towns/{town}/open311/v2/{resource}"]["GET"].view_function
admin_after_one = app.routes["/admin/audit"]["GET"].view_function.__module__
lazy.load_all()
print(json.dumps({
    "swapped": real is not stand_in and real.__module__ == "chalicelib.api.open311",
    "others_untouched": admin_after_one == routes.__name__,
    "keys_kept": {p: list(m) for p, m in app.routes.items()} == keys_before,
    "stand_ins_left": sorted(f"{m} {p}" for p, ms in app.routes.items() for m, e in ms.items()
                             if e.view_function.__module__ == routes.__name__),
}))
"""


def test_loading_a_module_swaps_in_its_real_views_and_keeps_the_route_map_keys() -> None:
    found = _run(_SWAP)
    assert found == {"swapped": True, "others_untouched": True, "keys_kept": True,
                     "stand_ins_left": []}


_COLD = """
import json, sys
import app
after_import = sorted(m for m in sys.modules if m.startswith("chalicelib.api."))
app.lazy_routes.load("chalicelib.api.open311")
after_load = sorted(m for m in sys.modules if m.startswith("chalicelib.api."))
print(json.dumps([after_import, after_load]))
"""


def test_a_cold_start_imports_only_the_view_module_its_first_call_needs() -> None:
    after_import, after_load = _run(_COLD)
    others = {f"chalicelib.api.{name}" for name in
              ("admin", "staff", "alerts", "emergency", "departments", "residents", "tracking",
               "photos", "service_levels", "channels", "platform", "media", "docs",
               "duplicates")}
    assert not others & set(after_import), after_import
    assert "chalicelib.api.open311" not in after_import
    assert "chalicelib.api.open311" in after_load
    assert not others & set(after_load), after_load
