from __future__ import annotations

import pytest
from flask import Flask

from connector.web import create_app
from tests.sandbox_helpers import Harness, connect_sandbox


@pytest.fixture
def app(config, services) -> Flask:  # type: ignore[no-untyped-def]
    return create_app(config, services, background=False)


@pytest.fixture
def sandbox(app, services, clock) -> Harness:  # type: ignore[no-untyped-def]
    return connect_sandbox(services, app.test_client(), clock)
