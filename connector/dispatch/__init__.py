"""Dispatch: carrying decisions out.

The durable outbox (`outbox`): actions against stores and mail servers, each with an idempotency
key, claimed with a short lease, retried with back-off and dead-lettered when they cannot succeed.
May import `storage` and `adapters.base` (the store port).
"""
