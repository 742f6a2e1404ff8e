"""Personal data: keyed pseudonyms nobody can match without the key, no run without a key on real data,
no contact value in any preview, check or Data Docs page, and no names in what BI users read."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from ingestion.contract import ENTITIES
from ingestion.demo import generate_demo_data
from ingestion.pii import DEMO_KEY, normalised_email, normalised_phone, pseudonym
from orchestration.assets.crm import raw_customers
from orchestration.assets.quarantine import quarantine_assets
from orchestration.assets.serving import published_marts
from orchestration.checks.raw_rules import build_raw_rules_check
from orchestration.cli import main
from orchestration.resources import build_resources
from orchestration.resources.dbt import PiiKeyMissing, resolve_pii_key
from orchestration.runs.refresh import run_refresh
from orchestration.serving.readers import open_published
from tests.fixtures import TEST_PII_KEY

CONTACT_VALUES = ("alice@example.com", "bob@example.com", "zhang.wei@example.cn", "7946 0000", "138 0013 8000",
                  "Alice Brown", "张伟")


def test_contact_pseudonyms_are_hmacs_of_normalised_values_that_candidates_cannot_match(settings, tiny_run):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        email_hash, phone_hash = con.execute(
            "SELECT email_hash, phone_hash FROM staging.stg_crm__customers WHERE customer_id = 'C1'").fetchone()
    # By hand: C1's phone in the CSV is '+44 20 7946 0000'.
    assert normalised_phone("+44 20 7946 0000") == "442079460000"
    assert email_hash == pseudonym(TEST_PII_KEY, normalised_email("alice@example.com"))
    assert phone_hash == pseudonym(TEST_PII_KEY, "442079460000")

    # An attacker who knows the scheme hashes every candidate number (here 200,000 of them, the right one
    # among them) in every unkeyed way, and with the wrong keys: nothing matches.
    with duckdb.connect() as con:
        candidates = "SELECT CAST(442079360000 + range AS VARCHAR) AS phone FROM range(200000)"
        matches = con.execute(f"""
            SELECT count(*) FILTER (sha256(phone) = $hash),
                   count(*) FILTER (sha256('retention-default-salt' || phone) = $hash),
                   count(*) FILTER (sha256('+' || phone) = $hash),
                   count(*) FILTER (phone = '442079460000')
            FROM ({candidates})
        """, {"hash": phone_hash}).fetchone()
    assert matches == (0, 0, 0, 1)
    for wrong_key in (DEMO_KEY, TEST_PII_KEY + "x", ""):
        assert pseudonym(wrong_key, "442079460000") != phone_hash
    assert hashlib.sha256(b"442079460000").hexdigest() != phone_hash


def test_real_data_without_a_key_does_not_run(settings, tiny_landing, monkeypatch):
    monkeypatch.delenv("RETENTION_PII_KEY")
    outcome = run_refresh(dataclasses.replace(settings, pii_key=None), persist_run=False)
    assert not outcome.success
    (message,) = outcome.failures
    assert message.startswith(f"RETENTION_PII_KEY is not set, and the data is not only the generated demo files "
                              f"({settings.landing_dir} or the warehouse holds other data)")
    assert "export RETENTION_PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')" in message
    assert not settings.warehouse_path.exists()  # refused before the first step

    monkeypatch.setenv("RETENTION_PII_KEY", "short")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2
    assert result.output.startswith("error: RETENTION_PII_KEY is shorter than 16 characters, and ")


def test_only_unchanged_demo_files_run_with_the_demo_key(tmp_path):
    landing = tmp_path / "landing"
    report = generate_demo_data(landing, customers=30, seed=5)
    warnings: list[str] = []
    assert resolve_pii_key(None, landing, None, warn=warnings.append) == DEMO_KEY
    assert warnings == ["RETENTION_PII_KEY is not set: the demo data is pseudonymised with the published demo key; "
                        "real data needs a key of its own"]
    assert resolve_pii_key(TEST_PII_KEY, landing, None) == TEST_PII_KEY
    # The warehouse's loads count too: rows of real files stay after the files have left the landing directory.
    demo_loads = [("files", path, digest) for path, digest in report.file_hashes.items()]
    assert resolve_pii_key(None, landing, None, loaded=demo_loads) == DEMO_KEY
    with pytest.raises(PiiKeyMissing):
        resolve_pii_key(None, landing, None, loaded=[*demo_loads, ("files", "customers/real.csv", "0" * 64)])
    with pytest.raises(PiiKeyMissing):
        resolve_pii_key(None, landing, None, loaded=[("database:crm", "public.customers", None)])

    sources = tmp_path / "sources.yml"
    sources.write_text("databases:\n  crm:\n    url: sqlite:///crm.db\n    entities:\n      customers:\n"
                       "        table: customers\n", encoding="utf-8")
    with pytest.raises(PiiKeyMissing):
        resolve_pii_key(None, landing, sources)  # a database feeds real data
    (landing / "customers" / "ours.csv").write_text("customer_id,created_at\nX1,2024-01-01\n", encoding="utf-8")
    with pytest.raises(PiiKeyMissing):
        resolve_pii_key(None, landing, None)  # one file of our own
    (landing / "customers" / "ours.csv").unlink()
    with (landing / "customers" / "customers_0001.csv").open("a", encoding="utf-8") as handle:
        handle.write("C9999999,Ann,ann@x.com,,,,,,,,2024-01-01,2024-01-01\n")
    with pytest.raises(PiiKeyMissing):
        resolve_pii_key(None, landing, None)  # a demo file edited since


def test_no_preview_check_result_or_data_docs_page_shows_a_contact_value(settings, tiny_landing):
    # A conflicting copy of C2 makes the customers' raw rules fail, so the check returns rows.
    with (tiny_landing / "customers" / "customers.csv").open("a", encoding="utf-8") as handle:
        handle.write("C2,Bob Stone,bob.other@example.com,+1 512 555 0199,Globex,Tech,US,Austin,paid_search,Ann Lee,"
                     "2024-01-15T09:00:00Z,2024-01-15T09:00:00Z\n")
    # A column outside the contract may hold contact details too: nothing shows it either.
    (tiny_landing / "customers" / "extra.csv").write_text(
        "customer_id,name,created_at,mobile\nC7,Eve Ng,2024-02-01T00:00:00Z,13912345678\n", encoding="utf-8")
    resources = build_resources(dataclasses.replace(settings, max_bad_share=1.0))
    # The raw check reports the loads its entity's quarantine has judged: both run.
    quarantine_customers = next(asset for asset in quarantine_assets if asset.key.path[-1] == "customers")
    result = dg.materialize([raw_customers, quarantine_customers, build_raw_rules_check(ENTITIES["customers"])],
                            resources=resources)
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "raw_rules"]
    assert not evaluation.passed
    assert evaluation.metadata["unexpected rows"].value == {"customers.key_unique_in_file": 2}
    assert evaluation.metadata["failing rows (sample)"].value == {"customers.key_unique_in_file": [
        {"file": "customers/customers.csv", "row": 2, "customer_id": "C2"},
        {"file": "customers/customers.csv", "row": 6, "customer_id": "C2"},
    ]}
    (materialization,) = [m for m in result.get_asset_materialization_events() if m.asset_key == raw_customers.key]
    preview = materialization.materialization.metadata["preview"].value
    # Name, e-mail and phone of the first 5 rows (C1, C2, C3, C4, C1 again): C2 and C4 have no phone, C3 no e-mail.
    assert preview.count("(hidden)") == 5 * 3 - 3
    shown = [str(value.value) for value in [*evaluation.metadata.values(),
                                            *materialization.materialization.metadata.values()]]
    pages = [path.read_text(encoding="utf-8") for path in settings.data_docs_dir.rglob("*")
             if path.suffix in (".html", ".json")]
    for value in CONTACT_VALUES + ("bob.other@example.com", "555 0199", "13912345678", "Eve Ng"):
        assert not any(value in text for text in shown + pages), value
    assert any("customers.key_unique_in_file" in page or "repeat in the same file" in page for page in pages)


def test_names_reach_bi_users_only_on_request(settings, tiny_run):
    with open_published(settings.serving_path) as con:
        columns = {name for (name,) in con.execute(
            "SELECT DISTINCT column_name FROM duckdb_columns() WHERE database_name = current_database()").fetchall()}
        (customers,) = con.execute("SELECT count(*) FROM marts.dim_customers").fetchone()
    assert customers == 6 and not columns & {"name", "customer_name", "email", "phone"}
    assert not settings.contacts_path.parent.exists()

    asked = dataclasses.replace(settings, publish_contacts=True)
    dg.materialize([published_marts], resources=build_resources(asked))
    assert stat.S_IMODE(os.stat(settings.contacts_path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(settings.contacts_path).st_mode) == 0o600
    with open_published(settings.contacts_path) as con:
        names = con.execute("SELECT customer_id, customer_name FROM restricted.customer_contacts "
                            "ORDER BY 1").fetchall()
    assert names == [("C1", "Alice Brown"), ("C2", "Bob Stone"), ("C3", "Cara Diaz"), ("C4", "Dan Moss"),
                     ("C5", "张伟"), ("C6", "李娜")]

    # Asked no more: the names are withdrawn at the next publication.
    dg.materialize([published_marts], resources=build_resources(settings))
    assert not settings.contacts_path.parent.exists()
