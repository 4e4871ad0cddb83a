"""The Alembic migrations build exactly the schema the code declares (`connector/storage/tables.py`),
in one line of revisions, on SQLite and (under `make test-pg`) PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from connector.storage.db import MIGRATIONS, Database
from connector.storage.tables import Base
from tests import conftest


def test_the_revisions_form_one_line() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    revisions = list(script.walk_revisions())
    assert [r.revision for r in revisions][-1] == "0001"
    assert all(r.down_revision is None or isinstance(r.down_revision, str) for r in revisions)  # no merges


def test_migrating_a_fresh_database_gives_the_declared_schema(request: pytest.FixtureRequest,
                                                              tmp_path: Path) -> None:
    db = Database(conftest.test_database_url(request, tmp_path))
    try:
        db.migrate()
        db.migrate()  # idempotent
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        db.dispose()
    assert differences == [], differences
