"""Build the CloudFormation/SAM package: `python infra/build_package.py [--stage prod]`.

Chalice would `pip download` requirements.txt with all its dependencies, which drags
botocore (16 MB) into the zip through pynamodb although the Lambda runtime already ships
it, and would give every function the same zip. Instead this script:

1. copies the app (app.py, chalicelib/, .chalice/ config and policies) to build/src;
2. resolves requirements.txt for the Lambda platform (CPython 3.12, manylinux x86_64)
   with pip's resolver, drops what the runtime provides (RUNTIME_PROVIDED), and installs
   the rest with `--no-deps --only-binary=:all:` into build/src/vendor/, so nothing is
   compiled on this machine; babel keeps the locale data of the message languages only
   (chalicelib.domain.notices.LANGUAGES), and type stubs go;
3. byte-compiles the vendored and app code (unchecked-hash .pyc: Lambda's file system is
   read-only, so without them every cold start compiles pydantic, powertools, ... anew);
4. runs `chalice package --merge-template infra/template.yaml` there with an empty
   requirements.txt;
5. builds the photo function's layer, photo-layer.zip: requirements-photo.txt (Pillow,
   pillow-heif) resolved the same way, constrained to the versions the main zip pins,
   minus what the main zip or the runtime already has, installed under python/ (the
   directory Lambda puts on sys.path for a layer) and byte-compiled. infra/template.yaml
   declares it (PhotoLibrariesLayer, ContentUri ./photo-layer.zip, beside sam.yaml) and
   attaches it to ProcessPhoto alone;
6. splits Chalice's deployment.zip, which every function would share, into one zip per
   function, functions/<LogicalId>.zip, and points each function's CodeUri at its own:
   what its handler's module can import, found by reading the source (plan_function:
   the app's modules and powertools' and babel's are walked import by import; other
   libraries are kept whole with what their wheels require);
7. runs cfn-lint on the result, checks every zip, prints each function's size and fails
   when one is over its budget (FUNCTION_BUDGETS: the API's is 10 MB).

The output directory holds sam.yaml (Chalice writes YAML when the merged template is
YAML), functions/*.zip and photo-layer.zip.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import email.parser
import functools
import importlib.util
import json
import os
import pickletools
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
REQUIREMENTS = ROOT / "requirements.txt"
PHOTO_REQUIREMENTS = ROOT / "requirements-photo.txt"
# The layer's file name, next to sam.yaml: infra/template.yaml's PhotoLibrariesLayer names it.
PHOTO_LAYER_ZIP = "photo-layer.zip"
# Top-level names that belong in the photo layer and never in the shared deployment.zip.
PHOTO_ONLY = ("PIL", "pillow.libs", "pillow_heif", "pillow_heif.libs")

# Distributions the AWS Lambda Python runtime provides (boto3 and its dependencies).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34). Older pips do not expand a
# manylinux tag to the older compatible ones, so every tag up to 2.34 is listed.
MANYLINUX_TAGS = ["manylinux1", "manylinux2010", "manylinux2014"] + [
    f"manylinux_2_{minor}" for minor in (5, 12, 17, 24, 26, 27, 28, 31, 34)
]
PLATFORM_ARGS = [
    *(arg for tag in MANYLINUX_TAGS for arg in ("--platform", f"{tag}_x86_64")),
    "--implementation", "cp",
    "--python-version", "3.12",
    "--abi", "cp312",
    "--only-binary=:all:",
]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def copy_app(src: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy2(ROOT / "app.py", src / "app.py")
    if (ROOT / "chalicelib").is_dir():
        shutil.copytree(ROOT / "chalicelib", src / "chalicelib", ignore=ignore)
    # The pages' front-end libraries: node_modules/ is not shipped, only the files served
    # from it, as served (chalicelib/web/assets.py).
    sys.path.insert(0, str(ROOT))
    try:
        from chalicelib.web.assets import write_vendored
    finally:
        sys.path.remove(str(ROOT))
    write_vendored(src / "chalicelib" / "web" / "static" / "vendor")
    (src / ".chalice").mkdir()
    for path in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(path, src / ".chalice" / path.name)
    # The dependencies are vendored already; Chalice must not resolve them again.
    (src / "requirements.txt").write_text("")


def resolve_lambda_dependencies(
    requirements: Path, provided: list[str] | None = None
) -> list[str]:
    """Pinned `name==version` of everything `requirements` needs on Lambda, minus the
    distributions the runtime provides and those in `provided` (pins of what another zip
    already carries: the resolution is constrained to those versions, so that what the
    layer leaves to the main zip is the version it was resolved against)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        constraints = []
        if provided:
            constraints_file = Path(tmp) / "constraints.txt"
            constraints_file.write_text("".join(f"{pin}\n" for pin in provided))
            constraints = ["-c", str(constraints_file)]
        run([
            sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
            "--ignore-installed", "--report", str(report), "--target", str(Path(tmp) / "t"),
            *PLATFORM_ARGS, *constraints, "-r", str(requirements),
        ])
        installs = json.loads(report.read_text())["install"]
    skip = RUNTIME_PROVIDED | {normalize(pin.split("==", 1)[0]) for pin in provided or ()}
    pins = []
    for item in installs:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if normalize(name) not in skip:
            pins.append(f"{name}=={version}")
    return sorted(pins, key=str.lower)


