"""Planning: forecasts, reorder points, supplier and dropship choice, damped purchase plans.

Pure code: no Flask, database or HTTP. The scheduler's nightly job and the merchant app call
`plan_shop` with plain inputs read from storage and store or show the `ShopPlan` it returns.

Modules, one job each: `history` (daily demand from order lines), `forecast` (statsforecast model
per SKU by holdout error), `screen` (vectorised trend / level-shift screen, known promotions),
`signals` (level shifts, spikes), `policy` (safety stock, reorder point, order quantity, stock-out
probability, backorder cost), `supplier_choice` (choice, urgent terms, draft purchase orders),
`dropship_choice` (routing), `bullwhip` (damped shared plan, variance ratio), `agility` (observed
supplier performance), `export` (supplier CSV and email), `simulate` (the inventory simulation
that measures the policy), `steps` (the named steps of a shop's plan, each on plain values),
`plan` (`plan_shop`, the pipeline of those steps).

The package's names load lazily (PEP 562): `connector.domain.planning.dropship_choice` or `.plan_settings`
can be imported by the service's hot paths without pulling in statsforecast and pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Delivery": "agility", "SupplierAgility": "agility",
    "BackorderedLine": "dropship_choice", "Route": "dropship_choice",
    "NotApproved": "export", "SupplierExport": "export", "supplier_email": "export", "to_csv": "export",
    "DemandHistory": "history", "DemandRecord": "history", "build_history": "history",
    "records_from_orders": "history",
    "ForecastError": "plan", "ShopPlan": "plan", "SkuPlan": "plan", "incoming_from_drafts": "plan",
    "plan_shop": "plan",
    "PlanningSettingsError": "plan_settings", "PlanSettings": "plan_settings",
    "DraftLine": "supplier_choice", "DraftPurchaseOrder": "supplier_choice", "SupplierChoice": "supplier_choice",
    "UrgentNeed": "supplier_choice",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
