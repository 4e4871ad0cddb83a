"""The one place that knows which platform adapters exist."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from adapters.base import PlatformAdapter
from connector.domain.model import Platform

ADAPTER_MODULES = {
    Platform.SANDBOX: "adapters.sandbox",
    Platform.SHOPIFY: "adapters.shopify",
    Platform.WOOCOMMERCE: "adapters.woocommerce",
}


def build_registry(config: Mapping[str, Any]) -> dict[Platform, PlatformAdapter]:
    """Build every adapter this installation has, each from its own settings."""
    registry: dict[Platform, PlatformAdapter] = {}
    for platform, module_name in ADAPTER_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        registry[platform] = module.make_adapter(config)
    return registry
