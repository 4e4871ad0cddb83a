"""Planning settings: one frozen value, read from a shop's settings mapping with clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


class PlanningSettingsError(ValueError):
    """A planning setting is missing its sense: wrong type or out of range. The message names it."""


@dataclass(frozen=True, slots=True)
class PlanSettings:
    service_level: float = 0.95  # cycle service level: P(no stock-out before the next delivery)
    review_period_days: int = 7  # purchase cycle: orders cover lead time + this many days
    history_days: int = 182  # the forecast looks back at most this far
    holdout_days: int = 28  # the last days held out to choose each SKU's model
    min_train_days: int = 28  # shorter histories skip the holdout and use a plain average
    penalty_per_unit_day: float = 0.5  # cost of one unit backordered for one day, shop currency
    holding_cost_rate: float = 0.25  # per unit of value per year, for EOQ (0 turns EOQ off)
    ordering_cost: float = 0.0  # fixed cost per purchase-order line, for EOQ (0 turns EOQ off)
    # signals
    spike_z: float = 4.0  # a day above forecast + spike_z * spread is a spike
    spike_window_days: int = 14  # spikes are looked for in the last days of history
    shift_window_days: int = 28  # recent window compared with the window before it
    shift_alpha: float = 0.01  # significance of the level-shift test
    shift_min_ratio: float = 1.5  # and the recent level must differ at least by this factor
    # supplier choice
    reliability_weight: float = 1.0  # days of lead time one missed on-time delivery in ten is worth
    cost_weight_per_day: float = 0.002  # a day of lead time is worth this share of the unit cost
    # dropship routing
    dropship_value_threshold: float = 20.0  # lines worth less than this (unit price) go to dropship
    dropship_large_shortage: int = 10  # a backordered quantity at least this large goes to dropship
    dropship_margin_days: float = 3.0  # dropship wins when it beats restock by at least this
    # bullwhip damping of the plan shared with suppliers
    damping_periods: float = 3.0  # a gap in inventory is closed over this many periods (1 = undamped)
    max_change_ratio: float = 0.25  # a planned order moves at most this share of mean demand a period
    plan_periods: int = 8  # periods (of review_period_days) in the shared plan
    # stock: platforms report available stock net of units sold beyond on-hand (negative when
    # backordered); set False when the store clamps it at zero so waiting backorders are subtracted
    stock_nets_backorders: bool = True
    # computation
    n_jobs: int = 1  # processes statsforecast may use
    model_set: str = "full"  # "full" or "fast" (intermittent models + simple ETS only)

    def __post_init__(self) -> None:
        if not 0.5 <= self.service_level < 1:
            raise PlanningSettingsError(f"service_level must be in [0.5, 1), got {self.service_level}")
        for name in (
            "review_period_days",
            "history_days",
            "holdout_days",
            "min_train_days",
            "plan_periods",
            "n_jobs",
            "spike_window_days",
            "shift_window_days",
        ):
            if getattr(self, name) < 1:
                raise PlanningSettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in (
            "penalty_per_unit_day",
            "holding_cost_rate",
            "ordering_cost",
            "reliability_weight",
            "cost_weight_per_day",
            "dropship_value_threshold",
            "dropship_margin_days",
        ):
            if getattr(self, name) < 0:
                raise PlanningSettingsError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.damping_periods < 1:
            raise PlanningSettingsError(f"damping_periods must be at least 1, got {self.damping_periods}")
        if not self.max_change_ratio > 0:
            raise PlanningSettingsError(f"max_change_ratio must be positive, got {self.max_change_ratio}")
        if not 0 < self.shift_alpha < 1:
            raise PlanningSettingsError(f"shift_alpha must be in (0, 1), got {self.shift_alpha}")
        if self.model_set not in ("full", "fast"):
            raise PlanningSettingsError(f"model_set must be 'full' or 'fast', got {self.model_set!r}")
        if self.history_days < self.holdout_days + self.min_train_days:
            raise PlanningSettingsError("history_days must be at least holdout_days + min_train_days")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], prefix: str = "planning.") -> PlanSettings:
        """Build from a shop's settings; keys are ``planning.<field>``, others are ignored.

        Values may be strings (as a settings form posts them); each is converted to the field's type.
        """
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, raw in values.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :]
            if name not in known:
                raise PlanningSettingsError(f"unknown planning setting {key!r}")
            default = known[name].default
            if isinstance(default, bool):
                if str(raw).strip().lower() in ("1", "true", "yes", "on"):
                    kwargs[name] = True
                elif str(raw).strip().lower() in ("0", "false", "no", "off", ""):
                    kwargs[name] = False
                else:
                    raise PlanningSettingsError(f"{key} must be true or false, got {raw!r}")
                continue
            try:
                kwargs[name] = type(default)(raw)
            except (TypeError, ValueError) as exc:
                raise PlanningSettingsError(f"{key} must be a {type(default).__name__}, got {raw!r}") from exc
        return cls(**kwargs)
