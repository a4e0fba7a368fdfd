"""`python -m local.run` (what `make run` starts): Town311 on this machine, no AWS account.

1. moto's server in this process on 127.0.0.1:$MOTO_PORT (default 5055), and every AWS
   client of this process and its children pointed at it (AWS_ENDPOINT_URL, dummy keys);
2. the tables, bucket, queues and topic of infra/template.yaml (local/provision.py);
3. the demo town, Maple Falls, with an API key (TOWN311_DEMO_API_KEY fixes it; otherwise a
   new one each run) and one member of staff per role;
4. staff sign-in without Cognito: a local RSA key (kept in .run/local-signing-key.pem, so
   tokens survive a restart) whose public half the app verifies tokens with, and a 12-hour
   ID token for every demo person plus a platform operator (local/tokens.py);
5. `chalice local` on 127.0.0.1:$PORT (default 8000) for the HTTP routes (RELOAD=1 turns
   on its autoreload; off by default because it polls every file under the project);
6. the event pump (local/pump.py) for what `chalice local` cannot do: SQS, S3, DynamoDB
   stream (the figures) and schedule handlers (these every $SCHEDULE_SECONDS, default
   60), called in this process as Lambda would call them. The pump runs the code as it
   was at start: restart after edits.

The URLs, the demo key, a login per role (with a curl line for /staff/me) and the resource
names are printed and written to .run/demo.json (the logins under "logins", by role).
DEMO_YEAR_REQUESTS (default 2400; 0: none) sizes the generated year of requests written
behind the demo month (local/demo_year.py) in the background once the banner is out, with
.run/demo-year.json written when its figures are counted. RUN_DIR moves that state
directory (.run by default; the browser tests run each stack in a temporary one). Ctrl-C
stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.provision import DEFAULT_STACK_NAME, LocalStack, provision_stack
from local.tokens import KEY_FILE, SigningKey, app_environment, load_or_create_signing_key, mint

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
HOST = "127.0.0.1"
REGION = "us-east-1"

log = logging.getLogger("local.run")  # not __name__: that is __main__ under -m

LOGIN_TTL_SECONDS = 12 * 3600
DEMO_YEAR_REQUESTS = 2400  # Maple Falls: ~8,000 residents at ~0.3 requests a year each
LOCAL_MAIL_FROM = "311@maplefalls.example"
# The domain residents' e-mail reaches the towns on (`make mail`): Maple Falls is
# maplefalls.example@reports.town311.local, as local/pothole.eml is addressed.
LOCAL_MAIL_INTAKE_DOMAIN = "reports.town311.local"
# Platform operators belong to no town, so the demo town's staff has none: the operator's
# staff record is the platform's (seed_demo_operator), checked on each call like anyone's.
DEMO_OPERATOR = {"subject": "demo-operator", "email": "operator@town311.local",
                 "name": "Olive Operator", "town": None, "roles": ["operator"],
                 "departments": []}


def emulator_environment(endpoint: str) -> dict[str, str]:
    """What points boto3, pynamodb and the AWS CLI at the emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # botocore 1.44 otherwise builds account-based endpoints that miss the emulator.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"chalice local exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"chalice local did not answer on {url} within {timeout:.0f}s")


def seed_demo_town(api_key: str | None) -> Any:
    """Create Maple Falls and its staff through the app's own service (a NewTown)."""
    from chalicelib import bootstrap
    from chalicelib.services.towns import seed_demo_town as seed

    return seed(bootstrap.container().towns, api_key=api_key,
                places=bootstrap.container().gazetteer_store,
                articles=bootstrap.container().articles)


def seed_demo_operator() -> Any:
    """The demo operator's platform staff record: without it their token is refused."""
    from chalicelib import bootstrap
    from chalicelib.domain.towns import StaffMember

    operator = StaffMember(user_id=DEMO_OPERATOR["subject"], town_id=None,
                           email=DEMO_OPERATOR["email"], name=DEMO_OPERATOR["name"],
                           roles=tuple(DEMO_OPERATOR["roles"]))
    bootstrap.container().town_store.save_staff(operator)
    return operator


