"""Shops: the directory of connected stores and each shop's settings.

`directory`: connect, look up, credentials (encrypted at rest), status, the per-shop lock;
`shop_settings`: the merchant's backorder settings, their defaults and validation. May import
`domain` and `storage`.
"""
