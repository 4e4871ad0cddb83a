"""Read model for the merchant's privacy page: the shop's privacy requests and their data exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import ComplianceRequestRow


@dataclass(frozen=True)
class PrivacyRequest:
    id: int
    kind: str
    requested_at: datetime
    summary: str
    has_export: bool


def privacy_requests(session: Session, shop_id: int, limit: int = 200) -> list[PrivacyRequest]:
    """The shop's privacy requests, newest first (whether each has an export, not the export: one
    can be large)."""
    rows = session.execute(
        select(ComplianceRequestRow.id, ComplianceRequestRow.kind, ComplianceRequestRow.requested_at,
               ComplianceRequestRow.summary, ComplianceRequestRow.export.is_not(None))
        .where(ComplianceRequestRow.shop_id == shop_id)
        .order_by(ComplianceRequestRow.requested_at.desc(), ComplianceRequestRow.id.desc())
        .limit(limit)
    )
    return [PrivacyRequest(*row) for row in rows]


def export_of_shop(session: Session, shop_id: int, request_id: int) -> dict[str, Any] | None:
    """The data export of one of the shop's requests; None when it is another shop's, not an export,
    or emptied by a later redaction."""
    row = session.get(ComplianceRequestRow, request_id)
    if row is None or row.shop_id != shop_id or row.kind != "customer_export":
        return None
    return row.export
