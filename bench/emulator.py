"""moto's server in a process of its own, which adds up the time it spends answering.

A cold-start child must pay for everything a Lambda pays for (importing botocore, building
clients, opening connections) and nothing else; in-process ``mock_aws`` would import botocore,
boto3 and a third of moto before the timer, and would run the emulator on the child's own
clock. So the children talk over loopback to this server, as the app talks to DynamoDB, and
the emulator's own time is taken out afterwards: a WSGI middleware adds up the wall time
moto spends on each request (from the call into its app to the last byte of the answer,
which moto builds in memory), and answers ``GET /__bench__/emulator`` with the running
total. The parent reads the total right before a child starts and right after it exits;
the difference is what that child waited for moto, and the children run one at a time.
What is left in the child's time (the HTTP round trip on loopback, botocore's signing and
parsing) is paid on Lambda too, so it stays in.

The server is started as in ``local/run.py`` (moto's ``DomainDispatcherApplication`` on
werkzeug, threaded), on a free port of 127.0.0.1 that it picks and prints on stdout.
Run alone: ``python -m bench.emulator`` (prints ``READY <port>``, serves until killed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.environment import ROOT, child_environment

HOST = "127.0.0.1"
TOTAL_PATH = "/__bench__/emulator"
READY = "READY"


class EmulatorClock:
    """WSGI middleware: the wall time the wrapped app spends per request, added up."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.requests = 0

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == TOTAL_PATH:
            with self._lock:
                body = json.dumps({"seconds": self.seconds, "requests": self.requests})
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body.encode()]
        started = time.perf_counter()
        try:
            # moto answers from memory: draining the iterable here times all of its work.
            return list(self._app(environ, start_response))
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - started
                self.requests += 1


def serve() -> None:
    """Serve moto on a free loopback port until killed; print ``READY <port>`` first."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = EmulatorClock(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, 0, app, threaded=True, request_handler=MotoRequestHandler)
    print(READY, server.port, flush=True)
    server.serve_forever()


@dataclass(frozen=True)
class EmulatorTotal:
    """What the server had spent answering, and on how many requests, at one moment."""

    seconds: float
    requests: int

    def __sub__(self, earlier: EmulatorTotal) -> EmulatorTotal:
        return EmulatorTotal(self.seconds - earlier.seconds, self.requests - earlier.requests)


@dataclass(frozen=True)
class Emulator:
    """A running server: where it answers, and its running total."""

    endpoint: str

    def total(self) -> EmulatorTotal:
        with urllib.request.urlopen(self.endpoint + TOTAL_PATH, timeout=10) as answer:
            data = json.loads(answer.read())
        return EmulatorTotal(float(data["seconds"]), int(data["requests"]))

    def environment(self) -> dict[str, str]:
        """What points boto3 and pynamodb at this server: the local runner's own settings
        for its emulator (``local.run.emulator_environment``)."""
        from local.run import emulator_environment

        return emulator_environment(self.endpoint)


@contextmanager
def emulator() -> Iterator[Emulator]:
    """Start the server in a child process; stop that process (and only it) afterwards."""
    process = subprocess.Popen([sys.executable, "-m", "bench.emulator"], cwd=ROOT,
                               env=child_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if len(line) != 2 or line[0] != READY:
            raise RuntimeError(f"the emulator did not start (exit {process.poll()})")
        yield Emulator(f"http://{HOST}:{int(line[1])}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


if __name__ == "__main__":
    os.environ.setdefault("MOTO_CALL_RESET_API", "false")
    serve()
