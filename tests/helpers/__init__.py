"""Shared test helpers: scripted replies, study scripts, record builders, expected tables, shared-data paths."""
