"""The table's keys and access patterns hold together: the key strings are still those of
stored data, every index the access patterns name is in infra/template.yaml with the same
keys (and every GSI there serves one), pynamodb's index classes agree with the template,
every item class is bound to the table, and docs/data-model.md is what
infra/data_model.py writes."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pynamodb.models import Model

from chalicelib.adapters.dynamodb import bind_table, keys
from chalicelib.adapters.dynamodb.access_patterns import (
    ACCESS_PATTERNS,
    INDEXES,
    ITEM_KEYS,
    TABLE,
)
from chalicelib.adapters.dynamodb.table import TableItem, item_classes

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "chalicelib.adapters.dynamodb"
KEY_ATTRIBUTE = re.compile(r"\b(PK|SK|GSI\dPK|GSI\dSK)\b")


def _data_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("data_model", ROOT / "infra" / "data_model.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template_indexes() -> dict[str, dict[str, str]]:
    return dict(_data_model().template_indexes())


def _package_modules() -> list[ModuleType]:
    package = importlib.import_module(PACKAGE)
    return [importlib.import_module(f"{PACKAGE}.{m.name}")
            for m in pkgutil.iter_modules(package.__path__)]


def _models_in_package() -> list[type[Model]]:
    return [value for module in _package_modules() for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Model) and value is not Model
            and value.__module__.startswith(PACKAGE)]


# --- the template and the indexes -----------------------------------------------------------


def test_every_index_an_access_pattern_names_is_in_the_template_with_its_keys(
        template_indexes: dict[str, dict[str, str]]) -> None:
    for p in ACCESS_PATTERNS:
        named = set(KEY_ATTRIBUTE.findall(p.key))
        if p.index == TABLE:
            assert named <= {"PK", "SK"}, p
            assert "PK" in named, p
            continue
        assert p.index in template_indexes, p
        gsi = template_indexes[p.index]
        assert (gsi["hash"], gsi["range"]) == INDEXES[p.index], p.index
        assert gsi["hash"] in named and named <= {gsi["hash"], gsi["range"]}, p


def test_every_gsi_of_the_template_serves_an_access_pattern(
        template_indexes: dict[str, dict[str, str]]) -> None:
    assert set(INDEXES) == set(template_indexes)
    assert {p.index for p in ACCESS_PATTERNS if p.index != TABLE} == set(template_indexes)


def test_the_pynamodb_indexes_are_those_of_the_template(
        template_indexes: dict[str, dict[str, str]]) -> None:
    declared: dict[str, dict[str, str]] = {}
    for model in _models_in_package():
        for name, index in model._indexes.items():
            schema = index._get_schema()
            key_schema = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
            declared[name] = {"hash": key_schema["HASH"], "range": key_schema.get("RANGE", ""),
                              "projection": schema["projection"]["ProjectionType"]}
    assert declared == template_indexes


def test_every_access_pattern_names_code_that_exists() -> None:
    from chalicelib.adapters import nearby

    namespaces: list[Any] = [*_package_modules(), nearby]
    for p in ACCESS_PATTERNS:
        owner, method = p.used_by.split(".")
        found = [getattr(m, owner) for m in namespaces if hasattr(m, owner)]
        assert found and callable(getattr(found[0], method, None)), p.used_by


# --- the item classes -----------------------------------------------------------------------


def test_every_item_class_of_the_package_is_bound_by_bind_table() -> None:
    before = (TableItem.Meta.table_name, TableItem.Meta.region)
    try:
        bind_table("town311-bound-requests", "eu-west-2")
        models = _models_in_package()
        shared = TableItem._connection
        assert shared is not None and shared.table_name == "town311-bound-requests"
        assert set(models) == set(item_classes())
        for model in models:
            assert model.Meta.table_name == "town311-bound-requests", model
            assert model.Meta.region == "eu-west-2", model
            assert model._connection is shared, model
        # The shared connection knows the indexes (a query through one would fail if not).
        assert all(shared.get_meta_table().has_index_name(name) for name in INDEXES)
    finally:
        bind_table(*before)


def test_an_item_class_defined_after_binding_shares_the_bound_connection() -> None:
    # Item modules are imported by the first call that needs them, after bootstrap bound
    # the table: such a class must not make a connection (a client) of its own.
    before = (TableItem.Meta.table_name, TableItem.Meta.region)
    try:
        bind_table("town311-late-items", "eu-west-2")

        class LateItem(TableItem):
            pass

        assert LateItem.Meta.table_name == "town311-late-items"
        assert LateItem._connection is TableItem._connection is not None
        assert LateItem._get_connection() is TableItem._connection
    finally:
        TableItem.registered.remove(LateItem)
        bind_table(*before)


def test_every_item_class_has_its_key_shape_documented() -> None:
    assert set(ITEM_KEYS) == {cls.__name__ for cls in item_classes()}


# --- the key strings ------------------------------------------------------------------------

AT = datetime(2026, 11, 22, 2, 12, 40, 123456, tzinfo=UTC)

# Byte for byte what is stored: changing any of these makes existing data unreadable.
STORED = [
    (keys.sort_time(AT), "2026-11-22T02:12:40.123456Z"),
    (keys.upto(AT), "2026-11-22T02:12:40.123456Z~"),
    (keys.town_pk("t"), "TOWN#t"),
    (keys.TOWN_SK, "TOWN"),
    (keys.service_sk("pothole"), "CAT#SERVICE#pothole"),
    (keys.department_sk("roads"), "CAT#DEPT#roads"),
    (keys.zone_sk("w1"), "CAT#ZONE#w1"),
    (keys.ROUTING_SK, "CAT#ROUTING"),
    (keys.api_key_sk("k"), "APIKEY#k"),
    (keys.key_hash_sk("h"), "KEYHASH#h"),
    (keys.key_hash("secret"),
     "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"),
    (keys.staff_sk("u"), "STAFF#u"),
    (keys.staff_pk(None), "PLATFORM"),
    (keys.staff_pk("t"), "TOWN#t"),
    (keys.tally_sk("disputes#roads"), "TALLY#disputes#roads"),
    (keys.sms_month_sk("2026-11"), "TALLY#sms#2026-11"),
    (keys.rate_sk("k", 1700000000), "RATE#k#1700000000"),
    (keys.alert_sk("a"), "ALERT#a"),
    (keys.platform_town_sk("t"), "TOWN#t"),
    (keys.audit_pk("t"), "TOWN#t#AUDIT"),
    (keys.audit_sk(AT, "e"), "2026-11-22T02:12:40.123456Z#e"),
    (keys.request_pk("t", "r"), "TOWN#t#REQ#r"),
    (keys.META_SK, "META"),
    (keys.event_sk(AT, "e"), "EVENT#2026-11-22T02:12:40.123456Z#e"),
    (keys.once_sk("u"), "ONCE#u"),
    (keys.follower_sk("f"), "SUB#f"),
    (keys.token_pk("t", "h"), "TOWN#t#TOKENHASH#h"),
    (keys.TOKEN_SK, "TOKEN"),
    (keys.track_pk("t", "ab-cd 2345"), "TOWN#t#TRACK#ABCD2345"),
    (keys.TRACK_SK, "TRACK"),
    (keys.link_pk("t", "h"), "TOWN#t#LINK#h"),
    (keys.LINK_SK, "LINK"),
    (keys.session_pk("t", "h"), "TOWN#t#RSESSION#h"),
    (keys.SESSION_SK, "SESSION"),
    (keys.resident_pk("t", "h"), "TOWN#t#RESIDENT#h"),
    (keys.reported_sk("r"), "REQ#r"),
    (keys.followed_sk("r"), "FOLLOW#r"),
    (keys.CODE_SK, "CODE"),
    (keys.opt_out_pk("t", "h"), "TOWN#t#OPTOUT#h"),
    (keys.opt_out_pk(None, "h"), "PLATFORM#SMSOPTOUT#h"),
    (keys.OPT_OUT_SK, "OPTOUT"),
    (keys.notice_pk("t", "e"), "TOWN#t#NOTICE#e"),
    (keys.DEFERRED_PK, "NOTICE#DEFERRED"),
    (keys.deferred_sk(AT, "t", "k"), "2026-11-22T02:12:40.123456Z#t#k"),
    (keys.limit_pk("t", "sms", 7), "TOWN#t#LIMIT#sms#7"),
    (keys.LIMIT_SK, "LIMIT"),
    (keys.subscriber_pk("t", "s"), "TOWN#t#ALERTSUB#s"),
    (keys.SUBSCRIBER_SK, "SUB"),
    (keys.alert_contact_pk("t", "h"), "TOWN#t#ALERTCONTACT#h"),
    (keys.audience_pk("t", "*"), "TOWN#t#AUDIENCE#*"),
    (keys.audience_sk("s"), "SUB#s"),
    (keys.alert_phone_pk("h"), "PLATFORM#ALERTPHONE#h"),
    (keys.alert_phone_sk("t", "s"), "t#s"),
    (keys.alert_pk("t", "a"), "TOWN#t#ALERT#a"),
    (keys.alert_tally_sk("sent", 3), "TALLY#sent#3"),
    (keys.alert_tally_sk("recipients"), "TALLY#recipients"),
    (keys.delivery_pk("t", "a"), "TOWN#t#ALERT#a#DELIVERY"),
    (keys.sms_rate_pk("t", 9), "TOWN#t#SMSRATE#9"),
    (keys.SMS_RATE_SK, "TALLY"),
    (keys.requested_key(AT, "r"), "2026-11-22T02:12:40.123456Z#r"),
    (keys.updated_key(AT, "r"), "2026-11-22T02:12:40.123456Z#r"),
    (keys.place_key("t", "pothole", "dp3wjzt"), "TOWN#t#SVC#pothole#dp3wjzt"),
    (keys.department_key("t", "roads"), "TOWN#t#DEPT#roads"),
    (keys.UNROUTED, "UNROUTED"),
    (keys.unrouted_key(AT, "t", "r"), "2026-11-22T02:12:40.123456Z#t#r"),
    (keys.sla_bucket(AT), "SLA#2026-11-22T02"),
    (keys.sla_key(AT, "t", "r"), "2026-11-22T02:12:40.123456Z#t#r"),
    ((keys.SLA_CURSOR_PK, keys.SLA_CURSOR_SK), ("SLA#SWEEP", "CURSOR")),
    (keys.figures_pk("t", "service"), "TOWN#t#FIG#service"),
    (keys.figures_sk(AT.date(), "pothole"), "2026-11-22#pothole"),
    (keys.FIGURES_OPEN_SK, "FIG#OPEN"),
    (keys.open_count_name("zone", "north"), "zone#north"),
    (keys.TALLIED_SK, "TALLIED"),
]


@pytest.mark.parametrize(("built", "stored"), STORED, ids=[s[1] if isinstance(s[1], str)
                                                           else "/".join(s[1]) for s in STORED])
def test_keys_are_built_as_they_were_stored(built: object, stored: object) -> None:
    assert built == stored


def test_keys_read_back_what_they_hold() -> None:
    assert keys.town_of("TOWN#t") == "t"
    assert keys.staff_town("TOWN#t") == "t" and keys.staff_town("PLATFORM") is None
    assert keys.catalogue_kind("CAT#ZONE#w1") == "ZONE"
    assert keys.audit_entry_of("2026-11-22T02:12:40.123456Z#e") == (AT, "e")
    assert keys.follower_of("SUB#f") == "f" and keys.alert_of("ALERT#a") == "a"
    assert keys.alert_tally_name("TALLY#sent#3") == "sent"
    assert keys.delivery_subscriber("s#sms") == "s"
    assert keys.is_sms_opt_out("PLATFORM#SMSOPTOUT#h")
    assert keys.figures_day_of("2026-11-22#a#b") == (AT.date(), "a#b")
    assert keys.request_of("TOWN#t#REQ#r") == ("t", "r")
    assert keys.opt_out_hash("TOWN#t#OPTOUT#h") == "h"
    assert keys.audience_zone("TOWN#t#AUDIENCE#w1") == "w1"
    assert keys.audience_zone("TOWN#t") is None
    assert keys.sla_request_of("2026-11-22T02:12:40.123456Z#t#r") == ("t", "r")


def test_the_documented_key_shapes_are_the_keys_built() -> None:
    """The shapes in the access patterns and item table are what the builders make."""
    documented = " ".join([p.key for p in ACCESS_PATTERNS] + list(ITEM_KEYS.values()))
    town, contact, window, second = "<town>", "<contact hash>", "<window>", "<second>"
    built = [keys.town_pk(town), keys.request_pk(town, "<id>"),
             keys.audit_pk(town), keys.resident_pk(town, contact),
             keys.session_pk(town, "<sha256>"), keys.link_pk(town, "<sha256>"),
             keys.opt_out_pk(town, contact), keys.opt_out_pk(None, "<phone hash>"),
             keys.notice_pk(town, "<event id>"),
             keys.limit_pk(town, "<name>", window),  # type: ignore[arg-type]
             keys.subscriber_pk(town, "<id>"), keys.alert_contact_pk(town, contact),
             keys.audience_pk(town, "<zone>"), keys.alert_phone_pk("<phone hash>"),
             keys.alert_pk(town, "<id>"), keys.delivery_pk(town, "<id>"),
             keys.sms_rate_pk(town, second),  # type: ignore[arg-type]
             keys.place_key(town, "<service>", "<cell>"),
             keys.department_key("<town>", "<department>"), keys.token_pk("<town>", "<sha256>"),
             keys.DEFERRED_PK, keys.PLATFORM_PK, keys.UNROUTED, keys.SLA_CURSOR_PK]
    assert [b for b in built if b not in documented] == []


# --- the generated document ------------------------------------------------------------------


def test_the_data_model_document_is_what_the_generator_writes() -> None:
    committed = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert committed == _data_model().render(), (
        "docs/data-model.md is stale: run .venv/bin/python infra/data_model.py")
