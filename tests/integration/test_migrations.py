"""The Alembic migrations build exactly the schema the code declares (`connector/storage/tables.py`),
in one line of revisions, on SQLite and (under `make test-pg`) PostgreSQL; the concurrent index build always
on PostgreSQL."""

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


def test_the_pruning_index_is_built_concurrently_and_a_failed_build_is_built_again(postgres_url: str) -> None:
    """Migration 0015 builds `ix_deliveries_handled` with CREATE INDEX CONCURRENTLY on PostgreSQL
    (the inbox keeps taking webhooks meanwhile; on PostgreSQL in every run). Such a build that fails
    leaves an invalid index behind, which the migration run again replaces."""
    url = postgres_url
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import event, text

    db = Database(url)
    index = text("SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                 "WHERE i.indexrelid = to_regclass('ix_deliveries_handled')")
    try:
        db.migrate()
        with db.engine.connect() as c:
            valid, definition = c.execute(index).one()
        assert valid and "(status, processed_at)" in definition and "WHERE" in definition
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.connect() as c:
            cfg.attributes["connection"] = c
            command.downgrade(cfg, "0014")
        with db.engine.begin() as c:  # what an interrupted CONCURRENTLY build leaves: an invalid index
            c.execute(text("CREATE INDEX ix_deliveries_handled ON deliveries (id)"))
            c.execute(text("UPDATE pg_index SET indisvalid = false "
                           "WHERE indexrelid = to_regclass('ix_deliveries_handled')"))
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda _c, _k, sql, *_: statements.append(sql))
        db.migrate()
        with db.engine.connect() as c:
            valid, definition = c.execute(index).one()
    finally:
        db.dispose()
    assert valid and "(status, processed_at)" in definition
    assert any(s.startswith("CREATE INDEX CONCURRENTLY ix_deliveries_handled") for s in statements), statements