def install_wheels(pins: list[str], target: Path) -> None:
    """`pins` installed from Lambda-platform wheels into `target`, without their console
    scripts and their own test suites (no use in a Lambda function)."""
    run([
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
        "--target", str(target), *PLATFORM_ARGS, *pins,
    ])
    shutil.rmtree(target / "bin", ignore_errors=True)
    for tests in [*target.glob("*/tests"), *target.glob("*/*/tests")]:
        if tests.is_dir():
            shutil.rmtree(tests, ignore_errors=True)


def vendor(pins: list[str], vendor_dir: Path) -> None:
    install_wheels(pins, vendor_dir)
    # Type stubs are for type checkers; nothing imports them.
    for stub in vendor_dir.rglob("*.pyi"):
        stub.unlink()
    prune_babel(vendor_dir)
    prune_unreachable(vendor_dir)


def build_photo_layer(pins: list[str], layer_src: Path, zip_path: Path) -> None:
    """photo-layer.zip: `pins` installed under python/, without tests, byte-compiled."""
    shutil.rmtree(layer_src, ignore_errors=True)
    site = layer_src / "python"
    install_wheels(pins, site)
    byte_compile(site)
    write_zip(zip_path, layer_src, [path for path in layer_src.rglob("*") if path.is_file()])


# Babel carries CLDR data for about 1,000 locales (30 MB). Messages are dated in the
# languages chalicelib.domain.notices.LANGUAGES names (the one list: towns choose from it),
# so the package keeps the locale files babel reads for those: each language's own file,
# the parents it inherits from (root) and any it is an alias of (Tagalog is "fil"). Which
# ones is asked of the vendored babel itself, not listed here.
NOTICES_MODULE = ROOT / "chalicelib" / "domain" / "notices.py"


def message_languages() -> tuple[str, ...]:
    """chalicelib.domain.notices.LANGUAGES, read from the source (not imported: the build
    needs none of the app's dependencies)."""
    tree = ast.parse(NOTICES_MODULE.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "LANGUAGES" for t in targets):
                assert node.value is not None
                return tuple(ast.literal_eval(node.value))
    raise SystemExit(f"{NOTICES_MODULE.relative_to(ROOT)} defines no LANGUAGES")


_BABEL_LOCALES = """
import json, sys
from babel import Locale, localedata
for language in sys.argv[1:]:
    Locale.parse(language)._data  # loads the locale's file and every one it inherits from
print(json.dumps(sorted(localedata._cache)))
"""


