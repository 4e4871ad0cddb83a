"""Signing in: links, Shopify session tokens, sessions, CSRF, the CLI and the demo's logged link."""

from __future__ import annotations

import logging
import time

import jwt
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from connector.domain.model import Platform
from connector.web import _announcing_sign_in
from connector.web.auth import SIGN_IN_SALT, make_sign_in_token
from tests.integration.app.helpers import connect_shop, sign_in

SHOPIFY = "cool-shop.myshopify.com"


def test_the_app_asks_for_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.get("/app/settings")
    assert response.status_code == 302 and "/app/sign-in" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 401 and "Sign in to Backorder Connector" in page.get_data(as_text=True)
    assert client.post("/app/orders/1/expedite").status_code in (400, 401)


def test_a_sign_in_link_opens_the_shops_dashboard(app, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox", name="North")
    client = app.test_client()
    sign_in(client, services, shop_id)
    page = client.get("/app")
    assert page.status_code == 200
    assert "North" in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")


def test_bad_expired_and_tampered_links_are_refused(app, services, config) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox")
    client = app.test_client()
    assert client.get("/app/sign-in/not-a-token").status_code == 403

    class LastWeek(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 24 * 3600

    old = URLSafeTimedSerializer(config.secret_key, salt=SIGN_IN_SALT, signer=LastWeek)
    expired = old.dumps({"shop": shop_id, "platform": "sandbox", "domain": "north.sandbox"})
    response = client.get(f"/app/sign-in/{expired}")
    assert response.status_code == 403 and "expired" in response.get_data(as_text=True)
    forged = make_sign_in_token("another-secret", shop_id, "sandbox", "north.sandbox")
    assert client.get(f"/app/sign-in/{forged}").status_code == 403
    assert client.get("/app").status_code == 302  # still not signed in


def test_an_uninstalled_shop_cannot_sign_in_and_its_session_ends(app, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox")
    client = app.test_client()
    token = make_sign_in_token(services.config.secret_key, shop_id, "sandbox", "north.sandbox")
    sign_in(client, services, shop_id)
    services.shops.set_status(Platform.SANDBOX, "north.sandbox", "uninstalled")
    assert client.get("/app").status_code == 302
    assert client.get(f"/app/sign-in/{token}").status_code == 403


def test_signing_out_ends_the_session(app, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox")
    client = app.test_client()
    sign_in(client, services, shop_id)
    html = client.get("/app").get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/app/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/app").status_code == 302


def test_forms_without_a_csrf_token_are_refused(app, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox")
    client = app.test_client()
    sign_in(client, services, shop_id)
    response = client.post("/app/suppliers/new", data={"name": "Acme", "lead_time_mean_days": "5",
                                                      "lead_time_spread_days": "1"})
    assert response.status_code == 400
    assert client.get("/app/suppliers").get_data(as_text=True).count("Acme") == 0


def _session_token(config, shop: str = SHOPIFY, **overrides) -> str:  # type: ignore[no-untyped-def]
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": config.platform["SHOPIFY_API_KEY"],
              "sub": "1", "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": "j", "sid": "s", **overrides}
    return jwt.encode(claims, config.platform["SHOPIFY_API_SECRET"], algorithm="HS256")


def test_the_embedded_shopify_app_signs_in_with_a_session_token(app, services, config) -> None:  # type: ignore[no-untyped-def]
    connect_shop(services, SHOPIFY, platform=Platform.SHOPIFY, name="Cool Shop")
    client = app.test_client()
    page = client.get(f"/app?shop={SHOPIFY}&id_token={_session_token(config)}")
    assert page.status_code == 200 and "Cool Shop" in page.get_data(as_text=True)
    assert "frame-ancestors https://cool-shop.myshopify.com https://admin.shopify.com" in page.headers[
        "Content-Security-Policy"]
    assert '<meta name="shopify-api-key" content="test-api-key">' in page.get_data(as_text=True)  # App Bridge
    assert client.get("/app/settings").status_code == 200  # the page load kept a session for the app's forms
    other = app.test_client()
    bearer = other.get("/app/suppliers", headers={"Authorization": f"Bearer {_session_token(config)}"})
    assert bearer.status_code == 200


def test_session_tokens_of_unknown_shops_or_other_apps_are_refused(app, services, config) -> None:  # type: ignore[no-untyped-def]
    connect_shop(services, SHOPIFY, platform=Platform.SHOPIFY)
    client = app.test_client()
    assert client.get(f"/app?id_token={_session_token(config, shop='stranger.myshopify.com')}").status_code == 302
    assert client.get(f"/app?id_token={_session_token(config, aud='another-app')}").status_code == 302
    expired = _session_token(config, exp=int(time.time()) - 120)
    assert client.get("/app", headers={"Authorization": f"Bearer {expired}"}).status_code == 302


def test_the_cli_prints_a_working_sign_in_link(app, services) -> None:  # type: ignore[no-untyped-def]
    connect_shop(services, "north.sandbox", name="North")
    result = app.test_cli_runner().invoke(args=["sign-in-link", "--platform", "sandbox", "--shop", "north.sandbox"])
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith("https://connector.test/app/sign-in/")
    client = app.test_client()
    assert client.get(link.removeprefix("https://connector.test")).status_code == 302
    assert "North" in client.get("/app").get_data(as_text=True)
    missing = app.test_cli_runner().invoke(args=["sign-in-link", "--platform", "sandbox", "--shop", "nope"])
    assert missing.exit_code != 0 and "no shop" in missing.output


def test_a_shop_connected_by_the_demo_start_gets_its_link_logged(app, services, config, caplog) -> None:  # type: ignore[no-untyped-def]
    connect = _announcing_sign_in(services, config)
    with caplog.at_level(logging.INFO, logger="connector.web"):
        ref = connect(Platform.SANDBOX, "demo.sandbox", name="Demo", credentials={}, webhook_secret=b"s")
    assert ref.domain == "demo.sandbox"
    line = next(r.getMessage() for r in caplog.records if "sign in at" in r.getMessage())
    link = line.split("sign in at ")[1]
    client = app.test_client()
    assert client.get(link.removeprefix(config.app_url)).status_code == 302
    assert "Demo" in client.get("/app").get_data(as_text=True)


def test_adapters_sign_merchants_in_through_the_app_extensions(app, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox", name="North")

    @app.get("/test-install-done")
    def install_done():  # type: ignore[no-untyped-def]  # what an adapter's install/connect view does
        from flask import current_app, redirect

        current_app.extensions["merchant_sign_in"](shop_id)
        return redirect("/app")

    client = app.test_client()
    assert client.get("/test-install-done").status_code == 302
    assert "North" in client.get("/app").get_data(as_text=True)
    with app.app_context():
        link = app.extensions["merchant_sign_in_link"](shop_id)
    assert link.startswith("https://connector.test/app/sign-in/")


def test_a_session_token_for_another_shop_wins_over_the_previous_session(app, services, config) -> None:  # type: ignore[no-untyped-def]
    first = connect_shop(services, "north.sandbox", name="North")
    connect_shop(services, SHOPIFY, platform=Platform.SHOPIFY, name="Cool Shop")
    client = app.test_client()
    sign_in(client, services, first)
    page = client.get(f"/app?shop={SHOPIFY}&id_token={_session_token(config)}").get_data(as_text=True)
    assert "Cool Shop" in page and "North" not in page
    assert "Cool Shop" in client.get("/app/settings").get_data(as_text=True)  # the session follows the token
