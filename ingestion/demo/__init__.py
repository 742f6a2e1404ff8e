"""Deterministic demo data: simulated CRM, order and survey exports in the landing directory.

`generate_demo_data(landing_dir, customers=..., seed=...)` writes one folder per
entity of the source contract and returns a `DemoReport`; see `generator` for
the layout, `behaviour` for how customers behave and `defects` for the
deliberately broken rows used to exercise the quality gates.
"""

from ingestion.demo.generator import DemoReport, generate_demo_data, is_demo_data

__all__ = ["DemoReport", "generate_demo_data", "is_demo_data"]
