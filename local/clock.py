"""`make clock ADVANCE=2h` (or 90m, 3d; RESET=1 to go back): move the running
`make run`'s clock forward, so that due dates, SLA warnings and escalations can be seen
without waiting. The API and the event pump read .run/clock.json on every call; the
15-minute SLA sweep runs on the pump's schedule (SCHEDULE_SECONDS, 60 by default).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

CLOCK = Path(__file__).resolve().parent.parent / ".run" / "clock.json"
UNITS = {"m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([mhd])", text.strip())
    if not match:
        raise SystemExit(f"ADVANCE must look like 90m, 2h or 3d, not {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.clock", description=__doc__)
    parser.add_argument("--advance", default="")
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args(argv)
    shift = 0.0
    if CLOCK.exists() and not args.reset:
        shift = float(json.loads(CLOCK.read_text()).get("shift_seconds", 0))
    if args.advance:
        shift += seconds(args.advance)
    CLOCK.parent.mkdir(exist_ok=True)
    CLOCK.write_text(json.dumps({"shift_seconds": shift}) + "\n")
    print(f"the app's clock is {shift / 3600:g} h ahead")


if __name__ == "__main__":
    main()