def demo_logins(key: SigningKey, staff: Iterable[Any],
                now: float | None = None) -> dict[str, dict[str, Any]]:
    """A signed-in person per role: the seeded staff (StaffMember) and a platform operator,
    keyed by their (first) role, each with a 12-hour ID token."""
    issued = time.time() if now is None else now
    people = [
        {"subject": m.user_id, "email": m.email, "name": m.name, "town": m.town_id,
         "roles": list(m.roles), "departments": list(m.departments)}
        for m in staff
    ] + [DEMO_OPERATOR]
    expires = datetime.fromtimestamp(int(issued) + LOGIN_TTL_SECONDS, UTC)
    logins: dict[str, dict[str, Any]] = {}
    for person in people:
        token = mint(key, subject=person["subject"], email=person["email"],
                     town=person["town"], roles=person["roles"],
                     departments=person["departments"], ttl_seconds=LOGIN_TTL_SECONDS,
                     now=issued)
        logins.setdefault(person["roles"][0], {
            **person, "expires_at": expires.isoformat().replace("+00:00", "Z"),
            "token": token})
    return logins


def _seed_demo_year_meanwhile(town_id: str, per_year: float,
                              run_dir: Path) -> threading.Thread:
    """Write the demo year and rebuild the town's figures from it in a thread of its own:
    nothing waits for it. ``run_dir``/demo-year.json says when it is done (what waits for
    the year's figures, a browser test of the dashboard, waits for that file)."""
    from chalicelib import bootstrap
    from local.demo_year import rebuild_figures, seed_demo_year

    (run_dir / "demo-year.json").unlink(missing_ok=True)

    def seed() -> None:
        try:
            started = time.monotonic()
            year = seed_demo_year(bootstrap.container(), town_id, bootstrap.container().now(),
                                  per_year=per_year)
            written = time.monotonic()
            log.info("wrote a demo year of %d requests in %.1f s", len(year.requests),
                     written - started)
            rebuild_figures(bootstrap.container(), town_id, year)
            counted = time.monotonic()
            log.info("rebuilt the town's figures from it in %.1f s", counted - written)
        except Exception:  # a demo nicety: the app runs without it
            log.exception("seeding the demo year failed")
            return
        done = {"requests": len(year.requests), "write_seconds": round(written - started, 1),
                "figures_seconds": round(counted - written, 1)}
        (run_dir / "demo-year.json.tmp").write_text(json.dumps(done) + "\n")
        (run_dir / "demo-year.json.tmp").replace(run_dir / "demo-year.json")

    thread = threading.Thread(target=seed, name="demo-year", daemon=True)
    thread.start()
    return thread


