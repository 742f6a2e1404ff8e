"""Order system source: orders and their lines."""

from ingestion.contract import ORDER_ITEMS, ORDERS
from orchestration.assets.raw_ingestion import build_raw_asset

raw_orders = build_raw_asset(ORDERS)
raw_order_items = build_raw_asset(ORDER_ITEMS)
