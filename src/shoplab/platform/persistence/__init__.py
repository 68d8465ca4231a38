"""Persistence: databases, SQLite connections, the unit of work and migrations."""
