"""`make run`'s whole stack for the browser tests: `python -m local.run` in a child process,
on free ports and in a temporary state directory.

Why a child process running local/run.py itself, rather than moto and Chalice's dev server
in threads of the test process:

- it is exactly what `make run` starts (moto's server, infra/template.yaml provisioned,
  Maple Falls seeded, `chalice local`, the event pump for SQS/S3/SNS/schedules, the
  outbox), so the browser sees what a developer sees, and nothing here repeats its logic;
- the test process stays clean: tests/conftest.py clears the AWS endpoint and TOWN311_*
  variables and resets the app's container before every test, and other test files on
  the same xdist worker patch botocore with `mock_aws`; a pump or server thread in this
  process would read through those patches (and poll other tests' queues);
- it is fast enough: about 4 s from start to the first page on this machine, paid once per
  xdist worker that runs a browser test file.

The child writes `demo.json` (the facts `make run` prints) when everything answers;
messages the app "sent" through the emulator's SES and SNS land in `outbox.jsonl`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class StackFailed(RuntimeError):
    """The local stack did not come up; the message carries the end of its log."""


def wait_until[T](condition: Callable[[], T | None], what: str, timeout: float = 30.0,
               interval: float = 0.1) -> T:
    """`condition()`'s first truthy value, polled until `timeout`: for what happens in
    another process (the pump routing a request, the outbox receiving a message), where
    Playwright's own auto-waiting cannot see. A deadline for a condition, never a fixed
    sleep; the timeout only bounds a failure."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"still waiting after {timeout:g}s for {what}")
        time.sleep(interval)


def free_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel has just handed out on loopback. Held together
    while choosing, so they differ; another process could still take one before the child
    binds it, which `start_local_run` answers by trying again on new ports."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _parent_death_signal() -> Callable[[], None] | None:
    """What the child runs before local/run.py: Linux then sends it SIGTERM (its Ctrl-C)
    if the test process dies without tearing down (killed, a crashed xdist worker), so no
    emulator or `chalice local` outlives the tests. Looked up here, in the parent: between
    fork and exec the child should do as little as possible."""
    if sys.platform != "linux":
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


def child_environment(run_dir: Path, port: int, moto_port: int) -> dict[str, str]:
    """This process's environment minus anything that would point the child elsewhere
    (a developer's AWS profile or endpoints, app settings a test left behind)."""
    env = {name: value for name, value in os.environ.items()
           if not (name.startswith(("AWS_", "TOWN311_"))
                   or name in ("PORT", "MOTO_PORT", "RUN_DIR", "RELOAD"))}
    return env | {
        "PORT": str(port), "MOTO_PORT": str(moto_port), "RUN_DIR": str(run_dir),
        "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
        # The browser stories use the demo month; the generated year (a minute or more of
        # writes and figure counting on the emulator) would only slow the pages they drive.
        # Its figures are checked against the generator's truth in tests/functional.
        "DEMO_YEAR_REQUESTS": "0",
    }


@dataclass
class LocalRun:
    """A running `python -m local.run`: its facts (demo.json) and its outbox."""

    process: subprocess.Popen[bytes]
    run_dir: Path
    facts: dict[str, Any]
    started_in_seconds: float
    _outbox_read: int = field(default=0, repr=False)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port> (no trailing slash): Playwright's `base_url`."""
        return self.facts["api_base"].rstrip("/")

    @property
    def town(self) -> str:
        """The demo town's id (maplefalls.example)."""
        return self.facts["jurisdiction_id"]

    @property
    def api_key(self) -> str:
        """The demo town's Open311 API key."""
        return self.facts["api_key"]

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def log_tail(self, lines: int = 40) -> str:
        log = self.run_dir / "local-run.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) \
            if log.exists() else "(no log)"

    def messages(self) -> list[dict[str, Any]]:
        """Every text and e-mail the app sent so far through the emulator (SNS/SES), oldest
        first, as local/outbox.py records them: {"channel", "to", "subject"?, "text"}."""
        path = self.run_dir / "outbox.jsonl"
        if not path.exists():
            return []
        text = path.read_text(encoding="utf-8")
        # A line being appended right now is not whole yet: read it next time.
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def wait_for_message(self, to: str, containing: str = "",
                         timeout: float = 30.0) -> dict[str, Any]:
        """The newest message to `to` whose text contains `containing`, waiting for it
        (the runner copies the emulator's outbox to outbox.jsonl twice a second)."""
        def found() -> dict[str, Any] | None:
            matching = [m for m in self.messages()
                        if m["to"] == to and containing in m.get("text", "")]
            return matching[-1] if matching else None

        return wait_until(found, f"a message to {to} containing {containing!r}", timeout)

    def stop(self) -> None:
        """Ctrl-C, as a developer would: local/run.py stops the pump, `chalice local` (its
        own process group) and the emulator. Killed if it does not stop."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def start_local_run(run_dir: Path, timeout: float = 120.0, attempts: int = 3) -> LocalRun:
    """Start `python -m local.run` in `run_dir` and return once it has written demo.json
    (the emulator, the resources, the demo town, `chalice local` answering, the pump
    started). Ports are chosen fresh; a port taken in between means another try."""
    run_dir.mkdir(parents=True, exist_ok=True)
    failure = ""
    for _ in range(attempts):
        port, moto_port = free_ports(2)
        started = time.monotonic()
        with open(run_dir / "local-run.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "local.run"], cwd=ROOT,
                env=child_environment(run_dir, port, moto_port),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                # Its own group: a kill that has to be forced reaches everything it started
                # in it (chalice local makes its own group and is stopped by local/run.py).
                start_new_session=True,
                preexec_fn=_parent_death_signal())
        facts_file = run_dir / "demo.json"
        deadline = started + timeout
        while not facts_file.exists() and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        if facts_file.exists():
            facts = json.loads(facts_file.read_text())
            return LocalRun(process, run_dir, facts, time.monotonic() - started)
        run = LocalRun(process, run_dir, {}, time.monotonic() - started)
        run.stop()
        failure = run.log_tail()
        if "is in use" not in failure:
            break
    raise StackFailed(f"`python -m local.run` did not come up (log in {run_dir}):\n{failure}")
