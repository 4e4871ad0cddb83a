"""Read models: the queries the web pages run, by page, each returning rows or plain values.

Only these modules (and the core's query modules such as connector/web/read_models/dashboard_reads.py) import
`connector.storage.tables`; blueprints and page modules ask them (tests/unit/test_import_graph.py).
They may import storage and core modules, never Flask or a blueprint.
"""
