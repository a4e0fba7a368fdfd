"""How `make package` finds what a function's zip must hold, without building it: the
static walk of imports (lazy ones too), the data files that follow the modules that read
them, the libraries a library requires, and the message languages babel keeps."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build_package() -> Any:
    spec = importlib.util.spec_from_file_location("build_package", ROOT / "infra" /
                                                  "build_package.py")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up by name.
    module = sys.modules.setdefault("build_package", module)
    if not hasattr(module, "module_closure"):
        spec.loader.exec_module(module)
    return module


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_an_import_inside_a_function_is_followed(build_package, tmp_path):
    root = _write(tmp_path, {
        "town/__init__.py": "",
        "town/views.py": "def show():\n    from town import slow\n    return slow\n",
        "town/slow.py": "import json\nfrom lib.part import thing\n",
    })

    closure = build_package.module_closure(root, ["town.views"], ("town",))

    assert set(closure.modules) == {"town", "town.views", "town.slow"}
    assert closure.external_tops() == {"json", "lib"}
    assert ("lib.part", "thing") in closure.external


def test_from_import_reaches_a_submodule_but_not_a_name(build_package, tmp_path):
    root = _write(tmp_path, {
        "town/__init__.py": "NAME = 1\n",
        "town/a.py": "from town import b, NAME\nfrom . import c\n",
        "town/b.py": "",
        "town/c.py": "from .d import e\n",
        "town/d/__init__.py": "",
        "town/d/e.py": "",
        "town/unused.py": "",
    })

    closure = build_package.module_closure(root, ["town.a"], ("town",))

    assert set(closure.modules) == {"town", "town.a", "town.b", "town.c", "town.d",
                                    "town.d.e"}


def test_imports_for_type_checkers_only_are_not_followed(build_package, tmp_path):
    root = _write(tmp_path, {
        "town/__init__.py": "",
        "town/a.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from town import typed\nelse:\n    from town import used\n"),
        "town/typed.py": "",
        "town/used.py": "",
    })

    closure = build_package.module_closure(root, ["town.a"], ("town",))

    assert "town.typed" not in closure.modules and "town.used" in closure.modules


def test_a_computed_import_is_resolved_or_takes_the_whole_package(build_package, tmp_path):
    root = _write(tmp_path, {
        "lib/__init__.py": "",
        "lib/named/__init__.py": ("import importlib\n"
                                  "def __getattr__(n):\n"
                                  "    return importlib.import_module(f'{__name__}.one')\n"),
        "lib/named/one.py": "",
        "lib/named/two.py": "",
        "lib/any/__init__.py": ("import importlib\n"
                                "def __getattr__(n):\n"
                                "    return importlib.import_module(f'.{n}', __name__)\n"),
        "lib/any/one.py": "",
        "lib/any/deep/__init__.py": "",
        "lib/any/deep/two.py": "",
    })

    named = build_package.module_closure(root, ["lib.named"], ("lib",))
    anything = build_package.module_closure(root, ["lib.any"], ("lib",))

    assert set(named.modules) == {"lib", "lib.named", "lib.named.one"}
    assert set(anything.modules) == {"lib", "lib.any", "lib.any.one", "lib.any.deep",
                                     "lib.any.deep.two"}


def test_data_follows_the_module_that_names_it(build_package, tmp_path):
    root = _write(tmp_path, {
        "chalicelib/__init__.py": "",
        "chalicelib/api/__init__.py": "",
        "chalicelib/api/docs.py": "DOC = Path(__file__).parent / 'openapi.json'\n",
        "chalicelib/api/openapi.json": "{}",
        "chalicelib/services/__init__.py": "",
        "chalicelib/services/towns.py": "PACKS = Path(__file__).parent.parent / 'packs'\n",
        "chalicelib/packs/a.json": "{}",
        "chalicelib/stray.txt": "",
    })
    data = build_package.app_data_files(root)

    assert build_package.data_followers(root / "chalicelib/api/docs.py", data) == [
        root / "chalicelib/api/openapi.json"]
    assert build_package.data_followers(root / "chalicelib/services/towns.py", data) == [
        root / "chalicelib/packs"]
    assert build_package.check_app_data(root) == [
        "chalicelib/stray.txt is named by no module: no function would carry it"]


def test_a_sibling_packages_data_follows_a_module_that_names_its_path_in_one_string(
        build_package, tmp_path):
    root = _write(tmp_path, {
        "chalicelib/__init__.py": "",
        "chalicelib/web/__init__.py": "",
        "chalicelib/web/locale/es/catalogue.po": "",
        "chalicelib/adapters/__init__.py": "",
        "chalicelib/adapters/words.py": "LOCALES = Path(__file__).parent.parent / 'web/locale'\n",
        "chalicelib/schemas/__init__.py": "",
        "chalicelib/schemas/admin.py": "FIELDS = ('web', 'locale')\n",
    })
    data = build_package.app_data_files(root)

    assert build_package.data_followers(root / "chalicelib/adapters/words.py", data) == [
        root / "chalicelib/web/locale"]
    # The same words apart name nothing: a field called "locale" is not the directory.
    assert build_package.data_followers(root / "chalicelib/schemas/admin.py", data) == []


def test_the_text_mail_and_api_functions_carry_the_catalogue_words(build_package):
    """The SMS and e-mail replies name services in the resident's language from the
    pages' catalogue.po (chalicelib.adapters.catalogue_words): the functions that send
    them carry it, though they import nothing of the pages."""
    data = build_package.app_data_files(ROOT)
    # receive_sms's and receive_mail's handler modules (infra/template.yaml), and the API's.
    for module in ["chalicelib.events.notices", "chalicelib.events.mail", "app"]:
        closure = build_package.module_closure(ROOT, [module], build_package.APP_PACKAGES)
        assert "chalicelib.adapters.catalogue_words" in closure.modules, module
        assert "chalicelib.web.pages" not in closure.modules or module == "app", module
        carried = {item for path in closure.modules.values()
                   for item in build_package.data_followers(path, data)}
        assert ROOT / "chalicelib" / "web" / "locale" in carried, module
        assert (ROOT / "chalicelib/web/locale/es/catalogue.po").is_file()


def test_every_data_file_of_the_app_follows_a_module(build_package):
    assert build_package.check_app_data(ROOT) == []


def test_an_event_function_never_reaches_app_py_and_the_api_reaches_its_blueprints(
        build_package):
    from app import app

    handlers = {source.handler_string for source in app.event_sources}
    for handler in handlers:
        closure = build_package.module_closure(ROOT, [handler.rsplit(".", 1)[0]],
                                               build_package.APP_PACKAGES)
        assert closure.missing == set(), handler
        assert "app" not in closure.modules, handler
    api = build_package.module_closure(ROOT, ["app"], build_package.APP_PACKAGES)
    assert {"chalicelib.api.docs", "chalicelib.api.open311", "chalicelib.events.pipeline"
            } <= set(api.modules)


def test_a_library_brings_what_it_requires_with_the_extras_asked_for(build_package):
    dist = build_package.Distribution

    def installed(name: str, *requires: str) -> Any:
        return dist(name, Path(f"{name}.dist-info"), (), frozenset({name}), requires)

    distributions = {d.name: d for d in (
        installed("pyjwt", "cryptography>=3; extra == 'crypto'", "sphinx; extra == 'docs'"),
        installed("cryptography", "cffi>=2; platform_python_implementation != 'PyPy'",
                  "typing-extensions; python_full_version < '3.11'"),
        installed("cffi", "pycparser"),
        installed("pycparser"),
        installed("typing-extensions"),
        installed("sphinx"),
    )}

    plain = build_package.distribution_closure({"pyjwt"}, distributions, {})
    crypto = build_package.distribution_closure({"pyjwt"}, distributions,
                                                {"pyjwt": {"crypto"}})

    assert plain == {"pyjwt"}
    assert crypto == {"pyjwt", "cryptography", "cffi", "pycparser"}


def test_babel_keeps_the_message_languages_of_the_domain(build_package):
    from chalicelib.domain.notices import LANGUAGES

    assert build_package.message_languages() == LANGUAGES
    assert not hasattr(build_package, "BABEL_LANGUAGES")



def test_a_pickles_classes_are_imports_of_the_module_beside_it(build_package, tmp_path,
                                                                 monkeypatch):
    import importlib
    import pickle

    # A library that loads pickled data beside its module imports the data's classes then,
    # with no import statement (babel's locale data needs babel.numbers).
    root = _write(tmp_path, {"pickling/__init__.py": "", "pickling/core.py": "",
                             "pickling/numbers.py": "class Rule:\n    pass\n",
                             "pickling/other.py": ""})
    monkeypatch.syspath_prepend(str(root))
    rule = importlib.import_module("pickling.numbers").Rule
    data = pickle.dumps({"rule": rule(), "again": rule, "word": "pickling.other"},
                        protocol=4)
    for name in ("pickling.numbers", "pickling"):
        monkeypatch.delitem(sys.modules, name)
    (root / "pickling" / "global.dat").write_bytes(data)

    assert build_package.pickled_modules(root / "pickling" / "global.dat") == {
        "pickling.numbers"}
    closure = build_package.module_closure(root, ["pickling.core"], ("pickling",),
                                           libraries=("pickling",))
    assert set(closure.modules) == {"pickling", "pickling.core", "pickling.numbers"}


def test_powertools_event_handler_is_left_out_and_nothing_of_ours_needs_it(build_package):
    """UNTAKEN_IMPORTS: idempotency and the logger reach powertools' event_handler only to
    dump a pydantic model, which Town311 never hands them; no module of ours imports it."""
    site = Path(importlib.util.find_spec("aws_lambda_powertools").origin).parents[1]
    closure = build_package.module_closure(
        site, ["aws_lambda_powertools.utilities.idempotency",
               "aws_lambda_powertools.logging"], ("aws_lambda_powertools",))
    assert "aws_lambda_powertools.shared.functions" in closure.modules
    assert not [m for m in closure.modules if m.startswith("aws_lambda_powertools.event_handler")]
    ours = build_package.module_closure(ROOT, ["app", "chalicelib.events.pipeline"],
                                        ("app", "chalicelib"))
    assert not [name for name, _ in ours.external
                if name.startswith("aws_lambda_powertools.event_handler")]