def babel_locale_files(vendor_dir: Path, languages: tuple[str, ...]) -> set[str]:
    """The locale-data file names (without .dat) babel loads for `languages`."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c",
         f"import sys; sys.path.insert(0, {str(vendor_dir)!r})\n" + _BABEL_LOCALES,
         *languages],
        capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


def prune_babel(vendor_dir: Path) -> None:
    data = vendor_dir / "babel" / "locale-data"
    if not data.is_dir():
        return
    keep = babel_locale_files(vendor_dir, message_languages())
    for path in data.glob("*.dat"):
        if path.stem not in keep:
            path.unlink()


# Parts of libraries no import of ours can reach and that nothing of theirs imports: the
# pydantic v1 compatibility package (0.38 MB zipped) and pydantic's mypy plugin.
UNREACHABLE = ("pydantic/v1", "pydantic/mypy.py")


def prune_unreachable(vendor_dir: Path) -> None:
    for relative in UNREACHABLE:
        path = vendor_dir / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()


def byte_compile(*dirs: Path) -> None:
    for directory in dirs:
        if directory.is_dir():
            ok = compileall.compile_dir(
                str(directory),
                quiet=1,
                workers=0,
                invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            if not ok:
                raise SystemExit(f"byte-compiling {directory} failed")


def check_zip(zip_path: Path, root: str = "") -> list[str]:
    """Problems with a zip of installed packages: runtime-provided packages, or binaries that
    did not come from a manylinux wheel. `root` is the directory inside the zip that holds
    the packages ("python/" in a layer)."""
    problems = []
    with zipfile.ZipFile(zip_path) as zf:
        names = [n[len(root):] for n in zf.namelist() if n.startswith(root) and n != root]
        stray = [n for n in zf.namelist() if not n.startswith(root)]
        if stray:
            problems.append(f"{stray[0]} (and {len(stray) - 1} more) outside {root}")
        top = {n.split("/", 1)[0] for n in names}
        for forbidden in RUNTIME_MODULES:
            if forbidden in top:
                problems.append(f"{forbidden}/ is in the zip; the Lambda runtime provides it")
        binary_dists = set()
        for name in names:
            if name.endswith(".dist-info/WHEEL"):
                tags = [
                    line.split(":", 1)[1].strip()
                    for line in zf.read(root + name).decode().splitlines()
                    if line.startswith("Tag:")
                ]
                dist = name.split("/", 1)[0]
                if not tags:
                    problems.append(f"{dist} has no wheel tags")
                for tag in tags:
                    if tag.endswith("-none-any"):
                        continue
                    if "manylinux" in tag and tag.endswith("x86_64"):
                        binary_dists.add(dist)
                        continue
                    problems.append(f"{dist} is tagged {tag}: not a manylinux or pure wheel")
        records = {}
        for dist in binary_dists:
            record = f"{dist}/RECORD"
            if record in names:
                for line in zf.read(root + record).decode().splitlines():
                    records[line.split(",", 1)[0]] = dist
        for name in names:
            is_binary = name.endswith((".so", ".dylib", ".pyd")) or ".so." in name
            if is_binary and name not in records:
                problems.append(f"{name} is a binary that no manylinux wheel installed")
    return problems


def check_main_zip(zip_path: Path) -> list[str]:
    """check_zip, and the photo libraries must have stayed out (they are in the layer)."""
    problems = check_zip(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        top = {n.split("/", 1)[0] for n in zf.namelist()}
    problems += [f"{name}/ is in the zip; it belongs in {PHOTO_LAYER_ZIP}"
                 for name in PHOTO_ONLY if name in top]
    return problems


# What a zip built from wheels never needs: sources and objects of a build.
BUILD_ARTIFACTS = (".c", ".h", ".cpp", ".o", ".a", ".pyx", ".pxd")


def check_layer_zip(zip_path: Path) -> list[str]:
    """check_zip under python/, the photo libraries present, and no build artifacts."""
    problems = check_zip(zip_path, root="python/")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    top = {n.split("/", 2)[1] for n in names if n.count("/") >= 2}
    problems += [f"python/{name}/ is missing" for name in ("PIL", "pillow_heif")
                 if name not in top]
    problems += [f"{name} is a build artifact" for name in names
                 if name.endswith(BUILD_ARTIFACTS) or "/build/" in name]
    return problems


# --- One zip per function -------------------------------------------------------------
#
# Every function's handler string names its module (`app.app` for the API,
# `chalicelib.events.pipeline.route_new_requests` for a blueprint's), and Lambda imports
# that module alone. A function's zip holds what that import can reach: found by reading
# the source (imports inside functions count: lazy imports are the norm here), not by
# listing. The app's modules are walked, and so are powertools' and babel's, whose unused
# parts are most of their size; every other library is kept whole, with the libraries it
# requires (its wheel's Requires-Dist).

FUNCTIONS_DIR = "functions"
APP_PACKAGES = ("app", "chalicelib")
# Walked like the app: only the modules an import reaches are kept (with the data files in
# their directories). `chalice` is Chalice's runtime (two modules), which has no dist-info.
WALKED_LIBRARIES = ("aws_lambda_powertools", "babel", "chalice")
# Import names of RUNTIME_PROVIDED.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
# Imports no `import` statement shows: the standard library's zoneinfo reads the tzdata
# package (through importlib.resources) when the system has no time zone database, which
# is why requirements.txt has tzdata: it goes wherever zoneinfo does.
IMPLICIT_IMPORTS = {"zoneinfo": ("tzdata",)}
# Imports that run only for inputs Town311 never gives, left out of the walk (importer →
# prefixes it does not reach). powertools' `shared.functions.pydantic_to_dict` imports its
# whole event_handler package (the REST/AppSync/Bedrock resolvers: ~0.8 MB zipped, 8 % of
# the API's budget) to dump a pydantic model; it runs only when a model is handed to
# idempotency, to its JSON encoder or to the logger's event logging. Town311 hands them
# plain dicts: the idempotency payload is `model_dump(mode="json")` and the receipt a
# dataclass's `asdict` (tests/unit/test_build_package.py checks both, and that no module of
# the app imports powertools' event_handler).
UNTAKEN_IMPORTS = {
    "aws_lambda_powertools.shared.functions": ("aws_lambda_powertools.event_handler",),
}

MB = 1_000_000
# Zipped size budgets. The API is what residents wait on: its cold start reads the whole
# zip, so it must stay under 10 MB. The event functions were 8.9 MB each when this was
# written (the bootstrap wires every service, so each reaches most of the app); their
# budget leaves a little room so that growth is noticed. A new function needs a budget.
FUNCTION_BUDGETS = {
    "APIHandler": 10 * MB,
    **{logical_id: 9_500_000 for logical_id in (
        "RouteNewRequests", "DeliverWebhooks", "ResendUnroutedRequests", "CheckServiceLevels",
        "ProcessPhoto", "SendNotices", "ReleaseQuietHoursTexts", "ReceiveSms",
        "WriteExports", "CountFigures", "ReceiveMail")},
}


@dataclass(frozen=True)
class Imports:
    """What one module imports: `modules` surely, `members` (`from x import y`: y may be a
    module or a name in x) as (x, y); `dynamic` when it imports names it computes."""

    modules: set[str] = field(default_factory=set)
    members: set[tuple[str, str]] = field(default_factory=set)
    dynamic: bool = False


def find_module(root: Path, name: str) -> Path | None:
    """The source file of module `name` under `root`, if it has one."""
    base = root.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.parent / f"{base.name}.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _constant_text(node: ast.expr | None, module: str, package: str) -> str | None:
    """A string expression's value when it is made of literals, __name__ and __package__."""
    names = {"__name__": module, "__package__": package}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            text = _constant_text(inner, module, package)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


