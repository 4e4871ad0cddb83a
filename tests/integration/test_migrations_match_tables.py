"""The migrations (0009, the customer's page, included) create exactly what the tables declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from connector.storage.tables import Base


def test_the_migrated_schema_matches_the_tables(services) -> None:  # type: ignore[no-untyped-def]
    with services.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
