"""Signing a test client in, and posting forms with their CSRF token, as a browser would."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from connector.bootstrap import Services
from connector.domain.model import Platform
from connector.web.auth import make_sign_in_token

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def sign_in(client: FlaskClient, services: Services, shop_id: int) -> None:
    with services.db.session() as s:
        from connector.storage.tables import ShopRow

        row = s.get(ShopRow, shop_id)
        token = make_sign_in_token(services.config.secret_key, row.id, row.platform, row.domain)
    response = client.get(f"/app/sign-in/{token}")
    assert response.status_code == 302, response.get_data(as_text=True)


def csrf_token(client: FlaskClient, page: str = "/app/settings") -> str:
    html = client.get(page).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form with a valid CSRF token of this client's session."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def connect_shop(services: Services, domain: str, platform: Platform = Platform.SANDBOX, **kwargs: Any) -> int:
    ref = services.shops.connect(platform, domain, name=kwargs.pop("name", domain.split(".")[0].title()),
                                 credentials={}, webhook_secret=b"secret-" + domain.encode(), currency="EUR",
                                 timezone="Europe/Rome", **kwargs)
    return ref.id
