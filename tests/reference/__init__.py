"""Independent reference implementations of the marts, used to cross-check the dbt models."""
