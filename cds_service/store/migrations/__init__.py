"""Alembic migrations of the service's database; `Database(url)` upgrades to the newest at start."""
