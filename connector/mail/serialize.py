"""Email specs to JSON and back, so the outbox can store one and render it when it runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from connector.mail.messages import (
    CONTENT_TYPES,
    Branding,
    EmailMessageSpec,
    MailLine,
    MessageContent,
    MessageKind,
    PlannedAction,
)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"datetime {value.isoformat()} has no time zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def spec_to_dict(spec: EmailMessageSpec) -> dict[str, Any]:
    """A JSON-safe dict of the spec; `spec_from_dict` reads it back to an equal spec."""
    data = _encode(spec)
    data["kind"] = spec.kind.value
    return data


_DATE_FIELDS = {"promised_on", "previous_on", "new_estimate_on"}
_DATETIME_FIELDS = {"offer_expires_at", "pay_by", "expires_at"}
_DECIMAL_FIELDS = {"refund_amount", "amount", "charged_now", "charged_later"}


def _as_date(value: Any) -> date | None:
    if not value:
        return None
    return value if isinstance(value, date) else date.fromisoformat(value)


def lines_from_dicts(raw: Any) -> tuple[MailLine, ...]:
    """Lines from JSON dicts (``title``, ``quantity``, optional ``sku`` and ISO ``promised_on``)."""
    if not isinstance(raw, list | tuple):
        raise ValueError(f"lines must be a list, got {type(raw).__name__}")
    return tuple(
        MailLine(
            title=str(li["title"]),
            quantity=int(li["quantity"]),
            sku=li.get("sku") or None,
            promised_on=_as_date(li.get("promised_on")),
        )
        for li in raw
    )


def decode_content(kind: MessageKind, raw: Mapping[str, Any]) -> MessageContent:
    """A kind's content from JSON values (ISO dates, decimal strings); ValueError/TypeError when invalid."""
    cls = CONTENT_TYPES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ValueError(f"{kind}: unknown fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            values[name] = None
        elif name in ("lines", "still_waiting"):
            values[name] = lines_from_dicts(value)
        elif name in _DATE_FIELDS:
            values[name] = value if isinstance(value, date) else date.fromisoformat(value)
        elif name in _DATETIME_FIELDS:
            values[name] = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        elif name in _DECIMAL_FIELDS:
            try:
                values[name] = Decimal(value)
            except InvalidOperation as exc:
                raise ValueError(f"{name}: not a decimal amount: {value!r}") from exc
        elif name == "planned_action":
            values[name] = PlannedAction(value)
        else:
            values[name] = value
    return cls(**values)


def spec_from_dict(data: Mapping[str, Any]) -> EmailMessageSpec:
    """Read a spec back from `spec_to_dict`'s output; a malformed one raises ValueError."""
    try:
        kind = MessageKind(data["kind"])
        content = decode_content(kind, data["content"])
        return EmailMessageSpec(
            to=data["to"],
            locale=data.get("locale"),
            timezone=data["timezone"],
            currency=data["currency"],
            branding=Branding(**data["branding"]),
            content=content,
            recipient_name=data.get("recipient_name"),
            headers=dict(data.get("headers") or {}),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed email spec: {exc!r}") from exc
