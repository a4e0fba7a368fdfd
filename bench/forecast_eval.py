"""``python -m bench.forecast_eval``: the forecast (chalicelib.domain.forecast) measured on
held-out weeks, written into docs/forecast.md between its ``forecast-eval`` markers.

Each trial draws a town's weekly requests per service from the demo year's rates
(local/demo_year.py: each service's season, the weekday pattern, Poisson counts), two
years of it (and, separately, one year) ending on a different day of the year, with 5 %
growth a year; the last 8 weeks are held out, the forecast is made from the weeks before,
and its 8 weeks are compared with what was drawn. Reported per service, over all trials:
the mean absolute error (requests a week), the MAPE (over held-out weeks with at least one
request), the WAPE (absolute errors over actuals, both summed: it copes with quiet weeks),
the share of held-out weeks inside the 90 % interval, and for comparison the MAE of the
seasonal-naive baseline (the same week a year before, where there is one) and of the true
mean the counts were drawn from (the Poisson noise no method can remove). Seeded: the
figures are the same on every run. Pure Python, seconds; it is not part of `make bench`.
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from chalicelib.domain.forecast import forecast
from local.demo_year import PATTERNS, REQUESTS_PER_RESIDENT, RESIDENTS, daily_rate, poisson

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "forecast.md"
BEGIN = "<!-- forecast-eval:begin: written by `python -m bench.forecast_eval`; edit the script -->"
END = "<!-- forecast-eval:end -->"
HELD_OUT = 8
GROWTH = 1.05


@dataclass
class Score:
    """Errors of one service's held-out weeks, summed over trials."""

    weeks: int = 0
    absolute: float = 0.0
    actual: int = 0
    pct: list[float] = field(default_factory=list)
    inside: int = 0
    naive_absolute: float = 0.0
    naive_weeks: int = 0
    truth_absolute: float = 0.0

    def row(self, name: str) -> str:
        mae = self.absolute / self.weeks
        mape = f"{100 * sum(self.pct) / len(self.pct):.0f} %" if self.pct else "–"
        wape = f"{100 * self.absolute / self.actual:.0f} %" if self.actual else "–"
        naive = f"{self.naive_absolute / self.naive_weeks:.2f}" if self.naive_weeks else "–"
        return (f"| {name} | {self.actual / self.weeks:.1f} | {mae:.2f} | {mape} | {wape} | "
                f"{100 * self.inside / self.weeks:.0f} % | {naive} | "
                f"{self.truth_absolute / self.weeks:.2f} |")


def weekly_series(rng: random.Random, last_monday: date, weeks: int, per_year: float
                  ) -> dict[str, list[tuple[date, int, float]]]:
    """Each service's (Monday, count, true mean) for ``weeks`` weeks ending with
    ``last_monday``'s."""
    first = last_monday - timedelta(weeks=weeks - 1)
    series: dict[str, list[tuple[date, int, float]]] = {}
    for pattern in PATTERNS:
        rows = []
        for w in range(weeks):
            monday = first + timedelta(weeks=w)
            age_years = (weeks - 1 - w) / 52.18
            rates = [daily_rate(pattern, monday + timedelta(days=d), per_year)
                     * GROWTH ** -age_years for d in range(7)]
            rows.append((monday, sum(poisson(rng, rate) for rate in rates), sum(rates)))
        series[pattern.code] = rows
    return series


def evaluate(history_weeks: int, trials: int, seed: int = 17,
             per_year: float = RESIDENTS * REQUESTS_PER_RESIDENT) -> dict[str, Score]:
    """Scores per service of ``trials`` held-out 8-week forecasts after ``history_weeks``."""
    rng = random.Random(seed)
    scores = {p.code: Score() for p in PATTERNS}
    total = Score()
    base = date(2026, 1, 5)  # a Monday; trial i ends ~18 days later each time
    for trial in range(trials):
        last = base + timedelta(weeks=round(trial * 52 / trials))
        series = weekly_series(rng, last, history_weeks + HELD_OUT, per_year)
        for code, rows in series.items():
            history = [(monday, n) for monday, n, _ in rows[:-HELD_OUT]]
            predicted = forecast(history, HELD_OUT).weeks
            by_week = dict(history)
            for guess, (monday, actual, mean) in zip(predicted, rows[-HELD_OUT:], strict=True):
                naive = by_week.get(monday - timedelta(weeks=52))
                for score in (scores[code], total):
                    score.weeks += 1
                    score.absolute += abs(guess.expected - actual)
                    score.actual += actual
                    if actual:
                        score.pct.append(abs(guess.expected - actual) / actual)
                    score.inside += guess.low <= actual <= guess.high
                    score.truth_absolute += abs(mean - actual)
                    if naive is not None:
                        score.naive_absolute += abs(naive - actual)
                        score.naive_weeks += 1
    scores["all services"] = total
    return scores


def table(title: str, scores: dict[str, Score]) -> list[str]:
    return [f"**{title}**", "",
            "| service | actual a week | MAE | MAPE | WAPE | in the 90 % interval | "
            "seasonal-naive MAE | true-mean MAE |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *(score.row(name) for name, score in scores.items()), ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast_eval", description=__doc__)
    parser.add_argument("--trials", type=int, default=26,
                        help="forecast origins spread over a year (default 26)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    per_year = RESIDENTS * REQUESTS_PER_RESIDENT
    lines = [BEGIN, "",
             f"{args.trials} forecast origins spread over a year, each service of a town of "
             f"{RESIDENTS:,} at {REQUESTS_PER_RESIDENT} requests a resident a year "
             f"({per_year:,.0f} a year, growing {round(100 * (GROWTH - 1))} % a year), 8 "
             "weeks held out after each; seed 17.", ""]
    lines += table("Two years of history (104 weeks)", evaluate(104, args.trials))
    lines += table("One year of history (52 weeks)", evaluate(52, args.trials))
    lines += table("Half a year of history (26 weeks: the straight-line fallback)",
                   evaluate(26, args.trials))
    lines.append(END)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        doc = DOC.read_text()
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        DOC.write_text(pattern.sub(lambda _: text, doc) if pattern.search(doc)
                       else doc.rstrip("\n") + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
