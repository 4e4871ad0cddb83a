"""Persistence: SQLAlchemy 2 tables, the database handle and its migrations (SQLite default, PostgreSQL).

Also what sits right on the tables: group commit and the write gate, named leases, credential
encryption, and stored suppliers, offers and purchase orders as common-model values
(`supply_models`). May import `domain` only.
"""
