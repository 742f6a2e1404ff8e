"""The probe files of one shared run on top of the tiny run (fixture `probe_run` in conftest.py).

Value probes: values that would crash staging or change on the way (tests/test_value_probes.py).
Export probes: exports in their own shape with guests, orders without lines and a source's own status
words (tests/test_mapped_exports_run.py). One run serves both: a run takes most of a minute.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ORDERS = """\
order_id,customer_id,ordered_at,status,currency,order_discount,order_total,sales_channel
O7,C4,2024-05-01T10:00:00Z,paid,CNY,0,250.00,online
O8,C4,2024-05-02T10:00:00Z,paid,CNY,0,30.00,online
O9,C4,2024-05-03T10:00:00Z,paid,CNY,0,99.99,online
O10,C4,2024-05-04T10:00:00Z,paid,CNY,0,10.00,online
O11,C4,2024-05-05 10:00:00 America/New_York,cancelled,CNY,0,1.00,online
O12,C4,2024-05-06,cancelled,CNY,0,1.00,online
"""
LINES = "order_id,line_number,product_id,product_category,quantity,unit_price,line_discount\n"
BROKEN_LINES = LINES + ("O7,1,P9,Rice,2.5,100.00,0\n"                  # 2.5 kg: exact, never rounded to 3
                        "O8,1,P9,Rice,3000000000,10.00,0\n"            # beyond the quantity bound
                        "O9,1,P9,Rice,1,9999999999999999.99,0\n"       # does not fit DECIMAL(18, 4)
                        "O10,1,P9,Rice,2.5555,4.00,0\n")               # four decimals where three are kept
CORRECTED_LINES = LINES + ("O7,1,P9,Rice,2.5,100.00,0\n"
                           "O8,1,P9,Rice,3,10.00,0\n"
                           "O9,1,P9,Rice,1,99.99,0\n"
                           "O10,1,P9,Rice,2.5,4.00,0\n")
GERMAN = ("customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner,created_at,"
          "updated_at\nC7,Jürgen Müller,,,Müller & Söhne,Retail,Germany,Zürich,referral,Ann Lee,2024-01-02T00:00:00Z,"
          "2024-01-02T00:00:00Z\n")



SHOP_LINES = """order_number,customer,order_date,status,product,qty,price
M1,C1,2024-05-10 10:00,Fulfilled - Paid,P1,2,"1,000.00"
M1,C1,2024-05-10 10:00,Fulfilled - Paid,P2,1,50.00
M2,,2024-05-11 10:00,Fulfilled - Paid,P1,1,20.00
M3,C2,2024-05-12 10:00,on hold,P3,1,5.00
"""
ORDERS_ONLY = """Order ID,Customer ID,Order Date,Status,Amount
N1,C3,2024-05-13 09:00,cancelled,
N2,C3,2024-05-14 09:00,completed,
N3,,2024-05-15 09:00,completed,15.00
"""
SOURCES = {"files": {
    # Customers come from the CRM files: these exports feed only orders (and lines).
    "shop": {"glob": "exports/shop_lines.csv", "preset": "order_lines", "thousands_separator": ",",
             "statuses": {"Fulfilled - Paid": "completed"},
             "entities": {"orders": {"columns": {"ordered_at": "order_date"}}, "order_items": {}}},
    "deals": {"glob": "exports/orders_only.csv", "preset": "orders_export", "entities": {"orders": {}}},
}}



def write_probes(landing: Path, sources_file: Path) -> None:
    """Write the value probes into the entity folders and the export probes under exports/, with their mappings."""
    (landing / "orders" / "probes.csv").write_text(ORDERS, encoding="utf-8")
    (landing / "order_items" / "probes.csv").write_text(BROKEN_LINES, encoding="utf-8")
    (landing / "customers" / "legacy.csv").write_bytes(GERMAN.encode("latin-1"))
    exports = landing / "exports"
    exports.mkdir(exist_ok=True)
    (exports / "shop_lines.csv").write_text(SHOP_LINES, encoding="utf-8")
    (exports / "orders_only.csv").write_text(ORDERS_ONLY, encoding="utf-8")
    sources_file.write_text(yaml.safe_dump(SOURCES), encoding="utf-8")
