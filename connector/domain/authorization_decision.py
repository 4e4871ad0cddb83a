"""When a payment authorization nears its expiry while lines wait: a pure decision on the order picture.

Warn the merchant ahead of time, then follow the shop's policy before the authorization lapses:
capture what is outstanding, or email the customer a payment request. A charge never lapses
silently. Keys name the authorization, so each step happens once per authorization. The timers
(`connector.backorders.timers`) load the picture and enqueue what this returns.

Pure: the standard library and the common model only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from connector.domain.backorder_decision import (
    CAPTURING,
    CENT,
    Action,
    OrderPicture,
    capture_action,
    keep_actions,
    order_email,
)
from connector.domain.model import ActionKind

ACT_BEFORE_EXPIRY = timedelta(hours=6)  # the expiry policy acts this long before the authorization lapses


@dataclass(frozen=True, slots=True)
class AuthorizationDue:
    warning: tuple[Action, ...] = ()  # to the merchant, ahead of time
    policy: tuple[Action, ...] = ()  # capture, or ask the customer to pay again; and a note


def authorization_due(p: OrderPicture) -> AuthorizationDue:
    """What to do about the order's authorization now: nothing, a warning, and/or the policy's actions."""
    authorized_at, now, s = p.payment.authorized_at, p.now, p.settings
    if authorized_at is None or now is None or p.payment.status not in CAPTURING or p.payment.deferred:
        return AuthorizationDue()  # a deferred-payment order holds no authorization that could lapse
    expires = authorized_at + timedelta(days=s.authorization_validity_days)
    amount = p.outstanding()
    if amount <= 0 or now >= expires:
        return AuthorizationDue()
    stamp, money = authorized_at.isoformat(), str(amount.quantize(CENT))
    planned = "capture" if s.auth_expiry_policy == "capture_now" else "payment_request"
    lines = {li.id: li for li in p.lines}
    mail_lines = [
        {"line_id": li.external_id, "sku": li.sku, "title": li.title, "quantity": w.quantity}
        for w in sorted(p.waiting, key=lambda w: w.line_id)
        for li in (lines[w.line_id],)
    ] or [{"line_id": li.external_id, "sku": li.sku, "title": li.title, "quantity": li.quantity} for li in p.lines]
    warning: list[Action | None] = []
    if now >= expires - timedelta(hours=s.auth_warning_hours) and s.merchant_email:
        payload = order_email(
            "authorization_expiring",
            p,
            mail_lines,
            amount=money,
            expires_at=expires.isoformat(),
            planned_action=planned,
            customer_name=p.order.customer_name,
        )
        payload.update(to=s.merchant_email, locale=p.shop.locale or "en")
        warning.append(Action(ActionKind.EMAIL, f"auth:{stamp}:warning", payload))
    policy: list[Action | None] = []
    if now >= expires - ACT_BEFORE_EXPIRY:
        if planned == "capture":
            policy.append(capture_action(amount, f"auth:{stamp}:capture", p.order.currency))
        elif p.order.customer_email:
            payment_url = s.payment_url or f"https://{p.shop.domain}/account"
            payload = order_email("payment_request", p, mail_lines, amount=money, payment_url=payment_url, pay_by=None)
            policy.append(Action(ActionKind.EMAIL, f"auth:{stamp}:payment_request", payload))
        captured = planned == "capture"
        done = "the outstanding amount was captured." if captured else "the customer was asked to pay again."
        text = f"The payment authorization expires {expires.isoformat()}; {done}"
        policy.append(Action(ActionKind.NOTE, f"auth:{stamp}:note", {"text": text, "customer_visible": False}))
    return AuthorizationDue(keep_actions(warning), keep_actions(policy))
