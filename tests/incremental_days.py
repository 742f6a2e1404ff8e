"""Daily landing files, by hand, for the incremental tests (quarantine, and the dbt models after it).

Twelve days: an orphan order whose customer arrives the next day, an order
file sent again with other content, lines arriving after their order, a
customer file version that drops a customer, a line with a bad quantity, an
order whose only line leaves when its file is sent again, a customer's new
version with a survey answer and an interaction, an order that moves to
another customer while the latest order arrives, the first order arriving
last (every period index shifts), T moving back and forth over an order
nobody changed, and a day with nothing new.
Each day lists the files written that day (path under the landing dir ->
content) and the keys the quarantine update logs per entity, worked out by
hand. Files are named so that their sorted order is the order they arrived
in: a rebuild that loads them all at once loads them in the same order.
"""

from __future__ import annotations

from pathlib import Path

from ingestion.contract import ENTITIES

CUSTOMERS = ("customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner,"
             "created_at,updated_at\n")
ORDERS = "order_id,customer_id,ordered_at,status,currency,order_discount,order_total,sales_channel\n"
LINES = "order_id,line_number,product_id,product_category,quantity,unit_price,line_discount\n"
SURVEYS = "response_id,customer_id,survey_type,score,submitted_at,comment\n"
INTERACTIONS = "interaction_id,customer_id,occurred_at,interaction_type,status,subject\n"


def customer(customer_id: str) -> str:
    """A customer row of the CRM export."""
    return f"{customer_id},,,,,,CN,Shanghai,web,Ann,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n"


def order(order_id: str, customer_id: str, status: str = "completed", total: str = "10.00",
          placed: str = "2024-02-01") -> str:
    """An order row of the orders export, placed on `placed` at 10:00 UTC."""
    return f"{order_id},{customer_id},{placed}T10:00:00Z,{status},CNY,0,{total},online\n"


# Day -> files written that day, and the change-log keys the quarantine update logs per entity.
DAYS: list[tuple[dict[str, str], dict[str, set[str | None]]]] = [
    ({"customers/c1.csv": CUSTOMERS + customer("C1") + customer("C2"),
      "orders/o1.csv": ORDERS + order("O1", "C1") + order("O2", "C9"),   # O2: customer C9 not known yet
      "order_items/i1.csv": LINES + "O1,1,P1,Tea,1,10.00,0\n"},
     {entity: {None} for entity in ENTITIES}),  # a first load: every key
    ({"customers/c2.csv": CUSTOMERS + customer("C9")},                     # C9 arrives: O2 is released
     {"customers": {"C9"}, "orders": {"O2"}}),
    ({"orders/o1.csv": ORDERS + order("O1", "C1", "refunded") + order("O2", "C9")
      + order("O3", "C2", total="")},                                      # sent again; O3 has no total, no line
     {"orders": {"O1", "O2", "O3"}}),
    ({"order_items/i2.csv": LINES + "O3,1,P1,Tea,2,4.00,0\n"},             # O3's line: its revenue is known
     {"order_items": {"O3"}, "orders": {"O3"}}),
    ({"customers/c1.csv": CUSTOMERS + customer("C1")},                     # C2 dropped: O3 and its line orphaned
     {"customers": {"C1", "C2"}, "orders": {"O3"}, "order_items": {"O3"}}),
    ({"order_items/i3.csv": LINES + "O1,2,P2,Tea,abc,1.00,0\n"},            # a quantity that is no number
     {"order_items": {"O1"}}),
    ({"orders/o4.csv": ORDERS + order("O4", "C1", total=""),               # an order known by its line only
      "order_items/i4.csv": LINES + "O4,1,P1,Tea,1,3.00,0\n"},
     {"orders": {"O4"}, "order_items": {"O4"}}),
    ({"order_items/i4.csv": LINES + "O1,3,P1,Tea,1,3.00,0\n"},             # sent again without O4's line
     {"order_items": {"O1", "O4"}, "orders": {"O4"}}),
    ({"customers/c3.csv": CUSTOMERS + "C1,,,,,,CN,Beijing,web,Ann,2024-01-01T00:00:00Z,2024-03-01T00:00:00Z\n",
      "survey_responses/s1.csv": SURVEYS + "R1,C1,nps,9,2024-02-02T00:00:00Z,good\n",
      "interactions/n1.csv": INTERACTIONS + "N1,C1,2024-02-03T00:00:00Z,call,closed,hello\n"},
     {"customers": {"C1"}, "survey_responses": {"R1"}, "interactions": {"N1"}}),  # C1's new version
    ({"orders/o1.csv": ORDERS + order("O1", "C1", "refunded") + order("O2", "C1")  # O2 moves from C9 to C1
      + order("O3", "C2", total=""),
      "orders/o5.csv": ORDERS + order("O5", "C9", placed="2024-03-05")},  # the latest order: T moves forward
     {"orders": {"O1", "O2", "O3", "O5"}}),
    ({"customers/c4.csv": CUSTOMERS + customer("C3"),                     # a new customer's first order is
      "orders/o6.csv": ORDERS + order("O6", "C3", placed="2024-01-15")},  # the first of all: periods shift
     {"customers": {"C3"}, "orders": {"O6"}}),
    ({}, {}),                                                                    # nothing new
]
# Days built with an as-of date (dbt var as_of_date): T moves back over O5, which did not change, and
# forward again the next day (the date no longer set).
AS_OF_DATES = {11: "2024-02-15"}


def write_day(landing: Path, files: dict[str, str]) -> None:
    """Write one day's files into the landing directory (a file sent again replaces its earlier version)."""
    for relative, text in files.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_text(text, encoding="utf-8")