def start_chalice_local(port: int, env: dict[str, str], reload: bool) -> subprocess.Popen[bytes]:
    chalice = Path(sys.executable).parent / "chalice"
    command = [str(chalice), "local", "--host", HOST, "--port", str(port), "--stage", "dev",
               # Chalice's reloader polls every file under the project, .venv included, and
               # restarts on any write (test runs, .run/): opt in with RELOAD=1.
               "--autoreload" if reload else "--no-autoreload"]
    # Its own process group: with autoreload, chalice local runs the server in a child.
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def demo_facts(port: int, endpoint: str, jurisdiction: str, api_key: str,
               stack: LocalStack, logins: dict[str, dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    api_base = f"http://{HOST}:{port}/"
    return {
        "api_base": api_base,
        "town_page": f"{api_base}towns/{jurisdiction}",
        "console": f"{api_base}console",
        "open311_base": f"{api_base}open311/v2/",
        "jurisdiction_id": jurisdiction,
        "town_open311_base": f"{api_base}towns/{jurisdiction}/open311/v2/",
        "openapi_url": f"{api_base}openapi.json",
        "api_key": api_key,
        "aws_endpoint_url": endpoint,
        "aws_region": stack.region,
        "stack_name": stack.stack_name,
        "environment": {**stack.environment, **{name: os.environ[name] for name in (
            "TOWN311_MAIL_FROM", "TOWN311_PUBLIC_BASE_URL", "TOWN311_MAIL_INTAKE_DOMAIN")
            if os.environ.get(name)}},
        "resources": {
            logical: attributes["Ref"] for logical, attributes in stack.resources.items()
        },
        "staff_me_url": f"{api_base}staff/me",
        "logins": logins or {},
    }


def login_lines(facts: dict[str, Any]) -> list[str]:
    """The logins as a table, each followed by its curl line (tokens are long)."""
    if not facts["logins"]:
        return []
    expires = next(iter(facts["logins"].values()))["expires_at"]
    lines = [f"  staff sign-ins (ID tokens until {expires}; `make token ROLE=<role>` for a "
             "fresh one):",
             f"    {'role':<20}{'email':<32}departments"]
    for role, login in facts["logins"].items():
        lines += [
            f"    {role:<20}{login['email']:<32}{','.join(login['departments']) or '-'}",
            f'      curl -H "Authorization: Bearer {login["token"]}" {facts["staff_me_url"]}',
        ]
    return lines


def print_banner(facts: dict[str, Any], pumped: list[str], run_dir: Path = RUN_DIR) -> None:
    shown = run_dir.relative_to(ROOT) if run_dir.is_relative_to(ROOT) else run_dir
    lines = [
        "",
        "Town311 is running locally",
        f"  the town's page     {facts['town_page']}  (residents: report, track, alerts)",
        f"  the staff console   {facts['console']}  (sign in as any demo person)",
        f"  API base            {facts['api_base']}",
        f"  Open311 (shared)    {facts['open311_base']}  (jurisdiction_id="
        f"{facts['jurisdiction_id']})",
        f"  Open311 (the town)  {facts['town_open311_base']}",
        f"  OpenAPI document    {facts['openapi_url']}",
        f"  demo API key        {facts['api_key']}",
        f"  AWS emulator        {facts['aws_endpoint_url']}  (region {facts['aws_region']})",
        "  resources:",
        *(f"    {name:<30}{value}" for name, value in facts["environment"].items()),
        "  event pump:",
        *(f"    {line}" for line in pumped),
        *login_lines(facts),
        f"  written to {shown / 'demo.json'}; Ctrl-C stops everything",
        "",
    ]
    print("\n".join(lines), flush=True)


def main() -> None:
    # The app's and the libraries' warnings; the runner's own progress at INFO. The emulator
    # logs every request at INFO (the pump polls every second), so it stays at WARNING.
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("local").setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = int(os.environ.get("PORT", "8000"))
    moto_port = int(os.environ.get("MOTO_PORT", "5055"))
    schedule_seconds = float(os.environ.get("SCHEDULE_SECONDS", "60"))
    reload = os.environ.get("RELOAD", "") not in ("", "0")
    run_dir = Path(os.environ.get("RUN_DIR") or RUN_DIR).resolve()
    for wanted, what in ((port, "PORT"), (moto_port, "MOTO_PORT")):
        if not _port_is_free(wanted):
            raise SystemExit(f"{HOST}:{wanted} is in use; set {what} to another port")

    # Nothing from the developer's own AWS setup may leak in: this run talks to the emulator.
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    endpoint = f"http://{HOST}:{moto_port}"
    os.environ.update(emulator_environment(endpoint))

    log.info("starting the AWS emulator on %s", endpoint)
    from local.emulator import one_call_at_a_time_emulator

    server = one_call_at_a_time_emulator(moto_port, HOST)
    server.start()
    chalice_process = None
    pump = None

    def request_stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # Explicitly: a shell starting this in the background may have ignored SIGINT.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        import boto3

        session = boto3.session.Session(region_name=REGION)
        stack = provision_stack(session, stack_name=DEFAULT_STACK_NAME)
        # The issuer and audience are the template's stand-ins already; the key's public
        # half joins them, for chalice local (its environment is this one) and the pump.
        signing_key = load_or_create_signing_key(run_dir / KEY_FILE)
        os.environ.update(stack.environment | app_environment(signing_key))
        log.info("created %s from infra/template.yaml", ", ".join(stack.resources))

        # Residents' messages go to the emulator's SES and SNS (printed by the outbox
        # below) rather than to the log: the demo shows what a phone or inbox would get.
        os.environ.setdefault("TOWN311_PUBLIC_BASE_URL", f"http://{HOST}:{port}")
        os.environ["TOWN311_MAIL_FROM"] = LOCAL_MAIL_FROM
        os.environ["TOWN311_MAIL_INTAKE_DOMAIN"] = LOCAL_MAIL_INTAKE_DOMAIN
        # Departments' webhooks may go to a receiver on this machine (http://127.0.0.1:...);
        # deployed stages never allow loopback.
        os.environ["TOWN311_ALLOW_LOOPBACK_WEBHOOKS"] = "1"
        # The staff console's development sign-in page lists the demo people of this file.
        os.environ["TOWN311_DEV_SIGN_IN_FILE"] = str(run_dir / "demo.json")
        # `make clock ADVANCE=2h` moves the app's clock (SLA warnings, escalations).
        os.environ["TOWN311_CLOCK_FILE"] = str(run_dir / "clock.json")
        run_dir.mkdir(exist_ok=True)
        (run_dir / "clock.json").write_text('{"shift_seconds": 0}\n')
        session.client("ses").verify_email_identity(EmailAddress=LOCAL_MAIL_FROM)

        demo = seed_demo_town(os.environ.get("TOWN311_DEMO_API_KEY") or None)
        seed_demo_operator()
        jurisdiction, api_key = demo.town.town_id, demo.api_key

        log.info("seeded %s; starting chalice local on port %d", jurisdiction, port)
        chalice_process = start_chalice_local(port, dict(os.environ), reload)
        _wait_until_answering(f"http://{HOST}:{port}/", chalice_process, timeout=60)

        # A month of history, filed while the server is already answering.
        from chalicelib import bootstrap
        from local.demo_history import seed_demo_history

        started = time.monotonic()
        filed = seed_demo_history(bootstrap.container(), jurisdiction,
                                  bootstrap.container().now())
        log.info("filed %d demo requests of the last month in %.1f s", filed,
                 time.monotonic() - started)
        # The figures of that history, rebuilt as the backfill job does in the cloud; the
        # pump's stream source then replays the same events, which find them counted.
        from chalicelib.services.figures import backfill

        rebuilt = backfill(bootstrap.container().figure_ports, jurisdiction)
        log.info("figures rebuilt from %d requests (%d day items)", rebuilt.requests,
                 rebuilt.days)

        import app as app_module
        from local.pump import Pump, discover_sources

        sources = discover_sources(app_module.app, stack, session.client("sqs"),
                                   session.client("s3"), schedule_seconds=schedule_seconds,
                                   sns=session.client("sns"),
                                   streams=session.client("dynamodbstreams"))
        pump = Pump(sources)
        pump.start()

        facts = demo_facts(port, endpoint, jurisdiction, api_key, stack,
                           demo_logins(signing_key, demo.staff))
        run_dir.mkdir(exist_ok=True)
        # Whole or not at all: whoever waits for the file (the browser tests) never reads
        # half of it.
        (run_dir / "demo.json.tmp").write_text(json.dumps(facts, indent=2) + "\n")
        (run_dir / "demo.json.tmp").replace(run_dir / "demo.json")
        print_banner(facts, [source.describe() for source in sources], run_dir)
        # A year behind the month (local/demo_year.py), so that the dashboards, the public
        # page and the forecast have seasons to show: written and counted in the background
        # (a minute or more on the emulator), with demo-year.json written when it is done.
        per_year = float(os.environ.get("DEMO_YEAR_REQUESTS", DEMO_YEAR_REQUESTS))
        if per_year > 0:
            _seed_demo_year_meanwhile(jurisdiction, per_year, run_dir)

        from local.outbox import Outbox, describe

        outbox = Outbox(region=REGION)
        while True:
            if chalice_process.poll() is not None:
                raise SystemExit(f"chalice local exited with code {chalice_process.returncode}")
            for message in outbox.drain_to(run_dir / "outbox.jsonl"):
                print(describe(message), flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping...", flush=True)
        if pump is not None:
            pump.stop()
        if chalice_process is not None:
            stop_process_group(chalice_process)
        server.stop()


if __name__ == "__main__":
    main()
