"""Database sources through SQLAlchemy: SQLite always, PostgreSQL and MariaDB when reachable."""

from __future__ import annotations

import socket
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingestion.contract import CUSTOMERS
from ingestion.database.config import SourcesConfigError, database_sources
from ingestion.database.extract import load_database_entity


def reachable(port: int) -> bool:
    """Tell whether a server listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in tmp_path."""
    return f"sqlite:///{tmp_path / 'crm.sqlite'}"


SERVERS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql+psycopg2://postgres@127.0.0.1:5432/test", id="postgresql",
        marks=[pytest.mark.postgres,
               pytest.mark.skipif(not reachable(5432), reason="no PostgreSQL on 127.0.0.1:5432")],
    ),
    pytest.param(
        "mysql+pymysql://root@127.0.0.1:3306/test", id="mariadb",
        marks=[pytest.mark.mariadb,
               pytest.mark.skipif(not reachable(3306), reason="no MariaDB on 127.0.0.1:3306")],
    ),
]


@pytest.fixture(params=SERVERS)
def crm_table(request, tmp_path: Path):
    """A customers table (unique name per test) in each database; yields (url, table name, engine)."""
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.param
    engine = sa.create_engine(url)
    name = f"crm_customers_{uuid.uuid4().hex[:8]}"
    table = sa.Table(
        name, sa.MetaData(),
        sa.Column("cust_no", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("city", sa.String(100)),
        sa.Column("credit", sa.Numeric(10, 2)),
        sa.Column("updated_at", sa.DateTime),
    )
    table.create(engine)
    yield url, table, engine
    table.drop(engine)
    engine.dispose()


def insert(engine: sa.Engine, table: sa.Table, rows: list[dict]) -> None:
    """Insert rows and commit."""
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)


def write_sources(path: Path, url: str, spec: str) -> Path:
    """Write a sources file with one database and the given customers spec."""
    path.write_text(f"databases:\n  crm:\n    url: {url}\n    entities:\n      customers:\n{spec}", encoding="utf-8")
    return path


def test_incremental_extraction_loads_only_new_rows(crm_table, warehouse, tmp_path):
    url, table, engine = crm_table
    insert(engine, table, [
        {"cust_no": "C1", "name": "张伟", "city": "北京", "credit": 10.5, "updated_at": datetime(2024, 1, 1, 8)},
        {"cust_no": "C2", "name": "Bob", "city": "Austin", "credit": None, "updated_at": datetime(2024, 1, 2, 9)},
    ])
    spec = (f"        table: {table.name}\n        watermark: updated_at\n"
            "        columns: {cust_no: customer_id}\n")
    (source,) = database_sources(write_sources(tmp_path / "sources.yml", url, spec))

    first = load_database_entity(warehouse, source, CUSTOMERS)
    assert first.rows == 2 and first.watermark == datetime(2024, 1, 2, 9)

    again = load_database_entity(warehouse, source, CUSTOMERS)
    assert again.rows == 0 and again.watermark == datetime(2024, 1, 2, 9)

    insert(engine, table, [
        {"cust_no": "C3", "name": "Cara", "city": "Dallas", "credit": 1, "updated_at": datetime(2024, 1, 3)},
    ])
    with engine.begin() as conn:
        conn.execute(table.update().where(table.c.cust_no == "C1").values(city="上海", updated_at=datetime(2024, 1, 4)))
    third = load_database_entity(warehouse, source, CUSTOMERS)
    assert third.rows == 2

    rows = warehouse.execute(
        "SELECT customer_id, name, city, credit, _source, _source_file, _row_number "
        "FROM raw.customers ORDER BY _loaded_at, _row_number"
    ).fetchall()
    assert [r[:3] for r in rows] == [
        ("C1", "张伟", "北京"), ("C2", "Bob", "Austin"), ("C3", "Cara", "Dallas"), ("C1", "张伟", "上海"),
    ]
    assert rows[0][3] == "10.50" and rows[1][3] is None
    assert {r[4] for r in rows} == {"database:crm"}
    assert {r[5] for r in rows} == {table.name}
    assert [r[6] for r in rows] == [1, 2, 1, 2]
    manifest = warehouse.execute("SELECT rows_loaded FROM raw._load_manifest ORDER BY loaded_at").fetchall()
    assert sorted(r[0] for r in manifest) == [0, 2, 2]


def test_query_source_without_watermark_is_a_full_extraction(crm_table, warehouse, tmp_path):
    url, table, engine = crm_table
    insert(engine, table, [
        {"cust_no": f"C{i}", "name": f"N{i}", "city": "X", "credit": i, "updated_at": datetime(2024, 1, 1)}
        for i in range(1, 6)
    ])
    spec = f"        query: \"SELECT cust_no AS customer_id, name FROM {table.name} WHERE credit >= 3\"\n"
    (source,) = database_sources(write_sources(tmp_path / "sources.yml", url, spec))
    result = load_database_entity(warehouse, source, CUSTOMERS)
    assert result.rows == 3
    ids = [r[0] for r in warehouse.execute("SELECT customer_id FROM raw.customers ORDER BY customer_id").fetchall()]
    assert ids == ["C3", "C4", "C5"]


def test_sources_file_errors_say_what_is_wrong(tmp_path, monkeypatch):
    path = tmp_path / "sources.yml"
    path.write_text("databases:\n  crm:\n    url_env: CRM_URL_FOR_TEST\n    entities: {}\n", encoding="utf-8")
    monkeypatch.delenv("CRM_URL_FOR_TEST", raising=False)
    with pytest.raises(SourcesConfigError, match=r"\$CRM_URL_FOR_TEST, which is not set"):
        database_sources(path)
    path.write_text("databases:\n  crm:\n    url: sqlite://\n    entities:\n      clients: {table: x}\n")
    with pytest.raises(SourcesConfigError, match="unknown entity 'clients'"):
        database_sources(path)
    path.write_text("databases:\n  crm:\n    url: sqlite://\n    entities:\n      customers: {table: x, query: y}\n")
    with pytest.raises(SourcesConfigError, match="exactly one of 'table' or 'query'"):
        database_sources(path)
    assert database_sources(tmp_path / "missing.yml") == []
