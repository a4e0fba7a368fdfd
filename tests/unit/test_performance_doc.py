"""`make bench` rewrites the figures in docs/performance.md and nothing else on the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import BEGIN, END, PERFORMANCE_DOC, SCALE_BEGIN, SCALE_END, write_figures

PAGE = f"""# Performance

Written by hand before.

{BEGIN}

old figures

{END}

## Since that run

Written by hand after.
"""
SECTION = "## Performance\n\nMeasured with `make bench`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"


def test_the_bench_replaces_only_the_figures_between_its_markers(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(PAGE, encoding="utf-8")

    write_figures(SECTION, page)

    text = page.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text.startswith("# Performance\n\nWritten by hand before.\n\n" + BEGIN)
    assert f"{BEGIN}\n\nMeasured with `make bench`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n{END}" \
        in text
    assert text.endswith(f"{END}\n\n## Since that run\n\nWritten by hand after.\n")
    assert "## Performance" not in text  # the page has its own heading


def test_running_the_bench_twice_gives_the_same_page(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(PAGE, encoding="utf-8")

    write_figures(SECTION, page)
    once = page.read_text(encoding="utf-8")
    write_figures(SECTION, page)

    assert page.read_text(encoding="utf-8") == once


@pytest.mark.parametrize("broken", [PAGE.replace(BEGIN, ""), PAGE.replace(END, ""),
                                    PAGE.replace(BEGIN, "@@").replace(END, BEGIN)
                                    .replace("@@", END)])
def test_a_page_without_its_markers_is_refused_not_left_stale(tmp_path: Path,
                                                             broken: str) -> None:
    page = tmp_path / "performance.md"
    page.write_text(broken, encoding="utf-8")

    with pytest.raises(ValueError, match="bench:begin"):
        write_figures(SECTION, page)
    assert page.read_text(encoding="utf-8") == broken


def test_the_published_page_has_the_markers_the_bench_writes_between() -> None:
    # A bench run must not end in a refusal to write its figures.
    text = PERFORMANCE_DOC.read_text(encoding="utf-8")

    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert text.index(BEGIN) < text.index(END)


def test_the_scale_bench_writes_its_own_section_and_leaves_the_quick_one(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(PAGE + f"\n{SCALE_BEGIN}\n\nold scale figures\n\n{SCALE_END}\n",
                    encoding="utf-8")

    write_figures("## Performance\n\nscale run\n", page, scale=True)

    text = page.read_text(encoding="utf-8")
    assert f"{SCALE_BEGIN}\n\nscale run\n\n{SCALE_END}" in text
    assert "old scale figures" not in text
    assert f"{BEGIN}\n\nold figures\n\n{END}" in text  # the quick section is untouched


def test_the_published_page_has_the_scale_benchs_markers_after_the_quick_ones() -> None:
    text = PERFORMANCE_DOC.read_text(encoding="utf-8")

    assert text.count(SCALE_BEGIN) == 1 and text.count(SCALE_END) == 1
    assert text.index(END) < text.index(SCALE_BEGIN) < text.index(SCALE_END)
