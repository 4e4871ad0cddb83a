"""Planning: forecasts, reorder points, supplier and dropship choice, damped purchase plans.

Pure code: no Flask, database or HTTP. The scheduler's nightly job and the merchant app call
`plan_shop` with plain inputs read from storage and store or show the `ShopPlan` it returns.

Modules, one job each: `history` (daily demand from order lines), `forecast` (statsforecast model
per SKU by holdout error), `signals` (level shifts, spikes), `policy` (safety stock, reorder point,
order quantity, stock-out probability, backorder cost), `suppliers` (choice, urgent terms, draft
purchase orders), `dropship` (routing), `bullwhip` (damped shared plan, variance ratio), `agility`
(observed supplier performance), `export` (supplier CSV and email), `simulate` (the inventory
simulation that measures the policy), `plan` (`plan_shop`).
"""

from connector.planning.agility import Delivery, SupplierAgility
from connector.planning.dropship import BackorderedLine, Route
from connector.planning.export import NotApproved, SupplierExport, supplier_email, to_csv
from connector.planning.history import DemandHistory, DemandRecord, build_history, records_from_orders
from connector.planning.plan import ForecastError, ShopPlan, SkuPlan, incoming_from_drafts, plan_shop
from connector.planning.settings import PlanningSettingsError, PlanSettings
from connector.planning.suppliers import DraftLine, DraftPurchaseOrder, SupplierChoice, UrgentNeed

__all__ = [
    "BackorderedLine",
    "Delivery",
    "DemandHistory",
    "DemandRecord",
    "DraftLine",
    "DraftPurchaseOrder",
    "ForecastError",
    "NotApproved",
    "PlanSettings",
    "PlanningSettingsError",
    "Route",
    "ShopPlan",
    "SkuPlan",
    "SupplierAgility",
    "SupplierChoice",
    "SupplierExport",
    "UrgentNeed",
    "build_history",
    "incoming_from_drafts",
    "plan_shop",
    "records_from_orders",
    "supplier_email",
    "to_csv",
]
