"""Persistence: SQLAlchemy 2 tables, the database handle and repositories (SQLite default, PostgreSQL)."""
