"""Platform adapters: each package knows one platform and imports only `connector.domain.model` and `adapters.base`."""