def _absolute(name: str, level: int, package: str) -> str:
    if not level:
        return name
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


@functools.cache
def module_imports(path: Path, module: str) -> Imports:
    """Every import in the module at `path`, wherever it is (a function body included),
    except under `if TYPE_CHECKING:`, which never runs."""
    tree = ast.parse(path.read_bytes(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = Imports()
    dynamic = False
    nodes: list[ast.AST] = [tree]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            nodes.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            found.modules.add(base)
            found.members.update((base, alias.name) for alias in node.names
                                 if alias.name != "*")
        elif isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name)
                    and node.func.id in ("import_module", "__import__"))):
            name = _constant_text(node.args[0] if node.args else None, module, package)
            anchor = _constant_text(node.args[1] if len(node.args) > 1 else None, module,
                                    package) or package
            if name is None:
                dynamic = True
            else:
                level = len(name) - len(name.lstrip("."))
                found.modules.add(_absolute(name.lstrip("."), level,
                                            anchor if level else package))
        nodes.extend(ast.iter_child_nodes(node))
    return Imports(found.modules, found.members, dynamic)


def _submodules(package_dir: Path, package: str) -> list[str]:
    names = []
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join([package, *parts]))
    return names


@dataclass
class Closure:
    """What importing some modules can import: the walked modules' source files by name,
    and the imports of everything else (not walked), as (module, member or None), with the
    walked modules that import them."""

    modules: dict[str, Path] = field(default_factory=dict)
    external: dict[tuple[str, str | None], set[str]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def external_tops(self, importers: tuple[str, ...] | None = None) -> set[str]:
        """Top-level names imported from outside, by modules under `importers` (any)."""
        return {name.split(".")[0] for (name, _), by in self.external.items()
                if importers is None or any(m.split(".")[0] in importers for m in by)}


def module_closure(root: Path, start: list[str], walked: tuple[str, ...],
                   libraries: tuple[str, ...] = WALKED_LIBRARIES) -> Closure:
    """The modules under `root` whose top-level name is in `walked` that importing `start`
    can import, transitively (a module's parent packages are imported first). A module that
    computes what it imports is taken to import every module of its package, and one of
    `libraries` the classes its data pickles name."""
    closure = Closure()
    queue = [(name, "") for name in start]
    while queue:
        name, importer = queue.pop()
        if name in closure.modules or not name:
            continue
        if name.split(".")[0] not in walked:
            closure.external.setdefault((name, None), set()).add(importer)
            continue
        path = find_module(root, name)
        if path is None:
            closure.missing.add(name)
            continue
        closure.modules[name] = path
        parts = name.split(".")
        queue.extend((".".join(parts[:i]), name) for i in range(1, len(parts)))
        imports = module_imports(path, name)
        untaken = UNTAKEN_IMPORTS.get(name, ())
        queue.extend((module, name) for module in imports.modules
                     if not module.startswith(untaken))
        for base, member in imports.members:
            if base.startswith(untaken):
                continue
            if base.split(".")[0] not in walked:
                closure.external.setdefault((base, member), set()).add(name)
            elif find_module(root, f"{base}.{member}") is not None:
                queue.append((f"{base}.{member}", name))
        if imports.dynamic:
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            queue.extend((module, name) for module in _submodules(path.parent, package))
            # ... and the app modules it names in full (chalicelib.api.routes lists the view
            # modules of other packages than its own: the pages').
            queue.extend((text, name) for text in _string_constants(path)
                         if text.split(".")[0] in walked and find_module(root, text))
        # Unpickling imports the classes a pickle names: babel's locale data needs
        # babel.numbers, which no babel module imports until a number is formatted.
        if parts[0] in libraries:
            for data in library_data_files(path):
                queue.extend((module, name) for module in pickled_modules(data))
    return closure


_STRING_OPCODES = ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE")


@functools.cache
def pickled_modules(path: Path) -> frozenset[str]:
    """The modules whose classes the pickle at `path` names (none if it is not a pickle)."""
    data = path.read_bytes()
    if not data.startswith(b"\x80"):
        return frozenset()
    modules = set()
    pushed: list[str | None] = []  # what each push opcode pushed, when it is a string
    memo: dict[int, str | None] = {}
    try:
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in _STRING_OPCODES:
                pushed.append(arg)
            elif opcode.name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif opcode.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = pushed[-1] if pushed else None
            elif opcode.name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(arg))
            elif opcode.name == "GLOBAL":
                modules.add(arg.split(" ", 1)[0])
            elif opcode.name == "STACK_GLOBAL":
                module = pushed[-2] if len(pushed) > 1 else None
                if module is None:
                    raise SystemExit(f"{path}: a class whose module cannot be read")
                modules.add(module)
                pushed.append(None)
            else:
                pushed.append(None)
    except ValueError:  # not a pickle after all
        return frozenset()
    return frozenset(modules)


