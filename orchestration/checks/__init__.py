"""Asset checks: Great Expectations suites run on the warehouse's assets."""
