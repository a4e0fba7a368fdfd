"""The pages' static files: our own CSS and JavaScript, and the front-end libraries as they
come from the npm registry (``package.json``/``package-lock.json``; the make targets run
``npm ci``), each served under a name that carries a hash of its content so that a browser
may keep it for a year and still never use a stale one.

Only text is served (CSS, JavaScript): API Gateway would need binary media types for the
rest, and a cheap phone on a slow network is better served by fewer files anyway. So the
pictures a library's CSS points to (USWDS's icons, Leaflet's controls) are written into the
CSS as ``data:`` URIs, and USWDS's web fonts are left out: the system's own sans-serif
reads as well, and Source Sans and Merriweather would cost a resident 60–100 kB more.
Those rewrites happen once per container, when an asset is first asked for — the files in
``node_modules`` stay exactly what the lockfile pinned.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.errors import NotFound

HERE = Path(__file__).resolve().parent
OWN = HERE / "static"
# In the repository the libraries are in node_modules/ at the top (``npm ci``). A Lambda
# package carries instead what each one is served as, already rewritten, in static/vendor/
# (written by infra/build_package.py with :func:`write_vendored`).
NODE_MODULES = HERE.parent.parent / "node_modules"
VENDORED = OWN / "vendor"

# Served name → where it comes from. "npm:" paths are under node_modules/.
SOURCES: dict[str, str] = {
    "town311.css": "town311.css",
    "town311.js": "town311.js",
    "uswds.css": "npm:@uswds/uswds/dist/css/uswds.min.css",
    "leaflet.css": "npm:leaflet/dist/leaflet.css",
    "leaflet.js": "npm:leaflet/dist/leaflet.js",
}
# Own files added by page areas (report.js, map.js, ...) need only be in static/ to be
# served; this is how they are found without a list to keep in step.
OWN_SUFFIXES = (".css", ".js")
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
# USWDS names its web fonts first in each font stack; without them the stack's system
# fonts (Helvetica, Roboto, Arial; Georgia for the serif) are used.
_WEB_FONTS = re.compile(r"(\"?(?:Source Sans Pro|Merriweather|Roboto Mono|Public Sans) Web\"?),")


@dataclass(frozen=True)
class Asset:
    """One static file as served: its fingerprinted name, bytes and content type."""

    name: str
    served_as: str
    body: bytes
    content_type: str


class AssetMissing(NotFound):
    """No static file by that name (or an old fingerprint)."""


def _source_path(name: str, source: str) -> Path:
    if source.startswith("npm:"):
        installed = NODE_MODULES / source[4:]
        return installed if installed.is_file() else VENDORED / name
    return OWN / source


def _data_uri(path: Path) -> str:
    kind = {".svg": "image/svg+xml", ".png": "image/png", ".gif": "image/gif"}.get(path.suffix)
    if kind is None or not path.is_file():
        return ""
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _rewrite_css(text: str, folder: Path) -> str:
    """Pictures inlined, web fonts dropped (see the module docstring)."""
    text = _FONT_FACE.sub("", text)
    text = _WEB_FONTS.sub("", text)

    def inline(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#")) or "//" in target:
            return match.group(0)
        uri = _data_uri((folder / target).resolve())
        return f'url("{uri}")' if uri else "none"

    return _URL.sub(inline, text)


def _build(name: str) -> Asset:
    source = SOURCES.get(name)
    if source is None:
        if not (name.endswith(OWN_SUFFIXES) and "/" not in name and (OWN / name).is_file()):
            raise AssetMissing(f"no static file {name!r}")
        source = name
    path = _source_path(name, source)
    if not path.is_file():
        # node_modules missing: `make run`/`make test`/`make package` run `npm ci` first.
        raise AssetMissing(f"static file {name!r} is not installed (run npm ci)")
    body = path.read_bytes()
    if path.suffix == ".css":
        body = _rewrite_css(body.decode("utf-8"), path.parent).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:12]
    stem, dot, ext = name.rpartition(".")
    return Asset(name, f"{stem}.{digest}{dot}{ext}", body, TYPES[f".{ext}"])


_built: dict[str, Asset] = {}
_lock = threading.Lock()  # chalice local answers on threads


def asset(name: str) -> Asset:
    """The asset by its plain name, built on first use and kept for the container's life."""
    found = _built.get(name)
    if found is None:
        with _lock:
            found = _built.get(name) or _build(name)
            _built[name] = found
    return found


def served(fingerprinted: str) -> Asset:
    """The asset a fingerprinted URL names; an unknown or outdated fingerprint is a 404
    (an old page asking for last release's file gets nothing stale and cached for a year)."""
    stem, _, rest = fingerprinted.partition(".")
    digest, _, ext = rest.partition(".")
    if not (stem and digest and ext) or not re.fullmatch(r"[a-z0-9_-]{1,40}", stem):
        raise AssetMissing(f"no static file {fingerprinted!r}")
    found = asset(f"{stem}.{ext}")
    if found.served_as != fingerprinted:
        raise AssetMissing(f"no static file {fingerprinted!r}")
    return found


def write_vendored(folder: Path) -> list[Path]:
    """The libraries' files as served (rewritten), into ``folder``: what a Lambda package
    carries instead of node_modules/ (the rewrite is idempotent, so serving them again
    changes nothing and their fingerprints stay the same)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in SOURCES.items():
        if source.startswith("npm:"):
            path = folder / name
            path.write_bytes(_build(name).body)
            written.append(path)
    return written
