"""Persistence: tables, engine, migrations and repositories."""
