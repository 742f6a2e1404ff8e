"""Serving: the checked marts published for BI tools and analysts."""
