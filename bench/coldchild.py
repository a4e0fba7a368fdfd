"""One cold start, timed inside a fresh interpreter (started by ``bench.coldstart``).

What a Lambda cold start costs the code is importing the handler's module and its first
event: settings, clients, service models, connections. This process pays exactly that,
against moto's server in another process (``bench.emulator``), and nothing before its timer:
it imports only ``sys`` and ``time`` (it is started as ``python -c "from bench.coldchild
import main; main()"``, so not even ``runpy``), reads its event as text, and refuses to
start its timer if anything of the AWS SDK, the app or their libraries (``json`` and ``re``
included: they pay for those too) is already in ``sys.modules``; the list of what was
there is reported. The event is parsed between the import and the first call, the clock
stopped.

The command line (written by the parent) names the handler to import (``app.app`` for the
API, ``chalicelib.events.pipeline.route_new_requests``..., or ``boto3`` for the baseline),
the Lambda function, its memory size, the event's file and what a good answer is. Timed:

- the baseline: ``import boto3`` | ``boto3.client("dynamodb")`` + one GetItem;
- a function: ``import <module>`` | ``<handler>(event, context)``.

The answer is checked after the timer stops, so that a failing call is never reported as a
fast one. The result is one line on stdout, ``RESULT`` and JSON, with the peak RSS of the
process after its first call. The parent reads the emulator's time around the whole
process: outside its timed part the child makes no AWS call.

With ``{"events_file": ...}`` as its event, it is the memory scenario:
import, then every event of that file (JSON lines of ``[event, check]``, read one at a
time so that they do not weigh on the process) through the same handler, each checked; it
reports the RSS after the import and at the end.
"""

import sys
import time

TYPE_CHECKING = False  # typing is not imported: boto3 and the app pay for it, in the timer
if TYPE_CHECKING:
    from typing import Any

MARKER = "RESULT"
# Nothing of these may be in memory when the timer starts: they are what is timed.
FORBIDDEN = ("boto3", "botocore", "chalice", "chalicelib", "app", "pydantic", "pydantic_core",
             "pynamodb", "aws_lambda_powertools", "urllib3", "http.client", "moto",
             "dateutil", "jmespath", "s3transfer", "json", "re")


class LambdaContext:
    """The parts of Lambda's context object that handlers and powertools read."""

    def __init__(self, function_name: str, memory_mb: int) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = "bench-" + str(time.time_ns())
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}")
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def preloaded_forbidden(modules: "list[str]") -> "list[str]":
    return [name for name in modules
            if name in FORBIDDEN or name.split(".")[0] in FORBIDDEN]


def check(answer: "Any", expected: "dict[str, Any]") -> "str | None":
    """Why ``answer`` is not a good one, or None."""
    if "status" in expected:
        status = answer.get("statusCode") if isinstance(answer, dict) else None
        if status != expected["status"]:
            body = str(answer.get("body"))[:300] if isinstance(answer, dict) else answer
            return f"HTTP {status}, wanted {expected['status']}: {body}"
    elif "equals" in expected:
        if answer != expected["equals"]:
            return f"answered {answer!r}, wanted {expected['equals']!r}"
    elif expected.get("counts"):
        if not isinstance(answer, dict) or not all(isinstance(v, int) for v in answer.values()):
            return f"answered {answer!r}, wanted a dict of counts"
    elif expected.get("item") and "Item" not in answer:
        return "GetItem found no item"
    return None


def peak_rss_mb() -> float:
    """The process's peak resident memory since it started this program.

    ``getrusage``'s ``ru_maxrss`` would do on Lambda, but not here: Linux carries it over
    ``exec`` from the forked parent (the bench, far larger), so every child would report
    the parent's peak. ``VmHWM`` belongs to the new program's memory map alone."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _handler(handler: str) -> "Any":
    module, _, attribute = handler.rpartition(".")
    return getattr(__import__(module, fromlist=[attribute]), attribute)


def main() -> None:
    """argv: handler, function name, memory size, event file, check (JSON); the event is
    read as text before the timer and parsed between the import and the first call, with
    the clock stopped (Lambda's runtime parses the event outside the handler too), so that
    not even ``json`` is imported before the timer."""
    handler_string, function, memory_mb, event_file, expected = sys.argv[1:6]
    with open(event_file, encoding="utf-8") as text:
        event_text = text.read()
    modules_before = sorted(sys.modules)
    forbidden = preloaded_forbidden(modules_before)
    if forbidden:
        raise SystemExit(f"already imported before the timer: {forbidden}")
    context = LambdaContext(function, int(memory_mb))

    t0 = time.perf_counter()
    if handler_string == "boto3":
        import boto3

        t1 = time.perf_counter()
        import json

        parameters = json.loads(event_text)
        t2 = time.perf_counter()
        answer = boto3.client("dynamodb").get_item(**parameters)
    else:
        handler = _handler(handler_string)
        t1 = time.perf_counter()
        import json

        if "events_file" in event_text[:20]:
            _memory(handler, context, json.loads(event_text)["events_file"], modules_before)
            return
        event = json.loads(event_text)
        t2 = time.perf_counter()
        answer = handler(event, context)
    t3 = time.perf_counter()
    failure = check(answer, json.loads(expected))
    if failure:
        raise SystemExit(f"{function}: {failure}")
    print(MARKER, json.dumps({
        "import_ms": (t1 - t0) * 1000, "first_call_ms": (t3 - t2) * 1000,
        "total_ms": (t1 - t0 + t3 - t2) * 1000, "peak_rss_mb": peak_rss_mb(),
        "modules_before": modules_before, "modules_after": len(sys.modules),
    }), flush=True)


def _memory(handler: "Any", context: LambdaContext, events_file: str,
            modules_before: "list[str]") -> None:
    import json

    after_import = peak_rss_mb()
    calls, failures = 0, []
    with open(events_file, encoding="utf-8") as lines:
        for line in lines:
            event, expected = json.loads(line)
            failure = check(handler(event, context), expected)
            calls += 1
            if failure:
                failures.append(f"{event['httpMethod']} {event['path']}: {failure}")
    if failures:
        raise SystemExit(f"{len(failures)} of {calls} calls failed: {failures[:3]}")
    print(MARKER, json.dumps({
        "calls": calls, "rss_after_import_mb": after_import, "peak_rss_mb": peak_rss_mb(),
        "modules_before": modules_before, "modules_after": len(sys.modules)}), flush=True)
