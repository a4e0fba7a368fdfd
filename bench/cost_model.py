"""``python -m bench.cost_model``: the usage cost model's figures (chalicelib.domain.usage.
estimate_cost at chalicelib.config.aws_prices) for a small town and a large city, written
into docs/performance.md between its ``cost-model`` markers (a hand-written section: the
``make bench`` markers are not touched). Pure arithmetic, no AWS and no emulator.

A month's usage is made from published volumes and stated assumptions (``Scenario``): the
requests filed, the share with a photo and the bytes a photo's published copies take, and
the messages residents get (who leaves a contact, how many messages a request brings, by
e-mail or text, and a text's segments). Change an assumption here and re-run.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from chalicelib.config import aws_prices
from chalicelib.domain.usage import (
    COST_LINES,
    MESSAGES_EMAIL,
    MESSAGES_SMS,
    PHOTO_BYTES,
    PHOTOS,
    SMS_SEGMENTS,
    estimate_cost,
    requests_counter,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
BEGIN = "<!-- cost-model:begin: written by `python -m bench.cost_model`; edit the script -->"
END = "<!-- cost-model:end -->"
# docs/performance.md, photos: a 12-megapixel photo's display copy and thumbnail.
PHOTO_COPY_BYTES = 577_000 + 59_000


@dataclass(frozen=True)
class Scenario:
    name: str
    residents: int
    requests_a_year: float
    source: str
    photo_share: float = 0.35  # requests filed with a photo (one each)
    contact_share: float = 0.6  # reporters who leave a contact and want messages
    messages_per_request: float = 3.0  # received, acknowledged or started, closed
    sms_share: float = 0.25  # of those messages, texts (the rest e-mail)
    segments_per_sms: float = 1.3

    def month(self) -> dict[str, int]:
        """A month's counters (chalicelib.domain.usage names them)."""
        filed = self.requests_a_year / 12
        photos = filed * self.photo_share
        messages = filed * self.contact_share * self.messages_per_request
        texts = messages * self.sms_share
        return {requests_counter("web"): round(filed), PHOTOS: round(photos),
                PHOTO_BYTES: round(photos * PHOTO_COPY_BYTES),
                MESSAGES_EMAIL: round(messages - texts), MESSAGES_SMS: round(texts),
                SMS_SEGMENTS: round(texts * self.segments_per_sms)}


SCENARIOS = (
    Scenario("Small town", 25_000, 25_000 * 0.5,
             "25,000 residents at 0.5 requests a resident a year (the issue's figure)"),
    Scenario("Chicago-size city", 2_700_000, 2_250_000,
             "2.7 million residents; Chicago's 311 receives 2.2 to 2.3 million requests a "
             "year (City of Chicago Office of Inspector General, audit of the 311 service "
             "request process, press release of 26 February 2026, igchicago.org), "
             "information requests included: an upper bound"),
)


def table() -> list[str]:
    prices = aws_prices()
    header = "| | " + " | ".join(s.name for s in SCENARIOS) + " |"
    rows = [header, "|---|" + "---:|" * len(SCENARIOS)]
    months = [s.month() for s in SCENARIOS]
    costs = [estimate_cost(m, prices) for m in months]
    rows.append("| residents | " + " | ".join(f"{s.residents:,}" for s in SCENARIOS) + " |")
    rows.append("| requests a month | " + " | ".join(
        f"{m[requests_counter('web')]:,}" for m in months) + " |")
    rows.append("| photos a month | " + " | ".join(f"{m[PHOTOS]:,}" for m in months) + " |")
    rows.append("| e-mails / texts (segments) a month | " + " | ".join(
        f"{m[MESSAGES_EMAIL]:,} / {m[MESSAGES_SMS]:,} ({m[SMS_SEGMENTS]:,})"
        for m in months) + " |")
    for line in COST_LINES:
        rows.append(f"| {line.replace('_', ' ')} | " + " | ".join(
            f"${c.lines[line]:,.2f}" for c in costs) + " |")
    rows.append("| **total a month** | " + " | ".join(
        f"**${c.total:,.2f}**" for c in costs) + " |")
    rows.append("| per request | " + " | ".join(
        f"${c.total / m[requests_counter('web')]:.4f}" for c, m in zip(
            costs, months, strict=True)) + " |")
    rows.append("| without texts, per request | " + " | ".join(
        f"${(c.total - c.lines['sms']) / m[requests_counter('web')]:.4f}" for c, m in zip(
            costs, months, strict=True)) + " |")
    return rows


def section() -> str:
    s = SCENARIOS[0]
    lines = [BEGIN, "", *table(), "",
             "Sources: " + "; ".join(f"{x.name.lower()}: {x.source}" for x in SCENARIOS) + ".",
             "", f"Assumptions (both): {round(100 * s.photo_share)} % of requests with one "
             f"photo ({PHOTO_COPY_BYTES / 1000:.0f} kB of published copies, the photo bench "
             f"above); {round(100 * s.contact_share)} % of reporters leave a contact, and "
             f"get {s.messages_per_request:g} messages a request, "
             f"{round(100 * s.sms_share)} % of them texts of {s.segments_per_sms:g} segments "
             "on average; the price table's own per-event assumptions "
             "(chalicelib/config.py `aws_prices`: API calls, function runs, queue messages, "
             "writes and reads per request, photo and message). Emergency alerts are not in "
             "it (their texts are counted and capped per town as they go).", "", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cost_model", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    text = section()
    print(text)
    if not args.no_write:
        write_section(text)


def write_section(text: str, document: Path = DOC) -> None:
    """Replace the cost-model section of ``document`` (``make bench`` refreshes it too)."""
    doc = document.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(doc):
        raise SystemExit(f"{document} has no {BEGIN!r} … {END!r} section to write into")
    document.write_text(pattern.sub(lambda _: text, doc), encoding="utf-8")


def totals() -> dict[str, float]:
    """Each scenario's estimated month, in dollars."""
    prices = aws_prices()
    return {s.name: estimate_cost(s.month(), prices).total for s in SCENARIOS}


if __name__ == "__main__":
    main()
