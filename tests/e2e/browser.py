"""What every page test uses: finding Chromium, axe-core, screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from weakref import WeakSet

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
# Debian's Chromium (`make test` installs it with apt-get): Playwright's own browser
# download is blocked on these machines and in CI. CHROMIUM points at another build.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# What fails a page: axe-core's two worst impacts ("moderate" and "minor" are reported by
# axe but do not fail the suite).
FAILING_IMPACTS = ("serious", "critical")

# Contexts made with JavaScript off (the `no_js_page` fixture). axe-core runs in the page
# and waits on timers that never fire there: check the same page with JavaScript on.
SCRIPTLESS_CONTEXTS: WeakSet[Any] = WeakSet()


def wanted_chromium() -> str:
    return os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM


def chromium_path() -> str | None:
    """The Chromium to drive, or None if there is none on this machine."""
    wanted = wanted_chromium()
    found = wanted if os.path.isfile(wanted) else shutil.which(wanted)
    return found if found and os.access(found, os.X_OK) else None


def launch_arguments() -> list[str]:
    # Chromium refuses to start its sandbox as root (CI and these machines run as root).
    return ["--no-sandbox"] if os.geteuid() == 0 else []


def screen_name(page: Any) -> str:
    """"phone" or "desktop", from the page's viewport: for screenshot names."""
    viewport = page.viewport_size or {"width": 1280}
    return "phone" if viewport["width"] < 600 else "desktop"


def accessibility_problems(results: dict[str, Any],
                           impacts: tuple[str, ...] = FAILING_IMPACTS) -> list[str]:
    """axe-core's violations of the given impacts, one readable block each: rule id,
    impact, what to do (help and its URL), and every element (CSS target) it failed on."""
    problems = []
    for violation in results.get("violations", []):
        if violation.get("impact") not in impacts:
            continue
        nodes = violation.get("nodes", [])
        targets = "\n".join(
            f"      {' '.join(str(t) for t in node.get('target', []))}"
            f"  {node.get('html', '')[:120]}" for node in nodes)
        problems.append(
            f"  {violation['id']} ({violation['impact']}): {violation.get('help', '')}\n"
            f"    {violation.get('helpUrl', '')}\n"
            f"    on {len(nodes)} element(s):\n{targets}")
    return problems


def check_accessibility(page: Any, impacts: tuple[str, ...] = FAILING_IMPACTS) -> dict[str, Any]:
    """Run axe-core (bundled by axe-playwright-python) on the page as it is now; fail on any
    serious or critical violation, listing rule ids, targets and help. Returns axe's full
    results (moderate and minor findings included) for tests that want more."""
    from axe_playwright_python.sync_playwright import Axe

    if page.context in SCRIPTLESS_CONTEXTS:
        raise AssertionError(
            "axe-core needs JavaScript: check this page with the `page`, `phone_page` or "
            "`desktop_page` fixture (the HTML is the same without JavaScript)")
    results: dict[str, Any] = Axe().run(page).response
    problems = accessibility_problems(results, impacts)
    if problems:
        raise AssertionError(
            f"{len(problems)} accessibility violation(s) ({'/'.join(impacts)}) on "
            f"{page.url}:\n" + "\n".join(problems))
    return results


def screenshot(page: Any, name: str) -> Path:
    """The whole page (not only the viewport) as docs/screenshots/<name>.png."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"a screenshot name is a plain file name, not {name!r}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path
