"""Supply: suppliers and their offers, purchase orders, and receiving them.

May import `domain`, `storage`, `shops`, `dispatch` and `backorders` (receiving goods ships the
waiting orders).
"""
