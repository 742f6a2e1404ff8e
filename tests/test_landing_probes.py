"""Landing files as users really drop them: other encodings, files that return to an old version or vanish,
empty files, a malformed JSON line, a workbook; each with its exact outcome and message."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ingestion.contract import CUSTOMERS, ENTITIES, INTERACTIONS, ORDERS
from ingestion.landing.encoding import fingerprint
from ingestion.landing.loader import load_landing_entity
from ingestion.landing.options import FileOptions, file_options
from orchestration.cli import main
from quality.quarantine import judge_load, rebuild_quarantine

HEADER = ("customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner,created_at,"
          "updated_at\n")
GERMAN = HEADER + ("C7,Jürgen Müller,,,Müller & Söhne,Retail,Germany,Zürich,referral,Renée Faß,2024-01-02,2024-01-02\n"
                   "C8,Zoë Größer,,,Weiß GmbH,Tech,Austria,Köln,organic,Renée Faß,2024-01-03,2024-01-03\n")
ORDERS_HEADER = "order_id,customer_id,ordered_at,status\n"


def test_a_latin1_file_is_read_as_latin1_not_gb18030(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    (landing / "customers" / "legacy.csv").write_bytes(GERMAN.encode("latin-1"))
    load = load_landing_entity(warehouse, landing, CUSTOMERS)
    (outcome,) = load.files
    assert outcome.encoding == "cp1252" and outcome.warning == ""
    assert outcome.note == "loaded 2 rows; encoding cp1252 (detected, confidence 100%)"
    assert warehouse.execute("SELECT name, company, city, account_owner FROM raw.customers ORDER BY 1").fetchall() == [
        ("Jürgen Müller", "Müller & Söhne", "Zürich", "Renée Faß"), ("Zoë Größer", "Weiß GmbH", "Köln", "Renée Faß")]


def test_an_uncertain_guess_warns_and_a_named_encoding_is_used_as_it_is(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    # Two bytes of name: GB18030, Big5 and EUC-KR each read them as different CJK characters.
    short = (HEADER + "C9,张伟,,,,,,,,,2024-01-02,2024-01-02\n").encode("gb18030")
    (landing / "customers" / "short.csv").write_bytes(short)
    korean = HEADER + "K1,김민준,,,,,,,,,2024-01-02,2024-01-02\n"
    (landing / "customers" / "kr.csv").write_bytes(korean.encode("euc_kr"))
    warnings: list[str] = []
    options = [FileOptions("korean_crm", "customers/kr*.csv", "euc_kr")]
    load = load_landing_entity(warehouse, landing, CUSTOMERS, options=options, warn=warnings.append)
    guessed = fingerprint(landing / "customers" / "short.csv", inspect_text=True)
    assert guessed.encoding == "gb18030" and guessed.confidence < 0.75 and guessed.alternatives
    assert warnings == [
        f"customers/short.csv: {guessed.describe()}: if names or cities look wrong, name the file's encoding in "
        'the sources file (files: {<name>: {glob: "customers/short.csv", encoding: <encoding>}})']
    assert [f.encoding for f in load.files] == ["euc_kr", "gb18030"]
    names = warehouse.execute("SELECT name FROM raw.customers ORDER BY customer_id").fetchall()
    assert names == [("张伟",), ("김민준",)]


def test_file_options_come_from_the_sources_file(tmp_path):
    sources = tmp_path / "sources.yml"
    sources.write_text('files:\n  legacy:\n    glob: "customers/legacy_*.csv"\n    encoding: latin-1\n',
                       encoding="utf-8")
    (option,) = file_options(sources)
    assert option == FileOptions("legacy", "customers/legacy_*.csv", "latin-1")
    assert option.matches("customers/legacy_2024.csv") and not option.matches("orders/legacy_2024.csv")
    sources.write_text('files:\n  legacy:\n    glob: "a/*.csv"\n    encoding: klingon\n', encoding="utf-8")
    try:
        file_options(sources)
    except ValueError as err:
        assert str(err) == f"{sources}: files.legacy: unknown encoding 'klingon'"
    else:
        raise AssertionError("an unknown encoding must be refused")


def orders_file(landing: Path, name: str, lines: list[str]) -> Path:
    path = landing / "orders" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ORDERS_HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def current_orders(con) -> list[tuple]:
    return con.execute("SELECT order_id, status FROM raw.orders__current ORDER BY 1").fetchall()


def test_a_file_that_returns_to_an_earlier_version_is_its_newest_version_again(warehouse, tmp_path):
    landing = tmp_path / "landing"
    first = ["A1,C1,2024-01-01,paid", "A2,C1,2024-01-02,paid"]
    orders_file(landing, "a.csv", first)
    load_landing_entity(warehouse, landing, ORDERS)
    orders_file(landing, "a.csv", ["A1,C1,2024-01-01,refunded", "A2,C1,2024-01-02,paid", "A3,C1,2024-01-03,paid"])
    load_landing_entity(warehouse, landing, ORDERS)
    assert current_orders(warehouse) == [("A1", "refunded"), ("A2", "paid"), ("A3", "paid")]
    orders_file(landing, "a.csv", first)
    (outcome,) = load_landing_entity(warehouse, landing, ORDERS).files
    assert (outcome.status, outcome.file_version) == ("new_version", 3)
    assert outcome.note.startswith(
        "content returned to that of version 1: loaded 2 rows as version 3, which replaces version 2; ")
    # Exactly what the file says now: A3, only in version 2, is gone; A1 is paid again.
    assert current_orders(warehouse) == [("A1", "paid"), ("A2", "paid")]
    assert warehouse.execute("SELECT count(*) FROM raw.orders").fetchone() == (7,)  # every version kept as received
    assert load_landing_entity(warehouse, landing, ORDERS).files[0].status == "unchanged"


def test_a_vanished_file_keeps_its_rows_says_so_and_is_forgotten_only_on_purpose(settings, tmp_path):
    from orchestration.resources.warehouse import DuckDBWarehouse

    landing = settings.landing_dir
    orders_file(landing, "keep.csv", ["K1,C1,2024-01-01,paid"])
    gone = orders_file(landing, "gone.csv", ["G1,C1,2024-01-01,paid", "G2,C1,2024-01-02,paid"])
    warehouse = DuckDBWarehouse(path=str(settings.warehouse_path))
    with warehouse.connect() as con:
        load_landing_entity(con, landing, ORDERS)
        (loaded_at,) = con.execute("SELECT loaded_at FROM raw._load_manifest WHERE source_file = 'orders/gone.csv'"
                                   ).fetchone()
    gone.unlink()
    warnings: list[str] = []
    with warehouse.connect() as con:
        load = load_landing_entity(con, landing, ORDERS, warn=warnings.append)
        assert current_orders(con) == [("G1", "paid"), ("G2", "paid"), ("K1", "paid")]
    assert load.gone_files == ["orders/gone.csv"]
    assert warnings == [f"orders/gone.csv is no longer in the landing directory: its 2 rows (version 1, loaded "
                        f"{loaded_at:%Y-%m-%d %H:%M} UTC) stay in the warehouse and in the marts. To remove them on "
                        "purpose: retention forget orders/gone.csv"]

    runner = CliRunner()
    refused = runner.invoke(main, ["forget", "orders/keep.csv"])
    assert refused.exit_code == 2 and "orders/keep.csv still in" in refused.output
    unknown = runner.invoke(main, ["forget", "orders/never.csv"])
    assert unknown.exit_code == 2
    assert unknown.output.startswith("error: orders/never.csv: no file of that path was loaded")
    result = runner.invoke(main, ["forget", "orders/gone.csv"])
    assert result.exit_code == 0, result.output
    assert result.output == ("orders/gone.csv: removed 2 orders rows (1 version) from raw; the next run rebuilds "
                             "quarantine, staging and the marts without them\n")
    with warehouse.connect(read_only=True) as con:
        assert current_orders(con) == [("K1", "paid")]
        assert con.execute("SELECT source_file, entity, versions, rows_removed FROM raw._forgotten_files").fetchall() \
            == [("orders/gone.csv", "orders", 1, 2)]
        assert con.execute("SELECT count(*) FROM raw._load_manifest WHERE source_file = 'orders/gone.csv'"
                           ).fetchone() == (0,)


def test_empty_files_and_workbooks_are_each_reported_and_the_rest_loads(warehouse, tmp_path):
    landing = tmp_path / "landing"
    for entity in ENTITIES:
        (landing / entity).mkdir(parents=True)
        (landing / entity / f"{entity}.csv").write_bytes(b"")
    (landing / "orders" / "blank.csv").write_text("\n\n  \n", encoding="utf-8")
    orders_file(landing, "real.csv", ["R1,C1,2024-01-01,paid"])
    (landing / "orders" / "export.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    warnings: list[str] = []
    loads = {name: load_landing_entity(warehouse, landing, entity, warn=warnings.append)
             for name, entity in ENTITIES.items()}
    empty = "the file is empty, so nothing was loaded; it is read again once it has content"
    assert warnings == [
        f"customers/customers.csv: {empty}",
        f"interactions/interactions.csv: {empty}",
        "orders/export.xlsx: not loaded, it is not a CSV, Parquet or JSON Lines file (an Excel workbook: map it in "
        "the sources file (files: <name>: {glob: ..., format: excel, entities: ...}; README, Load your own exports), "
        "or save the sheet as CSV into this folder)",
        f"orders/blank.csv: {empty}",
        f"orders/orders.csv: {empty}",
        f"order_items/order_items.csv: {empty}",
        f"survey_responses/survey_responses.csv: {empty}",
    ]
    assert loads["orders"].rows_loaded == 1 and current_orders(warehouse) == [("R1", "paid")]
    assert warehouse.execute("SELECT count(*) FROM raw._load_manifest").fetchone() == (1,)


def test_a_malformed_json_line_costs_that_line_only(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    (landing / "customers" / "c.csv").write_text(HEADER + "C1,Ann,,,,,,,,,2024-01-01,2024-01-01\n", encoding="utf-8")
    (landing / "interactions").mkdir(parents=True)
    (landing / "interactions" / "log.jsonl").write_text(
        '{"interaction_id": "I1", "customer_id": "C1", "occurred_at": "2024-01-02T10:00:00Z", "subject": "Hi"}\n'
        "\n"
        '{"interaction_id": "I2", "customer_id": "C1", "subject": "call ann@example.com on +86 138 0013 8000", \n'
        '["not", "an", "object"]\n'
        '{"interaction_id": "I3", "customer_id": "C1", "occurred_at": "2024-01-04T10:00:00Z", "extra": {"a": 1}}\n',
        encoding="utf-8")
    load_landing_entity(warehouse, landing, CUSTOMERS)
    (outcome,) = load_landing_entity(warehouse, landing, INTERACTIONS).files
    assert outcome.rows == 4  # the blank line is not a row; every other line is
    rows = warehouse.execute("SELECT _row_number, interaction_id, subject, extra, _parse_error, _unparsed_line "
                             "FROM raw.interactions ORDER BY _row_number").fetchall()
    broken = '{"interaction_id": "I2", "customer_id": "C1", "subject": "call ann@example.com on +86 138 0013 8000", '
    assert rows == [
        (1, "I1", "Hi", None, None, None),
        (3, None, None, None, "line 3 is not valid JSON", broken),  # kept as received, never shown
        (4, None, None, None, "line 4 is a JSON array, not an object", '["not", "an", "object"]'),
        (5, "I3", None, '{"a":1}', None, None),
    ]
    # The same rules as for CSV: the two broken lines are quarantined with their line numbers, the rest goes on.
    rebuild_quarantine(warehouse, ENTITIES["customers"])
    rebuild_quarantine(warehouse, INTERACTIONS)
    quarantined = warehouse.execute(
        "SELECT _row_number, _quarantine_rule FROM quarantine.interactions ORDER BY 1").fetchall()
    assert quarantined == [
        (3, "interactions.line_is_a_record, interactions.interaction_id_present, interactions.customer_id_known"),
        (4, "interactions.line_is_a_record, interactions.interaction_id_present, interactions.customer_id_known"),
    ]
    (load_id,) = warehouse.execute("SELECT DISTINCT _load_id FROM raw.interactions").fetchone()
    judgement = judge_load(warehouse, INTERACTIONS, load_id, "interactions/log.jsonl")
    assert (judgement.rows, judgement.bad_rows) == (4, 2)
    assert judgement.breaches[0].describe() == ("the line is not a JSON object (malformed JSON Lines): 2 rows, first "
                                                "row 3 (_parse_error = 'line 3 is not valid JSON')")
    from quality.rules.raw import raw_row_rules
    assert all("_unparsed_line" not in rule.unexpected_rows_query("raw.interactions__current")
               for rule in raw_row_rules("interactions"))


def test_json_lines_and_gzipped_files_get_the_same_encoding_care(warehouse, tmp_path):
    import gzip

    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    (landing / "customers" / "c.csv").write_text(HEADER + "C1,Ann,,,,,,,,,2024-01-01,2024-01-01\n", encoding="utf-8")
    (landing / "interactions").mkdir(parents=True)
    good = '{"interaction_id": "I1", "customer_id": "C1", "occurred_at": "2024-01-02T10:00:00Z", "subject": "Grüße"}\n'
    bad = b'{"interaction_id": "I2", "customer_id": "C1", "occurred_at": "2024-01-03T10:00:00Z", "subject": "x\xff"}\n'
    (landing / "interactions" / "log.jsonl").write_bytes(good.encode("utf-8") * 3 + bad)
    (landing / "customers" / "empty.csv.gz").write_bytes(b"")
    (landing / "customers" / "blank.csv.gz").write_bytes(gzip.compress(b"\n\n"))
    (landing / "customers" / "legacy.csv.gz").write_bytes(gzip.compress(GERMAN.encode("latin-1")))
    warnings: list[str] = []
    options = [FileOptions("legacy", "customers/legacy*", "latin-1")]
    customers = load_landing_entity(warehouse, landing, CUSTOMERS, options=options, warn=warnings.append)
    (lines,) = load_landing_entity(warehouse, landing, INTERACTIONS).files
    assert [(f.relative_path, f.status) for f in customers.files] == [
        ("customers/blank.csv.gz", "empty"), ("customers/c.csv", "loaded"), ("customers/empty.csv.gz", "empty"),
        ("customers/legacy.csv.gz", "loaded")]
    assert warehouse.execute("SELECT name, city FROM raw.customers WHERE customer_id = 'C7'").fetchone() == \
        ("Jürgen Müller", "Zürich")
    # One broken byte costs its line: it becomes U+FFFD, and the rule text_decodes quarantines that row only.
    assert (lines.rows, lines.encoding) == (4, "utf-8")
    assert warehouse.execute("SELECT _row_number, subject FROM raw.interactions ORDER BY 1").fetchall() == [
        (1, "Grüße"), (2, "Grüße"), (3, "Grüße"), (4, "x\ufffd")]
    rebuild_quarantine(warehouse, CUSTOMERS)
    rebuild_quarantine(warehouse, INTERACTIONS)
    assert warehouse.execute("SELECT _row_number, _quarantine_rule FROM quarantine.interactions").fetchall() == [
        (4, "interactions.text_decodes")]


def test_a_refused_file_does_not_swallow_what_was_said_of_the_files_before_it(warehouse, tmp_path):
    import pytest

    from quality.quarantine import BadShareExceeded, bad_share_guard

    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    (landing / "customers" / "c.csv").write_text(HEADER + "C1,Ann,,,,,,,,,2024-01-01,2024-01-01\n", encoding="utf-8")
    load_landing_entity(warehouse, landing, CUSTOMERS)
    (landing / "interactions").mkdir(parents=True)
    (landing / "interactions" / "a_empty.csv").write_bytes(b"")
    (landing / "interactions" / "b.jsonl").write_text(
        '{"interaction_id": "J1", "customer_id": "C1", "occurred_at": "2024-01-02T10:00:00Z"}\n{broken\n',
        encoding="utf-8")
    warnings: list[str] = []
    with pytest.raises(BadShareExceeded) as refused:
        load_landing_entity(warehouse, landing, INTERACTIONS, guard=bad_share_guard(0.01), warn=warnings.append)
    assert warnings == ["interactions/a_empty.csv: the file is empty, so nothing was loaded; it is read again once it "
                        "has content"]
    assert str(refused.value).splitlines() == [
        "interactions/b.jsonl: 1 of 2 interactions rows (50.00%) break the raw rules, more than the 1.00% allowed "
        "(RETENTION_MAX_BAD_SHARE); the file was not loaded. Fix it (or raise the limit) and run again.",
        "  - the line is not a JSON object (malformed JSON Lines): 1 rows, first row 2 (_parse_error = 'line 2 is not "
        "valid JSON')",
        "  - interaction_id is missing: 1 rows, first row 2 (interaction_id empty)",
        "  - customer_id is missing or names no customers row (customer_id unknown): 1 rows, first row 2 "
        "(customer_id empty)",
    ]