def module_files(path: Path) -> list[Path]:
    """A module's source and its byte-compiled file."""
    compiled = Path(importlib.util.cache_from_source(str(path)))
    return [path, compiled] if compiled.is_file() else [path]


def _tree_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def app_data_files(root: Path) -> list[Path]:
    """The app's data: files in chalicelib that are not Python, and directories that are not
    packages (loaded whole: chalicelib/packs)."""
    found = []
    pending = [root / "chalicelib"]
    while pending:
        directory = pending.pop()
        for path in directory.iterdir():
            if path.name == "__pycache__":
                continue
            if path.is_dir():
                if (path / "__init__.py").is_file():
                    pending.append(path)
                else:
                    found.append(path)
            elif path.suffix not in (".py", ".pyc"):
                found.append(path)
    return sorted(found)


@functools.cache
def _string_constants(path: Path) -> frozenset[str]:
    return frozenset(node.value for node in ast.walk(ast.parse(path.read_bytes()))
                     if isinstance(node, ast.Constant) and isinstance(node.value, str))


def data_followers(path: Path, data: list[Path]) -> list[Path]:
    """The data a module loads: the data files and directories under its directory or a
    parent one whose path from there appears as a string in its source
    (`Path(__file__).parent / "openapi.json"`, `... .parent.parent / "packs"`, and a
    sibling package's data in one string: `... .parent.parent / "web/locale"`)."""
    strings = _string_constants(path)
    return [item for item in data
            if any(base in item.parents and item.relative_to(base).as_posix() in strings
                   for base in (path.parent, *path.parent.parents))]


def library_data_files(path: Path) -> list[Path]:
    """A walked library module's data: the other files of its directory and the
    directories in it that are not packages (babel's global.dat and locale-data/)."""
    found = []
    for item in path.parent.iterdir():
        if item.is_file() and item.suffix not in (".py", ".pyc"):
            found.append(item)
        elif item.is_dir() and item.name != "__pycache__" and not (
                item / "__init__.py").is_file():
            found.extend(_tree_files(item))
    return found


