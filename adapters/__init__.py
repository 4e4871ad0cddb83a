"""Platform adapters: each package knows one platform and imports only `connector.model` and `adapters.base`."""
