"""The domain: pure values and decisions, no framework, database or network.

Holds the common model every adapter produces (`model`), the allocation engine (`engine`), the
lifecycle decision that turns one order's picture into store actions and emails (`decision`), and
the planning maths (`planning`). May import the standard library and maths libraries (numpy, scipy,
pandas, statsforecast) only — nothing else of `connector`, no SQLAlchemy, Flask or HTTP.
"""