@dataclass(frozen=True)
class Distribution:
    """An installed distribution: its files (from RECORD, and their .pyc) and the
    top-level names it can be imported as."""

    name: str
    dist_info: Path
    files: tuple[Path, ...]
    modules: frozenset[str]
    requires: tuple[str, ...]

    @property
    def dist_info_files(self) -> list[Path]:
        return [p for p in self.files if self.dist_info in p.parents]


def installed_distributions(site: Path) -> dict[str, Distribution]:
    """Every distribution installed in `site`, by normalized name."""
    found = {}
    for dist_info in sorted(site.glob("*.dist-info")):
        metadata = email.parser.Parser().parsestr(
            (dist_info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
        files: list[Path] = []
        modules = set()
        for line in (dist_info / "RECORD").read_text(encoding="utf-8").splitlines():
            relative = line.rsplit(",", 2)[0]
            if not relative or relative.startswith(".."):
                continue
            path = site / relative
            if not path.is_file():
                continue
            files.extend(module_files(path) if path.suffix == ".py" else [path])
            top = relative.split("/", 1)[0]
            if "/" in relative:
                if not top.endswith((".dist-info", ".libs", ".data")) and top != "__pycache__":
                    modules.add(top)
            elif top.endswith((".py", ".so")):
                modules.add(top.split(".", 1)[0])
        name = normalize(metadata["Name"])
        found[name] = Distribution(name, dist_info, tuple(dict.fromkeys(files)),
                                   frozenset(modules),
                                   tuple(metadata.get_all("Requires-Dist") or ()))
    return found


def requested_extras(requirements: Path) -> dict[str, set[str]]:
    """The extras requirements.txt asks for, by distribution (PyJWT[crypto] → crypto)."""
    extras: dict[str, set[str]] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            extras.setdefault(normalize(requirement.name), set()).update(requirement.extras)
    return extras


def distribution_closure(names: set[str], distributions: dict[str, Distribution],
                         extras: dict[str, set[str]]) -> set[str]:
    """`names` and the installed distributions they require, transitively, on Lambda's
    Python (markers evaluated here: the build runs CPython 3.12 on Linux, as Lambda does)."""
    wanted = {name: set(extras.get(name, ())) for name in names}
    queue = list(names)
    while queue:
        name = queue.pop()
        if name not in distributions:
            continue
        for line in distributions[name].requires:
            requirement = Requirement(line)
            if requirement.marker and not any(
                    requirement.marker.evaluate({"extra": extra})
                    for extra in ["", *sorted(wanted[name])]):
                continue
            dependency = normalize(requirement.name)
            if dependency not in distributions:
                continue  # provided by the runtime, or an optional dependency not installed
            new_extras = set(requirement.extras) - wanted.get(dependency, set())
            if dependency not in wanted or new_extras:
                wanted.setdefault(dependency, set()).update(requirement.extras)
                queue.append(dependency)
    return {name for name in wanted if name in distributions}


@dataclass
class FunctionPackage:
    """One function's zip: its files (relative to the staged package) and, for the size
    table, the library each belongs to."""

    logical_id: str
    handler: str
    files: dict[Path, str] = field(default_factory=dict)
    unresolved: set[str] = field(default_factory=set)

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


def plan_function(root: Path, logical_id: str, handler: str,
                  distributions: dict[str, Distribution], extras: dict[str, set[str]],
                  elsewhere: set[str]) -> FunctionPackage:
    """What the function with `handler` needs from the staged package in `root`.
    `elsewhere`: top-level names the runtime or a layer provides."""
    package = FunctionPackage(logical_id, handler)
    by_module = {module: d for d in distributions.values() for module in d.modules}
    closure = module_closure(root, [package.handler_module], APP_PACKAGES + WALKED_LIBRARIES)
    app_missing = {m for m in closure.missing if m.split(".")[0] in APP_PACKAGES}
    package.unresolved.update(app_missing)
    data = app_data_files(root)
    tops = closure.external_tops()
    tops.update(top for name, _ in closure.external for top in IMPLICIT_IMPORTS.get(name, ()))
    needed = {by_module[top].name for top in tops if top in by_module}
    # What the app imports must be somewhere; a library's imports of what is not installed
    # are its optional features (powertools' tracer without aws_xray_sdk).
    package.unresolved.update(
        top for top in closure.external_tops(APP_PACKAGES) if top not in by_module
        and top not in sys.stdlib_module_names and top not in elsewhere)
    for name, path in closure.modules.items():
        top = name.split(".")[0]
        if top in by_module:
            needed.add(by_module[top].name)
        library = "app" if top in APP_PACKAGES else (
            by_module[top].name if top in by_module else top)
        if top in APP_PACKAGES:
            items = data_followers(path, data)
            extra = [f for item in items for f in (_tree_files(item) if item.is_dir()
                                                   else [item])]
        else:
            extra = library_data_files(path)
        for file in [*module_files(path), *extra]:
            package.files[file] = library
    for name in distribution_closure(needed, distributions, extras):
        distribution = distributions[name]
        # A walked library's modules are in already; of the rest, only its dist-info.
        files = (distribution.dist_info_files if distribution.modules & set(WALKED_LIBRARIES)
                 else distribution.files)
        for file in files:
            package.files[file] = name
    return package


def check_app_data(root: Path) -> list[str]:
    """Problems: app data files no module's source names (they would be in no zip)."""
    modules = [p for p in [root / "app.py", *sorted((root / "chalicelib").rglob("*.py"))]
               if p.is_file()]
    data = app_data_files(root)
    claimed = {item for path in modules for item in data_followers(path, data)}
    return [f"{item.relative_to(root)} is named by no module: no function would carry it"
            for item in data if item not in claimed]


def function_handlers(template: dict[str, Any]) -> dict[str, str]:
    """Every function of the template, by logical id, with its handler string."""
    return {logical: resource["Properties"]["Handler"]
            for logical, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"}


def write_zip(zip_path: Path, root: Path, files: list[Path]) -> None:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(files):
            zf.write(path, path.relative_to(root).as_posix())


def split_functions(out: Path, staged: Path, layer_site: Path) -> list[FunctionPackage]:
    """Replace Chalice's deployment.zip, which every function of `out`/sam.yaml shares, by
    one zip per function, `functions/<LogicalId>.zip`, each holding what its handler can
    import; the package is unpacked into `staged` first."""
    shutil.rmtree(staged, ignore_errors=True)
    deployment = out / "deployment.zip"
    with zipfile.ZipFile(deployment) as zf:
        zf.extractall(staged)
    # Chalice adds its runtime and app.py to the zip itself, without their byte-code.
    byte_compile(staged / "chalice")
    compileall.compile_file(
        str(staged / "app.py"),
        quiet=1,
        invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    problems = check_app_data(staged)
    if problems:
        raise SystemExit("app data:\n  " + "\n  ".join(problems))
    distributions = installed_distributions(staged)
    extras = requested_extras(REQUIREMENTS)
    # An app module may import a layer's library lazily in code only its layer's function
    # runs (Pillow in the photo service): such imports are not missing from other zips.
    elsewhere = set(RUNTIME_MODULES) | {
        module for d in installed_distributions(layer_site).values() for module in d.modules}
    template_path = out / "sam.yaml"
    template = yaml.safe_load(template_path.read_text())
    packages = []
    for logical_id, handler in function_handlers(template).items():
        package = plan_function(staged, logical_id, handler, distributions, extras, elsewhere)
        if package.unresolved:
            raise SystemExit(f"{logical_id} ({handler}) imports what no zip, layer or the "
                             f"runtime provides: {', '.join(sorted(package.unresolved))} "
                             "(missing from requirements.txt?)")
        write_zip(out / FUNCTIONS_DIR / f"{logical_id}.zip", staged, list(package.files))
        # Relative to sam.yaml, as Chalice's ./deployment.zip was.
        template["Resources"][logical_id]["Properties"]["CodeUri"] = (
            f"./{FUNCTIONS_DIR}/{logical_id}.zip")
        packages.append(package)
    template_path.write_text(yaml.safe_dump(template, sort_keys=False))
    deployment.unlink()  # no function uses it any more
    return packages


@dataclass(frozen=True)
class FunctionSize:
    logical_id: str
    zipped: int
    unzipped: int
    libraries: list[tuple[str, int]]  # zipped bytes per library, biggest first

    @property
    def budget(self) -> int | None:
        return FUNCTION_BUDGETS.get(self.logical_id)


def function_size(zip_path: Path, package: FunctionPackage, root: Path) -> FunctionSize:
    by_name = {path.relative_to(root).as_posix(): lib for path, lib in package.files.items()}
    libraries: dict[str, int] = {}
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
    for info in infos:
        library = by_name.get(info.filename, "?")
        libraries[library] = libraries.get(library, 0) + info.compress_size
    return FunctionSize(package.logical_id, zip_path.stat().st_size,
                        sum(i.file_size for i in infos),
                        sorted(libraries.items(), key=lambda item: -item[1]))


def size_table(sizes: list[FunctionSize]) -> str:
    rows = [f"{'function':<24} {'zip MB':>7} {'budget':>7} {'unzipped MB':>12}  "
            "biggest libraries (zipped MB)"]
    for size in sorted(sizes, key=lambda s: -s.zipped):
        biggest = ", ".join(f"{name} {b / MB:.1f}" for name, b in size.libraries[:4])
        budget = f"{size.budget / MB:.1f}" if size.budget else "none"
        rows.append(f"{size.logical_id:<24} {size.zipped / MB:>7.2f} {budget:>7} "
                    f"{size.unzipped / MB:>12.2f}  {biggest}")
    return "\n".join(rows)


def check_function_zip(zip_path: Path, handler: str) -> list[str]:
    """check_main_zip, and the handler's module must be in the zip."""
    problems = check_main_zip(zip_path)
    base = handler.rsplit(".", 1)[0].replace(".", "/")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
    if not {f"{base}.py", f"{base}/__init__.py"} & names:
        problems.append(f"its handler's module {base}.py is not in it")
    return problems


def over_budget(sizes: list[FunctionSize]) -> list[str]:
    return [f"{s.logical_id} has no budget in FUNCTION_BUDGETS" if s.budget is None else
            f"{s.logical_id} is {s.zipped / MB:.2f} MB zipped; its budget is "
            f"{s.budget / MB:.1f} MB" for s in sizes if s.budget is None or s.zipped > s.budget]


def build(stage: str, out: Path, src: Path, lint: bool = True) -> Path:
    """Package `stage` into `out`, staging the project in `src`, the photo layer beside it
    in `<src>-photo-layer` and the unpacked deployment package in `<src>-functions` (all
    are emptied first)."""
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    src.mkdir(parents=True)
    copy_app(src)

    pins = resolve_lambda_dependencies(REQUIREMENTS)
    print("vendoring:", " ".join(pins), flush=True)
    photo_pins = resolve_lambda_dependencies(PHOTO_REQUIREMENTS, provided=pins)
    print("photo layer:", " ".join(photo_pins), flush=True)
    vendor(pins, src / "vendor")
    byte_compile(src / "vendor", src / "chalicelib")
    compileall.compile_file(
        str(src / "app.py"),
        quiet=1,
        invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )

    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    chalice = shutil.which("chalice", path=str(Path(sys.executable).parent)) or "chalice"
    run(
        [chalice, "package", "--stage", stage, "--merge-template", str(TEMPLATE), str(out)],
        cwd=src,
        env=env,
    )
    template = out / "sam.yaml"
    layer_path = out / PHOTO_LAYER_ZIP
    layer_src = src.parent / f"{src.name}-photo-layer"
    build_photo_layer(photo_pins, layer_src, layer_path)
    staged = src.parent / f"{src.name}-functions"
    packages = split_functions(out, staged, layer_src / "python")
    if lint:
        cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
        run([cfn_lint, str(template)], cwd=ROOT)
    problems = [f"{PHOTO_LAYER_ZIP}: {p}" for p in check_layer_zip(layer_path)]
    sizes = []
    for package in packages:
        zip_path = out / FUNCTIONS_DIR / f"{package.logical_id}.zip"
        problems += [f"{zip_path.name}: {p}" for p in check_function_zip(zip_path,
                                                                           package.handler)]
        sizes.append(function_size(zip_path, package, staged))
    if problems:
        raise SystemExit("the package is not acceptable:\n  " + "\n  ".join(problems))
    print(size_table(sizes))
    print(f"{layer_path}: {layer_path.stat().st_size / MB:.1f} MB (ProcessPhoto's layer)")
    print(f"template: {template}")
    too_big = over_budget(sizes)
    if too_big:
        raise SystemExit("over budget:\n  " + "\n  ".join(too_big))
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "package")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "src")
    parser.add_argument("--no-lint", action="store_true")
    args = parser.parse_args()
    build(args.stage, args.out.resolve(), args.workdir.resolve(), lint=not args.no_lint)


if __name__ == "__main__":
    main()
