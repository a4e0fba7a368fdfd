"""Build the CloudFormation/SAM package: `python infra/build_package.py [--stage prod]`.

Chalice would `pip download` requirements.txt with all its dependencies, which drags
botocore (16 MB) into the zip through pynamodb although the Lambda runtime already ships
it. Instead this script:

1. copies the app (app.py, chalicelib/, .chalice/ config and policies) to build/src;
2. resolves requirements.txt for the Lambda platform (CPython 3.12, manylinux x86_64)
   with pip's resolver, drops what the runtime provides (RUNTIME_PROVIDED), and installs
   the rest with `--no-deps --only-binary=:all:` into build/src/vendor/, so nothing is
   compiled on this machine;
3. byte-compiles the vendored and app code (unchecked-hash .pyc: Lambda's file system is
   read-only, so without them every cold start compiles pydantic, powertools, ... anew);
4. runs `chalice package --merge-template infra/template.yaml` there with an empty
   requirements.txt;
5. builds the photo function's layer, photo-layer.zip: requirements-photo.txt (Pillow,
   pillow-heif) resolved the same way, constrained to the versions the main zip pins,
   minus what the main zip or the runtime already has, installed under python/ (the
   directory Lambda puts on sys.path for a layer) and byte-compiled. infra/template.yaml
   declares it (PhotoLibrariesLayer, ContentUri ./photo-layer.zip, beside sam.yaml as
   Chalice's CodeUri ./deployment.zip is) and attaches it to ProcessPhoto alone;
6. runs cfn-lint on the result, then checks both zips.

The output directory holds deployment.zip, photo-layer.zip and sam.yaml (Chalice writes
YAML when the merged template is YAML).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

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


def vendor(pins: list[str], vendor_dir: Path) -> None:
    run([
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
        "--target", str(vendor_dir), *PLATFORM_ARGS, *pins,
    ])
    # Console scripts and the libraries' own test suites have no use in a Lambda function
    # (numpy's and shapely's tests alone are 4.5 MB of the zip).
    shutil.rmtree(vendor_dir / "bin", ignore_errors=True)
    for tests in [*vendor_dir.glob("*/tests"), *vendor_dir.glob("*/*/tests")]:
        if tests.is_dir() and tests.parent.name in ("numpy", "shapely") or \
                tests.parent.parent.name == "numpy":
            shutil.rmtree(tests, ignore_errors=True)
    prune_babel(vendor_dir)


def build_photo_layer(pins: list[str], layer_src: Path, zip_path: Path) -> None:
    """photo-layer.zip: `pins` installed under python/, without tests, byte-compiled."""
    shutil.rmtree(layer_src, ignore_errors=True)
    site = layer_src / "python"
    run([
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
        "--target", str(site), *PLATFORM_ARGS, *pins,
    ])
    shutil.rmtree(site / "bin", ignore_errors=True)
    for tests in [*site.glob("*/tests"), *site.glob("*/*/tests")]:
        if tests.is_dir():
            shutil.rmtree(tests, ignore_errors=True)
    byte_compile(site)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(layer_src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(layer_src).as_posix())


# Babel carries CLDR data for about 1,000 locales (30 MB); messages are written in the
# languages towns offer, so the package keeps those (and their regional variants) only.
BABEL_LANGUAGES = ("root", "en", "es", "fr", "pt", "zh", "vi", "ko", "tl", "ht", "ar", "ru",
                   "pl", "it", "de")


def prune_babel(vendor_dir: Path) -> None:
    data = vendor_dir / "babel" / "locale-data"
    for path in data.glob("*.dat"):
        if path.stem.split("_")[0] not in BABEL_LANGUAGES:
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
        for forbidden in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"):
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


def build(stage: str, out: Path, src: Path, lint: bool = True) -> Path:
    """Package `stage` into `out`, staging the project in `src` and the photo layer beside it
    in `<src>-photo-layer` (all are emptied first)."""
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
    build_photo_layer(photo_pins, src.parent / f"{src.name}-photo-layer", layer_path)
    if lint:
        cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
        run([cfn_lint, str(template)], cwd=ROOT)
    zip_path = out / "deployment.zip"
    for path, check in ((zip_path, check_main_zip), (layer_path, check_layer_zip)):
        problems = check(path)
        if problems:
            raise SystemExit(f"{path.name} is not acceptable:\n  " + "\n  ".join(problems))
    print(f"{zip_path}: {zip_path.stat().st_size / 1e6:.1f} MB")
    print(f"{layer_path}: {layer_path.stat().st_size / 1e6:.1f} MB (ProcessPhoto's layer)")
    print(f"template: {template}")
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
