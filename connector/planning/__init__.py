"""Planning: forecasts, reorder points, supplier and dropship choice, damped purchase plans (pure code)."""
