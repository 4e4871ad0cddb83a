"""Emails the service sent (or will send) for the shop, with a preview of each."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from markupsafe import escape

from connector.mail.payload import spec_from_payload
from connector.mail.plain import is_plain
from connector.mail.render import render
from connector.mail.send import MailError, OutboxEntry, read_outbox_entry, sender_from_url
from connector.web.app_common import services, shop_session
from connector.web.auth import login_required
from connector.web.forms import ActionForm
from connector.web.read_models import dashboard_reads as dashboard

bp = Blueprint("app_emails", __name__, url_prefix="/app/emails")

KIND_NAMES = {
    "backorder_confirmation": "Backorder confirmation",
    "eta_earlier": "Earlier ship date",
    "eta_later": "Later ship date (apology)",
    "on_its_way": "On its way",
    "delay_refund_offer": "Delay: refund offer",
    "refund_confirmation": "Refund confirmation",
    "payment_request": "Payment request",
    "authorization_expiring": "Authorization expiring (to you)",
    "supplier_forecast": "Forecast to a supplier",
    "dropship_request": "Dropship request to a supplier",
}


@bp.app_template_filter("email_kind")
def email_kind(payload: dict) -> str:
    kind = str(payload.get("template") or payload.get("kind") or "email")
    return KIND_NAMES.get(kind, kind.replace("_", " ").capitalize())


def _file_outbox() -> Path | None:
    try:
        sender = sender_from_url(services().config.effective_mail_url)
    except ValueError:
        return None
    return getattr(sender, "directory", None)


def sent_copy(idempotency_key: str) -> OutboxEntry | None:
    """The message as written to the development file outbox (found by the Message-ID the key derives)."""
    folder = _file_outbox()
    if folder is None or not folder.is_dir():
        return None
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]  # as `mail.compose.message_id_for`
    for path in sorted(folder.glob(f"*-{digest}_*.eml")):
        return read_outbox_entry(folder, path.name)
    return None


@bp.get("")
@login_required
def list_emails() -> ResponseReturnValue:
    with shop_session() as (s, shop):
        rows = dashboard.email_actions(s, shop.id)
    return render_template("app/emails.html", rows=rows, form=ActionForm(), file_outbox=_file_outbox())


@bp.get("/<int:action_id>")
@login_required
def preview(action_id: int) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        action = dashboard.get_action(s, shop.id, action_id)
        if action is None or action.kind != "send_email":
            abort(404)
        payload, key, shop_locale = dict(action.payload), action.idempotency_key, shop.locale
        status, error, order_name = action.status, action.last_error, (action.payload.get("order") or {})
    rendered = problem = to = None
    try:
        if payload.get("erased"):  # connector.intake.erasure: a customer's redaction
            problem = "Its recipient and content were erased when the shop asked us to redact the customer's data."
        elif is_plain(payload):  # a supplier's business email: plain text, shown as it is sent
            text = str(payload.get("text", ""))
            rendered = SimpleNamespace(subject=payload.get("subject"), text=text,
                                       html=f"<pre>{escape(text)}</pre>")
            to = payload.get("to")
        else:
            spec = spec_from_payload(payload)
            rendered = render(spec, shop_locale=shop_locale)
            to = spec.to
    except (MailError, LookupError, ValueError) as exc:
        problem, to = str(exc), payload.get("to")
    sent = None if payload.get("erased") else sent_copy(key)
    return render_template(
        "app/email_preview.html",
        action_id=action_id,
        action_status=status,
        error=error,
        to=to,
        rendered=rendered,
        problem=problem,
        sent=sent,
        order=order_name,
        form=ActionForm(),
    )
