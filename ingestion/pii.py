"""Pseudonymising contact details: HMAC-SHA256 with a key that lives only in the environment.

A plain or salted hash of a phone number is no protection: China's mobile
numbers are 11 digits under a few hundred prefixes, so hashing every
candidate recovers them in seconds, and e-mail addresses follow a handful of
patterns. A keyed hash (HMAC) cannot be matched without the key, and the key
is not in the warehouse, the dbt project, the compiled SQL or any log: it is
`RETENTION_PII_KEY` in the environment, which reaches the dbt process as the
secret `DBT_ENV_SECRET_RETENTION_PII_KEY` (dbt scrubs those from its logs and
allows them only in profiles.yml). Values are normalised first, so one
address always gets one pseudonym: e-mail trimmed and lower-cased, phone
numbers reduced to their digits.

The HMAC runs inside DuckDB (sha256 over BLOBs, no row loop in Python): the
dbt-duckdb plugin in pii_dbt_plugin.py hands every dbt connection the two
derived pads as session variables, so the SQL names only `getvariable(...)`.
The demo data may run with a published demo key, because it is fake; any other
data refuses to run without a key of its own (orchestration/resources/dbt.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re

# Published on purpose: it protects nothing, so it is only for the generated demo data.
DEMO_KEY = "retention-demo-key-not-for-real-data"
KEY_ENVIRONMENT_VARIABLE = "RETENTION_PII_KEY"
DBT_SECRET_VARIABLE = "DBT_ENV_SECRET_RETENTION_PII_KEY"
MINIMUM_KEY_LENGTH = 16
INNER_PAD_VARIABLE = "retention_pii_ipad"
OUTER_PAD_VARIABLE = "retention_pii_opad"
SHA256_BLOCK_BYTES = 64
KEY_HINT = (
    f"set {KEY_ENVIRONMENT_VARIABLE} to a long random secret of your own and keep it (the same key gives the "
    f"same pseudonyms, run after run), e.g. export {KEY_ENVIRONMENT_VARIABLE}=$(python3 -c "
    "'import secrets; print(secrets.token_hex(32))')"
)


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """The inner and outer pads of HMAC-SHA256 for `key` (RFC 2104), which is all the SQL needs."""
    block = key.encode("utf-8")
    if len(block) > SHA256_BLOCK_BYTES:
        block = hashlib.sha256(block).digest()
    block = block.ljust(SHA256_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def normalised_email(value: str) -> str:
    """An e-mail address as it is pseudonymised: spaces trimmed (as DuckDB's trim does), lower case."""
    return value.strip(" ").lower()


def normalised_phone(value: str) -> str:
    """A phone number as it is pseudonymised: its digits only (+86 138-0013 8000 -> 8613800138000)."""
    return re.sub(r"[^0-9]", "", value)


def pseudonym(key: str, normalised: str) -> str:
    """The pseudonym (hex HMAC-SHA256) of an already normalised value: what staging computes in SQL."""
    return hmac.new(key.encode("utf-8"), normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def key_problem(key: str | None) -> str | None:
    """Why `key` cannot pseudonymise real data, in words; None when it can."""
    if not key:
        return f"{KEY_ENVIRONMENT_VARIABLE} is not set"
    if key == DEMO_KEY:
        return f"{KEY_ENVIRONMENT_VARIABLE} is the published demo key"
    if len(key) < MINIMUM_KEY_LENGTH:
        return f"{KEY_ENVIRONMENT_VARIABLE} is shorter than {MINIMUM_KEY_LENGTH} characters"
    return None


PSEUDONYM_MACRO = "pseudonym_email"


def define_pseudonym_macro(con, key: str | None) -> None:
    """Give a loading connection `pseudonym_email(value)`: the keyed pseudonym staging gives that e-mail.

    For mappings whose export has no customer id but an e-mail address
    (Shopify's orders export): the customer id is then the address's
    pseudonym, never the address. The SQL is staging's (macro pii_hash,
    `email`); without a usable key the macro stops the load and says how to
    set one.
    """
    missing = ("error('pseudonym_email needs a PII key: " + KEY_HINT.replace("'", "''") + "')")
    if key and key_problem(key) is None:
        inner, outer = hmac_pads(key)
        con.execute(f"SET VARIABLE {INNER_PAD_VARIABLE} = unhex(?)", [inner.hex()])
        con.execute(f"SET VARIABLE {OUTER_PAD_VARIABLE} = unhex(?)", [outer.hex()])
    # The missing key is tested first, on its own: inside `NULL || ...` DuckDB folds the error away.
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO {PSEUDONYM_MACRO}(value) AS CASE "
        f"WHEN getvariable('{OUTER_PAD_VARIABLE}') IS NULL OR getvariable('{INNER_PAD_VARIABLE}') IS NULL "
        f"THEN {missing} WHEN nullif(lower(trim(value)), '') IS NULL THEN NULL "
        f"ELSE sha256(getvariable('{OUTER_PAD_VARIABLE}') || unhex(sha256(getvariable('{INNER_PAD_VARIABLE}') "
        "|| encode(lower(trim(value)))))) END")


def key_fingerprint(con) -> str:
    """A one-way fingerprint of the key a loading connection pseudonymises with ("" without one).

    A mapping's version includes it, so that a new key pseudonymises the export again instead of leaving
    its old customer ids beside new ones.
    """
    (fingerprint,) = con.execute(f"SELECT coalesce(sha256(sha256(getvariable('{OUTER_PAD_VARIABLE}'))), '')"
                                 ).fetchone()
    return fingerprint
