"""Intake: what the stores tell us, stored durably and applied.

The webhook inbox (`inbox`: dedupe, claims, dead letter, replay), applying normalised events to
storage (`apply`), reconciliation with the stores' APIs for what webhooks missed (`reconcile`) and
privacy requests (`compliance`). May import `domain`, `storage`, `shops` and `adapters.base`.
"""
