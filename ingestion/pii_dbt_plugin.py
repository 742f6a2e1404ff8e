"""The dbt-duckdb plugin that gives dbt's DuckDB connections the PII key's HMAC pads (see ingestion/pii.py).

profiles.yml names it as `module: ingestion.pii_dbt_plugin`; it is kept apart
from ingestion/pii.py so that nothing else imports dbt's adapter to read a key.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from ingestion.pii import INNER_PAD_VARIABLE, OUTER_PAD_VARIABLE, hmac_pads


class Plugin(BasePlugin):
    """dbt-duckdb plugin: sets the HMAC pads as session variables on every connection and cursor.

    Configured in profiles.yml with `key: "{{ env_var('DBT_ENV_SECRET_RETENTION_PII_KEY', '') }}"`.
    Without a key no variable is set, and the macro `pii_hash` stops the model
    that needs one with a message saying so.
    """

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Derive the pads once from the configured key."""
        key = plugin_config.get("key") or ""
        self._pads = hmac_pads(key) if key else None

    def configure_connection(self, conn: Any) -> None:
        """Set the pads on the environment's connection."""
        self._set_pads(conn)

    def configure_cursor(self, cursor: Any) -> None:
        """Set the pads on each cursor (a cursor does not inherit its parent's session variables)."""
        self._set_pads(cursor)

    def _set_pads(self, connection: Any) -> None:
        if self._pads is None:
            return
        inner, outer = self._pads
        connection.execute(f"SET VARIABLE {INNER_PAD_VARIABLE} = unhex(?)", [inner.hex()])
        connection.execute(f"SET VARIABLE {OUTER_PAD_VARIABLE} = unhex(?)", [outer.hex()])
