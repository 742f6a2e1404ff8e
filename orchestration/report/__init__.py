"""The static HTML retention report, read from the published marts."""
