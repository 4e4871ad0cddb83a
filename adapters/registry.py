"""The one place that knows which platform adapters exist."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from adapters.base import PlatformAdapter
from connector.domain.model import Platform

ADAPTER_MODULES = {
    Platform.SANDBOX: "adapters.sandbox",
    Platform.SHOPIFY: "adapters.shopify",
    Platform.WOOCOMMERCE: "adapters.woocommerce",
}


def installed_adapters() -> dict[Platform, ModuleType]:
    """The adapter modules this installation has, imported (a platform whose package is absent is skipped)."""
    modules: dict[Platform, ModuleType] = {}
    for platform, module_name in ADAPTER_MODULES.items():
        try:
            modules[platform] = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    return modules


def build_registry(config: Mapping[str, Any]) -> dict[Platform, PlatformAdapter]:
    """Build every adapter this installation has, each from its own settings."""
    return {platform: module.make_adapter(config) for platform, module in installed_adapters().items()}
