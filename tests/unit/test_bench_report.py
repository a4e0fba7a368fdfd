"""``make bench``'s report of issue 17's figures: the dashboard reads and the calls per
counted event, export throughput and the cost model go into the results, their JSON and
the docs' generated section, and a missed check fails the run."""

from __future__ import annotations

from datetime import date

from bench.__main__ import QUICK_EXPORTS, QUICK_FIGURE_YEARS, _parse
from bench.cost_model import BEGIN, END, totals, write_section
from bench.cost_model import section as cost_section
from bench.exports import ExportRun
from bench.figures import Counting, FiguresBench, Read
from bench.report import Results, console, markdown

MACHINE = {"cores": 2, "system": "Linux x86_64", "python": "3.12.0", "packages": {}}


def figures(items_read: int = 12 * 30 + 1) -> FiguresBench:
    read = Read("this month by service", "service", date(2026, 10, 22), date(2026, 11, 20),
                values=12, days_read=30, calls={"GetItem": 1, "Query": 1},
                items_read=items_read, seconds=0.1)
    counting = Counting(requests=12, stream_records=120, delivered=60, counted=58,
                        calls={"GetItem": 60, "TransactWriteItems": 58},
                        transaction_items=[6] * 58, redelivery_calls={"GetItem": 60})
    return FiguresBench(3, 30_660, 12.0, [read], counting)


def exports(rows: int = QUICK_EXPORTS) -> list[ExportRun]:
    return [ExportRun("open data, a year (CSV)", rows, 1, 52_000, 4.0,
                      {"DynamoDB.Query": 1, "S3.PutObject": 1}, rows, "done"),
            ExportRun("whole town (JSON lines)", rows + 34, 1, 300_000, 9.0,
                      {"DynamoDB.Query": rows + 1, "S3.PutObject": 1}, rows + 34, "done")]


def results(**parts) -> Results:  # noqa: ANN003
    found = Results(MACHINE, (1.0, 1.0, 1.0), requests=200, repeat=5)
    for name, value in parts.items():
        setattr(found, name, value)
    return found


def test_the_quick_bench_reports_the_figures_exports_and_cost_model() -> None:
    run = results(figures=figures(), exports=exports(300), export_requests=300,
                  cost_model=totals())
    assert run.passed
    section = markdown(run)
    assert "**Figures** (`bench/figures.py`) — a town with 3 years" in section
    assert "| this month by service | service | 30 | 12 | 1 GetItem, 1 Query | 361 | 361 |" \
        in section
    assert "Export throughput (300 requests of one town" in section
    assert "| open data, a year (CSV) | 300 | 1 | 0.05 | 4.0 | 75 |" in section
    assert "**Cost model**" in section
    assert f"small town ${totals()['Small town']:,.2f}" in section
    assert "chicago-size city $" in section
    assert "Export throughput" in console(run)
    doc = run.to_json()
    assert doc["figures"]["passed"] and doc["exports"]["requests"] == 300
    assert doc["cost_model"] == totals() and totals()["Small town"] > 0


def test_the_cost_section_is_rewritten_between_its_markers_only(tmp_path) -> None:  # noqa: ANN001
    page = tmp_path / "performance.md"
    page.write_text(f"# Before\n\n{BEGIN}\nstale\n{END}\n\nAfter.\n", encoding="utf-8")
    write_section(cost_section(), page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Before\n\n" + BEGIN) and text.endswith(END + "\n\nAfter.\n")
    assert "stale" not in text and "| **total a month** |" in text


def test_a_missed_figure_or_export_check_fails_the_run() -> None:
    assert not results(figures=figures(items_read=5_000)).passed  # read more than days × values
    missing_a_row = results(exports=exports(299), export_requests=300)
    assert not missing_a_row.passed
    assert results().passed  # nothing of issue 17 measured: nothing to fail


def test_the_defaults_are_the_make_targets_and_other_sizes_are_named() -> None:
    args = _parse([])
    assert (args.figure_years, args.export_requests) == (QUICK_FIGURE_YEARS, QUICK_EXPORTS)
    plain = results(figures=figures(), exports=exports(), export_requests=QUICK_EXPORTS)
    assert "Measured with `make bench`" in markdown(plain)
    bigger = results(figures=figures(), exports=exports(3000), export_requests=3000)
    assert "`python -m bench --export-requests 3000` (not `make bench`'s defaults)" \
        in markdown(bigger)
