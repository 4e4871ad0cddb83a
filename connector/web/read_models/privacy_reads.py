"""Read model for the merchant's privacy page: the shop's privacy requests and their data exports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import ComplianceRequestRow


def privacy_requests(session: Session, shop_id: int, limit: int = 200) -> list[ComplianceRequestRow]:
    """The shop's privacy requests, newest first."""
    return list(session.scalars(
        select(ComplianceRequestRow)
        .where(ComplianceRequestRow.shop_id == shop_id)
        .order_by(ComplianceRequestRow.requested_at.desc(), ComplianceRequestRow.id.desc())
        .limit(limit)
    ))


def export_of_shop(session: Session, shop_id: int, request_id: int) -> dict[str, Any] | None:
    """The data export of one of the shop's requests; None when it is another shop's, not an export,
    or emptied by a later redaction."""
    row = session.get(ComplianceRequestRow, request_id)
    if row is None or row.shop_id != shop_id or row.kind != "customer_export":
        return None
    return row.export
